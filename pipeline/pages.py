"""Pages of any input as words with boxes: the text layer where it is usable, OCR where it is not.

The choice is made per page and recorded on the page (method, engine, reason). Text pages stream straight
through; pages to OCR become jobs that run in a process pool, one worker per core (`settings.workers`),
started only when a first page needs it, and pages come out in page order. A bounded window of jobs in
flight keeps memory flat on long scanned documents. With one worker the jobs run inline.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.errors import LabreportError, TooLargeError
from pipeline.ingest import PDF
from pipeline.models import PageWords, Source
from pipeline.ocr.page import ocr_source_page
from pipeline.ocr.raster import count_image_pages
from pipeline.reading import unsure_rows
from pipeline.settings import Settings
from pipeline.textlayer import open_pdf
from pipeline.textlayer import read_pages as read_text_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OcrJob:
    """One page to OCR: picklable, the worker opens or renders the page itself."""

    path: str
    index: int
    kind: Literal["pdf", "image"]
    reason: str
    settings: Settings


def run_job(job: OcrJob) -> PageWords:
    """OCR one page. A PDF page that cannot be rendered is reported on its own; an image that cannot be
    decoded fails the file (it is the whole input)."""
    try:
        focus = functools.partial(unsure_rows, settings=job.settings)
        return ocr_source_page(job.path, job.index, job.kind, job.settings, reason=job.reason, focus=focus)
    except LabreportError as exc:
        if job.kind == "image":
            raise
        log.warning("page %d: OCR failed (%s)", job.index + 1, exc.code)
        return PageWords(
            page=job.index + 1, width=0, height=0, unit="pt", method="none", words=(), reason=f"OCR failed: {exc}"
        )


def _jobs(path: Path, source: Source, settings: Settings) -> Iterator[PageWords | OcrJob]:
    """Every page in order: text-layer pages as they are, the others as OCR jobs (per settings.ocr)."""
    if source.media_type != PDF:
        for index in range(count_image_pages(path, settings)):
            yield OcrJob(str(path), index, "image", "image input", settings)
        return
    with open_pdf(path) as pdf:
        for page, _ in read_text_pages(pdf):
            if settings.ocr == "always":
                yield OcrJob(str(path), page.page - 1, "pdf", "OCR requested for every page", settings)
            elif page.method == "none" and settings.ocr == "auto":
                yield OcrJob(str(path), page.page - 1, "pdf", page.reason or "no usable text layer", settings)
            else:
                yield page


def _in_order(items: Iterable[PageWords | OcrJob], workers: int) -> Iterator[PageWords]:
    """Run the OCR jobs (in a pool when workers > 1) and yield all pages in their order."""
    if workers <= 1:
        for item in items:
            yield run_job(item) if isinstance(item, OcrJob) else item
        return
    with ExitStack() as stack:
        pool: ProcessPoolExecutor | None = None
        window: deque[PageWords | Future[PageWords]] = deque()
        for item in items:
            if isinstance(item, OcrJob):
                if pool is None:
                    pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers))
                window.append(pool.submit(run_job, item))
            else:
                window.append(item)
            while window and (len(window) > 2 * workers or not isinstance(window[0], Future) or window[0].done()):
                head = window.popleft()
                yield head.result() if isinstance(head, Future) else head
        while window:
            head = window.popleft()
            yield head.result() if isinstance(head, Future) else head


def read_pages(path: Path, source: Source, settings: Settings) -> Iterator[PageWords]:
    """Yield every page of the file in order, OCR'd where needed; refuse files over settings.max_pages."""
    for count, page in enumerate(_in_order(_jobs(path, source, settings), settings.workers), start=1):
        if count > settings.max_pages:
            raise TooLargeError(f"the file has more than {settings.max_pages} pages", path=str(path))
        yield page
