"""Pages of any input as words with boxes: the text layer where it is usable, OCR where it is not.

The choice is made per page and recorded on the page (method, engine, reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.ingest import PDF
from pipeline.models import PageWords, Source
from pipeline.settings import Settings
from pipeline.textlayer import open_pdf
from pipeline.textlayer import read_pages as read_text_pages


def read_pages(path: Path, source: Source, settings: Settings) -> Iterator[PageWords]:
    """Yield every page of the file in order."""
    if source.media_type == PDF:
        with open_pdf(path) as pdf:
            for page, _ in read_text_pages(pdf):
                yield page
        return
    yield PageWords(page=1, width=0, height=0, unit="px", method="none", words=(), reason="OCR not wired yet")
