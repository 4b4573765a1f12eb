"""Findings about the liver's synthetic function (seed 000): INR, albumin and bilirubin worsening, read
against the transaminases.

Contract: same as ``findings`` (``rule(ctx) -> Finding | None``). A synthetic marker counts as worsening
only with a real signal (``worse_synthetic``): INR newly past its printed upper limit, 1.6 or 1.7 (a
monotonic rise, or a crossing confirmed by the last two results; without the transaminase gate, a confirmed
crossing of 1.6 / 1.7 only, since an INR hovering at its printed limit crosses it by noise), albumin
falling to below its printed range, bilirubin rising above its range into a higher CTCAE grade. The two
rules split on the transaminases and never both fire:

- ``synthetic_failure``: ALT/AST falling from a raised level while a marker worsens. Falling enzymes mean
  less hepatocyte injury, not preserved function; the discordance is not reassuring (seed 000). Urgent when
  the transaminase fall is confirmed AND bilirubin worsened or the INR reached 1.6 with support (Wang 2021,
  ``inr_past_threshold``); otherwise (e.g. INR only just past its printed range) a warning.
- ``synthetic_worsening``: the same markers worsening while ALT/AST are NOT falling (steady, rising or not
  measured). In advanced fibrosis and cirrhosis the enzymes may stay flat while synthetic capacity declines
  (seed 000); the rule needs albumin AND bilirubin (each alone has common non-hepatic causes), or INR. An
  INR-only worsening already reported by ``INR_THRESHOLD_CROSSED`` is not repeated here, and below 1.6 an
  INR alone needs a Mann-Kendall rise (measured on simulated stable patients whose INR hovers at its printed
  limit: short monotonic runs there are chance). Always a warning
  (clinical review soon): the seeds give no ground to call this laboratory pattern urgent on its own, and
  an INR of 2.1 or more is already urgent through ``INR_THRESHOLD_CROSSED``.

Context nobody recorded stays unknown; wording is the project's own and names no diagnosis.
"""

from __future__ import annotations

from .findings import inr_threshold
from .models import Finding, ScoreResult, Trend
from .names import cap, prose
from .rulekit import (
    CONFIRMED,
    MOVING,
    OTHER_INR_CAUSES,
    Context,
    brief,
    ends,
    falling_from_raised,
    grade_rose,
    inr_confirmed_high,
    inr_evidence,
    inr_past_threshold,
    inr_worse,
    make_finding,
    moving,
    names,
    range_of,
    rtm_sources,
    unknowns_for,
)
from .sources import EASL_2022_BLEEDING, RELATED_WINDOW_DAYS, SEED_000, SEED_003, WANG_2021

ALBUMIN_CAUSES = (
    "albumin also falls with inflammation, poor nutrition, protein loss through the kidneys or gut and "
    "fluid overload"
)
BILIRUBIN_CAUSES = (
    "bilirubin also rises with haemolysis or Gilbert's syndrome (mainly unconjugated): fractionate it"
)
SEVERITY_SCORES = ("albi", "meld_na", "child_pugh_lab")
"""Same-draw scores quoted with a synthetic-function finding, for the clinician's sense of severity."""


def worse_synthetic(ctx: Context, inr_printed_limit: bool = True) -> list[Trend]:
    """INR, albumin and total bilirubin trends that worsened with a real signal (see module docstring)."""
    inr, alb, bili = (ctx.trends.get(a) for a in ("inr", "albumin", "bilirubin_total"))
    worse: list[Trend] = []
    if inr is not None and inr_worse(ctx, inr_printed_limit):
        worse.append(inr)
    if alb is not None and moving(alb, "falling") and range_of(alb) == "below":
        worse.append(alb)
    if bili is not None and moving(bili, "rising") and range_of(bili) == "above" and grade_rose(ctx, bili):
        worse.append(bili)
    return worse


def _tx_falling(ctx: Context) -> list[Trend]:
    """ALT/AST falling from a raised level, unless one of them is rising (confirmed): the seed-000 gate."""
    tx = falling_from_raised(ctx, ("alt", "ast"), MOVING[:3])
    if any(moving(ctx.trends.get(a), "rising", CONFIRMED) for a in ("alt", "ast")):
        return []
    return tx


def _inr_line(ctx: Context) -> str:
    """How the INR worsened, for the clinician: the limit newly crossed and whether it is confirmed."""
    crossing = inr_confirmed_high(ctx)
    ev = inr_evidence(ctx)
    values = ", ".join(f"{e.value:.2f}" for e in ev if e.value is not None)
    if crossing is not None:
        return f"INR {values}: newly at or above {crossing.text} on the last two results"
    return f"INR {values}: rising, newly past its printed upper limit or 1.6"


def _not_inr(trends: list[Trend]) -> list[Trend]:
    """Trends other than INR, whose evidence is drawn separately (first and last two results)."""
    return [t for t in trends if t.analyte != "inr"]


def _caveats(worse: list[Trend]) -> list[str]:
    found = {w.analyte for w in worse}
    return [
        OTHER_INR_CAUSES if "inr" in found else "",
        ALBUMIN_CAUSES if "albumin" in found else "",
        BILIRUBIN_CAUSES if "bilirubin_total" in found else "",
    ]


def synthetic_failure(ctx: Context) -> Finding | None:
    """ALT/AST falling while INR rises, albumin falls or bilirubin rises: not reassuring (seed 000)."""
    tx = _tx_falling(ctx)
    if not tx:
        return None
    last_tx = max(t.latest.collected_at for t in tx if t.latest)
    worse = [
        w
        for w in worse_synthetic(ctx)
        if w.latest and abs((w.latest.collected_at - last_tx).days) <= RELATED_WINDOW_DAYS
    ]
    if not worse:
        return None
    # Urgent only when bilirubin worsened or INR reached 1.6 (Wang 2021: where mortality starts to climb),
    # AND the transaminase fall is confirmed (design choice); an INR just past its printed range -> warning.
    has_inr = any(w.analyte == "inr" for w in worse)
    coag = any(w.analyte == "bilirubin_total" for w in worse) or (has_inr and inr_past_threshold(ctx))
    urgent = coag and any(t.confirmation in CONFIRMED for t in tx)
    worse_names = names([w.analyte for w in worse])
    lines = [brief(w) for w in _not_inr(worse)] + ([_inr_line(ctx)] if has_inr else [])
    detail = (
        f"Transaminases falling: {'; '.join(brief(t) for t in tx)}. Over the same time {worse_names} "
        f"worsened: {'; '.join(lines)}. Falling ALT/AST reflect less hepatocyte injury, not preserved "
        "function; INR, albumin and bilirubin measure what the liver makes and clears. This discordance can "
        "fit declining synthetic reserve and is not reassuring."
    )
    caveats = _caveats(worse) + [t.regression_to_mean or "" for t in tx]
    caveats += [
        f"{prose(t.analyte)} fall is a single result (unconfirmed)" for t in tx if t.confirmation == "unconfirmed"
    ]
    evidence = [e for t in [*tx, *_not_inr(worse)] for e in ends(t)]
    return make_finding(
        "SYNTHETIC_FAILURE_DISCORDANCE",
        "urgent" if urgent else "warning",
        f"Liver enzymes falling while {worse_names} {'worsens' if len(worse) == 1 else 'worsen'}",
        detail,
        "Your liver enzymes (ALT/AST) have come down, which on its own can look like good news. Over the "
        f"same time, {worse_names} ({'a test' if len(worse) == 1 else 'tests'} of how well the liver works) "
        "moved the wrong way. Together "
        + (
            "this is not reassuring and should be reviewed by a doctor promptly, ideally a liver specialist. "
            if urgent
            else "this is not reassuring and should be reviewed by a doctor soon, ideally a liver specialist. "
        )
        + (
            "A raised INR can also have other causes, such as warfarin-type blood thinners or low vitamin K."
            if has_inr
            else "Low albumin and raised bilirubin can also have causes outside the liver."
        ),
        evidence + (inr_evidence(ctx) if has_inr else []),  # every INR of the segment, dips included
        [SEED_000, *([WANG_2021, EASL_2022_BLEEDING] if has_inr else []), *rtm_sources(tx)],
        next_steps=[
            f"clinical review {'promptly' if urgent else 'soon'} (hepatology if liver disease is known or "
            "suspected)",
            "clinical check for decompensation: ascites, encephalopathy, bleeding (not on a lab report)",
            "repeat INR, albumin, bilirubin and platelets together on one draw",
            *(["review anticoagulant use and vitamin K status"] if has_inr else []),
        ],
        caveats=caveats,
        unknowns=unknowns_for(ctx),
    )


def _score_lines(ctx: Context) -> tuple[list[str], list[ScoreResult]]:
    """Computable same-draw severity scores, as 'ALBI -2.1 (grade 2) on 2024-08-05' lines."""
    lines: list[str] = []
    used: list[ScoreResult] = []
    for name in SEVERITY_SCORES:
        s = ctx.scores.get(name)
        if s is None or not s.computable or s.value is None or s.collected_at is None:
            continue
        shown = s.band if s.name == "child_pugh_lab" else f"{s.value:g}" + (f" ({s.band})" if s.band else "")
        lines.append(f"{s.label} {shown} on {s.collected_at.isoformat()}")
        used.append(s)
    return lines, used


def synthetic_worsening(ctx: Context) -> Finding | None:
    """INR, or albumin with bilirubin, worsening while ALT/AST are not falling (seed 000, seed 003)."""
    if _tx_falling(ctx) or ctx.as_of is None:
        return None
    # No transaminase gate here, so an INR counts only rising, or confirmed past 1.6 / 1.7 (``inr_worse``).
    recent = [
        w
        for w in worse_synthetic(ctx, inr_printed_limit=False)
        if w.latest and (ctx.as_of - w.latest.collected_at).days <= RELATED_WINDOW_DAYS
    ]
    found = {w.analyte for w in recent}
    if not ("inr" in found or {"albumin", "bilirubin_total"} <= found):
        return None
    inr_trend = moving(ctx.trends.get("inr"), "rising", ("trend",))
    if found == {"inr"} and (inr_threshold(ctx) is not None or not inr_trend):
        # INR alone: INR_THRESHOLD_CROSSED reports a crossing of 1.6; below it, with no other marker and no
        # enzyme gate, only a statistically supported rise counts (Mann-Kendall p < 0.05, 5+ results): an
        # INR hovering at its printed limit makes short monotonic runs by chance.
        return None
    has_inr = "inr" in found
    worse_names = names([w.analyte for w in recent])
    tx = [t for a in ("alt", "ast") if (t := ctx.trends.get(a)) is not None and t.latest is not None]
    tx_line = "; ".join(brief(t) for t in tx) if tx else "ALT and AST not measured in these reports"
    plt = ctx.trends.get("platelets")
    plt_falling = plt is not None and moving(plt, "falling") and range_of(plt) == "below" and has_inr
    score_lines, scores = _score_lines(ctx)
    lines = [brief(w) for w in _not_inr(recent)] + ([_inr_line(ctx)] if has_inr else [])
    detail = (
        f"{cap(worse_names)} worsened while the transaminases did not fall. {cap('; '.join(lines))}. "
        f"Transaminases: {tx_line}. ALT and AST measure hepatocyte injury, not function: in advanced "
        "fibrosis they can stay flat while the liver's synthetic reserve declines, so steady enzymes do not "
        "offset this."
        + (
            f" The platelet count is falling below its range as well ({brief(plt)}); with a rising INR this "
            "can accompany portal hypertension."
            if plt_falling and plt is not None
            else ""
        )
        + (f" Same-draw scores: {'; '.join(score_lines)}." if score_lines else "")
        + " The laboratory pattern cannot say why; causes outside the liver are in the caveats."
    )
    patient = (
        f"Some blood tests that show how well the liver is working ({worse_names}) have moved the wrong way "
        "over your recent reports, while the liver enzymes (ALT and AST) have not come down. This can happen "
        "when a long-standing liver condition changes, but it also has other causes"
        + (", such as warfarin-type blood thinners or low vitamin K for the INR" if has_inr else "")
        + ". It is not a diagnosis: please have it reviewed by a doctor soon, and bring these reports."
    )
    tx_evidence = [t.latest for t in tx if t.latest is not None]
    evidence = [e for t in _not_inr(recent) for e in ends(t)]
    evidence += inr_evidence(ctx) if has_inr else []
    evidence += tx_evidence + (ends(plt) if plt_falling and plt is not None else [])
    return make_finding(
        "SYNTHETIC_FUNCTION_WORSENING",
        "warning",
        f"Tests of liver function worsening ({worse_names}) while liver enzymes are not improving",
        detail,
        patient,
        evidence,
        [
            SEED_000,
            SEED_003,
            *([WANG_2021, EASL_2022_BLEEDING] if has_inr else []),
            *(src for s in scores for src in s.sources),
        ],
        next_steps=[
            "clinical review soon (hepatology if liver disease is known or suspected)",
            "clinical check for decompensation: ascites, encephalopathy, bleeding (not on a lab report)",
            "repeat INR, albumin, bilirubin and platelets together on one draw",
            *(["review anticoagulant use and vitamin K status"] if has_inr else []),
            *(["urine protein and nutritional state if albumin keeps falling"] if "albumin" in found else []),
        ],
        caveats=_caveats(recent),
        unknowns=unknowns_for(ctx, "vitamin K", "medicines", "known liver", "alcohol", "ascites", "encephalo"),
    )
