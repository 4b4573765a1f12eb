"""Extracted ``Document`` -> interpretation ``Observation`` list (the store may use it or do the same itself).

Contract: one Observation per LabResult with a canonical analyte code and a draw date (the result's own
``collected_at`` on cumulative reports, else the document's). Results without an analyte code or without
any draw date cannot be placed on a timeline: they are skipped and counted (INFO log, counts only). The
range is the one printed on the same report; the age is the one printed on the report.
"""

from __future__ import annotations

import datetime as dt
import logging

from pipeline.models import Document

from .models import Observation

log = logging.getLogger(__name__)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _time(text: str | None) -> dt.time | None:
    if not text:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        return None


def observations_from_document(doc: Document, report_id: str) -> list[Observation]:
    """Observations of one extracted report, ready for ``interpret``."""
    out: list[Observation] = []
    skipped = 0
    doc_date = _date(doc.collected_at)
    for r in doc.results:
        when = _date(r.collected_at) or doc_date
        if r.analyte is None or when is None:
            skipped += 1
            continue
        rr = r.reference_range
        out.append(
            Observation(
                analyte=r.analyte,
                loinc=r.loinc,
                name=r.name,
                value=r.value,
                value_text=r.value_text,
                comparator=r.comparator,
                unit=r.unit,
                unit_printed=r.unit_printed,
                ref_low=rr.low if rr else None,
                ref_high=rr.high if rr else None,
                ref_text=rr.text if rr else None,
                ref_applies_to=rr.applies_to if rr else None,
                flag=r.flag,
                collected_at=when,
                collected_time=_time(doc.collected_time) if r.collected_at is None else None,
                report_id=report_id,
                lab=doc.lab.name,
                age_years=doc.patient.age_years,
                page=r.page,
                bbox=r.bbox,
                extraction_method="ocr" if r.method == "ocr" else "text",
                confidence=r.confidence,
                needs_review=r.needs_review,
            )
        )
    log.info(
        "report gave %d observations; %d results skipped (no analyte code or no draw date)", len(out), skipped
    )
    return out
