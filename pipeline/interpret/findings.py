"""Findings over time: each seed scenario as a rule over trends, timelines and same-draw scores.

Contract: each rule is ``rule(ctx) -> Finding | None`` (helpers in ``rulekit``); ``engine`` runs them in
order and sorts the findings most severe first. A finding needs a real signal (design choice): a change
beyond the reference change value or a monotonic trend, AND a value outside its own printed range or past
a sourced threshold. Transaminases must fall from a level above their range to count as improving, albumin
must fall below its range, bilirubin must rise to a higher CTCAE grade, INR must cross its printed upper
limit or 1.6 / 1.7 (rising, or confirmed by its last two results). Analytes without sourced biological
variation (INR, bilirubin, platelets) move "descriptively" only (see ``change``). A stable patient, normal
or chronically abnormal, gets none (or, rarely, an info "repeat"). Context nobody recorded (treatment
dates, alcohol, medicines, anticoagulants) is listed as unknown in each finding, never assumed. Wording is
the project's own. This module holds the seed-002 cholestatic shift, the AST/ALT reversal, the INR
threshold and Hy's law; the synthetic-function rules of seed 000 are in ``findings_synthetic``.
"""

from __future__ import annotations

from .change import evidence
from .models import Evidence, Finding, FindingSeverity
from .names import prose
from .rulekit import (
    MOVING,
    OTHER_INR_CAUSES,
    Context,
    ends,
    falling_from_raised,
    fmt_value,
    make_finding,
    moving,
    range_of,
    rtm_sources,
    span,
    unknowns_for,
)
from .sources import (
    BOTROS_2013,
    EASL_2022_BLEEDING,
    FDA_2009_DILI,
    INR_HIGH_MORTALITY,
    INR_THRESHOLD_HIGH,
    INR_THRESHOLD_LOW,
    SEED_000,
    SEED_002,
    WANG_2021,
)

# --------------------------------------------------------------------------------------------------
# Seed 002: ALP (and GGT) rising while ALT/AST fall.


def cholestatic_shift(ctx: Context) -> Finding | None:
    """ALP rising while ALT or AST falls: a shift toward a cholestatic pattern (seed 002)."""
    alp = ctx.trends.get("alp")
    if alp is None or not moving(alp, "rising", MOVING[:3]) or range_of(alp) != "above" or alp.latest is None:
        return None
    tx = falling_from_raised(ctx, ("alt", "ast"), MOVING[:3])
    if not tx:
        return None
    when = alp.latest.collected_at
    ggt_t = ctx.timelines.get("ggt")
    ggt = (
        next((evidence(ggt_t, p) for p in reversed(ggt_t.points) if p.collected_at == when), None)
        if ggt_t
        else None
    )
    if ggt is None or ggt.value is None:
        ggt_line = "GGT not measured on the same draw: measure it to confirm a hepatic source of ALP"
    elif ggt.ref_high is not None and ggt.value > ggt.ref_high:
        ggt_line = f"GGT raised on the same draw ({fmt_value(ggt)}): hepatobiliary source of ALP likely"
    else:
        ggt_line = (
            f"GGT not raised on the same draw ({fmt_value(ggt)}): consider a non-hepatic (bone) source of ALP"
        )
    r = ctx.scores.get("r_ratio")
    r_line = (
        f"R ratio {r.value:g} on {r.collected_at}: {r.band}"
        if r and r.computable and r.value is not None
        else f"R ratio not computable ({r.reason if r else 'ALT or ALP missing'})"
    )
    band = ctx.scores.get("alp_band_seed002")
    band_text = band.band if band and band.computable and band.band else "not graded"
    severe = band is not None and band.value is not None and band.value > 10
    ggt_rising = ctx.trends.get("ggt")
    ev = [e for t in [alp, *tx] for e in ends(t)] + ([ggt] if ggt else [])
    return make_finding(
        "CHOLESTATIC_SHIFT",
        "urgent" if severe else "warning",
        "Shift toward a cholestatic pattern: ALP rising while ALT/AST fall",
        f"{span(alp)}; while {'; '.join(span(t) for t in tx)}. {r_line}. {ggt_line}. "
        f"ALP band (seed-002 scale): {band_text}."
        + (" GGT is rising too." if moving(ggt_rising, "rising", MOVING[:3]) else "")
        + " Possible explanations include biliary obstruction, cholestatic drug injury, infiltrative disease"
        " or progression with cholestatic features; the laboratory pattern cannot separate them.",
        "One liver test, alkaline phosphatase (ALP), has been rising while the enzymes ALT and AST "
        "have been falling. This change can point to a problem with bile flow rather than with liver "
        "cells, and usually needs more tests, such as GGT, a split bilirubin and an ultrasound scan. "
        "Please discuss it with your doctor.",
        ev,
        [SEED_002, *(r.sources if r else []), *rtm_sources(tx)],
        next_steps=[
            *(["GGT, to confirm a hepatic source of ALP"] if ggt is None else []),
            "fractionated (direct) bilirubin",
            "abdominal ultrasound first; if it is unrevealing and ALP stays raised, MRI with MRCP",
            "review medicines and supplements for cholestatic injury",
            "for a mild rise (<5x ULN), repeat in 2-4 weeks alongside the work-up",
        ],
        caveats=[t.regression_to_mean or "" for t in tx],
        unknowns=unknowns_for(ctx, "medicines", "treatment", "known liver"),
    )


# --------------------------------------------------------------------------------------------------
# AST/ALT reversal, INR threshold, Hy's law.


def _ratios(ctx: Context) -> list[tuple[Evidence, Evidence]]:
    """(AST, ALT) pairs drawn the same day, oldest first."""
    ast_t, alt_t = ctx.timelines.get("ast"), ctx.timelines.get("alt")
    if ast_t is None or alt_t is None:
        return []
    alt_by = {p.collected_at: p for p in alt_t.numeric}
    return [
        (evidence(ast_t, p), evidence(alt_t, alt_by[p.collected_at]))
        for p in ast_t.numeric
        if p.collected_at in alt_by and alt_by[p.collected_at].value
    ]


def de_ritis_reversal(ctx: Context) -> Finding | None:
    """AST/ALT moving from below 1 to above 1 while an enzyme is raised (seed 002; Botros 2013)."""
    pairs = _ratios(ctx)
    if len(pairs) < 2:
        return None
    ratios = [(a.value or 0) / (b.value or 1) for a, b in pairs]
    last_ast, last_alt = pairs[-1]
    raised = any(e.ref_high is not None and (e.value or 0) > e.ref_high for e in (last_ast, last_alt))
    # Confirmed reversal only: above 1 on the last two draws, below 1 before (design choice: one draw of a
    # ratio of two noisy enzymes crosses 1 by chance too often).
    if len(ratios) < 3 or ratios[-1] <= 1 or ratios[-2] <= 1 or min(ratios[:-2]) >= 1 or not raised:
        return None
    i_low = max(i for i, r in enumerate(ratios[:-2]) if r < 1)
    alcohol = " At 2 or above it is often seen in alcohol-related disease (not specific)." if ratios[-1] >= 2 else ""
    return make_finding(
        "DE_RITIS_REVERSAL",
        "warning",
        "AST/ALT ratio reversed to above 1",
        f"AST/ALT {ratios[i_low]:.2f} on {pairs[i_low][0].collected_at} -> {ratios[-1]:.2f} on "
        f"{last_ast.collected_at}. In non-alcoholic chronic liver disease a ratio of 1 or more can point to "
        f"advanced fibrosis or cirrhosis.{alcohol} " + "Above 1 on the last two draws.",
        "The balance between two liver enzymes has changed: AST is now higher than ALT. In "
        "long-standing liver conditions this can be a sign of more scarring, though muscle strain and "
        "other causes can do the same. Ask your doctor whether an assessment of liver scarring is needed.",
        [*pairs[i_low], last_ast, last_alt],
        [BOTROS_2013, SEED_002],
        next_steps=["repeat AST and ALT on one draw", "fibrosis assessment (FIB-4 shown with the scores)"],
        caveats=[
            "AST also rises with muscle injury or haemolysis, which a liver panel does not show",
            "a change of laboratory or method can shift the ratio",
        ],
        unknowns=unknowns_for(ctx, "alcohol", "medicines"),
    )


def inr_threshold(ctx: Context) -> Finding | None:
    """INR crossing 1.6-1.7 (Wang 2021 inflection), with the other causes of a raised INR.

    Severity and wording agree (design choice after clinical.md §2: one result past a limit is
    'unconfirmed, repeat'): the last two results at or above 1.6 -> warning ('a doctor should review it
    soon'); a single result -> info ('have it repeated'); 2.1 or more -> urgent even once; a recorded
    vitamin K antagonist -> info, since it raises INR by design."""
    t = ctx.timelines.get("inr")
    pts = t.numeric if t else []
    if t is None or len(pts) < 2 or (pts[-1].value or 0) < INR_THRESHOLD_LOW:
        return None
    below = [i for i, p in enumerate(pts[:-1]) if (p.value or 0) < INR_THRESHOLD_LOW]
    if not below:
        return None
    since = pts[below[-1] :]
    last = pts[-1]
    vka = bool(ctx.patient.context.on_vitamin_k_antagonist)
    single = (pts[-2].value or 0) < INR_THRESHOLD_LOW
    high = (last.value or 0) >= INR_HIGH_MORTALITY
    severity: FindingSeverity = "info" if vka else "urgent" if high else "info" if single else "warning"
    crossed = "1.7" if (last.value or 0) >= INR_THRESHOLD_HIGH else "1.6"
    values = " -> ".join(f"{p.value:.2f} ({p.collected_at.isoformat()})" for p in since)
    uln = f"; printed upper limit {last.ref_high:g}" if last.ref_high is not None else ""
    only_latest = crossed == "1.7" and (pts[-2].value or 0) < INR_THRESHOLD_HIGH
    confirmation = (
        "A single result at or above 1.6: repeat to confirm."
        if single
        else "At or above 1.6 on the last two results" + ("; 1.7 reached on the latest only." if only_latest else ".")
    )
    return make_finding(
        "INR_THRESHOLD_CROSSED",
        severity,
        f"INR has crossed {crossed}" + (" (single result)" if single and not high else ""),
        f"INR {values}{uln}. {confirmation} In a hospitalised cohort, mortality rose faster from INR 1.6 in "
        "cirrhosis and 1.7 in advanced fibrosis (HR per +0.1 INR 1.06 and 1.09), and INR 2.1 matched about "
        "15% 28-day mortality: context from inpatients, not a prediction for this patient. "
        + (
            "The patient is recorded as taking a vitamin K antagonist, which raises INR by design. "
            if vka
            else ""
        )
        + OTHER_INR_CAUSES,
        _inr_patient_text(crossed, f"{last.value:.2f}", vka=vka, single=single, high=high),
        [evidence(t, p) for p in since],
        [WANG_2021, SEED_000, EASL_2022_BLEEDING],
        next_steps=[
            "repeat INR with albumin, bilirubin and platelets on one draw"
            + (" promptly" if high and not vka else ""),
            "review anticoagulants and vitamin K status",
        ],
        caveats=["a single INR above the threshold: repeat to confirm" if single else ""],
        unknowns=unknowns_for(ctx, "vitamin K", "medicines", "known liver"),
    )


def _inr_patient_text(crossed: str, value: str, *, vka: bool, single: bool, high: bool) -> str:
    """Plain words whose urgency matches the finding's severity (see ``inr_threshold``)."""
    other = "Warfarin-type blood thinners, low vitamin K and some other conditions can also raise the INR."
    if vka:
        return (
            f"Your INR, a blood clotting test, is {value}. You are recorded as taking a warfarin-type blood "
            "thinner, which raises the INR on purpose: whoever looks after that medicine will read this "
            "result against your own target."
        )
    if high:
        return (
            f"Your INR, a blood clotting test, is {value}, clearly above the usual range. Please contact your "
            f"doctor promptly so it can be repeated and the cause looked for. {other}"
        )
    if single:
        return (
            f"Your latest INR, a blood clotting test, is {value}: at or above {crossed} for the first time. "
            "One result can be off for simple reasons, such as how the sample was taken, so it needs to be "
            "repeated; mention it to your doctor so a repeat test can be arranged. If the repeat is also "
            f"high, a doctor should review it. {other}"
        )
    return (
        f"Your INR, a blood clotting test, has been at or above 1.6 on your last two tests (latest {value}). "
        "In studies of people with liver disease, INR values from this level went with a higher risk, so a "
        f"doctor should review it soon. {other}"
    )


def hys_law_finding(ctx: Context) -> Finding | None:
    """Latest draw meets the biochemical Hy's-law pattern (FDA 2009)."""
    s = ctx.scores.get("hys_law")
    if s is None or not s.computable or s.value != 1.0:
        return None
    shown = {"transaminase_x_uln": "highest of ALT/AST", "bilirubin_x_uln": prose("bilirubin_total")}
    shown["alp_x_uln"] = prose("alp")
    parts = ", ".join(f"{shown.get(c.name, c.name)} {c.value:g}x ULN" for c in s.components)
    return make_finding(
        "HYS_LAW_PATTERN",
        "urgent",
        "Biochemical Hy's-law pattern",
        f"On {s.collected_at}: {parts}: transaminase at least 3x ULN with bilirubin above 2x ULN and "
        "ALP below 2x ULN. The FDA treats this as a signal of potentially severe drug-induced liver "
        "injury; whether another cause explains it is a clinical judgement the report cannot make.",
        "Several liver tests taken on the same day are raised together in a pattern doctors take seriously, "
        "especially when a medicine could be involved. Please contact your doctor promptly and bring a list "
        "of every medicine and supplement you take.",
        list(s.inputs),
        [FDA_2009_DILI],
        next_steps=["prompt clinical review", "review every medicine and supplement"],
        unknowns=unknowns_for(ctx, "medicines", "alcohol"),
    )
