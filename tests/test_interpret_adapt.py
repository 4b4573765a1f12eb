"""Extracted Document -> Observations: own range, draw date (cumulative reports), age, skipped results."""

from __future__ import annotations

import datetime as dt

from pipeline.interpret import interpret, observations_from_document
from pipeline.models import Document, Extraction, Lab, LabResult, Patient, ReferenceRange, Source


def result(
    name: str, analyte: str | None, value: float, unit: str, collected_at: str | None = None
) -> LabResult:
    return LabResult(
        name=name,
        analyte=analyte,
        value=value,
        value_text=str(value),
        unit=unit,
        reference_range=ReferenceRange(low=7, high=40, text="7 - 40"),
        collected_at=collected_at,
        page=1,
        bbox=(10, 20, 300, 30),
        confidence=0.97,
        needs_review=False,
    )


def document() -> Document:
    return Document(
        source=Source(path="/tmp/x.pdf", name="x.pdf"),
        extraction=Extraction(method="text"),
        lab=Lab(name="Lab A"),
        patient=Patient(age_years=61, sex="female"),
        collected_at="2024-05-02",
        collected_time="08:15",
        results=[
            result("ALT (SGPT)", "alt", 55, "U/L"),
            result("ALT (SGPT)", "alt", 80, "U/L", collected_at="2024-03-01"),
            result("Mystery test", None, 3, "U/L"),
        ],
    )


def test_observations_keep_range_date_age_and_provenance() -> None:
    obs = observations_from_document(document(), "rep-1")
    assert len(obs) == 2  # the result without an analyte code is skipped
    latest = next(o for o in obs if o.collected_at == dt.date(2024, 5, 2))
    assert (latest.value, latest.unit, latest.ref_high, latest.ref_text) == (55, "U/L", 40, "7 - 40")
    assert latest.collected_time == dt.time(8, 15) and latest.age_years == 61
    assert (latest.lab, latest.report_id, latest.page, latest.confidence) == ("Lab A", "rep-1", 1, 0.97)
    earlier = next(o for o in obs if o.collected_at == dt.date(2024, 3, 1))
    assert earlier.collected_time is None  # a cumulative column's own date, not the report's time


def test_document_observations_interpret_end_to_end() -> None:
    interp = interpret(observations_from_document(document(), "rep-1"))
    alt = next(t for t in interp.timelines if t.analyte == "alt")
    assert [p.value for p in alt.points] == [80, 55]
    assert interp.report_ids == ["rep-1"]
