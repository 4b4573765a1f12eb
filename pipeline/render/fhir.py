"""bundle.json: a FHIR R4 Bundle (type collection) of the patient's reports, results and derived scores.

Contract: ``build_bundle(interpretation, provenance) -> dict`` returns the Bundle as JSON-ready data, already
validated by ``fhir.resources`` (R4B models: the resources used here are identical in R4 and R4B);
``render_bundle`` serialises it. Contents:

- Patient (printed ids as identifiers, name, gender, birthDate), one Organization per laboratory;
- per source report a DiagnosticReport (status final, category LAB, LOINC 11502-2 'Laboratory report',
  effectiveDateTime = collection date, result[] = its Observations, presentedForm = the source FILE by
  reference: contentType, a file:// url, size, title, and the FHIR hash (SHA-1, base64) when the file is
  readable. The file is referenced, not embedded: scans run to megabytes and the Bundle must stay small
  enough to read; the url plus hash lets a consumer fetch and verify the exact file; the report's SHA-256
  is kept as an identifier);
- per printed result an Observation: status final, category laboratory, code = LOINC + printed name,
  effectiveDateTime = collection time, valueQuantity {value, unit as printed, UCUM system and code,
  comparator} or valueString, interpretation (v3 H/L/HH/LL/A, or N when inside the printed range),
  referenceRange {low, high, text verbatim}, performer = the lab, and an extension locating the value
  in the file (page, box, extraction confidence);
- one DiagnosticReport for the longitudinal interpretation (status preliminary: no clinician reviewed it)
  whose results are the computable scores, each an Observation with derivedFrom = its input Observations.
  Scores have no LOINC code here (none verified for FIB-4, APRI, ALBI...): they use ``SCORE_SYSTEM``.

Validation: every Bundle is checked with ``fhir.resources`` before it is returned. Validating 2,000
Observations one by one costs ~0.8 s, most of the report budget, so ``validate_bundle`` checks every
non-Observation resource and one Observation per distinct text content (codes, units, ranges, flags,
notes): what differs between the skipped ones and a checked one is numbers and dates, which the builder
makes from typed values and sanitises (non-finite numbers become text, unparsable dates are left out).
Tests validate whole Bundles.

Dates: the reports print a date (and sometimes a local time) without a time zone; FHIR requires a zone
for any dateTime with a time and for ``issued`` (an instant), so effectiveDateTime carries the date only
and the printed report date goes in the ``REPORTED_DATE`` extension instead of a made-up instant.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import math
import mimetypes
import uuid
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from pipeline.interpret.models import Interpretation, ScoreResult
from pipeline.models import Document, LabResult
from pipeline.render.provenance import Provenance, ReportRef

log = logging.getLogger(__name__)

BASE_URI = "https://labreport.invalid/fhir"
"""Project namespace for codes and extensions that have no standard home (placeholder host: .invalid)."""
SCORE_SYSTEM = f"{BASE_URI}/CodeSystem/score"
REPORT_SHA256 = f"{BASE_URI}/NamingSystem/source-sha256"
PRINTED_PATIENT_ID = f"{BASE_URI}/NamingSystem/printed-patient-id"
STORE_PATIENT_KEY = f"{BASE_URI}/NamingSystem/patient-key"
SOURCE_LOCATION = f"{BASE_URI}/StructureDefinition/source-location"
REPORTED_DATE = f"{BASE_URI}/StructureDefinition/reported-date"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
_NS = uuid.UUID("6f1c2a52-0d55-4b8e-9d8e-2f3b1c9a7e10")
_INTERPRETATION_DISPLAY = {
    "H": "High",
    "L": "Low",
    "HH": "Critical high",
    "LL": "Critical low",
    "A": "Abnormal",
    "N": "Normal",
}
_GENDER = {"female": "female", "male": "male"}


def _urn(*parts: object) -> str:
    """A stable urn:uuid for a resource, so the same inputs give the same Bundle."""
    return f"urn:uuid:{uuid.uuid5(_NS, '|'.join(map(str, parts)))}"


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    resource["id"] = full_url.removeprefix("urn:uuid:")
    return {"fullUrl": full_url, "resource": resource}


def _iso_date(text: str | None) -> str | None:
    """The YYYY-MM-DD part of an ISO date or date-time, or None when it is not a real date."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _text(text: str | None) -> str | None:
    """FHIR strings may not be empty or only whitespace."""
    return text.strip() or None if text else None


def _quantity(value: float, unit: str | None, printed: str | None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if printed or unit:
        q["unit"] = printed or unit
    if unit:
        q |= {"system": UCUM, "code": unit}
    return q


def _interpretation_code(r: LabResult) -> str | None:
    """The printed flag; N when the value sits inside a printed numeric range; None when unknown."""
    if r.flag:
        return r.flag
    ref = r.reference_range
    if r.value is None or r.comparator is not None or ref is None or (ref.low is None and ref.high is None):
        return None
    inside = (ref.low is None or r.value >= ref.low) and (ref.high is None or r.value <= ref.high)
    return "N" if inside else None


def _observation(doc: Document, r: LabResult, patient: str, lab: str | None) -> dict[str, Any]:
    coding = [{"system": LOINC, "code": r.loinc}] if r.loinc else []
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": coding, "text": _text(r.name) or r.loinc or "unnamed test"},
        "subject": {"reference": patient},
    }
    effective = _iso_date(r.collected_at or doc.collected_at)
    if effective:
        obs["effectiveDateTime"] = effective
    if lab:
        obs["performer"] = [{"reference": lab}]
    if r.value is not None and math.isfinite(r.value):
        obs["valueQuantity"] = _quantity(r.value, r.unit, r.unit_printed)
        if r.comparator:
            obs["valueQuantity"]["comparator"] = r.comparator
    elif _text(r.value_text):
        obs["valueString"] = _text(r.value_text)
    else:
        obs["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "unknown"}]}
    code = _interpretation_code(r)
    if code:
        obs["interpretation"] = [
            {
                "coding": [
                    {"system": V3_INTERPRETATION, "code": code, "display": _INTERPRETATION_DISPLAY[code]}
                ]
            }
        ]
    if r.reference_range is not None:
        rr: dict[str, Any] = {"text": _text(r.reference_range.text)}
        for key, limit in (("low", r.reference_range.low), ("high", r.reference_range.high)):
            if limit is not None and math.isfinite(limit):
                rr[key] = _quantity(limit, r.unit, r.unit_printed)
        if _text(r.reference_range.applies_to):
            rr["appliesTo"] = [{"text": _text(r.reference_range.applies_to)}]
        rr = {k: v for k, v in rr.items() if v is not None}
        if rr:
            obs["referenceRange"] = [rr]
    obs["extension"] = [
        {
            "url": SOURCE_LOCATION,
            "extension": [
                {"url": "page", "valueInteger": r.page},
                {"url": "bbox", "valueString": "%.1f,%.1f,%.1f,%.1f" % r.bbox},  # noqa: UP031 (hot path)
                {"url": "method", "valueCode": r.method},
                {
                    "url": "confidence",
                    "valueDecimal": round(r.confidence, 3) if math.isfinite(r.confidence) else 0,
                },
            ],
        }
    ]
    if r.needs_review:
        obs["note"] = [{"text": f"Extracted value needs human review (confidence {r.confidence:.2f})."}]
    return obs


def _presented_form(doc: Document) -> dict[str, Any]:
    """The source file by reference, with the SHA-1 FHIR asks for when the file can be read."""
    path = Path(doc.source.path)
    content_type = (
        doc.source.media_type or mimetypes.guess_type(doc.source.name)[0] or "application/octet-stream"
    )
    form: dict[str, Any] = {
        "contentType": content_type,
        "url": path.absolute().as_uri(),
        "title": doc.source.name,
    }
    if doc.source.size_bytes is not None:
        form["size"] = doc.source.size_bytes
    if path.is_file():
        sha1 = hashlib.sha1(usedforsecurity=False)
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha1.update(block)
        form["hash"] = base64.b64encode(sha1.digest()).decode()
    return form


def _report_entries(
    ref: ReportRef, patient: str, orgs: dict[str, str], index: dict[tuple[str, str, str], str]
) -> list[dict[str, Any]]:
    doc = ref.document
    lab = orgs.get(doc.lab.name) if doc.lab.name else None
    entries: list[dict[str, Any]] = []
    results: list[dict[str, str]] = []
    for i, r in enumerate(doc.results):
        url = _urn("observation", ref.id, i)
        entries.append(_entry(url, _observation(doc, r, patient, lab)))
        results.append({"reference": url})
        if r.analyte:
            index.setdefault((ref.id, r.analyte, _iso_date(r.collected_at or doc.collected_at) or ""), url)
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": REPORT_SHA256, "value": ref.id}],
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "LAB", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": "11502-2", "display": "Laboratory report"}]},
        "subject": {"reference": patient},
        "result": results,
        "presentedForm": [_presented_form(doc)],
    }
    if _iso_date(doc.collected_at):
        report["effectiveDateTime"] = _iso_date(doc.collected_at)
    if _iso_date(doc.reported_at):
        report["extension"] = [{"url": REPORTED_DATE, "valueDate": _iso_date(doc.reported_at)}]
    if lab:
        report["performer"] = [{"reference": lab}]
    entries.insert(0, _entry(_urn("report", ref.id), report))
    return entries


def _score_observation(
    s: ScoreResult, patient: str, index: dict[tuple[str, str, str], str]
) -> dict[str, Any]:
    derived = []
    for e in s.inputs:
        url = index.get((e.report_id or "", e.analyte, e.collected_at.isoformat()))
        if url:
            derived.append({"reference": url, "display": e.analyte})
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": SCORE_SYSTEM, "code": s.name, "display": s.label}], "text": s.label},
        "subject": {"reference": patient},
        "valueQuantity": {"value": s.value, "unit": "{score}", "system": UCUM, "code": "{score}"},
        "derivedFrom": derived,
    }
    if s.collected_at:
        obs["effectiveDateTime"] = s.collected_at.isoformat()
    reading = " ".join(x for x in (s.band, s.interpretation) if x)
    if reading:
        obs["interpretation"] = [{"text": reading}]
    notes = [*s.caveats, *s.sources]
    if notes:
        obs["note"] = [{"text": n} for n in notes]
    return obs


def _patient(interp: Interpretation, prov: Provenance, url: str) -> dict[str, Any]:
    docs = [r.document for r in reversed(prov.reports)]
    resource: dict[str, Any] = {"resourceType": "Patient"}
    identifiers = [{"system": STORE_PATIENT_KEY, "value": interp.patient.id}] if interp.patient.id else []
    seen: set[str] = set()
    for d in docs:
        if d.patient.id and d.patient.id not in seen:
            seen.add(d.patient.id)
            ident: dict[str, Any] = {"system": PRINTED_PATIENT_ID, "value": d.patient.id}
            if d.lab.name:
                ident["assigner"] = {"display": d.lab.name}
            identifiers.append(ident)
    if identifiers:
        resource["identifier"] = identifiers
    name = next((d.patient.name for d in docs if d.patient.name), None)
    if name:
        resource["name"] = [{"text": name}]
    sex = interp.patient.sex or next((d.patient.sex for d in docs if d.patient.sex), None)
    if sex:
        resource["gender"] = _GENDER[sex]
    born = interp.patient.birth_date.isoformat() if interp.patient.birth_date else None
    born = born or next((d.patient.birth_date for d in docs if d.patient.birth_date), None)
    if born:
        resource["birthDate"] = born
    return _entry(url, resource)


def build_bundle(interp: Interpretation, prov: Provenance) -> dict[str, Any]:
    """The Bundle as JSON-ready data, validated by fhir.resources (raises on an invalid resource)."""
    patient = _urn("patient", interp.patient.id or "", *(r.id for r in prov.reports))
    entries = [_patient(interp, prov, patient)]
    orgs: dict[str, str] = {}
    for ref in prov.reports:
        name = ref.document.lab.name
        if name and name not in orgs:
            orgs[name] = _urn("organization", name)
            entries.append(_entry(orgs[name], {"resourceType": "Organization", "name": name}))
    index: dict[tuple[str, str, str], str] = {}
    for ref in prov.reports:
        entries.extend(_report_entries(ref, patient, orgs, index))
    scores = [s for s in interp.scores if s.computable and s.value is not None]
    score_refs = []
    for s in scores:
        url = _urn("score", patient, s.name, s.collected_at)
        entries.append(_entry(url, _score_observation(s, patient, index)))
        score_refs.append({"reference": url})
    dates = sorted(d for r in prov.reports if (d := _iso_date(r.document.collected_at)))
    summary: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "preliminary",
        "code": {
            "coding": [{"system": SCORE_SYSTEM, "code": "longitudinal-interpretation"}],
            "text": "Longitudinal interpretation of lab results (labreport; not reviewed by a clinician)",
        },
        "subject": {"reference": patient},
        "result": score_refs,
        "conclusion": "; ".join(f"[{f.severity}] {f.title}" for f in interp.findings) or "No findings.",
    }
    if dates:
        summary["effectivePeriod"] = {"start": dates[0], "end": dates[-1]}
    entries.append(_entry(_urn("interpretation", patient), summary))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    checked = validate_bundle(bundle)
    log.info("FHIR bundle: %d entries (%d validated individually)", len(entries), checked)
    return bundle


def _signature(resource: dict[str, Any]) -> str:
    """An Observation's text content: everything but its id, numbers, dates and source location."""
    rest = {k: v for k, v in resource.items() if k not in ("id", "effectiveDateTime", "extension")}
    if "valueQuantity" in rest:
        rest["valueQuantity"] = {k: v for k, v in rest["valueQuantity"].items() if k != "value"}
    return json.dumps(rest, sort_keys=True)


def validate_bundle(bundle: dict[str, Any]) -> int:
    """Validate with fhir.resources: all resources but Observations that repeat an already checked text
    content (see module docstring). Returns how many entries were checked; raises when one is invalid."""
    seen: set[str] = set()
    kept = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation":
            signature = _signature(resource)
            if signature in seen:
                continue
            seen.add(signature)
        kept.append(entry)
    Bundle.model_validate({**bundle, "entry": kept})
    return len(kept)


def render_bundle(interp: Interpretation, prov: Provenance) -> str:
    """bundle.json text (compact JSON: the file is for machines, and it is large)."""
    return json.dumps(build_bundle(interp, prov), ensure_ascii=False, separators=(",", ":")) + "\n"
