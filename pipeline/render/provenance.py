"""Where every shown value came from: the source reports of a patient, numbered R1..Rn in draw order.

Contract: ``Provenance(documents)`` indexes the extracted Documents by report id (the source file's sha256,
the id the store hands the interpretation engine) and cites a report as 'R3 · file.pdf, p. 2'. Everything
else about a value (printed name, value and unit, lab, page) travels with it in the interpretation's
timeline points and evidence, so this index never looks a value up again. Renderers use it so every value
in the HTML, the CSV and the FHIR Bundle can be traced to a page of a file; a value whose report is not
among the documents is shown as 'source not available' rather than dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.models import Document
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
    """Index of source documents by report id, numbered R1..Rn in draw order."""

    def __init__(self, documents: Sequence[Document]) -> None:
        ordered = sorted(documents, key=lambda d: (d.collected_at or "", d.source.name))
        self.reports: list[ReportRef] = []
        self._by_id: dict[str, ReportRef] = {}
        for doc in ordered:
            rid = document_sha256(doc)
            if rid in self._by_id:
                continue
            ref = ReportRef(len(self.reports) + 1, rid, doc)
            self.reports.append(ref)
            self._by_id[rid] = ref

    def report(self, report_id: str | None) -> ReportRef | None:
        return self._by_id.get(report_id) if report_id else None

    def cite(self, report_id: str | None, page: int | None = None) -> str:
        """'R3 · report_2024-03.pdf, p. 2' (or why the source is unknown)."""
        ref = self.report(report_id)
        if ref is None:
            return "source not available"
        where = f", p. {page}" if page is not None else ""
        return f"{ref.label} · {ref.file_name}{where}"
