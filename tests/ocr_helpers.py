"""Synthetic pages and recorded engines for the OCR tests (test_ocr_*.py).

Pages come from bench/synthetic.py (reportlab) rendered by pypdfium2, so every test image is synthetic
and made on the fly. Recorded OCR output lives in tests/data/ocr/<stem>-<n>.tsv|json; run the tests with
LABREPORT_RECORD_OCR=1 to re-record it from the real engines (on purpose only), and a missing
recording fails the test.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bench.synthetic import RowTruth, Rulings, make_report_pdf
from pipeline.ocr.engine import OcrEngine
from pipeline.ocr.raster import PageImage, render_pdf_page
from pipeline.ocr.recorded import RecordedEngine, Recorder

DATA = Path(__file__).parent / "data" / "ocr"
RECORD = os.environ.get("LABREPORT_RECORD_OCR") == "1"
_TMP = Path(tempfile.mkdtemp(prefix="labreport-ocr-tests-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)


@functools.cache
def synthetic_pdf(
    lang: str = "eng", rulings: Rulings = "grid", rows: int = 10, seed: int = 1
) -> tuple[Path, tuple[RowTruth, ...]]:
    """A one-page synthetic report PDF (made once per test session) and the rows it prints."""
    path = _TMP / f"{lang}-{rulings}-{rows}-{seed}.pdf"
    truth = make_report_pdf(path, lang=lang, seed=seed, rows=rows, rulings=rulings)
    return path, tuple(truth)


def synthetic_page(
    dpi: int = 150, lang: str = "eng", rulings: Rulings = "grid", rows: int = 10, seed: int = 1
) -> tuple[PageImage, tuple[RowTruth, ...]]:
    """The synthetic report rendered grey at `dpi`, as the OCR side receives a PDF page."""
    path, truth = synthetic_pdf(lang, rulings, rows, seed)
    return render_pdf_page(path, 0, dpi), truth


def grey_page(image: np.ndarray, page: int = 1) -> PageImage:
    """Wrap a grey array as an image-file page (pixel units)."""
    return PageImage(page, np.ascontiguousarray(image, dtype=np.uint8), 1.0, "px", "test.png")


def recorded_engine(stem: str, live: OcrEngine) -> OcrEngine:
    """Replay tests/data/ocr/<stem>-<n>.*, or record them from `live` when LABREPORT_RECORD_OCR=1."""
    if RECORD:
        DATA.mkdir(parents=True, exist_ok=True)
        for old in DATA.glob(f"{stem}-*.*"):
            old.unlink()
        return Recorder(live, DATA, stem)
    paths = sorted(DATA.glob(f"{stem}-*.*"), key=lambda p: int(re.sub(r"\D", "", p.stem.rsplit("-", 1)[1])))
    if not paths:
        raise AssertionError(f"no recorded OCR output for {stem!r}; run with LABREPORT_RECORD_OCR=1")
    return RecordedEngine(paths, version="5.3.0")


def recall(texts: Iterable[str], expected: Iterable[str]) -> float:
    """Share of expected tokens found among OCR texts (multiset; ranges read as '4-11.3' count too)."""
    pool: Counter[str] = Counter()
    for text in texts:
        pool[text] += 1
        for part in re.split(r"[-–]", text):
            if part and part != text:
                pool[part] += 1
    wanted = [t for t in expected if t]
    hits = 0
    for token in wanted:
        if pool[token] > 0:
            pool[token] -= 1
            hits += 1
    return hits / len(wanted) if wanted else 1.0


def numbers(rows: Iterable[RowTruth]) -> list[str]:
    """Every number a row prints: value, low and high."""
    return [n for r in rows for n in r.numbers]
