"""The typed document that flows through every stage, and the geometry it is built from.

Geometry (Word, Line, Cell) is plain frozen dataclasses: thousands are made per page and they never
leave the process. Everything that crosses a boundary (the output document, issues, results) is a
pydantic model, and `labreport schema` prints its JSON Schema.

Coordinates: x grows right, y (``top``/``bottom``) grows down, in PDF points for PDF pages (also when a
PDF page was OCR'd: boxes are scaled back) and in pixels for image inputs; ``PageInfo.unit`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"
REVIEW_THRESHOLD = 0.9
"""A result at or above this confidence is claimed right without human review."""

Sex = Literal["female", "male"]
Flag = Literal["H", "L", "HH", "LL", "A"]
Comparator = Literal["<", "<=", ">", ">="]
PageMethod = Literal["text", "ocr", "none"]
DocumentMethod = Literal["text", "ocr", "mixed", "none"]
Severity = Literal["info", "warning", "error"]
Status = Literal["success", "partial", "failure", "skipped"]
FlagSource = Literal["printed", "bold", "derived"]


# --------------------------------------------------------------------------------------------------
# Geometry: what the readers (text layer, OCR) produce and the layout stage groups.


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its box on the page, as the text layer or an OCR engine gave it."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    bold: bool = False
    conf: float = 1.0
    """Recognition confidence in 0..1; 1.0 for a usable text layer."""
    engine: str | None = None
    """The OCR engine that read this word ('tesseract 5.3.0'); None for the text layer."""

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def mid_y(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True, slots=True)
class PageWords:
    """Everything a reader learned about one page."""

    page: int
    """1-based page number in the source file."""
    width: float
    height: float
    unit: Literal["pt", "px"]
    method: PageMethod
    words: tuple[Word, ...]
    engine: str | None = None
    """OCR engine name and version when method is 'ocr'."""
    reason: str | None = None
    """Why the page was OCR'd, or why it holds no words."""
    rotation: int = 0
    ocr_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """Words on one line that sit close together: one table cell or one phrase."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def bold(self) -> bool:
        return all(w.bold for w in self.words)

    @property
    def conf(self) -> float:
        return min(w.conf for w in self.words)


@dataclass(frozen=True, slots=True)
class Line:
    """Cells whose words share a baseline, left to right."""

    page: int
    cells: tuple[Cell, ...]
    words: tuple[Word, ...] = field(default=())

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cells)

    @property
    def top(self) -> float:
        return min(c.top for c in self.cells)

    @property
    def bottom(self) -> float:
        return max(c.bottom for c in self.cells)

    @property
    def x0(self) -> float:
        return self.cells[0].x0

    @property
    def x1(self) -> float:
        return max(c.x1 for c in self.cells)


# --------------------------------------------------------------------------------------------------
# The output document.


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    path: str
    name: str
    sha256: str | None = None
    size_bytes: int | None = None
    pages: int = 0
    media_type: str | None = None


class PageInfo(_Model):
    page: int
    width: float
    height: float
    unit: Literal["pt", "px"]
    method: PageMethod
    engine: str | None = None
    reason: str | None = None
    words: int = 0
    rotation: int = 0
    ocr_confidence: float | None = None


class Extraction(_Model):
    method: DocumentMethod
    ocr_engine: str | None = None
    """Name and version of the OCR engine(s) used, e.g. 'tesseract 5.3.0'."""
    seconds: float = 0.0
    parser_version: str = "0.1.0"
    pages: list[PageInfo] = Field(default_factory=list)


class Lab(_Model):
    name: str | None = None


class Patient(_Model):
    id: str | None = None
    name: str | None = None
    sex: Sex | None = None
    birth_date: str | None = None
    """ISO date."""
    age_years: float | None = None


class ReferenceRange(_Model):
    low: float | None = None
    high: float | None = None
    text: str
    """The range exactly as printed (all strata when it is stratified)."""
    applies_to: str | None = None
    """The stratum chosen for this patient when the range depends on sex or age, e.g. 'male'."""


class LabResult(_Model):
    name: str
    """The test name as printed."""
    analyte: str | None = None
    """Canonical analyte code from the knowledge base; None when the name is not known."""
    loinc: str | None = None
    value: float | None = None
    value_text: str
    comparator: Comparator | None = None
    unit: str | None = None
    """UCUM code."""
    unit_printed: str | None = None
    reference_range: ReferenceRange | None = None
    flag: Flag | None = None
    flag_printed: str | None = None
    flag_source: FlagSource | None = None
    collected_at: str | None = None
    """Set when the report has several collection dates (cumulative reports)."""
    panel: str | None = None
    page: int
    bbox: tuple[float, float, float, float]
    """x0, top, x1, bottom of the whole row, in the page's unit."""
    value_bbox: tuple[float, float, float, float] | None = None
    method: PageMethod = "text"
    engine: str | None = None
    confidence: float = 0.0
    needs_review: bool = True
    notes: list[str] = Field(default_factory=list)
    """Why the confidence is what it is: corrections, checks that failed, ambiguities."""


class Issue(_Model):
    severity: Severity
    code: str
    message: str
    page: int | None = None
    result: int | None = None
    """Index into results[] when the issue is about one result."""


class Document(_Model):
    schema_version: str = SCHEMA_VERSION
    status: Status = "success"
    source: Source
    extraction: Extraction
    lab: Lab = Field(default_factory=Lab)
    patient: Patient = Field(default_factory=Patient)
    collected_at: str | None = None
    """ISO date of collection (the draw), when printed."""
    collected_time: str | None = None
    """HH:MM of collection, when printed."""
    reported_at: str | None = None
    results: list[LabResult] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list)
