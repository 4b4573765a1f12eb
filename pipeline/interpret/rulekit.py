"""Shared pieces of the finding rules: the context they read, movement and range predicates, and wording.

Contract: a rule is a function ``rule(ctx: Context) -> Finding | None``; these helpers keep every rule to
the same reading of a trend ("moving" = a direction with one of the allowed confirmations), the same gates
for a real signal (``falling_from_raised``, ``inr_newly_high``, ``inr_confirmed_high``, ``grade_rose``) and
the same text forms. Tests are named by ``names.prose`` / ``names.label`` (knowledge-base names), never by
their internal codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .change import evidence
from .models import (
    Evidence,
    Finding,
    FindingSeverity,
    PatientInfo,
    ScoreResult,
    Timeline,
    TimelinePoint,
    Trend,
)
from .names import listed, prose, unit_text
from .patterns import ctcae_grade
from .sources import INR_THRESHOLD_HIGH, INR_THRESHOLD_LOW, JONES_2024, RELATED_WINDOW_DAYS
from .texts import unknown_context
from .timeline import latest_segment

MOVING = ("sustained", "trend", "unconfirmed", "not_assessable")
CONFIRMED = ("sustained", "trend")
OTHER_INR_CAUSES = (
    "Other causes of a raised INR to exclude before blaming the liver: vitamin K deficiency, warfarin or "
    "another vitamin K antagonist, and consumption coagulopathy. INR was calibrated for vitamin K "
    "antagonist monitoring and does not predict bleeding in liver disease."
)
SEVERITY_ORDER = {"urgent": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class InrCrossing:
    """A limit the INR newly crossed: a sourced threshold (1.6 / 1.7) or the printed upper limit."""

    limit: float
    printed: bool

    @property
    def text(self) -> str:
        return f"its printed upper limit ({self.limit:g})" if self.printed else f"{self.limit:g}"


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules read: timelines and trends by analyte, scores by name, the patient, the latest draw."""

    timelines: dict[str, Timeline]
    trends: dict[str, Trend]
    scores: dict[str, ScoreResult]
    patient: PatientInfo
    as_of: dt.date | None


def moving(tr: Trend | None, direction: str, allowed: Sequence[str] = MOVING) -> bool:
    return tr is not None and tr.direction == direction and tr.confirmation in allowed


def range_of(tr: Trend | None) -> str:
    return tr.severity.range_status if tr is not None and tr.severity is not None else "unknown"


def was_raised(ctx: Context, analyte: str) -> bool:
    """Some earlier result was above its own printed range: a fall from there can be an improvement."""
    t = ctx.timelines.get(analyte)
    return t is not None and any(p.range_status == "above" for p in t.numeric[:-1])


def falling_from_raised(ctx: Context, analytes: Sequence[str], allowed: Sequence[str]) -> list[Trend]:
    """Trends of ``analytes`` falling (with one of ``allowed`` confirmations) from a raised level."""
    return [
        ctx.trends[a]
        for a in analytes
        if moving(ctx.trends.get(a), "falling", allowed) and was_raised(ctx, a)
    ]


def _segment(ctx: Context, analyte: str) -> list[TimelinePoint]:
    t = ctx.timelines.get(analyte)
    return latest_segment(t) if t is not None else []


def inr_newly_high(ctx: Context) -> bool:
    """INR crossed its printed upper limit or 1.6 / 1.7 (Wang 2021) between the segment's first and latest
    result: a new abnormality, the signal an INR without sourced biological variation can give."""
    pts = _segment(ctx, "inr")
    if len(pts) < 2 or pts[0].value is None or pts[-1].value is None:
        return False
    first, last = pts[0].value, pts[-1].value
    limits = [x for x in (pts[0].ref_high, INR_THRESHOLD_LOW, INR_THRESHOLD_HIGH) if x is not None]
    return any(first < x <= last for x in limits)


def inr_confirmed_high(ctx: Context) -> InrCrossing | None:
    """The highest limit the segment's first INR was below and its last two INRs are at or above: 1.7 or
    1.6 (Wang 2021), else the printed upper limit (each result against its own report's range). A new
    abnormality confirmed on repeat, whatever the path between (design choice: the engine's 'sustained'
    rule of two consecutive results, applied to a limit; INR has no sourced biological variation, so a dip
    of a few hundredths between two rises must not hide it). None when no limit was crossed that way."""
    pts = _segment(ctx, "inr")
    if len(pts) < 3:
        return None
    first, prev, last = pts[0], pts[-2], pts[-1]
    if first.value is None or prev.value is None or last.value is None:
        return None
    low = min(prev.value, last.value)
    crossed = [x for x in (INR_THRESHOLD_LOW, INR_THRESHOLD_HIGH) if first.value < x <= low]
    if crossed:
        return InrCrossing(max(crossed), printed=False)
    above = prev.range_status == last.range_status == "above"
    if first.range_status == "within" and above and last.ref_high is not None:
        return InrCrossing(last.ref_high, printed=True)
    return None


def inr_worse(ctx: Context, printed_limit: bool = True) -> bool:
    """INR worsening with a real signal: a rise (monotonic or Mann-Kendall) that newly crossed a limit, or a
    crossing confirmed by the last two results (``inr_confirmed_high``). ``printed_limit=False`` accepts a
    confirmed crossing of 1.6 / 1.7 only: an INR hovering at its printed upper limit crosses it back and
    forth by noise alone, so a rule with no other gate must not take two results just above it as a rise."""
    rising = moving(ctx.trends.get("inr"), "rising") and inr_newly_high(ctx)
    crossing = inr_confirmed_high(ctx)
    return rising or (crossing is not None and (printed_limit or not crossing.printed))


def inr_past_threshold(ctx: Context) -> bool:
    """INR newly at or above 1.6 (Wang 2021) with support: confirmed by the last two results, or at the end
    of a monotonic rise from below 1.6. A single result at 1.6 after a wobble is not enough."""
    crossing = inr_confirmed_high(ctx)
    if crossing is not None and not crossing.printed:
        return True
    pts = _segment(ctx, "inr")
    if not pts or pts[0].value is None or pts[-1].value is None:
        return False
    rising = moving(ctx.trends.get("inr"), "rising")
    return rising and pts[0].value < INR_THRESHOLD_LOW <= pts[-1].value


INR_EVIDENCE_MAX = 6
"""INR results shown with a finding: the whole comparable segment up to this many (first + latest)."""


def inr_evidence(ctx: Context) -> list[Evidence]:
    """INR evidence for a finding: every result of the segment (so a dip between rises is shown, not
    hidden), or its first and latest ``INR_EVIDENCE_MAX - 1`` when longer."""
    t = ctx.timelines.get("inr")
    pts = _segment(ctx, "inr")
    if t is None or not pts:
        return []
    chosen = pts if len(pts) <= INR_EVIDENCE_MAX else [pts[0], *pts[-(INR_EVIDENCE_MAX - 1) :]]
    return [evidence(t, p) for p in chosen]


def grade_rose(ctx: Context, tr: Trend) -> bool:
    """The latest result sits in a higher CTCAE grade than the segment's first (graded liver tests)."""
    pts = _segment(ctx, tr.analyte)
    if len(pts) < 2 or pts[0].uln_multiple is None or pts[-1].uln_multiple is None:
        return False
    g0, g1 = ctcae_grade(tr.analyte, pts[0].uln_multiple), ctcae_grade(tr.analyte, pts[-1].uln_multiple)
    return g0 is not None and g1 is not None and g1 > g0


def ends(tr: Trend) -> list[Evidence]:
    """Baseline and latest evidence of a trend (one item when they coincide)."""
    out = [e for e in (tr.baseline, tr.latest) if e is not None]
    return out[:1] if len(out) == 2 and out[0] == out[1] else out


def display_unit(unit: str | None) -> str:
    """A unit as shown after a number in text (' U/L', ' 10³/µL'); UCUM annotations such as {INR} not shown."""
    shown = unit_text(unit)
    return f" {shown}" if shown else ""


def fmt_value(e: Evidence | None) -> str:
    if e is None or e.value is None:
        return "n/a"
    return f"{e.value:.3g}{display_unit(e.unit)} ({e.collected_at.isoformat()})"


def span(tr: Trend) -> str:
    """One compact line: label, first -> latest value with dates, direction and severity."""
    b, last = tr.baseline, tr.latest
    if b is None or last is None or b.value is None or last.value is None:
        return f"{prose(tr.analyte)}: {tr.summary}"
    return (
        f"{prose(tr.analyte)} {b.value:.3g} -> {last.value:.3g}{display_unit(last.unit)} "
        f"({b.collected_at.isoformat()} to {last.collected_at.isoformat()}): {tr.summary}"
    )


def brief(tr: Trend) -> str:
    """``span`` without the dates (they are in the finding's evidence): 'albumin 3.7 -> 3.4 g/dL: ...'."""
    b, last = tr.baseline, tr.latest
    if b is None or last is None or b.value is None or last.value is None:
        return f"{prose(tr.analyte)}: {tr.summary}"
    return f"{prose(tr.analyte)} {b.value:.3g} -> {last.value:.3g}{display_unit(last.unit)}: {tr.summary}"


def names(analytes: Sequence[str]) -> str:
    """'INR, albumin and total bilirubin': knowledge-base names in running text."""
    return listed(analytes)


def recent_result(ctx: Context, analyte: str, ref: dt.date) -> Evidence | None:
    """Latest result of ``analyte`` within the related-test window before ``ref``."""
    t = ctx.timelines.get(analyte)
    if t is None:
        return None
    pts = [p for p in t.points if ref - dt.timedelta(days=RELATED_WINDOW_DAYS) <= p.collected_at <= ref]
    return evidence(t, pts[-1]) if pts else None


def rtm_sources(trends: Sequence[Trend]) -> list[str]:
    """The regression-to-the-mean citation when any of the trends carries that caveat."""
    return [JONES_2024] if any(t.regression_to_mean for t in trends) else []


def unknowns_for(ctx: Context, *keep: str) -> list[str]:
    found = unknown_context(ctx.patient)
    return [n for n in found if not keep or any(k in n for k in keep)]


def make_finding(
    code: str,
    severity: FindingSeverity,
    title: str,
    detail: str,
    patient_text: str,
    evidence: list[Evidence],
    sources: list[str],
    next_steps: Sequence[str] = (),
    caveats: Sequence[str] = (),
    unknowns: Sequence[str] = (),
) -> Finding:
    analytes = list(dict.fromkeys(e.analyte for e in evidence))
    return Finding(
        code=code,
        severity=severity,
        title=title,
        detail=detail,
        patient_text=patient_text,
        analytes=analytes,
        evidence=evidence,
        sources=sources,
        next_steps=list(next_steps),
        caveats=list(dict.fromkeys(c for c in caveats if c)),
        unknowns=list(unknowns),
    )
