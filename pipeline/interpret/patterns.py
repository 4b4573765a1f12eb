"""Liver-test patterns and grades as pure functions: R ratio, new R, De Ritis, Hy's law, CTCAE, ALP band, ACG.

Contract: same as ``scores``: ``Evidence`` in (each with the upper limit printed on its own report), one
``ScoreResult`` out, "not computable" with the reason when an input or its printed upper limit is missing,
non-numeric or from another draw. Grades are by multiple of the printed upper limit (x ULN). Cut-offs are
from /work/shared/clinical.md §3, each with its source in ``sources.py``.
"""

from __future__ import annotations

from .models import Evidence, ScoreComponent, ScoreResult, Sex
from .names import cap, label, prose
from .scores import PreparedInputs, not_computable, prepare_inputs, round_half_up, upper_limit
from .sources import ACG_2017, ACG_ALT_ULN, BOTROS_2013, CTCAE_V5, FDA_2009_DILI, R_RATIO, SEED_002

# CTCAE v5 upper bounds (x ULN) of grades 1, 2, 3; above the last is grade 4 (CTCAE_V5, clinical.md §3).
CTCAE_BOUNDS: dict[str, tuple[float, float, float]] = {
    "alt": (3.0, 5.0, 20.0),
    "ast": (3.0, 5.0, 20.0),
    "alp": (2.5, 5.0, 20.0),
    "ggt": (2.5, 5.0, 20.0),
    "bilirubin_total": (1.5, 3.0, 10.0),
}
CTCAE_BASELINE_CAVEAT = (
    "graded against the printed upper limit; CTCAE v5 grades against baseline when baseline was abnormal"
)


def ctcae_grade(analyte: str, uln_multiple: float) -> int | None:
    """CTCAE v5 grade 0-4 by multiple of ULN; None for an analyte the engine does not grade."""
    bounds = CTCAE_BOUNDS.get(analyte)
    if bounds is None:
        return None
    if uln_multiple <= 1.0:
        return 0
    for grade, upper in enumerate(bounds, start=1):
        if uln_multiple <= upper:
            return grade
    return 4


def _multiple(ev: Evidence | None, key: str, unit: str) -> tuple[PreparedInputs, float | None]:
    prep = prepare_inputs({key: ev}, {key: unit})
    if prep.reason or ev is None:
        return prep, None
    uln = upper_limit(ev, unit)
    return prep, None if uln is None else prep.values[key] / uln


def ctcae(ev: Evidence | None, analyte: str) -> ScoreResult:
    """CTCAE v5 grade of one liver test by multiple of its printed upper limit."""
    name, title, src = f"ctcae_{analyte}", f"CTCAE v5 grade, {label(analyte)}", [CTCAE_V5]
    unit = "mg/dL" if analyte == "bilirubin_total" else "U/L"
    prep, mult = _multiple(ev, analyte, unit)
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    if mult is None:
        return not_computable(name, title, f"{cap(prose(analyte))} upper reference limit not printed", prep, src)
    grade = ctcae_grade(analyte, mult)
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=round_half_up(mult, 2),
        grade=grade,
        band=f"grade {grade}" if grade else "within range (grade 0)",
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        caveats=[CTCAE_BASELINE_CAVEAT] if analyte in ("alt", "ast") else [],
        sources=src,
    )


def alp_severity_band(uln_multiple: float) -> str:
    """Seed-002 ALP scale (its own named scale, not CTCAE): <5x mild, 5-10x moderate, >10x severe."""
    if uln_multiple <= 1.0:
        return "within range"
    if uln_multiple < 5.0:
        return "mild (<5x ULN): repeat in 2-4 weeks and evaluate, including ultrasound"
    if uln_multiple <= 10.0:
        return "moderate (5-10x ULN): expedite imaging and laboratory work-up"
    return "severe (>10x ULN): urgent evaluation"


def alp_band(alp: Evidence | None) -> ScoreResult:
    """The seed-002 ALP severity band of one ALP result."""
    name, title, src = "alp_band_seed002", "ALP severity band (seed 002 scale)", [SEED_002]
    prep, mult = _multiple(alp, "alp", "U/L")
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    if mult is None:
        return not_computable(name, title, "ALP upper reference limit not printed", prep, src)
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=round_half_up(mult, 2),
        band=alp_severity_band(mult),
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        sources=src,
    )


def _r_band(r: float, raised: dict[str, bool]) -> str:
    """The R band, named only when the enzyme that defines it is above its printed range: R classifies the
    pattern of an abnormality (ACG 2017), so normal enzymes get no pattern and a normal ALP no
    'cholestatic' (nor a normal transaminase 'hepatocellular')."""
    if not any(raised.values()):
        return "no pattern named: the enzymes are within their printed ranges (R describes an abnormality)"
    if r >= 5:
        band, needs = "hepatocellular (R >= 5)", "transaminase"
    elif r > 2:
        return "mixed (2 < R < 5)"
    else:
        band, needs = "cholestatic (R <= 2)", "alp"
    if not raised[needs]:
        which = "ALP" if needs == "alp" else "the transaminase"
        return f"no pattern named: {band.split(' ')[0]} by R, but {which} is within its printed range"
    return band


def _raised(ev: Evidence, value: float) -> bool:
    """The value is above the upper limit printed on its own report."""
    uln = upper_limit(ev, "U/L")
    return uln is not None and value > uln


def r_ratio(
    alt: Evidence | None,
    alp: Evidence | None,
    alt_baseline: Evidence | None = None,
    alp_baseline: Evidence | None = None,
) -> ScoreResult:
    """R = (ALT/ULN)/(ALP/ULN); an abnormal baseline (above its own ULN) replaces the ULN as divisor."""
    name, title, src = "r_ratio", "R ratio", [R_RATIO]
    prep = prepare_inputs({"alt": alt, "alp": alp}, {"alt": "U/L", "alp": "U/L"})
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    assert alt is not None and alp is not None
    parts: list[float] = []
    components: list[ScoreComponent] = []
    for key, ev, base in (("alt", alt, alt_baseline), ("alp", alp, alp_baseline)):
        divisor, note = upper_limit(ev, "U/L"), "printed ULN"
        if divisor is None:
            return not_computable(name, title, f"{cap(prose(key))} upper reference limit not printed", prep, src)
        base_uln = upper_limit(base, "U/L") if base is not None and base.value is not None else None
        if base is not None and base.value is not None and base_uln is not None and base.value > base_uln:
            divisor, note = base.value, f"abnormal baseline of {base.collected_at.isoformat()}"
        components.append(ScoreComponent(name=f"{key}_divisor", value=divisor, note=note))
        parts.append(prep.values[key] / divisor)
    r = parts[0] / parts[1]
    raised = {"transaminase": _raised(alt, prep.values["alt"]), "alp": _raised(alp, prep.values["alp"])}
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=round_half_up(r, 2),
        raw_value=r,
        band=_r_band(r, raised),
        collected_at=alt.collected_at,
        inputs=prep.inputs,
        components=components,
        sources=src,
    )


def new_r(alt: Evidence | None, ast: Evidence | None, alp: Evidence | None) -> ScoreResult:
    """'New R' = max(ALT/ULN, AST/ULN) / (ALP/ULN), each ULN printed on its own report."""
    name, title, src = "new_r", "New R ratio", [R_RATIO]
    prep = prepare_inputs({"alt": alt, "ast": ast, "alp": alp}, {"alt": "U/L", "ast": "U/L", "alp": "U/L"})
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    mults: dict[str, float] = {}
    for key, ev in (("alt", alt), ("ast", ast), ("alp", alp)):
        assert ev is not None
        uln = upper_limit(ev, "U/L")
        if uln is None:
            return not_computable(name, title, f"{cap(prose(key))} upper reference limit not printed", prep, src)
        mults[key] = prep.values[key] / uln
    r = max(mults["alt"], mults["ast"]) / mults["alp"]
    raised = {"transaminase": max(mults["alt"], mults["ast"]) > 1, "alp": mults["alp"] > 1}
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=round_half_up(r, 2),
        raw_value=r,
        band=_r_band(r, raised),
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        sources=src,
    )


def de_ritis(ast: Evidence | None, alt: Evidence | None) -> ScoreResult:
    """AST/ALT (De Ritis): >= 1 suggests cirrhosis in non-alcoholic disease, >= 2 alcohol-related disease."""
    name, title, src = "de_ritis", "AST/ALT (De Ritis) ratio", [BOTROS_2013]
    prep = prepare_inputs({"ast": ast, "alt": alt}, {"ast": "U/L", "alt": "U/L"})
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    if prep.values["alt"] <= 0:
        return not_computable(name, title, "ALT must be above zero", prep, src)
    ratio = prep.values["ast"] / prep.values["alt"]
    if ratio >= 2:
        band = ">= 2: a ratio often seen in alcohol-related liver disease (not specific)"
    elif ratio >= 1:
        band = ">= 1: in non-alcoholic liver disease, can point to advanced fibrosis or cirrhosis"
    else:
        band = "< 1"
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=round_half_up(ratio, 2),
        raw_value=ratio,
        band=band,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        caveats=["AST also comes from muscle and red cells; read the ratio when enzymes are raised"],
        sources=src,
    )


def hys_law(
    alt: Evidence | None, ast: Evidence | None, bilirubin: Evidence | None, alp: Evidence | None
) -> ScoreResult:
    """Biochemical Hy's-law pattern (FDA 2009): ALT or AST >= 3x ULN, bilirubin > 2x ULN, ALP < 2x ULN.

    Bilirubin and ALP fix the draw; ALT and AST count only when drawn the same day (either one suffices).
    """
    name, title, src = "hys_law", "Hy's-law biochemical pattern", [FDA_2009_DILI]
    prep = prepare_inputs(
        {"bilirubin_total": bilirubin, "alp": alp}, {"bilirubin_total": "mg/dL", "alp": "U/L"}
    )
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    assert bilirubin is not None and alp is not None
    draw = bilirubin.collected_at
    tx = [ev for ev in (alt, ast) if ev is not None and ev.value is not None and ev.collected_at == draw]
    if not tx:
        prep = PreparedInputs({}, [*[e for e in (alt, ast) if e is not None], *prep.inputs], None)
        return not_computable(name, title, "ALT/AST not measured on the bilirubin and ALP draw", prep, src)
    tx_prep = prepare_inputs({ev.analyte: ev for ev in tx}, {ev.analyte: "U/L" for ev in tx})
    if tx_prep.reason:
        return not_computable(name, title, tx_prep.reason, tx_prep, src)
    tx_mult = [tx_prep.values[ev.analyte] / u for ev in tx if (u := upper_limit(ev, "U/L"))]
    bili_uln, alp_uln = upper_limit(bilirubin, "mg/dL"), upper_limit(alp, "U/L")
    if not tx_mult or bili_uln is None or alp_uln is None:
        return not_computable(name, title, "an upper reference limit is not printed", prep, src)
    t, b, a = max(tx_mult), prep.values["bilirubin_total"] / bili_uln, prep.values["alp"] / alp_uln
    present = t >= 3 and b > 2 and a < 2
    band = "biochemical Hy's-law pattern present" if present else "pattern absent"
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=1.0 if present else 0.0,
        band=band,
        interpretation="'no other cause' is a clinical judgement the report cannot make" if present else None,
        collected_at=draw,
        inputs=[*tx, bilirubin, alp],
        components=[
            ScoreComponent(name="transaminase_x_uln", value=round_half_up(t, 2)),
            ScoreComponent(name="bilirubin_x_uln", value=round_half_up(b, 2)),
            ScoreComponent(name="alp_x_uln", value=round_half_up(a, 2)),
        ],
        sources=src,
    )


def acg_alt(alt: Evidence | None, sex: Sex | None) -> ScoreResult:
    """ACG 2017 healthy ALT upper limit for the sex, shown beside (never instead of) the printed one."""
    name, title, src = "acg_alt_uln", "ALT against the ACG healthy upper limit", [ACG_2017]
    prep = prepare_inputs({"alt": alt}, {"alt": "U/L"})
    if prep.reason:
        return not_computable(name, title, prep.reason, prep, src)
    if sex is None:
        return not_computable(
            name, title, "sex not known: ACG gives 29-33 U/L for men and 19-25 U/L for women", prep, src
        )
    assert alt is not None
    lo, hi = ACG_ALT_ULN[sex]
    value, printed = prep.values["alt"], upper_limit(alt, "U/L")
    side = "above" if value > hi else "within" if value <= lo else "at"
    where = (
        f"{side} the ACG healthy upper limit for {'men' if sex == 'male' else 'women'} ({lo:g}-{hi:g} U/L)"
    )
    if printed is not None:
        where += f"; printed upper limit {printed:g} U/L ({'above' if value > printed else 'within'})"
    return ScoreResult(
        name=name,
        label=title,
        computable=True,
        value=value,
        band=where,
        collected_at=alt.collected_at,
        inputs=prep.inputs,
        components=[
            ScoreComponent(name="acg_uln_low", value=lo),
            ScoreComponent(name="acg_uln_high", value=hi),
            ScoreComponent(name="printed_uln", value=printed),
        ],
        caveats=["the printed range of the report stays the reference; ACG is shown beside it"],
        sources=src,
    )
