"""Reading a report page by page: lines -> header fields and report cues -> rows -> validated results.

`Reading` holds what has been read so far (extract.py feeds it every page of a file). `unsure_rows` reads
one OCR'd page on its own, before its numbers are settled, to say which rows a second reading could
lift to a claimed result (ocr/page.py cross-reads only those).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from parsers.knowledge import KnowledgeBase, load_knowledge
from parsers.types import NumberStyle
from pipeline.candidates import match_name
from pipeline.columns import TableHeader
from pipeline.context import ReportContext
from pipeline.fields import FieldContext
from pipeline.headers import read_header_fields
from pipeline.hints import LabHint, load_hints, select_hint
from pipeline.layout import group_lines
from pipeline.models import REVIEW_THRESHOLD, Issue, LabResult, Line, PageInfo, PageWords
from pipeline.ocr.engine import Box
from pipeline.rows import RowContext, find_rows
from pipeline.settings import Settings
from pipeline.validate import DocContext, build_result, dedupe, finalise_flags, is_bold

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Reading:
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

    def add(self, page: PageWords) -> list[Line]:
        """Read one page into results; returns the page's lines."""
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
            return []
        lines = group_lines(page)
        if self.rows is None:
            self.rows = self._first_page(lines)
        self.report.add_page(lines, read_header_fields(lines))
        context = self.context(page)
        rows, self.table = find_rows(lines, self.table, context)
        validation = DocContext(self.kb, context.fields, page.method, page.engine)
        for row in rows:
            self.built.append(build_result(row, validation))
            self.bold.append(is_bold(row))
        log.info("page %d: %d words, %d rows (%s)", page.page, len(page.words), len(rows), page.method)
        return lines

    def context(self, page: PageWords) -> RowContext:
        """How rows are read on `page`, given what the pages before it (and its own header) said."""
        assert self.rows is not None, "the first page fixes the row context"
        fields = FieldContext(self.report.style, self.report.sex, self.report.age_years, page.method == "ocr")
        return replace(self.rows, fields=fields, date_order=self.report.order)

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


def start_reading(settings: Settings) -> Reading:
    """An empty Reading with the knowledge base and the layout hints the settings name."""
    return Reading(kb=load_knowledge(), hints=load_hints(settings.hints_dir) if settings.hints_dir else ())


def unsure_rows(page: PageWords, settings: Settings) -> list[Box]:
    """The boxes (page units) of the rows on `page`, read on its own, where a second reading of the numbers
    and units can change what is claimed: rows whose results fall below the review threshold, and lines
    that name a test and hold a number but gave no result (a value misread as '§2' or '41.' is not one)."""
    reading = start_reading(settings)
    lines = reading.add(page)
    built = [result for result, _ in reading.built]
    boxes = [result.bbox for result in built if result.confidence < REVIEW_THRESHOLD]
    if not lines:
        return boxes
    context = reading.context(page)
    for line in lines:
        for box in _named_rows(line, context):
            if not any(_overlaps(box, result.bbox) for result in built):
                boxes.append(box)
    return boxes


def _named_rows(line: Line, context: RowContext) -> list[Box]:
    """The stretches of a line that run from a cell naming a known test to the next such cell (or the line's
    end) and hold a digit after the name."""
    starts = [i for i, cell in enumerate(line.cells) if match_name(context, cell.words)]
    rows: list[Box] = []
    ends = [*starts[1:], len(line.cells)] if starts else []
    for start, end in zip(starts, ends, strict=True):
        cells = line.cells[start:end]
        if any(c.isdigit() for cell in cells[1:] for c in cell.text):
            top, bottom = min(c.top for c in cells), max(c.bottom for c in cells)
            rows.append((cells[0].x0, top, max(c.x1 for c in cells), bottom))
    return rows


def _overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes overlap across and share more than half the height of the shorter one."""
    shared = min(a[3], b[3]) - max(a[1], b[1])
    return shared > 0.5 * min(a[3] - a[1], b[3] - b[1]) and min(a[2], b[2]) > max(a[0], b[0])
