"""Shared pieces of the finding rules: the context they read, movement and range predicates, and wording.

Contract: a rule is a function ``rule(ctx: Context) -> Finding | None``; these helpers keep every rule to
the same reading of a trend ("moving" = a direction with one of the allowed confirmations), the same gates
for a real signal (``falling_from_raised``, ``inr_newly_high``, ``grade_rose``) and the same text forms.
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
from .patterns import ctcae_grade
from .sources import INR_THRESHOLD_HIGH, INR_THRESHOLD_LOW, JONES_2024, RELATED_WINDOW_DAYS, label
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
    """A unit as shown in text: UCUM annotations such as {INR} are not shown."""
    return "" if unit is None or unit.startswith("{") else f" {unit}"


def fmt_value(e: Evidence | None) -> str:
    if e is None or e.value is None:
        return "n/a"
    return f"{e.value:.3g}{display_unit(e.unit)} ({e.collected_at.isoformat()})"


def span(tr: Trend) -> str:
    """One compact line: label, first -> latest value with dates, direction and severity."""
    b, last = tr.baseline, tr.latest
    if b is None or last is None or b.value is None or last.value is None:
        return f"{label(tr.analyte)}: {tr.summary}"
    return (
        f"{label(tr.analyte)} {b.value:.3g} -> {last.value:.3g}{display_unit(last.unit)} "
        f"({b.collected_at.isoformat()} to {last.collected_at.isoformat()}): {tr.summary}"
    )


def names(analytes: Sequence[str]) -> str:
    """'INR, albumin and total bilirubin': labels in running text."""
    words = [label(a) if label(a).isupper() else label(a).lower() for a in analytes]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


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
