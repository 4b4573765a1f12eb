"""Findings about reading an improving trend (seed 003): genuine improvement, related tests missing, and a
single unconfirmed change.

Contract: same as ``findings``. Improvement is a trend claim: it needs ALT falling with a sustained change
or a monotonic trend (one lower value after a spike is not enough) AND the related tests measured within
``RELATED_WINDOW_DAYS`` not worsening, with at least one synthetic-function test (albumin, INR, bilirubin)
and one cholestatic test (ALP, GGT) among them. "Worsening" means what the engine can support: for a test
with sourced biological variation, a move the wrong way beyond the RCV (or a trend beyond it); for a test
without (INR, bilirubin, platelets), whose direction is only descriptive, a wrong-way run counts only when
it ends outside the printed range on the wrong side or past a sourced threshold (INR 1.6 / 1.7, a higher
CTCAE bilirubin grade); a smaller drift inside the range is shown as a caveat, not a veto. Related tests
count as missing only when the liver tests carry a signal (a change, or a value outside its printed range).
"""

from __future__ import annotations

import datetime as dt

from .change import rcv_limits
from .models import Evidence, Finding, MissingTest
from .names import cap, label, prose
from .patterns import ctcae_grade
from .rulekit import (
    CONFIRMED,
    MOVING,
    Context,
    display_unit,
    ends,
    falling_from_raised,
    grade_rose,
    inr_newly_high,
    make_finding,
    moving,
    range_of,
    recent_result,
    rtm_sources,
    span,
    unknowns_for,
)
from .sources import CVI, LIVER_PANEL, RELATED_WINDOW_DAYS, SEED_000, SEED_003

ADVERSE: dict[str, str] = {
    "ast": "rising",
    "alp": "rising",
    "ggt": "rising",
    "bilirubin_total": "rising",
    "inr": "rising",
    "albumin": "falling",
    "platelets": "falling",
}
"""The direction in which each related test worsens."""
SYNTHETIC = ("albumin", "inr", "bilirubin_total")
CHOLESTATIC = ("alp", "ggt")
SIGNAL_TESTS = ("alt", "ast", "alp", "ggt", "bilirubin_total")


def _sides(analyte: str) -> tuple[str, str, str]:
    """(the direction it worsens in, the direction it improves in, the range side that is abnormal)."""
    bad = ADVERSE[analyte]
    return bad, "falling" if bad == "rising" else "rising", "above" if bad == "rising" else "below"


def _past_threshold(ctx: Context, analyte: str) -> bool:
    """A no-CVI test past a sourced threshold: INR newly past 1.6 / 1.7, bilirubin up a CTCAE grade."""
    tr = ctx.trends.get(analyte)
    if analyte == "inr":
        return inr_newly_high(ctx)
    return analyte == "bilirubin_total" and tr is not None and grade_rose(ctx, tr)


def _unsettled(ctx: Context, analyte: str) -> bool:
    """A related test worsening with a real signal, or outside its range on the wrong side and not improving.

    Without sourced biological variation a wrong-way run has no size test, so it counts only when it ends
    outside the printed range on the wrong side or past a sourced threshold (module docstring)."""
    tr = ctx.trends.get(analyte)
    if tr is None:
        return False
    bad, good, wrong_side = _sides(analyte)
    if range_of(tr) == wrong_side and not moving(tr, good):
        return True
    if not moving(tr, bad):
        return False
    return analyte in CVI or _past_threshold(ctx, analyte)


def _drifting(ctx: Context, analytes: list[str]) -> list[str]:
    """No-CVI related tests drifting the wrong way inside their range: shown, not counted as worsening."""
    out = []
    for a in analytes:
        tr = ctx.trends.get(a)
        if tr is None or a in CVI or not moving(tr, ADVERSE[a]) or _unsettled(ctx, a):
            continue
        b, last = tr.baseline, tr.latest
        known = b is not None and last is not None and b.value is not None and last.value is not None
        moved = f" {b.value:.3g} -> {last.value:.3g}{display_unit(last.unit)}" if known and b and last else ""
        out.append(
            f"{cap(prose(a))}{moved}: a small drift {'down' if ADVERSE[a] == 'falling' else 'up'} inside its "
            "printed range; with no sourced biological variation its size cannot be judged, so it does not "
            "count against the improvement; keep it in view"
        )
    return out


def _liver_reference(ctx: Context) -> dt.date | None:
    dates = [t.points[-1].collected_at for a in LIVER_PANEL if (t := ctx.timelines.get(a)) and t.points]
    return max(dates) if dates else None


def _signal(ctx: Context) -> bool:
    """Liver tests carry a signal: outside the printed range now, or ALT/AST falling from a raised level."""
    if any(range_of(ctx.trends.get(a)) == "above" for a in SIGNAL_TESTS):
        return True
    return bool(falling_from_raised(ctx, ("alt", "ast"), MOVING[:3]))


def missing_tests(ctx: Context) -> list[MissingTest]:
    """Liver-panel tests not measured within the window before the latest liver draw (only with a signal)."""
    ref = _liver_reference(ctx)
    if ref is None or not _signal(ctx):
        return []
    out: list[MissingTest] = []
    for a in LIVER_PANEL:
        if recent_result(ctx, a, ref) is not None:
            continue
        t = ctx.timelines.get(a)
        last = t.points[-1].collected_at if t and t.points else None
        when = f"last measured {last.isoformat()}" if last else "never measured in these reports"
        out.append(
            MissingTest(
                analyte=a,
                last_collected_at=last,
                reason=f"not measured within {RELATED_WINDOW_DAYS} days of {ref.isoformat()}; {when}",
            )
        )
    return out


def related_missing(ctx: Context, missing: list[MissingTest]) -> Finding | None:
    """Related tests not measured recently, so the liver panel cannot be read as a whole (seeds 000, 003)."""
    ref = _liver_reference(ctx)
    if not missing or ref is None:
        return None
    names = [cap(prose(m.analyte)) for m in missing]
    falling = bool(falling_from_raised(ctx, ("alt", "ast"), MOVING[:3]))
    blind = falling and all(recent_result(ctx, a, ref) is None for a in SYNTHETIC)
    ev = [e for a in SIGNAL_TESTS if (tr := ctx.trends.get(a)) and tr.latest for e in [tr.latest]]
    return make_finding(
        "RELATED_TESTS_MISSING",
        "warning" if blind else "info",
        "Related liver tests not measured recently",
        f"Not measured within {RELATED_WINDOW_DAYS} days of the latest liver test ({ref}): "
        f"{', '.join(names)}. "
        "Without them a falling ALT cannot be told apart from declining synthetic function (INR, albumin, "
        "bilirubin) or a shift to a cholestatic pattern (ALP, GGT)."
        + (" ALT/AST are falling and no synthetic-function test is recent." if blind else ""),
        f"Some tests usually read together with ALT were not measured recently ({', '.join(names)}). "
        "Asking for them at the next blood test lets your results be read as a whole.",
        ev,
        [SEED_003, SEED_000],
        next_steps=[f"measure {', '.join(names)} on the next draw, together with ALT and AST"],
    )


def genuine_improvement(ctx: Context) -> Finding | None:
    """ALT falling (sustained or trend) with the related tests measured and settling (seed 003)."""
    alt = ctx.trends.get("alt")
    if alt is None or alt.latest is None or not falling_from_raised(ctx, ("alt",), CONFIRMED):
        return None
    ref = alt.latest.collected_at
    recent: dict[str, Evidence] = {a: e for a in ADVERSE if (e := recent_result(ctx, a, ref)) is not None}
    if not any(a in recent for a in SYNTHETIC) or not any(a in recent for a in CHOLESTATIC):
        return None
    if any(_unsettled(ctx, a) for a in recent):
        return None
    still = alt.severity is not None and alt.severity.range_status == "above"
    settled = ", ".join(prose(a) for a in recent)
    detail = (
        f"{span(alt)}. Related tests measured within {RELATED_WINDOW_DAYS} days ({settled}) are within "
        "range or not worsening. ALT does not measure liver fat or fibrosis; improvement here is a trend "
        f"claim resting on {alt.n_points} results."
    )
    patient = (
        "Your ALT has come down over several tests, and the other liver tests measured with it look steady "
        "or normal. That is encouraging. "
        + ("ALT is still above the range printed on your report. " if still else "")
        + "It does not show on its own that liver fat or scarring has gone, and treatment should not be "
        "changed because of ALT alone; ask your doctor how long to keep monitoring."
    )
    return make_finding(
        "GENUINE_IMPROVEMENT",
        "info",
        "ALT improving" + (", still above range," if still else "") + " with related tests settling",
        detail,
        patient,
        [*ends(alt), *recent.values()],
        [SEED_003, *rtm_sources([alt])],
        next_steps=["keep monitoring ALT with its related tests until stable within range"],
        caveats=[alt.regression_to_mean or "", *_lab_caveats(ctx), *_drifting(ctx, list(recent))],
        unknowns=unknowns_for(ctx, "treatment", "medicines", "alcohol"),
    )


def _lab_caveats(ctx: Context) -> list[str]:
    """A lower ALT from a different laboratory may be method, not physiology (seed 003)."""
    t = ctx.timelines.get("alt")
    kinds = {n.kind for n in t.notes} if t is not None else set()
    out = []
    if "lab_changed" in kinds:
        out.append("ALT results come from more than one laboratory; part of the change may be method")
    if "lab_unknown" in kinds:
        out.append(
            "the laboratory name was not read on some ALT reports, so the same laboratory cannot be "
            "confirmed; part of the change may be method"
        )
    return out


def unconfirmed_changes(ctx: Context, covered: set[str]) -> list[Finding]:
    """A latest result beyond the RCV, newly outside its range (or a grade up), not yet repeated: repeat."""
    out: list[Finding] = []
    for a, tr in sorted(ctx.trends.items()):
        if a in covered or tr.confirmation != "unconfirmed" or tr.direction not in ("rising", "falling"):
            continue
        if range_of(tr) not in ("above", "below") or not tr.from_baseline or not _newly_worse(ctx, a):
            continue
        ch = tr.from_baseline[-1]
        limit = ch.rcv_up_pct if ch.direction == "up" else ch.rcv_down_pct
        out.append(
            make_finding(
                "UNCONFIRMED_CHANGE",
                "info",
                f"{label(a)}: single result beyond the expected variation",
                f"{cap(span(tr))}. Change {ch.percent:+.0f}% against a reference change value of {limit:+.0f}% "
                f"({ch.rcv_method}); one result only: repeat before reading it as a change.",
                f"Your latest {prose(a)} differs from earlier results by more than normal day-to-day "
                "variation, but it is a single result. A repeat test will show whether the change is real.",
                ends(tr),
                [*dict.fromkeys(s for s in _rcv_sources(a))],
                next_steps=[f"repeat {prose(a)}"],
            )
        )
    return out


def _newly_worse(ctx: Context, analyte: str) -> bool:
    """The latest result is newly outside its range, or in a higher CTCAE grade than the one before it.

    Design choice: in chronic disease, variation exceeds the healthy CVI, so a value that keeps moving
    outside its range would otherwise raise a 'repeat' at almost every report."""
    t = ctx.timelines.get(analyte)
    pts = t.numeric if t else []
    if len(pts) < 2:
        return False
    prev, last = pts[-2], pts[-1]
    if prev.range_status == "within" and last.range_status in ("above", "below"):
        return True
    if prev.uln_multiple is None or last.uln_multiple is None:
        return False
    g0, g1 = ctcae_grade(analyte, prev.uln_multiple), ctcae_grade(analyte, last.uln_multiple)
    return g0 is not None and g1 is not None and g1 > g0


def _rcv_sources(analyte: str) -> list[str]:
    limits = rcv_limits(analyte)
    return list(limits.sources) if limits else []
