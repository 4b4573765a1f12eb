"""bundle.json: a FHIR R4 collection Bundle that round-trips through fhir.resources, traceable to files."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from pipeline.interpret.models import Interpretation
from pipeline.models import Document
from pipeline.render import fhir
from pipeline.render.provenance import Provenance
from tests.report_factory import interpreted, make_series, with_edge_cases


@pytest.fixture(scope="module")
def source_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("src") / "synthetic_7_000.pdf"
    path.write_bytes(b"%PDF-1.4 synthetic report body")
    return path


@pytest.fixture(scope="module")
def case(source_file: Path) -> tuple[Interpretation, list[Document], dict[str, Any]]:
    docs = with_edge_cases(make_series(6))
    # The first report's file exists on disk: its presentedForm must carry the SHA-1.
    docs[0] = docs[0].model_copy(
        update={"source": docs[0].source.model_copy(update={"path": str(source_file)})}
    )
    interp, stored = interpreted(docs)
    bundle = json.loads(fhir.render_bundle(interp, Provenance(stored)))
    return interp, stored, bundle


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_bundle_round_trips_through_fhir_resources(
    case: tuple[Interpretation, list[Document], dict[str, Any]],
) -> None:
    _, docs, bundle = case
    model = Bundle.model_validate(bundle)  # every entry, not the sampled check done at render time
    assert model.type == "collection"
    again = json.loads(model.model_dump_json(exclude_none=True))
    assert len(again["entry"]) == len(bundle["entry"])
    n_results = sum(len(d.results) for d in docs)
    assert len(_resources(bundle, "Observation")) >= n_results
    assert len(_resources(bundle, "DiagnosticReport")) == len(docs) + 1
    assert len(_resources(bundle, "Patient")) == 1 and len(_resources(bundle, "Organization")) == 2


def test_references_resolve_inside_the_bundle(
    case: tuple[Interpretation, list[Document], dict[str, Any]],
) -> None:
    _, _, bundle = case
    urls = {e["fullUrl"] for e in bundle["entry"]}
    text = json.dumps(bundle)
    refs = set(re.findall(r'"reference": "([^"]+)"', text))
    assert refs and refs <= urls


def test_observations_carry_what_the_report_printed(
    case: tuple[Interpretation, list[Document], dict[str, Any]],
) -> None:
    _, docs, bundle = case
    observations = _resources(bundle, "Observation")
    first = docs[0]
    alt = next(r for r in first.results if r.analyte == "alt")
    obs = next(
        o
        for o in observations
        if o["code"].get("coding", [{}])[0].get("code") == "1742-6"
        and o["effectiveDateTime"] == first.collected_at
    )
    assert obs["status"] == "final"
    assert obs["category"][0]["coding"][0]["code"] == "laboratory"
    assert obs["code"]["text"] == alt.name
    assert obs["valueQuantity"] == {
        "value": alt.value,
        "unit": alt.unit_printed,
        "system": "http://unitsofmeasure.org",
        "code": "U/L",
    }
    assert obs["interpretation"][0]["coding"][0]["code"] == alt.flag
    assert alt.reference_range is not None
    assert obs["referenceRange"][0]["text"] == alt.reference_range.text
    assert obs["referenceRange"][0]["high"]["value"] == alt.reference_range.high
    location = {e["url"]: e for e in obs["extension"][0]["extension"]}
    assert location["page"]["valueInteger"] == alt.page
    assert "issued" not in obs  # no instant is printed; never invented


@pytest.mark.parametrize(
    ("value_text", "expect"),
    [
        pytest.param("<0.5", {"valueQuantity": {"comparator": "<", "value": 0.5}}, id="censored"),
        pytest.param("Negative", {"valueString": "Negative"}, id="text"),
    ],
)
def test_censored_and_text_values(
    case: tuple[Interpretation, list[Document], dict[str, Any]], value_text: str, expect: dict[str, Any]
) -> None:
    _, _, bundle = case
    crp = [o for o in _resources(bundle, "Observation") if o["code"]["text"] == "C-Reactive Protein"]
    match = [
        o
        for o in crp
        if o.get("valueString") == value_text
        or (
            o.get("valueQuantity", {}).get("comparator")
            and value_text.startswith(o["valueQuantity"]["comparator"])
        )
    ]
    assert len(match) == 1
    for key, sub in expect.items():
        assert {k: match[0][key][k] for k in sub} == sub if isinstance(sub, dict) else match[0][key] == sub


def test_value_inside_range_is_interpreted_normal(
    case: tuple[Interpretation, list[Document], dict[str, Any]],
) -> None:
    _, _, bundle = case
    creat = [o for o in _resources(bundle, "Observation") if o["code"]["text"] == "Creatinine"]
    assert creat and all(o["interpretation"][0]["coding"][0]["code"] == "N" for o in creat)


def test_diagnostic_report_presents_the_source_file(
    case: tuple[Interpretation, list[Document], dict[str, Any]], source_file: Path
) -> None:
    _, docs, bundle = case
    reports = [r for r in _resources(bundle, "DiagnosticReport") if r["status"] == "final"]
    by_sha = {r["identifier"][0]["value"]: r for r in reports}
    assert set(by_sha) == {d.source.sha256 for d in docs}
    on_disk = by_sha[docs[0].source.sha256 or ""]
    form = on_disk["presentedForm"][0]
    assert form["url"] == source_file.as_uri() and form["contentType"] == "application/pdf"
    assert form["hash"] == base64.b64encode(hashlib.sha1(source_file.read_bytes()).digest()).decode()
    assert form["title"] == source_file.name
    missing = by_sha[docs[1].source.sha256 or ""]["presentedForm"][0]
    assert "hash" not in missing  # the file is not here: no hash rather than a wrong one
    assert on_disk["effectiveDateTime"] == docs[0].collected_at
    assert on_disk["code"]["coding"][0]["code"] == "11502-2"
    assert len(on_disk["result"]) == len(docs[0].results)


def test_scores_are_derived_from_their_inputs(
    case: tuple[Interpretation, list[Document], dict[str, Any]],
) -> None:
    interp, _, bundle = case
    computable = [s for s in interp.scores if s.computable and s.value is not None]
    assert computable
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    scores = [
        o for o in _resources(bundle, "Observation") if o["code"]["coding"][0]["system"] == fhir.SCORE_SYSTEM
    ]
    assert len(scores) == len(computable)
    fib4 = next(o for o in scores if o["code"]["coding"][0]["code"] == "fib4")
    inputs = {by_url[d["reference"]]["code"]["coding"][0]["code"] for d in fib4["derivedFrom"]}
    assert inputs == {"1920-8", "1742-6", "777-3"}  # AST, ALT, platelets
    summary = next(r for r in _resources(bundle, "DiagnosticReport") if r["status"] == "preliminary")
    assert len(summary["result"]) == len(computable)


def test_invalid_resources_are_refused(case: tuple[Interpretation, list[Document], dict[str, Any]]) -> None:
    _, _, bundle = case
    broken = copy.deepcopy(bundle)
    del broken["entry"][-1]["resource"]["code"]  # DiagnosticReport.code is required (1..1)
    with pytest.raises(ValidationError):
        fhir.validate_bundle(broken)
    assert fhir.validate_bundle(bundle) < len(bundle["entry"])  # the sampled check is a real saving


def test_empty_printed_text_does_not_break_the_bundle() -> None:
    docs = make_series(1)
    bad = docs[0].results[0].model_copy(update={"name": " ", "value": None, "value_text": ""})
    doc = docs[0].model_copy(update={"results": [bad, *docs[0].results[1:]]})
    interp, stored = interpreted([doc])
    bundle = fhir.build_bundle(interp, Provenance(stored))
    Bundle.model_validate(bundle)
    first_obs = _resources(bundle, "Observation")[0]
    assert first_obs["code"]["text"] == bad.loinc and "dataAbsentReason" in first_obs
