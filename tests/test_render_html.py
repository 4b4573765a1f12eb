"""report.html and its charts: self-contained, escaped, findings first, every value traceable to a file."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.knowledge import load_knowledge
from pipeline.interpret.models import (
    Evidence,
    Finding,
    Interpretation,
    ScoreResult,
    Timeline,
    TimelinePoint,
)
from pipeline.models import Document
from pipeline.render import charts
from pipeline.render.html import render_html
from pipeline.render.provenance import Provenance
from tests.report_factory import HOSTILE, interpreted, make_series, with_edge_cases

XSS = "<img src=x onerror=alert(1)>"


def _finding(severity: str, title: str, evidence: list[Evidence]) -> Finding:
    return Finding.model_validate(
        {
            "code": "UNCONFIRMED_CHANGE",
            "severity": severity,
            "title": title,
            "detail": f"clinician detail {XSS}",
            "patient_text": "plain words for the patient",
            "analytes": ["alt"],
            "evidence": [e.model_dump() for e in evidence],
            "sources": ["a source"],
        }
    )


@pytest.fixture(scope="module")
def case() -> tuple[Interpretation, list[Document]]:
    interp, docs = interpreted(with_edge_cases(make_series(6, patient=HOSTILE)))
    alt = next(t for t in interp.timelines if t.analyte == "alt")
    last = alt.points[-1]
    evidence = [
        Evidence(
            analyte="alt",
            value=last.value,
            unit="U/L",
            collected_at=last.collected_at,
            report_id=last.report_id,
        )
    ]
    findings = [
        _finding("info", "info finding", evidence),
        _finding("urgent", f"urgent finding {XSS}", evidence),
        _finding("warning", "warning finding", evidence),
    ]
    not_computable = ScoreResult(name="meld3", label="MELD 3.0", computable=False, reason="albumin missing")
    return interp.model_copy(update={"findings": findings, "scores": [*interp.scores, not_computable]}), docs


@pytest.fixture(scope="module")
def html(case: tuple[Interpretation, list[Document]]) -> str:
    interp, docs = case
    return render_html(interp, Provenance(docs), ["identity caveat <b>x</b>"])


class _Collector(HTMLParser):
    """Collects tags and attributes, to check what the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_page_is_self_contained(html: str) -> None:
    parser = _Collector()
    parser.feed(html)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    for tag, attrs in parser.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)
    assert "url(" not in html and "@import" not in html


def test_text_is_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert XSS not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Example" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "identity caveat &lt;b&gt;x&lt;/b&gt;" in html
    assert "&lt;b&gt;mg/L&lt;/b&gt;" in html  # a printed range with markup, in a chart title and a cell title


def test_findings_come_first_most_severe_first(html: str) -> None:
    order = [html.index(marker) for marker in ('id="findings"', 'id="care"', 'id="trends"', 'id="scores"')]
    assert order == sorted(order)
    severities = re.findall(r'<article class="finding (\w+)"', html)
    assert severities == ["urgent", "warning", "info"]
    assert html.count("In plain words") == 3 and html.count("For the clinician") == 3


def test_one_chart_per_trendable_analyte(case: tuple[Interpretation, list[Document]], html: str) -> None:
    interp, _ = case
    trendable = [t for t in interp.timelines if sum(charts.plot_value(p) is not None for p in t.points) >= 2]
    assert len(trendable) >= 10
    assert html.count('<svg class="chart"') == len(trendable)
    for t in trendable:
        svg = re.search(rf'<svg class="chart" id="chart-{t.analyte}".*?</svg>', html, re.S)
        assert svg is not None, t.analyte
        assert svg.group(0).count('class="point') == sum(charts.plot_value(p) is not None for p in t.points)
        assert "<title" in svg.group(0) and "<desc" in svg.group(0)


def test_points_are_marked_by_lab_and_cite_file_and_page(html: str) -> None:
    alt = re.search(r'<svg class="chart" id="chart-alt".*?</svg>', html, re.S)
    assert alt is not None
    labs = set(re.findall(r'data-lab="([^"]+)"', alt.group(0)))
    assert labs == {"Northside Clinical Laboratory", "Harbour Diagnostics"}
    fills = set(re.findall(r'<path d="[^"]+" fill="(#[0-9A-F]{6})"', alt.group(0)))
    assert len(fills) == 2
    titles = re.findall(r"<title>([^<]+)</title>", alt.group(0))
    assert titles and all(re.search(r"synthetic_7_\d{3}\.pdf, p\. 1", t) for t in titles)


def test_band_follows_each_reports_own_range(html: str) -> None:
    """ALT's upper limit is 56 at one lab and 41 at the other: the band must step, not stay flat."""
    alt = re.search(r'<svg class="chart" id="chart-alt".*?</svg>', html, re.S)
    assert alt is not None
    tops = {float(y) for y in re.findall(r'<rect class="band" x="[^"]+" y="([^"]+)"', alt.group(0))}
    assert len(tops) == 2


def test_converted_censored_text_and_review_values_are_shown(html: str) -> None:
    assert "*" in re.sub(r"<[^>]+>", "", html.split('id="table"')[1].split("</table>")[0])
    assert "converted to mg/dL" in html
    assert "&lt;0.5" in html and "Negative" in html
    assert 'class="num review"' in html
    assert "Values to check against the source report" in html


def test_every_table_value_cites_its_source(html: str) -> None:
    table = html.split('id="table"')[1].split('id="caveats"')[0]
    cells = re.findall(r'<td class="num[^"]*"( title="[^"]*")?>([^<]*)</td>', table)
    filled = [(title, text) for title, text in cells if text]
    assert filled
    assert all(re.search(r"synthetic_7_\d{3}\.pdf, p\. \d", title) for title, _ in filled)


def test_scores_show_inputs_and_reasons(html: str) -> None:
    scores = html.split('id="scores"')[1].split('id="table"')[0]
    assert "Not computable: albumin missing" in scores
    assert "FIB-4" in scores and load_knowledge().get("platelets").name in scores  # names from the knowledge base


def test_sections_a_reader_needs(html: str) -> None:
    for heading in (
        "When to seek care now",
        "What to discuss with your doctor",
        "Caveats",
        "Sources",
        "Important",
    ):
        assert heading in html
    assert html.count("<th scope=") > 20  # tables have header cells


# --------------------------------------------------------------------------------------------------
# Chart geometry


def _timeline(days: list[int], lab: str | None = "Lab A") -> Timeline:
    start = dt.date(2024, 1, 1)
    points = [
        TimelinePoint(
            collected_at=start + dt.timedelta(days=d),
            value=10.0 + i,
            value_text=str(10 + i),
            ref_low=5,
            ref_high=20,
            ref_text="5-20",
            range_status="within",
            report_id=f"r{i}",
            lab=lab,
        )
        for i, d in enumerate(days)
    ]
    return Timeline(analyte="alt", label="ALT", unit="U/L", points=points)


def _xs(svg: str) -> list[float]:
    """Marker centres: circles start their path at (cx - r, cy)."""
    return [float(x) + 4.5 for x in re.findall(r'<path d="M([\d.]+),[\d.]+a4\.5', svg)]


def test_dates_are_to_scale() -> None:
    svg = charts.trend_chart(_timeline([0, 10, 40]), charts.LabStyles(), lambda p: "p", chart_id="c")
    x = _xs(svg)
    assert len(x) == 3
    assert (x[2] - x[1]) / (x[1] - x[0]) == pytest.approx(3.0, rel=0.02)


def test_refused_comparison_breaks_the_line() -> None:
    tl = _timeline([0, 30, 60, 90])
    tl.points[2] = tl.points[2].model_copy(update={"segment": 1})
    tl.points[3] = tl.points[3].model_copy(update={"segment": 1})
    svg = charts.trend_chart(tl, charts.LabStyles(), lambda p: "p", chart_id="c")
    assert svg.count("<polyline") == 2 and "not comparable" in svg


def test_one_point_or_none_gives_no_chart_line() -> None:
    svg = charts.trend_chart(_timeline([0]), charts.LabStyles(), lambda p: "p", chart_id="c")
    assert "<polyline" not in svg and svg.count('class="point') == 1
    empty = Timeline(analyte="alt", label="ALT", unit="U/L", points=[])
    assert charts.trend_chart(empty, charts.LabStyles(), lambda p: "p", chart_id="c") == ""


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=1e-3, max_value=1e6, allow_nan=False),
)
def test_nice_ticks_cover_the_range(lo: float, span: float) -> None:
    hi = lo + span
    ticks = charts.nice_ticks(lo, hi)
    step = ticks[1] - ticks[0]
    assert ticks[0] <= lo + 1e-6 * step and ticks[-1] >= hi - 1e-6 * step  # covers, to a millionth of a step
    assert ticks == sorted(ticks) and 2 <= len(ticks) <= 12
    decimals = charts.tick_decimals(step)
    labels = [f"{t:.{decimals}f}" for t in ticks]
    assert len(set(labels)) == len(labels)  # no two ticks print the same
    assert all(
        float(label) == pytest.approx(t, abs=1e-9 * max(1.0, abs(t)))
        for label, t in zip(labels, ticks, strict=True)
    )


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1)), st.integers(0, 7000))
def test_date_ticks_are_inside_and_few(start: dt.date, span: int) -> None:
    end = start + dt.timedelta(days=span)
    ticks = charts.date_ticks(start, end)
    assert 1 <= len(ticks) <= 8
    assert all(start <= d <= end for d, _ in ticks)
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)


def test_finding_evidence_shows_range_date_and_the_page_it_carries(
    case: tuple[Interpretation, list[Document]],
) -> None:
    """The page comes from the evidence itself (one source of provenance), with the printed range."""
    interp, docs = case
    alt = next(t for t in interp.timelines if t.analyte == "alt")
    last = alt.points[-1]
    ev = Evidence(
        analyte="alt",
        value=last.value,
        unit="U/L",
        collected_at=last.collected_at,
        report_id=last.report_id,
        value_text=last.value_text,
        ref_low=7,
        ref_high=56,
        page=9,
    )
    page = render_html(interp.model_copy(update={"findings": [_finding("warning", "w", [ev])]}), Provenance(docs))
    table = page.split('class="evidence"')[1].split("</table>")[0]
    assert ", p. 9" in table and "7–56 U/L" in table
    assert last.collected_at.strftime("%d %b %Y") in table
    assert alt.label in table  # the knowledge-base name
