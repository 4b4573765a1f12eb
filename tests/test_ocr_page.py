"""ocr_page/read_page: boxes mapped to page units, blank pages, orientation, languages, fallback merging.

Fast: the engines replay recorded or hand-made output (see tests/ocr_helpers.py); only the tests marked
e2e run the real Tesseract.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bench.synthetic import make_report_pdf
from pipeline.errors import MissingDependencyError
from pipeline.models import PageWords
from pipeline.ocr.engine import GreyImage, OcrFailedError, OcrResult, OcrWord
from pipeline.ocr.geometry import Geometry
from pipeline.ocr.glyphs import UNVERIFIED_CONF
from pipeline.ocr.page import ocr_page, ocr_source_page, read_page, recognise_region
from pipeline.ocr.recorded import RecordedEngine, save_result
from pipeline.ocr.tesseract import Orientation, TesseractEngine
from pipeline.settings import Settings
from tests.ocr_helpers import DATA, grey_page, numbers, recall, recorded_engine, synthetic_page

ENG_ONLY = Settings(ocr_languages="eng", ocr_fallback="none")


def no_osd(image: GreyImage) -> Orientation | None:
    raise AssertionError("orientation detection should not run on a well-read page")


def hand_made(tmp_path: Path, name: str, words: list[OcrWord], size: tuple[int, int]) -> Path:
    """Save a hand-made OcrResult so a RecordedEngine can replay it."""
    path = tmp_path / f"{name}.json"
    save_result(OcrResult("handmade", "1", "eng", size[0], size[1], tuple(words)), path)
    return path


def test_recorded_tesseract_words_land_on_their_rows_in_pdf_points() -> None:
    page, truth = synthetic_page(dpi=150)
    engine = recorded_engine("eng-grid-150", TesseractEngine())
    result = read_page(page, settings=ENG_ONLY, engine=engine, orientation=no_osd)
    words = result.words
    assert (words.method, words.unit, words.page) == ("ocr", "pt", 1)
    assert words.engine == "tesseract 5.3.0"
    assert words.width == pytest.approx(595.3, abs=1.0) and words.height == pytest.approx(841.9, abs=1.0)
    assert recall((w.text for w in words.words), numbers(truth)) >= 0.9
    for row in truth:
        hits = [w for w in words.words if w.text == row.value]
        assert any(abs(w.top - row.top) < 3.0 and abs(w.x0 - 250.0) < 4.0 for w in hits), row
    assert words.ocr_confidence is not None and words.ocr_confidence > 0.8
    assert set(result.word_engines) == {"tesseract 5.3.0"}
    assert [s.name for s in result.steps][:4] == ["crop_page", "denoise", "rescale", "deskew"]


def test_language_auto_reads_with_english_and_notes_the_page_language() -> None:
    page, truth = synthetic_page(dpi=150, lang="ita", rulings="rows", seed=2)
    engine = recorded_engine("ita-rows-150", TesseractEngine())
    result = read_page(page, settings=Settings(ocr_fallback="none"), engine=engine, orientation=no_osd)
    assert result.languages == "eng"
    if isinstance(engine, RecordedEngine):
        assert [languages for _, languages in engine.calls] == ["eng"]
    assert [s.detail for s in result.steps if s.name == "language"] == ["page reads as ita; read with eng data"]
    assert recall((w.text for w in result.words.words), numbers(truth)) >= 0.9


def test_a_named_language_is_read_with_its_own_data() -> None:
    page, truth = synthetic_page(dpi=150, lang="ita", rulings="rows", seed=2)
    engine = RecordedEngine([DATA / "ita-rows-150-2.tsv"], version="5.3.0")
    settings = Settings(ocr_languages="ita", ocr_fallback="none")
    result = read_page(page, settings=settings, engine=engine, orientation=no_osd)
    assert result.languages == "ita+eng" and [languages for _, languages in engine.calls] == ["ita+eng"]
    assert not [s for s in result.steps if s.name == "language"]
    assert any(w.text == "Unità" for w in result.words.words)
    assert recall((w.text for w in result.words.words), numbers(truth)) >= 0.9


def test_a_blank_page_is_not_sent_to_the_engine() -> None:
    page = grey_page(np.full((1200, 900), 250, dtype=np.uint8))
    engine = RecordedEngine([])
    words = ocr_page(page, settings=ENG_ONLY, engine=engine)
    assert (words.method, words.reason, words.words) == ("none", "blank page", ())
    assert engine.calls == []


def test_a_poor_first_read_asks_osd_and_keeps_the_turned_read(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=100, rows=6)
    upside_down = np.ascontiguousarray(page.image[::-1, ::-1])
    poor = hand_made(tmp_path, "poor", [OcrWord("~~", 10, 10, 60, 40, 0.2)], (1, 1))
    good = hand_made(tmp_path, "good", [OcrWord("Hemoglobin", 100, 100, 300, 130, 0.95)], (1, 1))
    engine = RecordedEngine([poor, good], name="handmade", version="1")
    asked: list[tuple[int, ...]] = []

    def osd(image: GreyImage) -> Orientation:
        asked.append(image.shape)
        return Orientation(180, 8.0, "Latin")

    result = read_page(grey_page(upside_down), settings=ENG_ONLY, engine=engine, orientation=osd)
    assert len(asked) == 1 and result.words.rotation == 180
    assert [w.text for w in result.words.words] == ["Hemoglobin"]
    assert any(s.name == "orientation" and s.applied for s in result.steps)


def test_a_sideways_page_settles_orientation_before_reading(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=100, rows=10, rulings="none")
    sideways = np.ascontiguousarray(np.rot90(page.image))  # turned 90 degrees counter-clockwise
    good = hand_made(tmp_path, "good", [OcrWord("Hemoglobin", 100, 100, 300, 130, 0.95)], (1, 1))
    engine = RecordedEngine([good], name="handmade", version="1")
    result = read_page(
        grey_page(sideways),
        settings=ENG_ONLY,
        engine=engine,
        orientation=lambda _: Orientation(90, 8.0, "Latin"),
    )
    assert len(engine.calls) == 1  # no wasted read of the sideways page
    (width, height), _ = engine.calls[0]
    assert width < height and result.words.rotation == 90
    assert result.words.width < result.words.height  # upright portrait again


def test_fallback_gives_each_word_of_a_poor_page_to_the_surer_engine(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=100, rows=6)
    primary_words = [
        OcrWord("Glucose", 100, 400, 260, 430, 0.995, (1, 1, 1)),
        OcrWord("1O4", 500, 400, 570, 430, 0.30, (1, 1, 1)),
        OcrWord("#&", 900, 100, 940, 140, 0.10, (1, 1, 2)),
    ]
    second_words = [
        OcrWord("Glucose", 102, 401, 258, 431, 0.99, (1, 1, 1)),
        OcrWord("104", 502, 399, 568, 432, 0.97, (1, 1, 1)),
        OcrWord("mg/dL", 650, 400, 760, 430, 0.96, (1, 1, 1)),
    ]
    # cycle: the poor page is read twice (grey and binarised) before the fallback is asked
    primary = RecordedEngine([hand_made(tmp_path, "t", primary_words, (0, 0))], version="5.3.0", cycle=True)
    second = RecordedEngine([hand_made(tmp_path, "r", second_words, (0, 0))], name="rapidocr", version="3.10.0")
    result = read_page(page, settings=ENG_ONLY, engine=primary, fallback=second, orientation=lambda _: None)
    texts = [w.text for w in result.words.words]
    assert texts == ["Glucose", "104", "mg/dL"]
    assert result.word_engines == ("tesseract 5.3.0", "rapidocr 3.10.0", "rapidocr 3.10.0")
    assert result.words.engine == "tesseract 5.3.0 + rapidocr 3.10.0"


class OneReading:
    """A line reader that reads every crop as `text` and counts the crops."""

    label = "fake 1.0"

    def __init__(self, text: str) -> None:
        self.text = text
        self.crops = 0

    def read_lines(self, images: Sequence[GreyImage]) -> list[tuple[str, float]]:
        self.crops += len(images)
        return [(self.text, 0.99)] * len(images)


def test_with_focus_only_unsure_rows_are_cross_read_and_the_rest_glyph_checked(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=100, rows=6)
    words = [
        OcrWord("Sodium", 100, 20, 260, 50, 0.99, (1, 1, 1)),
        OcrWord("97", 500, 20, 540, 50, 0.85, (1, 1, 1)),  # blank paper under it: its glyphs cannot confirm it
        OcrWord("Potassium", 100, 60, 260, 90, 0.99, (1, 1, 2)),
        OcrWord("4.1", 500, 60, 540, 90, 0.85, (1, 1, 2)),
    ]
    engine = RecordedEngine([hand_made(tmp_path, "t", words, (0, 0))], version="5.3.0")
    drafts: list[PageWords] = []

    def focus(draft: PageWords) -> list[tuple[float, float, float, float]]:
        drafts.append(draft)
        unsure = next(w for w in draft.words if w.text == "4.1")
        return [(0.0, unsure.top - 1, draft.width, unsure.bottom + 1)]

    reader = OneReading("4.1")
    result = read_page(page, settings=ENG_ONLY, engine=engine, checker=reader, orientation=no_osd, focus=focus)
    assert reader.crops == 1  # '4.1' alone: '97' is outside the unsure rows and the names are not numbers
    assert [w.conf for w in drafts[0].words if w.text == "97"] == [UNVERIFIED_CONF]
    final = {w.text: w for w in result.words.words}
    assert final["4.1"].conf > 0.99 and final["4.1"].engine == "tesseract 5.3.0 + fake 1.0"
    assert final["97"].conf == UNVERIFIED_CONF and final["97"].engine == "tesseract 5.3.0"


class FailsAfterFirstRead(RecordedEngine):
    """Replays one read, then fails like a Tesseract that timed out."""

    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        if self.calls:
            self.calls.append(((image.shape[1], image.shape[0]), languages))
            raise OcrFailedError("Tesseract took longer than 120 s on one page")
        return super().recognise(image, languages=languages)


def test_a_failing_second_opinion_keeps_the_first_read(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=100, rows=6)
    middling = hand_made(tmp_path, "mid", [OcrWord("Glucose", 100, 400, 260, 430, 0.65)], (0, 0))
    engine = FailsAfterFirstRead([middling], version="5.3.0")
    result = read_page(page, settings=ENG_ONLY, engine=engine, orientation=lambda _: None)
    assert len(engine.calls) == 2  # the retry with the other binarisation was tried and failed
    assert [w.text for w in result.words.words] == ["Glucose"]
    assert any(s.name == "retry" and not s.applied for s in result.steps)


def test_a_failing_first_read_fails_the_page(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=100, rows=6)
    engine = FailsAfterFirstRead([], version="5.3.0")
    engine.calls.append(((0, 0), "eng"))  # as if a read had happened: every call now fails
    with pytest.raises(OcrFailedError, match="120 s"):
        read_page(page, settings=ENG_ONLY, engine=engine, orientation=lambda _: None)


def test_recognise_region_maps_a_crop_back_to_page_units(tmp_path: Path) -> None:
    page, _ = synthetic_page(dpi=144, rows=4)  # about 2 px per point
    crop_word = OcrWord("7.2", 10, 5, 40, 25, 0.9)
    engine = RecordedEngine([hand_made(tmp_path, "crop", [crop_word], (0, 0))])
    words = recognise_region(page, (100.0, 200.0, 200.0, 215.0), geometry=Geometry(), engine=engine)
    ((size, _),) = engine.calls
    k = page.scale
    pad = 0.3 * 15 * k  # 0.3 x the region height, on every side
    left, upper = int(100 * k - pad), int(200 * k - pad)
    assert size == (int(200 * k + pad) + 1 - left, int(215 * k + pad) + 1 - upper)
    assert (words[0].x0, words[0].top) == pytest.approx(((left + 10) / k, (upper + 5) / k))
    assert (words[0].x1, words[0].bottom) == pytest.approx(((left + 40) / k, (upper + 25) / k))


def test_missing_tesseract_is_a_missing_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    page, _ = synthetic_page(dpi=100, rows=4)
    with pytest.raises(MissingDependencyError, match="not found"):
        ocr_page(page, settings=ENG_ONLY, engine=TesseractEngine())


def test_the_pool_entry_point_pickles() -> None:
    assert pickle.loads(pickle.dumps(ocr_source_page)) is ocr_source_page
    assert pickle.loads(pickle.dumps(ENG_ONLY)) == ENG_ONLY


@pytest.mark.e2e
def test_pages_ocr_in_a_process_pool(tmp_path: Path) -> None:
    pdf = tmp_path / "two.pdf"
    truth = make_report_pdf(pdf, rows=6, seed=4)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pages = list(pool.map(ocr_source_page, [str(pdf)] * 2, [0, 0], ["pdf", "pdf"], [ENG_ONLY] * 2))
    assert [p.unit for p in pages] == ["pt", "pt"]
    assert all(p.engine is not None and p.engine.startswith("tesseract 5") for p in pages)
    assert recall((w.text for w in pages[0].words), numbers(truth)) >= 0.9
