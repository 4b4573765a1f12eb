"""Significant change over time: reference change values, Mann-Kendall with Theil-Sen, and trend reading.

Contract: ``read_trend(timeline)`` reads the latest comparable segment of a timeline and returns a ``Trend``
whose direction (rising / falling / stable / insufficient) and confirmation are kept apart from severity
(where the latest value sits against its own printed range). Rules (clinical.md §2):

- RCV: symmetric, sqrt(2) Z sqrt(CVA^2 + CVI^2); log-normal (Fokkema 2006) for skewed analytes; CVA defaults
  to 0.5 CVI (Fraser); Z 1.96 two-sided (``Z_ONE_SIDED`` 1.65 when one direction is asked about).
- Sustained / unconfirmed (a DESIGN CHOICE after clinical.md §2, not a guideline): sustained = the last two
  or more consecutive results beyond the RCV from baseline in the same direction; a single result beyond it
  is unconfirmed (repeat), and an earlier single spike that came back is unconfirmed, not a trend; 4+ points
  with a Mann-Kendall two-sided p < 0.05 are a trend when, for analytes with a sourced CVI, the change along
  the Theil-Sen line over the span also exceeds the RCV (so noise over many points is not a "trend").
  A two-sided p < 0.05 needs 5 points in practice: 4 strictly monotonic points give p = 0.089.
- Analytes without a sourced CVI get no RCV significance. Their direction is only descriptive (a strictly
  monotonic run over 3+ results, another design choice) unless Mann-Kendall finds a trend.
- After an extreme first value (outside its printed range) a move back toward the range is worded softly
  (regression to the mean, Jones 2024).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .models import (
    Change,
    ChangeKind,
    Confirmation,
    Direction,
    Evidence,
    MannKendall,
    SeverityNow,
    Timeline,
    TimelinePoint,
    Trend,
)
from .patterns import ctcae_grade
from .sources import CVI, FOKKEMA_2006, FRASER_CVA, NO_CVI_NOTE
from .timeline import latest_segment

Z_TWO_SIDED = 1.96
Z_ONE_SIDED = 1.65
TREND_MIN_POINTS = 4
TREND_ALPHA = 0.05
DESCRIPTIVE_MIN_POINTS = 3
RTM_CAVEAT = (
    "the first result was outside its range; part of a move back toward the range is expected on repeat "
    "testing alone (regression to the mean), so the change is read cautiously"
)


@dataclass(frozen=True, slots=True)
class RcvLimits:
    """Percent limits a change must pass to be significant, with how they were derived."""

    up_pct: float
    down_pct: float
    method: Literal["lognormal", "symmetric"]
    cvi_pct: float
    cva_pct: float
    z: float
    sources: tuple[str, ...]


def rcv_symmetric(cvi_pct: float, cva_pct: float | None = None, z: float = Z_TWO_SIDED) -> float:
    """Symmetric RCV in percent: sqrt(2) x Z x sqrt(CVA^2 + CVI^2); CVA defaults to 0.5 CVI."""
    cva = 0.5 * cvi_pct if cva_pct is None else cva_pct
    return math.sqrt(2) * z * math.sqrt(cva**2 + cvi_pct**2)


def rcv_lognormal(
    cvi_pct: float, cva_pct: float | None = None, z: float = Z_TWO_SIDED
) -> tuple[float, float]:
    """Log-normal RCV (Fokkema 2006) in percent: (up, down), down negative."""
    cva = 0.5 * cvi_pct if cva_pct is None else cva_pct
    cvt = math.sqrt((cva / 100) ** 2 + (cvi_pct / 100) ** 2)
    sigma = math.sqrt(math.log(1 + cvt**2))
    return (math.exp(z * math.sqrt(2) * sigma) - 1) * 100, (math.exp(-z * math.sqrt(2) * sigma) - 1) * 100


def rcv_limits(analyte: str, z: float = Z_TWO_SIDED, cva_pct: float | None = None) -> RcvLimits | None:
    """RCV limits for an analyte from its sourced CVI; None when there is no sourced CVI."""
    bv = CVI.get(analyte)
    if bv is None:
        return None
    cva = 0.5 * bv.cvi_pct if cva_pct is None else cva_pct
    if bv.lognormal:
        up, down = rcv_lognormal(bv.cvi_pct, cva, z)
        return RcvLimits(up, down, "lognormal", bv.cvi_pct, cva, z, (bv.source, FOKKEMA_2006, FRASER_CVA))
    sym = rcv_symmetric(bv.cvi_pct, cva, z)
    return RcvLimits(sym, -sym, "symmetric", bv.cvi_pct, cva, z, (bv.source, FRASER_CVA))


def _phi_upper(z: float) -> float:
    """P(Z > z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def mann_kendall(days: Sequence[float], values: Sequence[float]) -> MannKendall | None:
    """Mann-Kendall S, tie-corrected variance, z, p (two- and one-sided), tau; Theil-Sen slope per 30 days."""
    n = len(values)
    if n < 3 or len(days) != n:
        return None
    s = sum((values[j] > values[i]) - (values[j] < values[i]) for i in range(n - 1) for j in range(i + 1, n))
    ties = [values.count(v) for v in set(values)]
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18
    z = 0.0 if var <= 0 or s == 0 else (s - 1 if s > 0 else s + 1) / math.sqrt(var)
    slopes = [
        (values[j] - values[i]) / (days[j] - days[i])
        for i in range(n - 1)
        for j in range(i + 1, n)
        if days[j] != days[i]
    ]
    slope = statistics.median(slopes) * 30 if slopes else 0.0
    return MannKendall(
        n=n,
        s=s,
        var_s=var,
        z=z,
        p_value=min(1.0, 2 * _phi_upper(abs(z))),
        p_one_sided=_phi_upper(abs(z)),
        tau=s / (n * (n - 1) / 2),
        theil_sen_per_30_days=slope,
    )


def change_between(
    timeline: Timeline,
    a: TimelinePoint,
    b: TimelinePoint,
    basis: Literal["consecutive", "baseline"],
    limits: RcvLimits | None,
) -> Change:
    """Absolute, percent and per-30-day change from a to b, and whether it passes the RCV."""
    assert a.value is not None and b.value is not None
    absolute = b.value - a.value
    percent = absolute / a.value * 100 if a.value != 0 else None
    days = (b.collected_at - a.collected_at).days
    significant: bool | None = None
    direction: Literal["up", "down", "none"] = "none"
    if limits is not None and percent is not None:
        significant = percent >= limits.up_pct or percent <= limits.down_pct
        if significant:
            direction = "up" if percent > 0 else "down"
    caveats = list(
        dict.fromkeys(
            n.detail
            for n in timeline.notes
            if n.action != "note"
            and n.previous_at is not None
            and a.collected_at < n.collected_at <= b.collected_at
        )
    )
    if limits is None:
        caveats.append(NO_CVI_NOTE)
    return Change(
        analyte=timeline.analyte,
        basis=basis,
        from_date=a.collected_at,
        to_date=b.collected_at,
        from_value=a.value,
        to_value=b.value,
        unit=timeline.unit,
        absolute=absolute,
        percent=percent,
        days=days,
        per_30_days=absolute / days * 30 if days > 0 else None,
        rcv_up_pct=limits.up_pct if limits else None,
        rcv_down_pct=limits.down_pct if limits else None,
        rcv_method=limits.method if limits else None,
        significant=significant,
        direction=direction,
        kind="single" if significant else "none",
        caveats=caveats,
    )


def evidence(timeline: Timeline, p: TimelinePoint) -> Evidence:
    """A timeline point as evidence, in the timeline's unit."""
    return Evidence(
        analyte=timeline.analyte,
        value=p.value,
        unit=timeline.unit,
        collected_at=p.collected_at,
        report_id=p.report_id,
        value_text=p.value_text,
        ref_high=p.ref_high,
        ref_low=p.ref_low,
        ref_text=p.ref_text,
        unit_printed=p.unit_printed,
        page=p.page,
    )


def uln_text(multiple: float) -> str:
    """'1.04x', '3.2x': two decimals just above the limit, where one decimal would read '1.0x'."""
    return f"{multiple:.2f}x" if multiple < 1.95 else f"{multiple:.1f}x"


def severity_now(timeline: Timeline, p: TimelinePoint) -> SeverityNow:
    """Where one value sits against its own printed range, with a CTCAE grade for graded liver tests."""
    assert p.value is not None
    m = p.uln_multiple
    band = {"within": "within range", "below": "below range", "unknown": "range not printed"}.get(
        p.range_status, f"above range ({uln_text(m)} ULN)" if m is not None else "above range"
    )
    grade = ctcae_grade(timeline.analyte, m) if m is not None else None
    return SeverityNow(
        collected_at=p.collected_at,
        value=p.value,
        unit=timeline.unit,
        range_status=p.range_status,
        uln_multiple=m,
        band=band,
        ctcae_grade=grade,
    )


def _runs(dirs: Sequence[str]) -> list[tuple[str, int, int]]:
    """Runs of equal non-'none' directions: (direction, start index, length)."""
    runs: list[tuple[str, int, int]] = []
    i = 0
    while i < len(dirs):
        j = i
        while j + 1 < len(dirs) and dirs[j + 1] == dirs[i]:
            j += 1
        if dirs[i] != "none":
            runs.append((dirs[i], i, j - i + 1))
        i = j + 1
    return runs


def fitted_change_pct(days: Sequence[float], values: Sequence[float], slope_per_30: float) -> float | None:
    """Percent change over the span along the Theil-Sen line (intercept = median of y - slope x)."""
    slope = slope_per_30 / 30
    start = statistics.median(v - slope * d for d, v in zip(days, values, strict=True))
    if start <= 0:
        return None
    return slope * (days[-1] - days[0]) / start * 100


def _mk_direction(
    mk: MannKendall | None, days: Sequence[float], values: Sequence[float], limits: RcvLimits | None
) -> Direction | None:
    """A Mann-Kendall trend: two-sided p < 0.05 and, with a sourced CVI, a fitted change beyond the RCV."""
    if mk is None or mk.s == 0 or mk.p_value >= TREND_ALPHA:
        return None
    if limits is not None:
        pct = fitted_change_pct(days, values, mk.theil_sen_per_30_days)
        if pct is None or limits.down_pct < pct < limits.up_pct:
            return None
    return "rising" if mk.s > 0 else "falling"


def _descriptive(values: Sequence[float]) -> Direction:
    """Direction without biological variation data: strictly monotonic over 3+ results, else not called."""
    if len(values) < DESCRIPTIVE_MIN_POINTS:
        return "insufficient"
    steps = [b - a for a, b in itertools.pairwise(values)]
    if all(s > 0 for s in steps):
        return "rising"
    if all(s < 0 for s in steps):
        return "falling"
    return "insufficient"


def read_trend(timeline: Timeline, z: float = Z_TWO_SIDED, cva_pct: float | None = None) -> Trend:
    """Direction, confirmation and severity of the latest comparable segment of one timeline."""
    pts = [p for p in latest_segment(timeline) if p.value is not None]
    seg = pts[-1].segment if pts else 0
    limits = rcv_limits(timeline.analyte, z, cva_pct)
    rcv_note = None if limits else NO_CVI_NOTE
    if len(pts) < 2:
        latest = evidence(timeline, pts[-1]) if pts else None
        sev = severity_now(timeline, pts[-1]) if pts else None
        return Trend(
            analyte=timeline.analyte,
            unit=timeline.unit,
            direction="insufficient",
            confirmation="not_assessable",
            n_points=len(pts),
            segment=seg,
            latest=latest,
            baseline=latest,
            severity=sev,
            rcv_note=rcv_note,
            summary=f"one comparable result; {sev.band}" if sev else "no numeric result",
        )
    base = pts[0]
    consecutive = [change_between(timeline, a, b, "consecutive", limits) for a, b in itertools.pairwise(pts)]
    from_base = [change_between(timeline, base, b, "baseline", limits) for b in pts[1:]]
    days = [float((p.collected_at - base.collected_at).days) for p in pts]
    vals = [p.value for p in pts if p.value is not None]
    mk = mann_kendall(days, vals) if len(pts) >= TREND_MIN_POINTS else None
    mk_dir = _mk_direction(mk, days, vals, limits)

    direction: Direction
    confirmation: Confirmation
    excursions: list[Evidence] = []
    resolved = ""
    last: tuple[str, int, int] | None = None
    if limits is None:
        direction = mk_dir or _descriptive(vals)
        confirmation = "trend" if mk_dir else "not_assessable"
    else:
        dirs = [c.direction for c in from_base]
        runs = _runs(dirs)
        last = runs[-1] if runs and runs[-1][1] + runs[-1][2] == len(dirs) else None
        for d, start, length in runs:
            if last is not None and (d, start, length) == last:
                continue
            if length == 1:
                excursions.append(evidence(timeline, pts[start + 1]))
            else:
                resolved = (
                    f"; an earlier {'rise' if d == 'up' else 'fall'} over {length} results has resolved"
                )
        for _d, start, length in runs:
            kind: ChangeKind = "sustained" if length >= 2 else "single"
            for k in range(start, start + length):
                from_base[k] = from_base[k].model_copy(update={"kind": kind})
        if last is not None and last[2] >= 2:
            direction, confirmation = ("rising" if last[0] == "up" else "falling"), "sustained"
        elif mk_dir is not None:
            direction, confirmation = mk_dir, "trend"
            from_base[-1] = from_base[-1].model_copy(update={"kind": "trend"})
        elif last is not None:
            direction, confirmation = ("rising" if last[0] == "up" else "falling"), "unconfirmed"
        elif excursions:
            direction, confirmation = "stable", "unconfirmed"
        else:
            direction, confirmation = "stable", "none"

    sev = severity_now(timeline, pts[-1])
    rtm = None
    if (base.range_status == "above" and direction == "falling") or (
        base.range_status == "below" and direction == "rising"
    ):
        rtm = RTM_CAVEAT
    run = last[2] if last is not None else 0
    summary = _summary(direction, confirmation, len(pts), sev, excursions, rtm is not None, run) + resolved
    return Trend(
        analyte=timeline.analyte,
        unit=timeline.unit,
        direction=direction,
        confirmation=confirmation,
        n_points=len(pts),
        segment=seg,
        baseline=evidence(timeline, base),
        latest=evidence(timeline, pts[-1]),
        severity=sev,
        consecutive=consecutive,
        from_baseline=from_base,
        mann_kendall=mk,
        excursions=excursions,
        regression_to_mean=rtm,
        rcv_note=rcv_note,
        summary=summary,
    )


def _summary(
    direction: Direction,
    confirmation: Confirmation,
    n: int,
    sev: SeverityNow,
    excursions: Sequence[Evidence],
    soften: bool,
    run: int,
) -> str:
    """One plain line: direction and how well it is supported, then severity, kept apart."""
    words = {
        "sustained": f"sustained over the last {run} results",
        "trend": f"monotonic trend over {n} results",
        "unconfirmed": "single result beyond the expected variation: repeat to confirm",
        "none": "within the expected variation",
        "not_assessable": "descriptive only: no sourced biological variation data",
    }
    if direction == "stable" and excursions:
        shown = [e.collected_at.isoformat() for e in excursions[:3]]
        more = f" and {len(excursions) - 3} more" if len(excursions) > 3 else ""
        dates = ", ".join(shown) + more
        head = f"stable; single excursion on {dates} returned to baseline (unconfirmed, not a trend)"
    elif direction in ("rising", "falling"):
        verb: str = direction
        if soften:
            verb = "lower than the first result" if direction == "falling" else "higher than the first result"
        head = f"{verb} ({words[confirmation]})"
    elif direction == "stable":
        head = f"stable ({words[confirmation]})"
    elif n < DESCRIPTIVE_MIN_POINTS:
        head = f"too few results to call a direction ({words[confirmation]})"
    else:
        head = f"direction not called: it does not rise or fall at every result ({words[confirmation]})"
    status = sev.range_status
    toward = (direction, status) in (("falling", "above"), ("rising", "below"))
    away = (direction, status) in (("rising", "above"), ("falling", "below"))
    return f"{head}; {'still ' if toward else 'now ' if away else ''}{sev.band}"
