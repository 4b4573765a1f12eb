"""Scanned inputs end to end through the real Tesseract: the same parser reads OCR'd words, the OCR choice is
made and recorded per page, and confidence keeps its promise (nothing at >= 0.9 is wrong)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from fixtures.scoring import load_truth, score_document
from pipeline.api import process_file
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EDGE = ROOT / "fixtures" / "edge"
pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", ["image_only.pdf", "garbage_textlayer.pdf"], ids=["image-only", "garbage-text"])
def test_scanned_pdf_is_ocrd_and_read(name: str) -> None:
    document = process_file(EDGE / name, Settings(workers=1))
    page = document.extraction.pages[0]
    assert document.extraction.method == "ocr" and page.method == "ocr"
    assert page.engine is not None and page.engine.startswith("tesseract")
    assert page.reason is not None  # why the page was OCR'd is recorded
    score = score_document(load_truth(EDGE / f"{name}.truth.json"), document)
    assert score.confident_wrong == 0, score.wrong
    assert score.recall >= 0.85 and score.precision == 1.0, score.summary()
    assert score.accuracy("value") == 1.0, score.summary()
    engines = {r.engine for r in document.results}
    assert engines and all(e and e.split()[0] in ("tesseract", "rapidocr") for e in engines), engines


def test_mixed_pdf_reads_each_page_its_own_way(tmp_path: Path) -> None:
    digital = pdfium.PdfDocument(ROOT / "fixtures" / "reports" / "au_plain_biochem.pdf")
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(digital)
    mixed.import_pages(pdfium.PdfDocument(EDGE / "image_only.pdf"))
    path = tmp_path / "mixed.pdf"
    mixed.save(str(path))
    document = process_file(path, Settings(workers=2))
    assert [p.method for p in document.extraction.pages] == ["text", "ocr"]
    assert document.extraction.method == "mixed"
    assert {r.page for r in document.results} == {1, 2}
    assert all(r.method == ("text" if r.page == 1 else "ocr") for r in document.results)
