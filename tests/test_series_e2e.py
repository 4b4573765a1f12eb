"""End to end: fixture series (fixtures/series.py) -> PDFs -> process_file -> report_for_documents -> findings.

For every scenario the checked-in PDFs under fixtures/series/<scenario>/ are extracted with the real text
pipeline (no OCR), each Document is compared with the generator's truth (so an extraction fault is reported
as such, apart from interpretation), the documents go through ``report_for_documents`` (which refuses
documents it cannot merge into one patient) and findings.json must hold the scenario's expected findings,
none of its forbidden ones, and, for the stable and spike patients, nothing else. The checked-in PDFs must be
exactly what ``python -m fixtures.series`` makes now (LABREPORT_REGEN_FIXTURES=1 rewrites them on purpose).

Known defects found by these series are strict xfails (``KNOWN_DEFECTS``, ``EXTRACTION_DEFECTS``,
``UNREAD_LAB_NAMES``, ``HEADING_IN_NAME``): each flips to a failure when fixed, so the marker is removed with the fix.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures.generator import Truth, render_bytes
from fixtures.generator.catalog import BY_LOINC
from fixtures.series import SCENARIOS, SITES, Scenario, main, report_specs
from pipeline.api import process_file
from pipeline.interpret.models import FINDING_CODES
from pipeline.interpret.sources import label
from pipeline.models import Document, LabResult
from pipeline.render.report import report_for_documents
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "series"
SETTINGS = Settings(ocr="never")
BY_NAME = {s.name: s for s in SCENARIOS}
NAMES = [s.name for s in SCENARIOS]

KNOWN_DEFECTS: dict[str, str] = {}
EXTRACTION_DEFECTS: dict[str, str] = {}
UNREAD_LAB_NAMES: dict[str, str] = {}
HEADING_IN_NAME: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Rendered:
    """One draw of a scenario as the generator makes it now: file name, bytes, truth and where it lives."""

    name: str
    data: bytes
    truth: Truth

    def path(self, scenario: str) -> Path:
        return ROOT / scenario / self.name


@functools.cache
def rendered(scenario: str) -> tuple[Rendered, ...]:
    """The generator's output for one scenario, in memory (bytes and truth), oldest draw first."""
    out = []
    for name, spec, layout in report_specs(BY_NAME[scenario]):
        data, truth = render_bytes(spec, layout)
        out.append(Rendered(name, data, truth))
    return tuple(out)


@functools.cache
def extracted(scenario: str) -> tuple[Document, ...]:
    """The checked-in PDFs of one scenario, extracted with the text pipeline."""
    docs = []
    for r in rendered(scenario):
        path = r.path(scenario)
        assert path.is_file(), f"{path} missing: LABREPORT_REGEN_FIXTURES=1 pytest tests/test_series_e2e.py"
        docs.append(process_file(path, SETTINGS))
    return tuple(docs)


def _param(name: str, defects: dict[str, str]) -> Any:
    reason = defects.get(name)
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)] if reason else []
    return pytest.param(name, id=name, marks=marks)


# ---- the checked-in PDFs are what the generator makes now -------------------------------------------


def test_checked_in_series_equal_generator_output() -> None:
    want = {f"{s}/{r.name}": r.data for s in NAMES for r in rendered(s)}
    if os.environ.get("LABREPORT_REGEN_FIXTURES") == "1":
        for old in ROOT.glob("*/*.pdf"):
            old.unlink()
        for rel, data in want.items():
            (ROOT / rel).parent.mkdir(parents=True, exist_ok=True)
            (ROOT / rel).write_bytes(data)
    have = {str(p.relative_to(ROOT)): p.read_bytes() for p in sorted(ROOT.glob("*/*.pdf"))}
    assert sorted(have) == sorted(want), "run LABREPORT_REGEN_FIXTURES=1 pytest tests/test_series_e2e.py"
    stale = [rel for rel in want if have[rel] != want[rel]]
    assert stale == [], f"out of date (regenerate with LABREPORT_REGEN_FIXTURES=1): {stale}"


def test_command_line_writes_the_same_files(tmp_path: Path) -> None:
    """``python -m fixtures.series OUT_DIR`` (main) writes byte-identical files to the in-memory render."""
    assert main([str(tmp_path)]) == 0
    written = {str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.glob("*/*.pdf")}
    assert written == {f"{s}/{r.name}": r.data for s in NAMES for r in rendered(s)}


def test_scenarios_are_well_formed() -> None:
    assert len(NAMES) == len(set(NAMES))
    for sc in SCENARIOS:
        codes = [c for c, _ in sc.expected] + list(sc.forbidden) + list(sc.tolerated) + [c for c, _ in sc.mentions]
        assert set(codes) <= set(FINDING_CODES), sc.name
        assert not {c for c, _ in sc.expected} & set(sc.forbidden), sc.name
        assert [d.day for d in sc.draws] == sorted({d.day for d in sc.draws}), sc.name
    unit_systems = [{SITES[d.site].units["bilirubin_total"][0] for d in sc.draws} for sc in SCENARIOS]
    assert sum(len(u) > 1 for u in unit_systems) >= 2, "at least two series must cross unit systems"


# ---- extraction: every value put in is read back --------------------------------------------------


def _result_problems(got: LabResult | None, want: dict[str, Any]) -> list[str]:
    if got is None:
        return [f"{want['name']}: not extracted"]
    rr = got.reference_range
    flag = want["flag_derived"] if want["flag"] == "A" else want["flag"]  # '*' carries no direction
    pairs = {
        "analyte": (got.analyte, BY_LOINC[want["loinc"]]),
        "value": (got.value, want["value"]),
        "value_text": (got.value_text, want["value_text"]),
        "unit": (got.unit, want["unit"]),
        "unit_printed": (got.unit_printed or "", want["unit_printed"]),
        "range": ((rr.low, rr.high, rr.text) if rr else None, (want["low"], want["high"], want["range_text"])),
        "flag": (got.flag, flag),
        "page": (got.page, want["page"]),
    }
    return [f"{want['name']} {key}: read {a!r}, printed {b!r}" for key, (a, b) in pairs.items() if a != b]


def _document_problems(doc: Document, truth: Truth, scenario: Scenario, printed_id: str) -> list[str]:
    problems = [] if doc.status == "success" else [f"status {doc.status}: {[i.message for i in doc.issues]}"]
    if doc.collected_at != truth["collected_at"]:
        problems.append(f"collected_at {doc.collected_at} != {truth['collected_at']}")
    person = scenario.person
    if doc.patient.name != person.name:
        problems.append(f"patient name {doc.patient.name!r}")
    if doc.patient.birth_date != person.birth_date.isoformat() and doc.patient.id != printed_id:
        problems.append(f"neither birth date ({doc.patient.birth_date}) nor id ({doc.patient.id}) read")
    by_loinc = {r.loinc: r for r in doc.results}
    if len(by_loinc) != len(doc.results):
        problems.append("a LOINC code read twice")
    for want in truth["results"]:
        problems += _result_problems(by_loinc.pop(want["loinc"], None), want)
    problems += [f"extra result {r.name!r} ({r.loinc})" for r in by_loinc.values()]
    return problems


@pytest.mark.parametrize("scenario", [_param(s, EXTRACTION_DEFECTS) for s in NAMES])
def test_extraction_reads_every_value_put_in(scenario: str) -> None:
    sc = BY_NAME[scenario]
    problems = []
    for r, doc in zip(rendered(scenario), extracted(scenario), strict=True):
        printed_id = r.truth["patient"]["id"]
        problems += [f"{r.name}: {p}" for p in _document_problems(doc, r.truth, sc, printed_id)]
    assert problems == [], "EXTRACTION fault (not interpretation):\n" + "\n".join(problems)


def _first_draw_at(site: str) -> tuple[str, int]:
    """(scenario, draw index) of the first report printed by a site."""
    return next((sc.name, i) for sc in SCENARIOS for i, d in enumerate(sc.draws) if d.site == site)


@pytest.mark.parametrize("site", [_param(s, UNREAD_LAB_NAMES) for s in sorted(SITES)])
def test_lab_name_is_read(site: str) -> None:
    """The lab name feeds the 'different laboratory' comparability caveat: unread, the caveat is lost."""
    scenario, index = _first_draw_at(site)
    doc = extracted(scenario)[index]
    assert (doc.lab.name or "").casefold() == SITES[site].lab.name.casefold()


@pytest.mark.parametrize("site", [_param(s, HEADING_IN_NAME) for s in sorted(SITES)])
def test_test_names_are_read_as_printed(site: str) -> None:
    scenario, index = _first_draw_at(site)
    doc, truth = extracted(scenario)[index], rendered(scenario)[index].truth
    assert [r.name for r in doc.results] == [r["name"] for r in truth["results"]]


# ---- interpretation: findings.json holds what the scenario means -----------------------------------


def _trend_summaries(report_html: str) -> dict[str, str]:
    """Chart label -> trend summary line, as the HTML report prints them."""
    card = r'<figcaption>\s*<h3>(.*?)(?: <span|</h3>)(?:(?!</figcaption>).)*?<p class="trend-summary">(.*?)</p>'
    cards = re.findall(card, report_html, re.S)
    return {html.unescape(name): html.unescape(summary) for name, summary in cards}


@pytest.mark.parametrize("scenario", [_param(s, KNOWN_DEFECTS) for s in NAMES])
def test_scenario_produces_its_findings_end_to_end(scenario: str, tmp_path: Path) -> None:
    sc = BY_NAME[scenario]
    paths = report_for_documents(list(extracted(scenario)), tmp_path)  # raises if not merged into one patient
    findings: list[dict[str, Any]] = json.loads(paths.findings.read_text("utf-8"))
    found = {f["code"]: f["severity"] for f in findings}
    shown = json.dumps(found)
    assert set(found) <= set(FINDING_CODES)
    for code, severity in sc.expected:
        assert found.get(code) == severity, f"expected {code} ({severity}); findings.json has {shown}"
    wrong = set(sc.forbidden) & set(found)
    assert not wrong, f"wrong reading {sorted(wrong)}; findings.json has {shown}"
    if sc.exclusive:
        extra = set(found) - {c for c, _ in sc.expected} - set(sc.tolerated)
        assert not extra, f"no other finding expected; findings.json has {shown}"
    for code, text in sc.mentions:
        f = next(f for f in findings if f["code"] == code)
        assert text in f["title"] + " " + f["detail"], f"{code} should say {text!r}: {f['title']}: {f['detail']}"
    draw_days = {d.day.isoformat() for d in sc.draws}
    for f in findings:
        assert {e["collected_at"] for e in f["evidence"]} <= draw_days, f["code"]
    if sc.unconfirmed:
        trends = _trend_summaries(paths.html.read_text("utf-8"))
        for analyte in sc.unconfirmed:
            assert "returned to baseline (unconfirmed, not a trend)" in trends[label(analyte)], trends
        claims = [t for t in trends.values() if "sustained" in t or "monotonic trend" in t]
        assert claims == [], f"a spike must not read as a trend: {claims}"
