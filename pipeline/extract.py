"""The orchestrator: one file in, one Document out. Reads like the list of stages it runs.

identify -> pages (text layer, or OCR per page) -> lines -> header fields and report cues -> rows
-> validate -> document. Errors about the input become a failed Document that names the file and the
reason; nothing here raises for bad input.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from pipeline.context import patient_of, resolve_dates
from pipeline.errors import LabreportError
from pipeline.ingest import identify
from pipeline.models import (
    Document,
    DocumentMethod,
    Extraction,
    Issue,
    Lab,
    LabResult,
    PageInfo,
    Source,
    Status,
)
from pipeline.pages import read_pages
from pipeline.reading import start_reading
from pipeline.settings import Settings

log = logging.getLogger(__name__)


def _collection_date(results: list[LabResult], printed: str | None) -> str | None:
    """The report's collection date: a cumulative report's newest date column, else the printed one."""
    columns = [r.collected_at for r in results if r.collected_at]
    return max(columns) if columns else printed


def _method(pages: list[PageInfo]) -> DocumentMethod:
    kinds = {p.method for p in pages if p.method != "none"}
    if not kinds:
        return "none"
    if len(kinds) > 1:
        return "mixed"
    return "ocr" if "ocr" in kinds else "text"


def extract(path: Path, settings: Settings) -> Document:
    """Read one lab report file into a Document; bad input gives a failed Document, never an exception."""
    started = time.perf_counter()
    source = Source(path=str(path), name=path.name)
    try:
        source = identify(path, settings)
        reading = start_reading(settings)
        for page in read_pages(path, source, settings):
            reading.add(page)
        results = reading.results()
    except LabreportError as exc:
        log.warning("file %s: not read (%s)", (source.sha256 or "unhashed")[:8], exc.code)
        log.debug("file %s is %s", (source.sha256 or "unhashed")[:8], path)
        return Document(
            status="failure",
            source=source,
            extraction=Extraction(method="none", seconds=round(time.perf_counter() - started, 3)),
            issues=[Issue(severity="error", code=exc.code, message=str(exc))],
        )
    issues = reading.issues
    dates = resolve_dates(reading.report, issues, dt.date.today())
    source = source.model_copy(update={"pages": len(reading.pages)})
    engines = sorted({p.engine for p in reading.pages if p.engine})
    if not results:
        unread = "; ".join(f"page {p.page}: {p.reason}" for p in reading.pages if p.method == "none" and p.reason)
        message = f"{path}: no lab results were found in this file" + (f" ({unread})" if unread else "")
        issues.append(Issue(severity="error", code="no_results", message=message))
    status: Status = "success"
    if not results:
        status = "failure"
    elif any(p.method == "none" for p in reading.pages):
        status = "partial"
    return Document(
        status=status,
        source=source,
        extraction=Extraction(
            method=_method(reading.pages),
            ocr_engine=", ".join(engines) or None,
            seconds=round(time.perf_counter() - started, 3),
            pages=reading.pages,
        ),
        lab=Lab(name=reading.report.header.lab_name),
        patient=patient_of(reading.report, dates),
        collected_at=_collection_date(results, dates.collected_at),
        collected_time=dates.collected_time,
        reported_at=dates.reported_at,
        results=results,
        issues=issues,
    )
