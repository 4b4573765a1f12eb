"""Observations -> one timeline per analyte, in one unit, with a comparability check between neighbours.

Contract: ``build_timelines(observations)`` groups by canonical analyte code and returns timelines sorted by
analyte, each with points sorted by draw date (then time, then report id) and labelled with the knowledge
base's display name (``names.label``). Every point keeps its printed value, name and unit, its own report's
printed range (converted), and its provenance. Between consecutive numeric points the check adds a caveat
(lab, method or printed range changed, a lab name not printed so the same lab cannot be confirmed, unit
converted, value under review) or refuses the comparison (a new comparable segment starts) when the printed
upper limits differ by ``RANGE_REFUSAL_RATIO`` or more and the two results are not known to come from one
lab, a sign of a different method or calibration; the raw values are then not trended across that
boundary. Points whose unit cannot be converted are kept, with value None and a refusal note, so a renderer
still shows them. Pure functions; no I/O.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from .models import (
    ComparabilityAction,
    ComparabilityKind,
    ComparabilityNote,
    Observation,
    RangeStatus,
    Timeline,
    TimelinePoint,
)
from .names import label
from .units import affine_source, canonical_unit, conversion, refusal_reason

log = logging.getLogger(__name__)

RANGE_CHANGE_RATIO = 1.10
"""Design choice: printed upper limits differing by 10% or more are called a range change (caveat)."""
RANGE_REFUSAL_RATIO = 1.5
"""Design choice: across two labs, upper limits differing by 50% or more suggest a different method or
calibration (e.g. enzyme assays at different temperatures): raw values are not compared."""


def build_timelines(observations: Iterable[Observation]) -> list[Timeline]:
    """One timeline per analyte, sorted by analyte code."""
    by_analyte: dict[str, list[Observation]] = defaultdict(list)
    for obs in observations:
        by_analyte[obs.analyte].append(obs)
    timelines = [build_timeline(a, obs) for a, obs in sorted(by_analyte.items())]
    log.info("built %d timelines from %d observations", len(timelines), sum(map(len, by_analyte.values())))
    return timelines


def _sort_key(o: Observation) -> tuple[str, str, str]:
    time = o.collected_time.isoformat() if o.collected_time else ""
    return (o.collected_at.isoformat(), time, o.report_id)


def _unit_for(analyte: str, observations: Sequence[Observation]) -> str | None:
    """Canonical unit; for analytes the engine does not know, the unit of the latest result."""
    known = canonical_unit(analyte)
    if known is not None:
        return known
    units = [o.unit for o in observations if o.unit is not None]
    return units[-1] if units else None


def _conversion(analyte: str, unit: str | None, obs_unit: str | None) -> tuple[float, float] | None:
    """(factor, offset) to the timeline's unit; for analytes the engine does not know, identity or None."""
    if canonical_unit(analyte) is not None:
        return conversion(analyte, obs_unit)
    return (1.0, 0.0) if obs_unit == unit else None


def range_status(value: float | None, low: float | None, high: float | None, flag: str | None) -> RangeStatus:
    """Where a value sits against its own printed range (the printed flag decides when none is printed)."""
    if value is not None and (low is not None or high is not None):
        if high is not None and value > high:
            return "above"
        if low is not None and value < low:
            return "below"
        return "within"
    if flag in ("H", "HH"):
        return "above"
    if flag in ("L", "LL"):
        return "below"
    return "unknown"


def build_timeline(analyte: str, observations: Sequence[Observation]) -> Timeline:
    """The timeline of one analyte: converted points plus comparability notes."""
    ordered = sorted(observations, key=_sort_key)
    unit = _unit_for(analyte, ordered)
    points: list[TimelinePoint] = []
    notes: list[ComparabilityNote] = []
    for obs in ordered:
        point, point_notes = _point(analyte, unit, obs)
        points.append(point)
        notes.extend(point_notes)
    _link(points, notes, unit)
    printed = next((o.name for o in reversed(ordered) if o.name), None)
    return Timeline(analyte=analyte, label=label(analyte, printed), unit=unit, points=points, notes=notes)


def _point(analyte: str, unit: str | None, obs: Observation) -> tuple[TimelinePoint, list[ComparabilityNote]]:
    """Convert one observation; notes for what makes it unusable or worth a caveat on its own."""
    notes: list[ComparabilityNote] = []

    def note(kind: ComparabilityKind, action: ComparabilityAction, detail: str) -> None:
        notes.append(
            ComparabilityNote(
                kind=kind,
                action=action,
                collected_at=obs.collected_at,
                report_id=obs.report_id,
                detail=detail,
            )
        )

    conv = _conversion(analyte, unit, obs.unit)
    f, offset = conv if conv is not None else (None, 0.0)
    value: float | None = None
    if f is None:
        kind: ComparabilityKind = "unit_unknown" if obs.unit is None else "unit_not_convertible"
        why = (
            refusal_reason(analyte, obs.unit)
            or f"unit {obs.unit or 'not printed'} cannot be converted to {unit}"
        )
        note(kind, "refuse", f"{why}; not compared")
    elif obs.value is None:
        note("non_numeric", "note", f"result '{obs.value_text}' is not numeric; shown, not trended")
    elif obs.comparator is not None:
        note("censored_value", "caveat", f"result '{obs.value_text}' is censored; shown, not trended")
    else:
        value = obs.value * f + offset
        source = affine_source(analyte, obs.unit)
        if source is not None:
            note(
                "unit_converted",
                "caveat",
                f"converted from {obs.unit} to {unit} (x{f:.6g} + {offset:.6g}; {source}); percent changes "
                f"are read on the {unit} scale",
            )
        elif f != 1.0:
            note("unit_converted", "note", f"converted from {obs.unit} to {unit} (x{f:.6g})")
    if obs.needs_review:
        note("needs_review", "caveat", "this value was flagged for human review at extraction")
    low = obs.ref_low * f + offset if f is not None and obs.ref_low is not None else None
    high = obs.ref_high * f + offset if f is not None and obs.ref_high is not None else None
    if f is not None and low is None and high is None:
        note("range_missing", "caveat", "no reference range printed on this report")
    point = TimelinePoint(
        collected_at=obs.collected_at,
        collected_time=obs.collected_time,
        value=value,
        comparator=obs.comparator,
        value_text=obs.value_text,
        ref_low=low,
        ref_high=high,
        ref_text=obs.ref_text,
        flag=obs.flag,
        range_status=range_status(value, low, high, obs.flag),
        uln_multiple=value / high if value is not None and high else None,
        original_value=obs.value,
        original_unit=obs.unit,
        unit_printed=obs.unit_printed,
        name=obs.name,
        factor=f if f is not None else 1.0,
        offset=offset,
        report_id=obs.report_id,
        lab=obs.lab,
        lab_method=obs.lab_method,
        loinc=obs.loinc,
        page=obs.page,
        bbox=obs.bbox,
        confidence=obs.confidence,
        needs_review=obs.needs_review,
    )
    return point, notes


def _link(points: list[TimelinePoint], notes: list[ComparabilityNote], unit: str | None) -> None:
    """Compare each numeric point with the previous numeric one; assign comparable segments in place."""
    segment = 0
    prev: TimelinePoint | None = None
    for i, p in enumerate(points):
        if p.value is None:
            points[i] = p.model_copy(update={"segment": segment})
            continue
        if prev is not None:
            refused = _compare(prev, p, notes, unit)
            if refused:
                segment += 1
        points[i] = p.model_copy(update={"segment": segment})
        prev = points[i]


def _compare(a: TimelinePoint, b: TimelinePoint, notes: list[ComparabilityNote], unit: str | None) -> bool:
    """Add notes for the pair (a, b); True when the comparison is refused."""

    def note(kind: ComparabilityKind, action: ComparabilityAction, detail: str) -> None:
        notes.append(
            ComparabilityNote(
                kind=kind,
                action=action,
                collected_at=b.collected_at,
                previous_at=a.collected_at,
                report_id=b.report_id,
                detail=detail,
            )
        )

    lab_changed = a.lab is not None and b.lab is not None and a.lab.casefold() != b.lab.casefold()
    lab_unknown = a.lab is None or b.lab is None
    if lab_changed:
        note("lab_changed", "caveat", "different laboratory: part of a difference may be method, not body")
    elif lab_unknown:
        which = "either report" if a.lab is None and b.lab is None else "one of the two reports"
        note(
            "lab_unknown",
            "caveat",
            f"laboratory name not read on {which}: whether the same laboratory measured both cannot be "
            "confirmed, so part of a difference may be method, not body",
        )
    if a.lab_method and b.lab_method and a.lab_method.casefold() != b.lab_method.casefold():
        note("method_changed", "caveat", f"method changed ({a.lab_method} -> {b.lab_method})")
    if a.collected_at == b.collected_at:
        note("same_day_repeat", "note", "two results on the same day")
    if a.ref_high and b.ref_high:
        ratio = max(a.ref_high, b.ref_high) / min(a.ref_high, b.ref_high)
        shown = f"upper limit {a.ref_high:.4g} -> {b.ref_high:.4g} {unit or ''}".rstrip()
        if (lab_changed or lab_unknown) and ratio >= RANGE_REFUSAL_RATIO:
            note(
                "range_changed",
                "refuse",
                f"{shown}: ranges too different to compare raw values; "
                "compare multiples of each report's upper limit instead",
            )
            return True
        if ratio >= RANGE_CHANGE_RATIO:
            note("range_changed", "caveat", f"printed range changed ({shown})")
    return False


def latest_segment(timeline: Timeline) -> list[TimelinePoint]:
    """Numeric points of the latest comparable segment, oldest first."""
    numeric = timeline.numeric
    if not numeric:
        return []
    last = numeric[-1].segment
    return [p for p in numeric if p.segment == last]
