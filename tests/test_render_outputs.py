"""findings.json, timeline.csv, and write_report / report_for_* (the four files, from a store or files)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pipeline.interpret.models import Evidence, Finding, Interpretation
from pipeline.models import Document, Patient
from pipeline.render import write_report
from pipeline.render.csv import COLUMNS, render_csv
from pipeline.render.findings import render_findings
from pipeline.render.provenance import Provenance
from pipeline.render.report import MixedPatientsError, report_for_documents, report_for_patient
from pipeline.store import Store
from tests.report_factory import interpreted, make_series, with_edge_cases


@pytest.fixture(scope="module")
def case() -> tuple[Interpretation, list[Document]]:
    return interpreted(with_edge_cases(make_series(6)))


def test_findings_json_has_exactly_the_published_shape(case: tuple[Interpretation, list[Document]]) -> None:
    interp, _ = case
    assert interp.findings, "the synthetic series is built to raise findings"
    data = json.loads(render_findings(interp))
    assert isinstance(data, list) and len(data) == len(interp.findings)
    keys = {"code", "severity", "title", "detail", "analytes", "evidence", "sources"}
    for item in data:
        assert set(item) == keys
        assert item["severity"] in ("info", "warning", "urgent")
        assert item["evidence"] and all(
            set(e) == {"analyte", "value", "unit", "collected_at"} for e in item["evidence"]
        )
        assert all(len(e["collected_at"]) == 10 for e in item["evidence"])
        assert set(item["analytes"]) <= {t.analyte for t in interp.timelines}
    ranks = [("urgent", "warning", "info").index(item["severity"]) for item in data]
    assert ranks == sorted(ranks)


def test_findings_json_is_an_empty_list_when_nothing_is_found(
    case: tuple[Interpretation, list[Document]],
) -> None:
    interp, _ = case
    assert json.loads(render_findings(interp.model_copy(update={"findings": []}))) == []


def test_timeline_csv_has_one_row_per_point(case: tuple[Interpretation, list[Document]]) -> None:
    interp, docs = case
    rows = list(csv.DictReader(io.StringIO(render_csv(interp, Provenance(docs)))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == sum(len(t.points) for t in interp.timelines)
    bili = [r for r in rows if r["analyte"] == "bilirubin_total"]
    last = bili[-1]  # printed in umol/L on the last report, shown in mg/dL
    assert last["unit"] == "mg/dL" and last["unit_printed"] == "µmol/L"
    assert float(last["value"]) == pytest.approx(float(last["value_printed"]) / 17.1, rel=1e-6)
    assert last["report_file"] == docs[-1].source.name and last["page"] == "1"
    assert last["collected_at"] == f"{docs[-1].collected_at}T08:30"
    crp = [r for r in rows if r["analyte"] == "crp"]
    assert [r["value_printed"] for r in crp[:2]] == ["Negative", "<0.5"]
    assert crp[0]["value"] == "" and crp[1]["value"] == ""  # text and censored values are not numbers
    alt = [r for r in rows if r["analyte"] == "alt"]
    assert {r["lab"] for r in alt} == {"Northside Clinical Laboratory", "Harbour Diagnostics"}
    assert {r["ref_high"] for r in alt} == {"56", "41"}


def test_csv_neutralises_spreadsheet_formulas(case: tuple[Interpretation, list[Document]]) -> None:
    _, docs = case
    hostile = [d.model_copy(update={"lab": d.lab.model_copy(update={"name": "=HYPERLINK(1)"})}) for d in docs]
    interp2, docs2 = interpreted(hostile)
    text = render_csv(interp2, Provenance(docs2))
    assert ",'=HYPERLINK(1)," in text and ",=HYPERLINK" not in text


def test_write_report_writes_the_four_files(
    case: tuple[Interpretation, list[Document]], tmp_path: Path
) -> None:
    interp, docs = case
    paths = write_report(interp, docs, tmp_path / "out")
    assert [p.name for p in (paths.html, paths.findings, paths.timeline, paths.bundle)] == [
        "report.html",
        "findings.json",
        "timeline.csv",
        "bundle.json",
    ]
    assert all(p.stat().st_size > 0 for p in (paths.html, paths.findings, paths.timeline, paths.bundle))
    assert sorted(p.name for p in paths.out_dir.iterdir()) == sorted(
        ["report.html", "findings.json", "timeline.csv", "bundle.json"]
    )  # no temporary files left behind
    assert json.loads(paths.bundle.read_text())["resourceType"] == "Bundle"


def test_report_for_patient_by_printed_id_and_identity_caveat(tmp_path: Path) -> None:
    docs = make_series(3)
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        for d in docs:
            store.add_document(d)
        other = make_series(1, seed=5)[0].model_copy(update={"patient": Patient(name="Alex Example")})
        split = store.add_document(other)
        assert not split.certain
        paths = report_for_patient(store, "SYN-0042", tmp_path / "out")
    html = paths.html.read_text()
    assert "Patient identity:" in html and split.patient_key in html
    assert all(d.source.name in html for d in docs) and other.source.name not in html


def test_report_from_documents(tmp_path: Path) -> None:
    paths = report_for_documents(make_series(3), tmp_path / "out")
    assert paths.html.exists() and json.loads(paths.findings.read_text()) is not None


def test_report_from_documents_of_two_patients_is_refused(tmp_path: Path) -> None:
    docs = make_series(2)
    docs[1] = docs[1].model_copy(update={"patient": Patient(id="OTHER-1", name="Robin Sample")})
    with pytest.raises(MixedPatientsError):
        report_for_documents(docs, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_evidence_of_a_finding_keeps_value_and_unit(case: tuple[Interpretation, list[Document]]) -> None:
    interp, _ = case
    ev = Evidence(
        analyte="inr",
        value=1.85,
        unit="{INR}",
        collected_at=interp.as_of or interp.timelines[0].points[0].collected_at,
    )
    finding = Finding(
        code="INR_THRESHOLD_CROSSED",
        severity="warning",
        title="t",
        detail="d",
        patient_text="p",
        analytes=["inr"],
        evidence=[ev],
        sources=["s"],
    )
    [item] = json.loads(render_findings(interp.model_copy(update={"findings": [finding]})))
    assert item["evidence"] == [
        {"analyte": "inr", "value": 1.85, "unit": "{INR}", "collected_at": ev.collected_at.isoformat()}
    ]
