"""The HTML report's view model: Interpretation + source documents -> what the template shows, in order.

Contract: ``build_view(interpretation, provenance, extra_caveats)`` is pure and does all the choosing and
formatting (ordering findings by severity, picking which analytes get charts, chunking the timeline table,
citing a source for every value) so the Jinja2 template only lays things out. Provenance comes from one
place: the interpretation's points and evidence carry their printed name, unit, report and page; the
``Provenance`` index only turns a report id into 'R3 · file.pdf'. Test names are the engine's
(knowledge-base) labels. Nothing here escapes HTML: the template autoescapes, and chart SVG arrives as
Markup from ``charts``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from pipeline.interpret.models import (
    Evidence,
    Finding,
    Interpretation,
    ScoreResult,
    Timeline,
    TimelinePoint,
    Trend,
)
from pipeline.interpret.names import cap, label, prose, unit_text
from pipeline.models import REVIEW_THRESHOLD
from pipeline.render import charts
from pipeline.render.provenance import Provenance, ReportRef

SEVERITY_ORDER = {"urgent": 0, "warning": 1, "info": 2}
SEVERITY_LABEL = {"urgent": "Urgent", "warning": "Discuss soon", "info": "For information"}
TABLE_COLUMNS = 7
"""Draws per timeline-table block: keeps the table readable on screen and on an A4 page."""


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    analyte: str
    value: str
    date: str
    source: str
    range: str = ""
    """The reference range printed on the value's own report, in the value's unit ('' when none)."""
    printed: str = ""
    """The value as printed, when it was converted to another unit ('62 µmol/L')."""
    printed_range: str = ""
    """The range as printed, when the value was converted ('5 - 21 µmol/L')."""
    outside: str = ""
    """'above' or 'below' its own printed range, else ''."""


@dataclass(frozen=True, slots=True)
class FindingView:
    finding: Finding
    badge: str
    evidence: list[EvidenceRow]


@dataclass(frozen=True, slots=True)
class ChartView:
    timeline: Timeline
    anchor: str
    trend: Trend | None
    svg: Markup
    legend: Markup
    latest: str
    notes: list[str]
    in_findings: bool


@dataclass(frozen=True, slots=True)
class ScoreView:
    score: ScoreResult
    value: str
    inputs: list[EvidenceRow]
    common_source: str | None
    """The one source of all inputs (the usual same-draw case), cited once instead of per input."""


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Column:
    date: str
    report: str
    lab: str


@dataclass(frozen=True, slots=True)
class TableBlock:
    columns: list[Column]
    rows: list[tuple[str, str, list[Cell]]]
    """(analyte label, unit, one cell per column)."""


@dataclass
class ReportView:
    title: str
    patient_rows: list[tuple[str, str]]
    generated: str
    as_of: str
    period: str
    counts: dict[str, int]
    findings: list[FindingView]
    charts: list[ChartView]
    single_results: list[str]
    scores: list[ScoreView]
    table: list[TableBlock]
    caveats: list[str]
    review: list[str]
    missing: list[str]
    unknown_context: list[str]
    questions: list[str]
    red_flags: list[str]
    sources: list[str]
    reports: list[ReportRef]
    labs: list[str] = field(default_factory=list)


def fmt_value(
    value: float | None, unit: str | None, text: str | None = None, comparator: str | None = None
) -> str:
    """'69 U/L', '<5 mg/L', 'Negative' (the printed digits when they state the same number)."""
    if value is None:
        return text or "—"
    shown = f"{comparator or ''}{charts.fmt_number(value, text)}"
    return f"{shown} {display_unit(unit)}".rstrip()


def display_unit(unit: str | None) -> str:
    """UCUM codes shown the way labs print them ('10*3/uL' -> '10³/µL', '{INR}' -> '')."""
    return unit_text(unit)


def fmt_range(low: float | None, high: float | None, unit: str | None) -> str:
    """'0.2–1.2 mg/dL', '< 5 mg/L', '> 40 mg/dL'; '' when no limit was printed."""
    if low is None and high is None:
        return ""
    if low is not None and high is not None:
        text = f"{charts.fmt_number(low)}–{charts.fmt_number(high)}"
    elif high is not None:
        text = f"< {charts.fmt_number(high)}"
    else:
        assert low is not None
        text = f"> {charts.fmt_number(low)}"
    return f"{text} {display_unit(unit)}".rstrip()


def _outside(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return ""
    if high is not None and value > high:
        return "above"
    if low is not None and value < low:
        return "below"
    return ""


def _printed(value_text: str | None, unit_printed: str | None, value: float | None) -> str:
    """The printed form of a converted value ('62 µmol/L'); '' when the shown number is the printed one."""
    if value is None or not value_text or not unit_printed:
        return ""
    try:
        same = math.isclose(float(value_text.replace(",", ".")), value, rel_tol=1e-9)
    except ValueError:
        same = False
    return "" if same else f"{value_text} {unit_printed}"


def _date(d: dt.date | None) -> str:
    return d.strftime("%d %b %Y") if d else "—"


def _evidence_rows(items: Sequence[Evidence], labels: dict[str, str], prov: Provenance) -> list[EvidenceRow]:
    """Each value a finding or score rests on: name, value, date, its own printed range, file and page."""
    return [_evidence_row(e, labels.get(e.analyte) or label(e.analyte), prov) for e in items]


def _evidence_row(e: Evidence, name: str, prov: Provenance) -> EvidenceRow:
    printed = _printed(e.value_text, e.unit_printed, e.value)
    return EvidenceRow(
        analyte=name,
        value=fmt_value(e.value, e.unit, e.value_text),
        date=_date(e.collected_at),
        source=prov.cite(e.report_id, e.page),
        range=fmt_range(e.ref_low, e.ref_high, e.unit),
        printed=printed,
        printed_range=f"{e.ref_text} {e.unit_printed or ''}".strip() if printed and e.ref_text else "",
        outside=_outside(e.value, e.ref_low, e.ref_high),
    )


def describe_point(label: str, unit: str | None, prov: Provenance) -> Callable[[TimelinePoint], str]:
    """The hover/accessible text of one chart point: what, when, range, lab and source file and page."""

    def describe(p: TimelinePoint) -> str:
        value = fmt_value(p.value, unit, p.value_text, p.comparator) if p.value is not None else p.value_text
        parts = [f"{_date(p.collected_at)}: {label} {value}"]
        if p.converted:
            parts.append(f"(printed {p.value_text} {p.unit_printed or display_unit(p.original_unit)})")
        printed_in = f" {p.unit_printed or display_unit(p.original_unit)}" if p.converted else ""
        parts.append(f"— range {p.ref_text}{printed_in} as printed" if p.ref_text else "— no range printed")
        if p.range_status in ("above", "below"):
            parts.append(f"({p.range_status} range)")
        parts.append(f"— {p.lab or charts.UNKNOWN_LAB} — {prov.cite(p.report_id, p.page)}")
        return " ".join(parts)

    return describe


def _chart_order(interp: Interpretation) -> list[Timeline]:
    """Analytes named in findings first (in finding order), then those now outside range, then the rest."""
    named: list[str] = []
    for f in sorted(interp.findings, key=lambda f: SEVERITY_ORDER[f.severity]):
        named.extend(a for a in f.analytes if a not in named)

    def key(t: Timeline) -> tuple[int, int, str]:
        latest = t.numeric[-1] if t.numeric else None
        outside = latest is not None and latest.range_status in ("above", "below")
        rank = named.index(t.analyte) if t.analyte in named else len(named)
        return (rank, 0 if outside else 1, t.label.casefold())

    return sorted(interp.timelines, key=key)


def _chart_views(
    interp: Interpretation, prov: Provenance, labs: charts.LabStyles
) -> tuple[list[ChartView], list[str]]:
    trends = {t.analyte: t for t in interp.trends}
    named = {a for f in interp.findings for a in f.analytes}
    views: list[ChartView] = []
    singles: list[str] = []
    for t in _chart_order(interp):
        plotted = [p for p in t.points if charts.plot_value(p) is not None]
        if len(plotted) < 2:
            if t.points:
                last = t.points[-1]
                singles.append(
                    f"{t.label}: {fmt_value(last.value, t.unit, last.value_text, last.comparator)} on "
                    f"{_date(last.collected_at)} ({prov.cite(last.report_id, last.page)})"
                )
            continue
        anchor = f"chart-{t.analyte}"
        used = charts.labs_in(t, labs)
        out_of_range = any(p.range_status in ("above", "below") for p in t.points)
        has_band = any(p.ref_low is not None or p.ref_high is not None for p in t.points)
        latest = t.points[-1]
        views.append(
            ChartView(
                timeline=t,
                anchor=anchor,
                trend=trends.get(t.analyte),
                svg=charts.trend_chart(
                    t,
                    labs,
                    describe_point(t.label, t.unit, prov),
                    chart_id=anchor,
                    unit_label=display_unit(t.unit),
                ),
                legend=charts.legend(used, out_of_range=out_of_range, band=has_band),
                latest=f"{fmt_value(latest.value, t.unit, latest.value_text, latest.comparator)}"
                f" on {_date(latest.collected_at)}",
                notes=[
                    f"{_date(n.collected_at)}: {n.detail}"
                    for n in t.notes
                    if n.action in ("caveat", "refuse")
                ],
                in_findings=t.analyte in named,
            )
        )
    return views, singles


def _table(interp: Interpretation, prov: Provenance) -> list[TableBlock]:
    """The cumulative table: one row per analyte, one column per draw of a report, in blocks of columns."""
    keys = sorted({(p.collected_at, p.report_id) for t in interp.timelines for p in t.points})
    columns = []
    for day, rid in keys:
        ref = prov.report(rid)
        columns.append(Column(_date(day), ref.label if ref else "?", (ref.lab if ref else None) or ""))
    index = {k: i for i, k in enumerate(keys)}
    rows: list[tuple[str, str, list[Cell]]] = []
    for t in sorted(interp.timelines, key=lambda t: t.label.casefold()):
        cells = [Cell("", "empty", "") for _ in keys]
        for p in t.points:
            cells[index[(p.collected_at, p.report_id)]] = _cell(t, p, prov)
        rows.append((t.label, display_unit(t.unit), cells))
    blocks = []
    for start in range(0, len(keys), TABLE_COLUMNS):
        end = start + TABLE_COLUMNS
        blocks.append(TableBlock(columns[start:end], [(a, u, c[start:end]) for a, u, c in rows]))
    return blocks


def _cell(t: Timeline, p: TimelinePoint, prov: Provenance) -> Cell:
    """One table value with its flag, conversion mark and a title holding its printed form and source."""
    text = charts.fmt_number(p.value, p.value_text) if p.value is not None else p.value_text
    css = {"above": "hi", "below": "lo"}.get(p.range_status, "")
    if p.flag:
        text = f"{text} {p.flag}"
    if p.converted:
        text += "*"
    if p.needs_review or (p.confidence is not None and p.confidence < REVIEW_THRESHOLD):
        css += " review"
    printed_unit = p.unit_printed or display_unit(p.original_unit)
    as_printed = f"'{p.name}' " if p.name else ""
    title = [f"{t.label}: printed as {as_printed}{p.value_text} {printed_unit}".rstrip()]
    if p.converted:
        title.append(f"printed in {printed_unit}, converted to {display_unit(t.unit)}")
    title.append(f"range {p.ref_text}{' ' + printed_unit if p.converted else ''}" if p.ref_text else "no range printed")
    title.append(prov.cite(p.report_id, p.page))
    if p.confidence is not None:
        title.append(f"extraction confidence {p.confidence:.2f}")
    return Cell(text, css.strip(), "; ".join(title))


def build_view(interp: Interpretation, prov: Provenance, extra_caveats: Sequence[str] = ()) -> ReportView:
    """Everything the template needs, in the order the report shows it."""
    labels = {t.analyte: t.label for t in interp.timelines}
    labs = charts.LabStyles.for_timelines(interp.timelines)
    findings = [
        FindingView(f, SEVERITY_LABEL[f.severity], _evidence_rows(f.evidence, labels, prov))
        for f in sorted(interp.findings, key=lambda f: SEVERITY_ORDER[f.severity])
    ]
    chart_views, singles = _chart_views(interp, prov, labs)
    scores = [_score_view(s, prov) for s in sorted(interp.scores, key=_score_order)]
    review = [
        f"{t.label} {p.value_text} on {_date(p.collected_at)} ({prov.cite(p.report_id, p.page)})"
        for t in interp.timelines
        for p in t.points
        if p.needs_review or (p.confidence is not None and p.confidence < REVIEW_THRESHOLD)
    ]
    dates = [p.collected_at for t in interp.timelines for p in t.points]
    counts = {s: sum(1 for f in interp.findings if f.severity == s) for s in SEVERITY_ORDER}
    return ReportView(
        title="Laboratory results over time",
        patient_rows=_patient_rows(interp, prov),
        generated=dt.datetime.now(dt.UTC).strftime("%d %b %Y %H:%M UTC"),
        as_of=_date(interp.as_of),
        period=f"{_date(min(dates))} – {_date(max(dates))}" if dates else "—",
        counts=counts,
        findings=findings,
        charts=chart_views,
        single_results=singles,
        scores=scores,
        table=_table(interp, prov),
        caveats=[*interp.caveats, *extra_caveats],
        review=review,
        missing=[f"{labels.get(m.analyte, m.analyte)}: {m.reason}" for m in interp.missing_tests],
        unknown_context=list(interp.unknown_context),
        questions=list(interp.questions),
        red_flags=list(interp.red_flags),
        sources=list(interp.sources),
        reports=prov.reports,
        labs=list(labs.styles),
    )


def _score_order(s: ScoreResult) -> tuple[bool, bool, str]:
    """Computable first; grades of single tests (CTCAE) after the composite scores; then by name."""
    return (not s.computable, s.name.startswith("ctcae"), s.label.casefold())


def _score_view(s: ScoreResult, prov: Provenance) -> ScoreView:
    """A score with its inputs named in short (running-text) form, cited once when they share a draw."""
    short = {e.analyte: cap(prose(e.analyte)) for e in s.inputs}
    inputs = _evidence_rows(s.inputs, short, prov)
    sources = {(e.source, e.date) for e in inputs}
    common = inputs[0].source if len(sources) == 1 else None
    return ScoreView(s, _score_value(s), inputs, common)


def _score_value(s: ScoreResult) -> str:
    if not s.computable or s.value is None:
        return "not computable"
    if s.name == "hys_law":
        return "present" if s.value == 1.0 else "absent"
    text = charts.fmt_number(s.value)
    if s.raw_value is not None and charts.fmt_number(s.raw_value) != text:
        text += f" (raw {charts.fmt_number(s.raw_value)})"
    return text


def _patient_rows(interp: Interpretation, prov: Provenance) -> list[tuple[str, str]]:
    """Name, ids, birth date, sex: from the interpretation, else from the latest report that prints them."""
    docs = [r.document for r in reversed(prov.reports)]
    name = next((d.patient.name for d in docs if d.patient.name), None)
    ids = sorted({d.patient.id for d in docs if d.patient.id})
    born = interp.patient.birth_date.isoformat() if interp.patient.birth_date else None
    born = born or next((d.patient.birth_date for d in docs if d.patient.birth_date), None)
    sex = interp.patient.sex or next((d.patient.sex for d in docs if d.patient.sex), None)
    rows = [
        ("Patient", name or "name not printed"),
        ("Patient id", ", ".join(ids) or interp.patient.id or "not printed"),
        ("Birth date", born or "unknown"),
        ("Sex", sex or "unknown"),
    ]
    return rows
