"""Scanned fixtures end to end with the real Tesseract: the committed scans of the digital fixtures read as
their digital twins' truth says (F1, value accuracy, nothing wrong at >= 0.9), and bad scans fail cleanly
through the command line, naming the file and the reason, while the rest of the batch goes on.

The scans are fixtures/scans/ (written by `python -m fixtures.scans --committed`); the bad inputs are made
in tmp_path at test time (a 30000 x 30000 PNG is 150 KB of zlib). Two processes read the scans at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from bench import degrade
from fixtures.badinput import enormous_png, not_a_report
from fixtures.scans import (
    COMMITTED,
    COMMITTED_LAYOUTS,
    KINDS,
    ScanEntry,
    fixture_twins,
    load_manifest,
    scan_twin,
    truth_for,
)
from fixtures.scoring import Score, score_document
from pipeline.api import process_file
from pipeline.models import Document
from pipeline.ocr.raster import render_pdf_page
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e
ENTRIES = load_manifest(COMMITTED)
MILD = [e for e in ENTRIES if e.set == "committed"]


def _extract(path: str) -> str:
    return process_file(Path(path), Settings(workers=1)).model_dump_json()


@pytest.fixture(scope="module")
def mild_documents() -> dict[str, Document]:
    """Every committed mild scan through process_file, two files at a time."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        texts = list(pool.map(_extract, [str(COMMITTED / e.file) for e in MILD]))
    return {e.file: Document.model_validate_json(t) for e, t in zip(MILD, texts, strict=True)}


def test_every_layout_has_a_committed_scan_with_its_truth_and_the_set_stays_small() -> None:
    assert {e.twin.removesuffix(".pdf") for e in MILD} == set(COMMITTED_LAYOUTS)
    for entry in ENTRIES:
        assert (COMMITTED / entry.file).is_file(), entry.file
        assert truth_for(entry, COMMITTED)["results"], entry.file
    assert sum((COMMITTED / e.file).stat().st_size for e in ENTRIES) < 4_000_000


def test_mild_scans_read_like_their_digital_twins(mild_documents: dict[str, Document]) -> None:
    total = Score()
    for entry in MILD:
        total.add(score_document(truth_for(entry, COMMITTED), mild_documents[entry.file]))
    assert total.confident_wrong == 0, total.wrong
    assert total.f1 >= 0.95, total.summary()
    assert total.accuracy("value") >= 0.99, total.summary()


@pytest.mark.parametrize("entry", MILD, ids=[e.file.split(".")[0] for e in MILD])
def test_each_mild_scan_is_ocrd_and_keeps_the_promise(entry: ScanEntry, mild_documents: dict[str, Document]) -> None:
    document = mild_documents[entry.file]
    assert document.status == "success" and document.extraction.method == "ocr"
    assert all(p.engine and p.engine.startswith("tesseract") for p in document.extraction.pages)
    score = score_document(truth_for(entry, COMMITTED), document)
    assert score.confident_wrong == 0, score.wrong
    assert score.recall >= 0.8, score.summary()


# --------------------------------------------------------------------------------------------------
# Bad scans through the command line


def _bad_inputs(folder: Path) -> dict[str, tuple[int, str, str]]:
    """Write the bad scans; file name -> (exit code alone, error code, words the message must hold)."""
    enormous_png(folder / "bomb.png")
    Image.new("L", (1, 1), 255).save(folder / "one_pixel.png")
    whole = folder / "whole.png"
    Image.fromarray(np.full((900, 700), 200, np.uint8)).save(whole)
    data = whole.read_bytes()
    (folder / "corrupt.png").write_bytes(data[: len(data) // 2])
    whole.unlink()
    blank = degrade.scan(np.full((2200, 1700), 255, np.uint8), seed=4)
    cv2.imwrite(str(folder / "blank_scan.jpg"), blank)
    not_a_report(folder / "minutes.pdf")
    photo = degrade.photo(render_pdf_page(folder / "minutes.pdf", 0, 150).image, seed=2)
    (folder / "minutes.pdf").unlink()
    cv2.imwrite(str(folder / "photo_of_minutes.jpg"), photo)
    return {
        "bomb.png": (4, "too_large", "refused before decoding"),
        "one_pixel.png": (4, "input_error", "too small"),
        "corrupt.png": (4, "corrupt_file", "damaged"),
        "blank_scan.jpg": (3, "no_results", "no lab results"),
        "photo_of_minutes.jpg": (3, "no_results", "no lab results"),
    }


def test_bad_scans_fail_cleanly_and_the_batch_goes_on(tmp_path: Path) -> None:
    bad = _bad_inputs(tmp_path)
    upside_down = next(e for e in ENTRIES if e.kind == "rot180")
    files = [str(tmp_path / name) for name in bad] + [str(COMMITTED / upside_down.file)]
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "extract", *files, "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    assert result.returncode == max(code for code, _, _ in bad.values())
    assert "Traceback" not in result.stderr
    messages = [line for line in result.stderr.splitlines() if line.startswith("labreport:")]
    for name, (_, code, words) in bad.items():
        said = [m for m in messages if str(tmp_path / name) in m]
        assert len(said) == 1 and words in said[0], (name, messages)
        document = json.loads((out / f"{name}.json").read_text())
        assert document["status"] == "failure", name
        assert [i["code"] for i in document["issues"] if i["severity"] == "error"] == [code], name
    blank = json.loads((out / "blank_scan.jpg.json").read_text())
    assert any("blank page" in i["message"] for i in blank["issues"])
    good = Document.model_validate_json((out / f"{upside_down.file}.json").read_text())
    assert good.status == "success" and good.extraction.pages[0].rotation == 180
    score = score_document(truth_for(upside_down, COMMITTED), good)
    assert score.confident_wrong == 0 and score.recall >= 0.8, score.summary()


def test_committed_scans_are_what_the_generator_makes(tmp_path: Path) -> None:
    entry = MILD[0]
    twin = next(t for t in fixture_twins() if t.pdf.name == entry.twin)
    made = scan_twin(twin, KINDS[entry.kind], tmp_path, entry.set, entry.pages)
    assert [m.file for m in made] == [entry.file]
    same = (tmp_path / entry.file).read_bytes() == (COMMITTED / entry.file).read_bytes()
    assert same, "fixtures/scans/ is stale: run `python -m fixtures.scans --committed` on purpose"


@pytest.mark.parametrize(
    ("value", "low", "high", "slipped"),
    [
        (31.0, None, 5.0, True),  # CRP '31' for 3.1
        (11.0, 0.8, 1.2, True),  # INR '11' for 1.1
        (9.4, 75.0, 115.0, True),  # the range lost its points: '75-115' for 7.5-11.5
        (150.0, 136.0, 145.0, False),  # just outside
        (2000.0, 5.0, 12.0, False),  # far outside, but no point move brings it near
    ],
    ids=["crp", "inr", "range-slipped", "near", "far-no-fit"],
)
def test_a_lost_decimal_point_is_suspected_only_where_moving_it_fits(
    value: float, low: float | None, high: float | None, slipped: bool
) -> None:
    from pipeline.validate import _decimal_slip

    assert _decimal_slip(value, low, high) is slipped
