"""Clinical scores and patterns as pure functions of same-draw values.

Contract: each function takes ``Evidence`` (value, unit, draw date, the printed upper limit of its own
report) or None, and returns a ``ScoreResult``. It is "not computable" with a reason when an input is
missing, non-numeric, in a unit that cannot be converted, or from a different draw (collection date) than
the others; a missing upper limit is a reason too for the scores that divide by it. Units are converted
internally (``units.convert``), so inputs may be mg/dL or umol/L, g/dL or g/L. Formulas, cut-offs and
test vectors: /work/shared/clinical.md §3, with each source in ``sources.py``. Rounding is half-up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .models import Evidence, ScoreComponent, ScoreResult, Sex
from .names import cap, prose
from .sources import (
    JOHNSON_2015,
    KIM_2021,
    MCPHERSON_2017,
    OPTN_MELD,
    PUGH_1973,
    STERLING_2006,
    WAI_2003,
)
from .units import convert

CHILD_PUGH_CLASS_NOTE = "class not computable: ascites and encephalopathy are not on a lab report"


def round_half_up(x: float, digits: int = 0) -> float:
    """Round half away from zero (Python's round() is half-to-even, which scores do not use)."""
    q = 10.0**digits
    return math.copysign(math.floor(abs(x) * q + 0.5) / q, x)


@dataclass(frozen=True, slots=True)
class PreparedInputs:
    values: dict[str, float]
    inputs: list[Evidence]
    reason: str | None


def prepare_inputs(required: Mapping[str, Evidence | None], units: Mapping[str, str]) -> PreparedInputs:
    """Check presence, numeric value, same draw and unit of every input; values in the wanted units."""
    present = [ev for ev in required.values() if ev is not None]
    missing = [cap(prose(a)) for a, ev in required.items() if ev is None]
    if missing:
        return PreparedInputs({}, present, f"{', '.join(missing)} not measured")
    text = [f"{cap(prose(ev.analyte))} '{ev.value_text or ''}'" for ev in present if ev.value is None]
    if text:
        return PreparedInputs({}, present, f"non-numeric result: {', '.join(text)}")
    if len({ev.collected_at for ev in present}) > 1:
        dates = ", ".join(f"{cap(prose(ev.analyte))} {ev.collected_at.isoformat()}" for ev in present)
        return PreparedInputs(
            {}, present, f"inputs come from different draws ({dates}); a score needs one draw"
        )
    values: dict[str, float] = {}
    for key, ev in required.items():
        assert ev is not None and ev.value is not None
        converted = convert(ev.analyte, ev.value, ev.unit, units[key])
        if converted is None:
            return PreparedInputs(
                {}, present, f"{cap(prose(ev.analyte))} unit {ev.unit} cannot be converted to {units[key]}"
            )
        values[key] = converted
    return PreparedInputs(values, present, None)


def upper_limit(ev: Evidence, unit: str) -> float | None:
    """The printed upper limit of the value's own report, in ``unit``."""
    if ev.ref_high is None or ev.ref_high <= 0:
        return None
    return convert(ev.analyte, ev.ref_high, ev.unit, unit)


def not_computable(
    name: str, title: str, reason: str, prep: PreparedInputs, sources: list[str]
) -> ScoreResult:
    draws = {ev.collected_at for ev in prep.inputs}
    return ScoreResult(
        name=name,
        label=title,
        computable=False,
        reason=reason,
        collected_at=draws.pop() if len(draws) == 1 else None,
        inputs=prep.inputs,
        sources=sources,
    )


# --------------------------------------------------------------------------------------------------
# Fibrosis


def fib4(
    ast: Evidence | None,
    alt: Evidence | None,
    platelets: Evidence | None,
    age_years: float | None,
    age_note: str | None = None,
) -> ScoreResult:
    """FIB-4 = age x AST / (platelets [10^9/L] x sqrt(ALT)) (Sterling 2006); age cut-offs (McPherson 2017)."""
    src = [STERLING_2006, MCPHERSON_2017]
    prep = prepare_inputs(
        {"ast": ast, "alt": alt, "platelets": platelets}, {"ast": "U/L", "alt": "U/L", "platelets": "10*3/uL"}
    )
    if prep.reason:
        return not_computable("fib4", "FIB-4", prep.reason, prep, src)
    if age_years is None:
        return not_computable(
            "fib4", "FIB-4", "age at the draw is not known (not printed on the report)", prep, src
        )
    v = prep.values
    if v["platelets"] <= 0 or v["alt"] <= 0:
        return not_computable("fib4", "FIB-4", "platelets and ALT must be above zero", prep, src)
    raw = age_years * v["ast"] / (v["platelets"] * math.sqrt(v["alt"]))
    value = round_half_up(raw, 3)
    caveats = [age_note] if age_note else []
    low_cut = 2.0 if age_years >= 65 else 1.30
    if age_years <= 35:
        band = "not interpretable"
        interp = "FIB-4 is unreliable at age 35 or younger (McPherson 2017)"
        caveats.append(interp)
    elif value < low_cut:
        band, interp = "low", f"below {low_cut:g}: advanced fibrosis unlikely"
    elif value <= 2.67:
        band, interp = "indeterminate", f"{low_cut:g}-2.67: indeterminate; further fibrosis assessment"
    else:
        band, interp = "high", "above 2.67: advanced fibrosis more likely; needs specialist assessment to confirm"
    if age_years >= 65:
        caveats.append("age 65 or over: low cut-off 2.0 instead of 1.30 (McPherson 2017)")
    return ScoreResult(
        name="fib4",
        label="FIB-4",
        computable=True,
        value=value,
        raw_value=raw,
        band=band,
        interpretation=interp,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        components=[ScoreComponent(name="age_years", value=age_years)],
        caveats=caveats,
        sources=src,
    )


def apri(ast: Evidence | None, platelets: Evidence | None) -> ScoreResult:
    """APRI = (AST / ULN_AST) / platelets [10^9/L] x 100 (Wai 2003), ULN printed on the AST's own report."""
    src = [WAI_2003]
    prep = prepare_inputs({"ast": ast, "platelets": platelets}, {"ast": "U/L", "platelets": "10*3/uL"})
    if prep.reason:
        return not_computable("apri", "APRI", prep.reason, prep, src)
    assert ast is not None
    uln = upper_limit(ast, "U/L")
    if uln is None:
        return not_computable("apri", "APRI", "AST upper reference limit not printed", prep, src)
    if prep.values["platelets"] <= 0:
        return not_computable("apri", "APRI", "platelets must be above zero", prep, src)
    raw = prep.values["ast"] / uln / prep.values["platelets"] * 100
    value = round_half_up(raw, 2)
    if value <= 0.5:
        band = "fibrosis unlikely (<=0.5)"
    elif value <= 1.0:
        band = "fibrosis indeterminate; cirrhosis unlikely (<=1.0)"
    elif value <= 1.5:
        band = "fibrosis and cirrhosis indeterminate"
    elif value <= 2.0:
        band = "significant fibrosis more likely (>1.5); cirrhosis indeterminate"
    else:
        band = "cirrhosis more likely (>2.0); needs clinical confirmation"
    return ScoreResult(
        name="apri",
        label="APRI",
        computable=True,
        value=value,
        raw_value=raw,
        band=band,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        components=[ScoreComponent(name="ast_uln", value=uln)],
        sources=src,
    )


# --------------------------------------------------------------------------------------------------
# Severity of liver disease


def _meld_raw(bili: float, inr: float, cr: float) -> float:
    """UNOS MELD before rounding: inputs below 1 set to 1, creatinine capped at 4.0."""
    bili, inr, cr = max(bili, 1.0), max(inr, 1.0), min(max(cr, 1.0), 4.0)
    return 10 * (0.957 * math.log(cr) + 0.378 * math.log(bili) + 1.120 * math.log(inr) + 0.643)


def _bound(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


MELD_CAVEAT = "dialysis status is not on a lab report; UNOS adjusts creatinine for dialysed patients"


def meld(bilirubin: Evidence | None, inr: Evidence | None, creatinine: Evidence | None) -> ScoreResult:
    """MELD (UNOS): 10 x (0.957 ln Cr + 0.378 ln Bili + 1.120 ln INR + 0.643), rounded, bounded 6-40."""
    src = [OPTN_MELD]
    prep = prepare_inputs(
        {"bilirubin_total": bilirubin, "inr": inr, "creatinine": creatinine},
        {"bilirubin_total": "mg/dL", "inr": "{INR}", "creatinine": "mg/dL"},
    )
    if prep.reason:
        return not_computable("meld", "MELD", prep.reason, prep, src)
    v = prep.values
    raw = _meld_raw(v["bilirubin_total"], v["inr"], v["creatinine"])
    value = _bound(round_half_up(raw), 6, 40)
    return ScoreResult(
        name="meld",
        label="MELD",
        computable=True,
        value=value,
        raw_value=raw,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        caveats=[MELD_CAVEAT],
        sources=src,
    )


def meld_na(
    bilirubin: Evidence | None, inr: Evidence | None, creatinine: Evidence | None, sodium: Evidence | None
) -> ScoreResult:
    """MELD-Na: if MELD > 11, MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na); Na bounded 125-137."""
    src = [OPTN_MELD]
    prep = prepare_inputs(
        {"bilirubin_total": bilirubin, "inr": inr, "creatinine": creatinine, "sodium": sodium},
        {"bilirubin_total": "mg/dL", "inr": "{INR}", "creatinine": "mg/dL", "sodium": "mmol/L"},
    )
    if prep.reason:
        return not_computable("meld_na", "MELD-Na", prep.reason, prep, src)
    v = prep.values
    m = _bound(round_half_up(_meld_raw(v["bilirubin_total"], v["inr"], v["creatinine"])), 6, 40)
    na = _bound(v["sodium"], 125, 137)
    raw = m + 1.32 * (137 - na) - 0.033 * m * (137 - na) if m > 11 else m
    value = _bound(round_half_up(raw), 6, 40)
    return ScoreResult(
        name="meld_na",
        label="MELD-Na",
        computable=True,
        value=value,
        raw_value=raw,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        components=[ScoreComponent(name="meld", value=m)],
        caveats=[MELD_CAVEAT],
        sources=src,
    )


def meld3(
    sex: Sex | None,
    bilirubin: Evidence | None,
    sodium: Evidence | None,
    inr: Evidence | None,
    creatinine: Evidence | None,
    albumin: Evidence | None,
) -> ScoreResult:
    """MELD 3.0 (Kim 2021), bounded inputs; ``value`` rounded and capped at 40, ``raw_value`` unrounded."""
    src = [KIM_2021]
    prep = prepare_inputs(
        {
            "bilirubin_total": bilirubin,
            "sodium": sodium,
            "inr": inr,
            "creatinine": creatinine,
            "albumin": albumin,
        },
        {
            "bilirubin_total": "mg/dL",
            "sodium": "mmol/L",
            "inr": "{INR}",
            "creatinine": "mg/dL",
            "albumin": "g/dL",
        },
    )
    if prep.reason:
        return not_computable("meld3", "MELD 3.0", prep.reason, prep, src)
    if sex is None:
        return not_computable(
            "meld3", "MELD 3.0", "sex not known (MELD 3.0 adds 1.33 for female sex)", prep, src
        )
    v = prep.values
    bili, inr_v = max(v["bilirubin_total"], 1.0), max(v["inr"], 1.0)
    cr = _bound(v["creatinine"], 1.0, 3.0)
    na, alb = _bound(v["sodium"], 125, 137), _bound(v["albumin"], 1.5, 3.5)
    raw = (
        1.33 * (sex == "female")
        + 4.56 * math.log(bili)
        + 0.82 * (137 - na)
        - 0.24 * (137 - na) * math.log(bili)
        + 9.09 * math.log(inr_v)
        + 11.14 * math.log(cr)
        + 1.85 * (3.5 - alb)
        - 1.83 * (3.5 - alb) * math.log(cr)
        + 6
    )
    value = min(round_half_up(raw), 40.0)
    return ScoreResult(
        name="meld3",
        label="MELD 3.0",
        computable=True,
        value=value,
        raw_value=raw,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        caveats=[MELD_CAVEAT, "value rounded and capped at 40; raw_value is uncapped"],
        sources=src,
    )


def albi(bilirubin: Evidence | None, albumin: Evidence | None) -> ScoreResult:
    """ALBI = 0.66 log10(bilirubin umol/L) - 0.085 albumin g/L (Johnson 2015); grades at -2.60 and -1.39."""
    src = [JOHNSON_2015]
    prep = prepare_inputs(
        {"bilirubin_total": bilirubin, "albumin": albumin}, {"bilirubin_total": "umol/L", "albumin": "g/L"}
    )
    if prep.reason:
        return not_computable("albi", "ALBI", prep.reason, prep, src)
    if prep.values["bilirubin_total"] <= 0:
        return not_computable("albi", "ALBI", "bilirubin must be above zero", prep, src)
    raw = 0.66 * math.log10(prep.values["bilirubin_total"]) - 0.085 * prep.values["albumin"]
    value = round_half_up(raw, 3)
    grade = 1 if value <= -2.60 else 2 if value <= -1.39 else 3
    return ScoreResult(
        name="albi",
        label="ALBI",
        computable=True,
        value=value,
        raw_value=raw,
        grade=grade,
        band=f"grade {grade}",
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        sources=src,
    )


def child_pugh_lab(bilirubin: Evidence | None, albumin: Evidence | None, inr: Evidence | None) -> ScoreResult:
    """Child-Pugh lab-only subtotal (bilirubin, albumin, INR points, 3-9); the class is never computed."""
    src = [PUGH_1973]
    prep = prepare_inputs(
        {"bilirubin_total": bilirubin, "albumin": albumin, "inr": inr},
        {"bilirubin_total": "mg/dL", "albumin": "g/dL", "inr": "{INR}"},
    )
    if prep.reason:
        return not_computable("child_pugh_lab", "Child-Pugh (lab-only subtotal)", prep.reason, prep, src)
    b, a, i = prep.values["bilirubin_total"], prep.values["albumin"], prep.values["inr"]
    pts_b = 1 if b < 2 else 2 if b <= 3 else 3
    pts_a = 1 if a > 3.5 else 2 if a >= 2.8 else 3
    pts_i = 1 if i < 1.7 else 2 if i <= 2.3 else 3
    total = float(pts_b + pts_a + pts_i)
    return ScoreResult(
        name="child_pugh_lab",
        label="Child-Pugh (lab-only subtotal)",
        computable=True,
        value=total,
        band=f"lab subtotal {total:g} of 9",
        interpretation=CHILD_PUGH_CLASS_NOTE,
        collected_at=prep.inputs[0].collected_at,
        inputs=prep.inputs,
        components=[
            ScoreComponent(name="bilirubin_points", value=pts_b),
            ScoreComponent(name="albumin_points", value=pts_a),
            ScoreComponent(name="inr_points", value=pts_i),
            ScoreComponent(name="ascites_points", value=None, note="not on a lab report; unknown"),
            ScoreComponent(name="encephalopathy_points", value=None, note="not on a lab report; unknown"),
        ],
        sources=src,
    )
