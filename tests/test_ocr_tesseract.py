"""The Tesseract engine: TSV parsing and missing data (no Tesseract needed), and real runs marked e2e."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import MissingDependencyError
from pipeline.ocr.prepare import prepare
from pipeline.ocr.tesseract import TesseractEngine, parse_tsv
from tests.ocr_helpers import synthetic_page

HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
TSV = "\n".join(
    [
        HEADER,
        "1\t1\t0\t0\t0\t0\t0\t0\t2481\t3508\t-1\t",
        "2\t1\t1\t0\t0\t0\t200\t300\t1800\t60\t-1\t",
        "4\t1\t1\t1\t1\t0\t200\t300\t1800\t60\t-1\t",
        "5\t1\t1\t1\t1\t1\t200\t300\t300\t40\t96.52\tHemoglobin",
        "5\t1\t1\t1\t1\t2\t1040\t302\t120\t38\t91.0\t10.2",
        "5\t1\t1\t1\t1\t3\t1300\t302\t30\t38\t88.4\tL",
        "5\t1\t1\t1\t1\t4\t1400\t300\t10\t40\t12.0\t ",
        "5\t1\t1\t1\t2\t1\t200\t380\t250\t40\t70.0\tGlucose",
        "",
    ]
)


def test_tsv_words_keep_boxes_confidence_and_line() -> None:
    width, height, words = parse_tsv(TSV)
    assert (width, height) == (2481, 3508)
    assert [w.text for w in words] == ["Hemoglobin", "10.2", "L", "Glucose"]
    first = words[0]
    assert (first.x0, first.top, first.x1, first.bottom) == (200, 300, 500, 340)
    assert first.conf == pytest.approx(0.9652)
    assert words[1].line == words[2].line == (1, 1, 1) and words[3].line == (1, 1, 2)


word_text = st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]), min_size=1)


@given(
    st.lists(
        st.tuples(
            word_text,
            st.integers(0, 5000),
            st.integers(0, 5000),
            st.integers(1, 400),
            st.integers(1, 200),
            st.floats(0, 100),
        ),
        max_size=30,
    )
)
def test_tsv_round_trip(rows: list[tuple[str, int, int, int, int, float]]) -> None:
    lines = [HEADER, "1\t1\t0\t0\t0\t0\t0\t0\t6000\t6000\t-1\t"]
    lines += [
        f"5\t1\t1\t1\t{i}\t1\t{x}\t{y}\t{w}\t{h}\t{c:.2f}\t{t}" for i, (t, x, y, w, h, c) in enumerate(rows)
    ]
    _, _, words = parse_tsv("\n".join(lines))
    kept = [r for r in rows if r[0].strip()]
    assert [w.text for w in words] == [r[0].strip() for r in kept]
    assert all(0.0 <= w.conf <= 1.0 and w.x1 > w.x0 and w.bottom > w.top for w in words)


def test_missing_language_data_is_reported_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    engine = TesseractEngine()
    assert not engine.available()
    with pytest.raises(MissingDependencyError, match=r"language data was not found.*apt install tesseract-ocr-eng"):
        _ = engine.version


@pytest.mark.e2e
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_osd_gives_the_clockwise_turn_that_puts_the_text_upright(turn: int) -> None:
    page, _ = synthetic_page(dpi=200, rows=14)  # at 150 dpi OSD mistakes this page's sideways turns
    image = page.image
    for _ in range(turn // 90):  # turn the page anticlockwise, so it needs `turn` degrees clockwise back
        image = cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    found = TesseractEngine().orientation(np.ascontiguousarray(image))
    assert found is not None and found.rotate == turn and found.confidence > 1.0


@pytest.mark.e2e
def test_a_page_with_too_little_text_has_no_orientation() -> None:
    assert TesseractEngine().orientation(np.full((400, 300), 255, np.uint8)) is None


@pytest.mark.e2e
def test_threads_each_read_with_their_own_model() -> None:
    image = prepare(synthetic_page(dpi=150, rows=10, seed=3)[0].image).image
    alone = [w.text for w in TesseractEngine().recognise(image, languages="eng").words]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(lambda _: TesseractEngine().recognise(image, languages="eng"), range(6)))
    assert alone and all([w.text for w in r.words] == alone for r in together)


@pytest.mark.e2e
def test_version_and_languages() -> None:
    engine = TesseractEngine()
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", engine.version)
    with pytest.raises(MissingDependencyError, match="tesseract-ocr-xyz"):
        engine.recognise(synthetic_page(dpi=72, rows=2)[0].image, languages="eng+xyz")


@pytest.mark.e2e
def test_psm6_keeps_each_flag_on_the_line_of_its_value() -> None:
    page, truth = synthetic_page(dpi=150, rows=12, rulings="rows", seed=7)
    result = TesseractEngine().recognise(prepare(page.image).image, languages="eng")
    lines = [[w.text for w in group] for _, group in groupby(result.words, key=lambda w: w.line)]
    flagged = [r for r in truth if r.flag]
    assert flagged
    for row in flagged:
        assert any(row.value in line and row.flag in line for line in lines), row
