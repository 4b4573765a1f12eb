"""Where every shown value came from: the source reports of a patient, numbered R1..Rn in draw order.

Contract: ``Provenance(documents)`` indexes the extracted Documents by report id (the source file's sha256,
the id the store hands the interpretation engine) and answers, for any timeline point or evidence item,
which file, lab, page and printed row it came from. Renderers use it so every value in the HTML, the CSV
and the FHIR Bundle can be traced to a page of a file; a point whose report is not among the documents
is shown as 'source not available' rather than dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.interpret.models import TimelinePoint
from pipeline.models import Document, LabResult
from pipeline.store import document_sha256


@dataclass(frozen=True, slots=True)
class ReportRef:
    """One source report as the renderers cite it."""

    number: int
    id: str
    document: Document

    @property
    def label(self) -> str:
        return f"R{self.number}"

    @property
    def file_name(self) -> str:
        return self.document.source.name

    @property
    def lab(self) -> str | None:
        return self.document.lab.name


class Provenance:
    """Index of source documents by report id, and of their results by analyte and draw date."""

    def __init__(self, documents: Sequence[Document]) -> None:
        ordered = sorted(documents, key=lambda d: (d.collected_at or "", d.source.name))
        self.reports: list[ReportRef] = []
        self._by_id: dict[str, ReportRef] = {}
        self._results: dict[tuple[str, str, str], list[LabResult]] = {}
        for doc in ordered:
            rid = document_sha256(doc)
            if rid in self._by_id:
                continue
            ref = ReportRef(len(self.reports) + 1, rid, doc)
            self.reports.append(ref)
            self._by_id[rid] = ref
            for r in doc.results:
                if r.analyte is None:
                    continue
                day = (r.collected_at or doc.collected_at or "")[:10]
                self._results.setdefault((rid, r.analyte, day), []).append(r)

    def report(self, report_id: str | None) -> ReportRef | None:
        return self._by_id.get(report_id) if report_id else None

    def result(
        self, report_id: str, analyte: str, collected_at: dt.date, value_text: str | None = None
    ) -> LabResult | None:
        """The printed row behind a point; the one with the same printed value when a report repeats it."""
        found = self._results.get((report_id, analyte, collected_at.isoformat()), [])
        for r in found:
            if value_text is None or r.value_text == value_text:
                return r
        return found[0] if found else None

    def cite(self, report_id: str | None, page: int | None = None) -> str:
        """'R3 · report_2024-03.pdf, p. 2' (or why the source is unknown)."""
        ref = self.report(report_id)
        if ref is None:
            return "source not available"
        where = f", p. {page}" if page is not None else ""
        return f"{ref.label} · {ref.file_name}{where}"

    def point_result(self, analyte: str, point: TimelinePoint) -> LabResult | None:
        return self.result(point.report_id, analyte, point.collected_at, point.value_text)
