"""The orchestrator: one file in, one Document out. Reads like the list of stages it runs.

identify -> pages (text layer, or OCR per page) -> lines -> header fields and report cues -> rows
-> validate -> document. Errors about the input become a failed Document that names the file and the
reason; nothing here raises for bad input.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from parsers.knowledge import KnowledgeBase, load_knowledge
from parsers.types import NumberStyle
from pipeline.columns import TableHeader
from pipeline.context import ReportContext, patient_of, resolve_dates
from pipeline.errors import LabreportError
from pipeline.fields import FieldContext
from pipeline.headers import read_header_fields
from pipeline.hints import LabHint, load_hints, select_hint
from pipeline.ingest import identify
from pipeline.layout import group_lines
from pipeline.models import (
    Document,
    DocumentMethod,
    Extraction,
    Issue,
    Lab,
    LabResult,
    Line,
    PageInfo,
    PageWords,
    Source,
    Status,
)
from pipeline.pages import read_pages
from pipeline.rows import RowContext, find_rows
from pipeline.settings import Settings
from pipeline.validate import DocContext, build_result, dedupe, finalise_flags, is_bold

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Reading:
    """What has been read so far. Rows are validated page by page so that memory holds results, not pages."""

    kb: KnowledgeBase
    hints: tuple[LabHint, ...] = ()
    rows: RowContext | None = None
    """Row-reading context fixed on the first page: the layout hint that applies, if any."""
    report: ReportContext = field(default_factory=ReportContext)
    table: TableHeader | None = None
    built: list[tuple[LabResult, list[Issue]]] = field(default_factory=list)
    bold: list[bool] = field(default_factory=list)
    pages: list[PageInfo] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def add(self, page: PageWords) -> None:
        self.pages.append(
            PageInfo(
                page=page.page,
                width=page.width,
                height=page.height,
                unit=page.unit,
                method=page.method,
                engine=page.engine,
                reason=page.reason,
                words=len(page.words),
                rotation=page.rotation,
                ocr_confidence=page.ocr_confidence,
            )
        )
        if page.method == "none":
            self.issues.append(
                Issue(
                    severity="warning",
                    code="page_unread",
                    page=page.page,
                    message=f"page {page.page} could not be read: {page.reason}",
                )
            )
            return
        lines = group_lines(page)
        if self.rows is None:
            self.rows = self._first_page(lines)
        self.report.add_page(lines, read_header_fields(lines))
        fields = FieldContext(self.report.style, self.report.sex, self.report.age_years, page.method == "ocr")
        context = replace(self.rows, fields=fields, date_order=self.report.order)
        rows, self.table = find_rows(lines, self.table, context)
        validation = DocContext(self.kb, fields, page.method, page.engine)
        for row in rows:
            self.built.append(build_result(row, validation))
            self.bold.append(is_bold(row))
        log.info("page %d: %d words, %d rows (%s)", page.page, len(page.words), len(rows), page.method)

    def _first_page(self, lines: list[Line]) -> RowContext:
        """Choose the lab's layout hint, if one matches the first page, for the whole report."""
        hint = select_hint(self.hints, "\n".join(line.text for line in lines)) if self.hints else None
        if hint is None:
            return RowContext(self.kb, FieldContext(NumberStyle.UNKNOWN, None, None, False), None)
        log.info("layout hint '%s' applies", hint.name)
        self.report.follow(hint)
        return RowContext(
            self.kb,
            FieldContext(NumberStyle.UNKNOWN, None, None, False),
            None,
            hint=hint,
            hint_names=hint.names(self.kb),
            hint_headers=hint.headers(),
        )

    def results(self) -> list[LabResult]:
        """The document's results, duplicates resolved; issues point at their result's final position."""
        finalise_flags([result for result, _ in self.built], self.bold, self.issues)
        kept = dedupe([result for result, _ in self.built], self.issues)
        position = {id(result): index for index, result in enumerate(kept)}
        for issue in self.issues:
            if issue.result is not None:
                issue.result = position.get(id(self.built[issue.result][0]))
        for result, issues in self.built:
            for issue in issues:
                issue.result = position.get(id(result))
            self.issues.extend(issues)
        return kept


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
        reading = _Reading(kb=load_knowledge(), hints=load_hints(settings.hints_dir) if settings.hints_dir else ())
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
