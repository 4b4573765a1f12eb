"""Synthetic extracted Documents for the store and renderer tests and the report benchmark.

Everything here is invented (no real patient): a patient whose liver tests are followed over time at two labs
that print different reference ranges, and, for the benchmark, a wide panel over many reports. Values follow
smooth trajectories with seeded noise, so every run gives the same documents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.interpret import Interpretation, interpret
from pipeline.models import (
    Comparator,
    Document,
    Extraction,
    Flag,
    Lab,
    LabResult,
    Patient,
    ReferenceRange,
    Source,
)
from pipeline.store import Store


@dataclass(frozen=True)
class Spec:
    """One analyte as a lab prints it, and how its value moves over time (t in 0..1)."""

    code: str
    loinc: str
    name: str
    unit: str | None
    unit_printed: str | None
    low: float | None
    high: float | None
    path: Callable[[float], float]
    decimals: int = 1
    noise: float = 0.03


def _flat(v: float) -> Callable[[float], float]:
    return lambda _t: v


LIVER: tuple[Spec, ...] = (
    Spec("alt", "1742-6", "ALT (SGPT)", "U/L", "U/L", 7, 56, lambda t: 310 * math.exp(-2.2 * t) + 35, 0),
    Spec("ast", "1920-8", "AST (SGOT)", "U/L", "U/L", 10, 40, lambda t: 190 * math.exp(-1.6 * t) + 45, 0),
    Spec("alp", "6768-6", "Alkaline Phosphatase", "U/L", "U/L", 44, 147, lambda t: 120 + 40 * t, 0),
    Spec("ggt", "2324-2", "GGT", "U/L", "U/L", 9, 48, lambda t: 70 + 30 * t, 0),
    Spec(
        "bilirubin_total", "1975-2", "Bilirubin, Total", "mg/dL", "mg/dL", 0.1, 1.2, lambda t: 1.1 + 1.3 * t
    ),
    Spec("albumin", "1751-7", "Albumin", "g/dL", "g/dL", 3.5, 5.0, lambda t: 3.9 - 0.7 * t),
    Spec("inr", "6301-6", "INR", "{INR}", None, 0.8, 1.2, lambda t: 1.1 + 0.7 * t, 2, 0.02),
    Spec("platelets", "777-3", "Platelet Count", "10*3/uL", "x10^3/uL", 150, 400, lambda t: 210 - 70 * t, 0),
    Spec("creatinine", "2160-0", "Creatinine", "mg/dL", "mg/dL", 0.7, 1.3, _flat(0.9), 2),
    Spec("sodium", "2951-2", "Sodium", "mmol/L", "mmol/L", 136, 145, lambda t: 139 - 4 * t, 0, 0.005),
)

EXTRA: tuple[Spec, ...] = (
    Spec("hemoglobin", "718-7", "Hemoglobin", "g/dL", "g/dL", 13.5, 17.5, _flat(14.2)),
    Spec("hematocrit", "4544-3", "Hematocrit", "%", "%", 41, 53, _flat(43.0)),
    Spec("wbc", "6690-2", "WBC", "10*3/uL", "x10^3/uL", 4.5, 11.0, _flat(6.8)),
    Spec("rbc", "789-8", "RBC", "10*6/uL", "x10^6/uL", 4.5, 5.9, _flat(4.9), 2),
    Spec("mcv", "787-2", "MCV", "fL", "fL", 80, 100, _flat(91.0)),
    Spec("mch", "785-6", "MCH", "pg", "pg", 27, 33, _flat(30.1)),
    Spec("mchc", "786-4", "MCHC", "g/dL", "g/dL", 32, 36, _flat(33.5)),
    Spec("rdw_cv", "788-0", "RDW-CV", "%", "%", 11.5, 14.5, _flat(13.0)),
    Spec("mpv", "32623-1", "MPV", "fL", "fL", 7.5, 11.5, _flat(9.4)),
    Spec("neutrophils_pct", "770-8", "Neutrophils", "%", "%", 40, 70, _flat(58.0)),
    Spec("lymphocytes_pct", "736-9", "Lymphocytes", "%", "%", 20, 40, _flat(30.0)),
    Spec("monocytes_pct", "5905-5", "Monocytes", "%", "%", 2, 8, _flat(6.0)),
    Spec("eosinophils_pct", "713-8", "Eosinophils", "%", "%", 1, 4, _flat(2.5)),
    Spec("basophils_pct", "706-2", "Basophils", "%", "%", 0, 1, _flat(0.5)),
    Spec("glucose", "2345-7", "Glucose", "mg/dL", "mg/dL", 70, 99, _flat(92.0), 0),
    Spec("bun", "3094-0", "BUN", "mg/dL", "mg/dL", 7, 20, _flat(14.0), 0),
    Spec("potassium", "2823-3", "Potassium", "mmol/L", "mmol/L", 3.5, 5.1, _flat(4.2)),
    Spec("chloride", "2075-0", "Chloride", "mmol/L", "mmol/L", 98, 107, _flat(102.0), 0),
    Spec("co2", "2028-9", "CO2", "mmol/L", "mmol/L", 22, 29, _flat(25.0), 0),
    Spec("calcium", "17861-6", "Calcium", "mg/dL", "mg/dL", 8.6, 10.3, _flat(9.4)),
    Spec("total_protein", "2885-2", "Total Protein", "g/dL", "g/dL", 6.0, 8.3, _flat(7.1)),
    Spec("cholesterol_total", "2093-3", "Cholesterol, Total", "mg/dL", "mg/dL", None, 200, _flat(185.0), 0),
    Spec("hdl", "2085-9", "HDL Cholesterol", "mg/dL", "mg/dL", 40, None, _flat(52.0), 0),
    Spec("ldl_calc", "13457-7", "LDL Cholesterol, Calculated", "mg/dL", "mg/dL", None, 100, _flat(110.0), 0),
    Spec("triglycerides", "2571-8", "Triglycerides", "mg/dL", "mg/dL", None, 150, _flat(120.0), 0),
    Spec("tsh", "3016-3", "TSH", "m[IU]/L", "uIU/mL", 0.4, 4.0, _flat(1.9), 2),
    Spec("hba1c", "4548-4", "HbA1c", "%", "%", 4.0, 5.6, _flat(5.4)),
    Spec("crp", "1988-5", "CRP", "mg/L", "mg/L", None, 5.0, _flat(2.1)),
    Spec("uric_acid", "3084-1", "Uric Acid", "mg/dL", "mg/dL", 3.4, 7.0, _flat(5.6)),
    Spec("magnesium", "19123-9", "Magnesium", "mg/dL", "mg/dL", 1.7, 2.2, _flat(2.0)),
)

LABS = ("Northside Clinical Laboratory", "Harbour Diagnostics")
OTHER_LAB_RANGES: dict[str, tuple[float | None, float | None]] = {
    # The second lab prints its own ranges, as real labs do (ALT and AST differ the most between methods).
    "alt": (0, 41),
    "ast": (0, 40),
    "alp": (40, 129),
    "ggt": (10, 71),
    "bilirubin_total": (0.3, 1.2),
    "albumin": (3.4, 5.4),
    "inr": (0.9, 1.1),
    "platelets": (140, 450),
    "creatinine": (0.66, 1.25),
    "sodium": (135, 145),
}


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g} - {high:g}"
    if high is not None:
        return f"< {high:g}"
    return f"> {low:g}"


def _result(spec: Spec, t: float, rng: random.Random, row: int, lab_index: int) -> LabResult:
    value = round(spec.path(t) * (1 + rng.gauss(0, spec.noise)), spec.decimals)
    if spec.decimals == 0:
        value = float(int(value))
    low, high = (
        (spec.low, spec.high) if lab_index == 0 else OTHER_LAB_RANGES.get(spec.code, (spec.low, spec.high))
    )
    flag: Flag | None = None
    if high is not None and value > high:
        flag = "H"
    elif low is not None and value < low:
        flag = "L"
    top = 150.0 + 14.0 * (row % 40)
    return LabResult(
        name=spec.name,
        analyte=spec.code,
        loinc=spec.loinc,
        value=value,
        value_text=f"{value:.{spec.decimals}f}",
        unit=spec.unit,
        unit_printed=spec.unit_printed,
        reference_range=ReferenceRange(low=low, high=high, text=_range_text(low, high)),
        flag=flag,
        flag_printed=flag,
        flag_source="printed" if flag else None,
        page=1 + row // 40,
        bbox=(40.0, top, 560.0, top + 10.0),
        value_bbox=(300.0, top, 340.0, top + 10.0),
        confidence=0.97,
        needs_review=False,
    )


def make_series(
    n_reports: int = 6,
    specs: tuple[Spec, ...] = LIVER,
    *,
    start: dt.date = dt.date(2024, 1, 8),
    every_days: int = 60,
    seed: int = 7,
    patient: Patient | None = None,
) -> list[Document]:
    """``n_reports`` documents for one synthetic patient, alternating between two labs."""
    rng = random.Random(seed)
    who = patient or Patient(id="SYN-0042", name="Alex Example", sex="male", birth_date="1968-04-02")
    docs: list[Document] = []
    for i in range(n_reports):
        t = i / max(1, n_reports - 1)
        collected = start + dt.timedelta(days=every_days * i)
        lab_index = (i // 2) % 2
        name = f"synthetic_{seed}_{i:03d}.pdf"
        sha = hashlib.sha256(f"{seed}:{i}:{who.id}:{who.name}".encode()).hexdigest()
        results = [_result(s, t, rng, row, lab_index) for row, s in enumerate(specs)]
        age = None
        if who.birth_date:
            born = dt.date.fromisoformat(who.birth_date)
            age = float((collected - born).days // 365)
        docs.append(
            Document(
                source=Source(
                    path=f"/data/in/{name}",
                    name=name,
                    sha256=sha,
                    size_bytes=48_000 + i,
                    pages=1 + (len(specs) - 1) // 40,
                    media_type="application/pdf",
                ),
                extraction=Extraction(method="text"),
                lab=Lab(name=LABS[lab_index]),
                patient=who.model_copy(update={"age_years": age}),
                collected_at=collected.isoformat(),
                collected_time="08:30",
                reported_at=(collected + dt.timedelta(days=1)).isoformat(),
                results=results,
            )
        )
    return docs


def bench_series(n_reports: int = 50, per_report: int = 40) -> list[Document]:
    """The benchmark's patient: ``n_reports`` reports of ``per_report`` results each."""
    specs = (LIVER + EXTRA)[:per_report]
    return make_series(n_reports, specs, every_days=21, seed=50)


def _crp(
    value: float | None, text: str, comparator: Comparator | None, ref: ReferenceRange | None
) -> LabResult:
    return LabResult(
        name="C-Reactive Protein",
        analyte="crp",
        loinc="1988-5",
        value=value,
        value_text=text,
        comparator=comparator,
        unit="mg/L",
        unit_printed="mg/L",
        reference_range=ref,
        page=2,
        bbox=(40.0, 100.0, 560.0, 110.0),
        confidence=0.95,
        needs_review=False,
    )


def with_edge_cases(docs: list[Document]) -> list[Document]:
    """The series plus what renderers must handle: a text value, a censored value, a value printed in
    another unit (umol/L bilirubin), a value under review, and markup in a printed range."""
    out: list[Document] = []
    crp_range = ReferenceRange(high=5.0, text="< 5.0 <b>mg/L</b>")
    for i, doc in enumerate(docs):
        if i == 0:
            crp = _crp(None, "Negative", None, None)
        elif i == 1:
            crp = _crp(0.5, "<0.5", "<", crp_range)
        else:
            crp = _crp(3.0 + i, f"{3.0 + i:.1f}", None, crp_range)
        results = list(doc.results)
        if i == len(docs) - 1:
            # The last report prints bilirubin in umol/L, and one value is hard to read.
            results = [_edge(r) for r in results]
        out.append(doc.model_copy(update={"results": [*results, crp]}))
    return out


def _edge(r: LabResult) -> LabResult:
    if r.analyte == "bilirubin_total":
        umol = round((r.value or 0) * 17.1)
        return r.model_copy(
            update={
                "unit": "umol/L",
                "unit_printed": "µmol/L",
                "value": float(umol),
                "value_text": str(umol),
                "reference_range": ReferenceRange(low=5, high=21, text="5 - 21"),
            }
        )
    if r.analyte == "creatinine":
        return r.model_copy(update={"confidence": 0.62, "needs_review": True})
    return r


HOSTILE = Patient(
    id="SYN-<i>7</i>",
    name="<script>alert('x')</script> Example",
    sex="female",
    birth_date="1975-06-15",
)


def interpreted(docs: list[Document]) -> tuple[Interpretation, list[Document]]:
    """Store the documents (temporary store), interpret the one patient: what `labreport report` renders."""
    with Store.temporary() as store:
        keys = {store.add_document(d).patient_key for d in docs}
        assert len(keys) == 1, "the documents must belong to one patient"
        key = keys.pop()
        return interpret(store.observations(key), store.patient_info(key)), store.documents(key)
