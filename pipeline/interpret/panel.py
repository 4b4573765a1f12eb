"""Same-draw grouping and the scores of one patient, from timelines.

Contract: a draw is one collection date. ``inputs_for`` takes the latest draw holding any of a score's
inputs and, for each input, the result of that draw; an input missing from that draw is replaced by its
latest earlier result, so the score reports "inputs come from different draws" (with the dates) rather than
silently mixing them. ``compute_scores`` lists every score with at least one input ever measured; when the
latest draw cannot give a score but an earlier draw holds all its inputs, that earlier score is shown with
a caveat naming the date and why the latest draw could not be used. Age for FIB-4 comes from the report
(age printed on the input's report), else the birth date, else the patient's age shifted by the elapsed
time (with a caveat); otherwise FIB-4 is not computable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from . import patterns, scores
from .change import evidence
from .models import Evidence, PatientInfo, ScoreResult, Timeline

Inputs = dict[str, Evidence | None]


def index(timelines: Sequence[Timeline]) -> dict[str, Timeline]:
    """Timelines by analyte code."""
    return {t.analyte: t for t in timelines}


def at_or_before(timeline: Timeline | None, when: dt.date) -> Evidence | None:
    """The latest result of a timeline drawn on or before ``when`` (numeric or not), as evidence."""
    if timeline is None:
        return None
    pts = [p for p in timeline.points if p.collected_at <= when]
    return evidence(timeline, pts[-1]) if pts else None


def draw_dates(by: Mapping[str, Timeline], analytes: Sequence[str]) -> list[dt.date]:
    """Dates on which any of ``analytes`` was drawn, oldest first."""
    return sorted({p.collected_at for a in analytes if a in by for p in by[a].points})


def inputs_for(by: Mapping[str, Timeline], analytes: Sequence[str], when: dt.date | None = None) -> Inputs:
    """Inputs of one score from the latest draw holding any of them (or from ``when``)."""
    dates = draw_dates(by, analytes)
    if not dates:
        return dict.fromkeys(analytes)
    anchor = when or dates[-1]
    return {a: at_or_before(by.get(a), anchor) for a in analytes}


def complete_draws(by: Mapping[str, Timeline], analytes: Sequence[str]) -> list[dt.date]:
    """Dates on which every one of ``analytes`` was drawn, oldest first."""
    sets = [{p.collected_at for p in by[a].points} if a in by else set() for a in analytes]
    return sorted(set.intersection(*sets)) if sets else []


def age_at(
    patient: PatientInfo, when: dt.date, report_ids: Sequence[str], ages: Mapping[str, float]
) -> tuple[float | None, str | None]:
    """Age at a draw, and a caveat when it had to be derived rather than read from the report."""
    for rid in report_ids:
        if rid in ages:
            return ages[rid], None
    if patient.birth_date is not None:
        b = patient.birth_date
        years = when.year - b.year - ((when.month, when.day) < (b.month, b.day))
        return float(years), None
    if patient.age_years is not None and patient.age_on is not None:
        shifted = patient.age_years + (when - patient.age_on).days / 365.25
        return shifted, f"age derived from the age printed on {patient.age_on.isoformat()}"
    return None, None


ScoreFn = Callable[[Inputs, dt.date | None], ScoreResult]


def _specs(patient: PatientInfo, ages: Mapping[str, float]) -> list[tuple[tuple[str, ...], ScoreFn]]:
    """Each score with the analytes it needs and how to call it on a set of inputs."""

    def fib4(i: Inputs, when: dt.date | None) -> ScoreResult:
        rids = [e.report_id for e in i.values() if e is not None and e.report_id is not None]
        age, note = age_at(patient, when, rids, ages) if when else (None, None)
        return scores.fib4(i["ast"], i["alt"], i["platelets"], age, note)

    def r_ratio(i: Inputs, when: dt.date | None) -> ScoreResult:
        return patterns.r_ratio(i["alt"], i["alp"], i.get("alt_baseline"), i.get("alp_baseline"))

    specs: list[tuple[tuple[str, ...], ScoreFn]] = [
        (("ast", "alt", "platelets"), fib4),
        (("ast", "platelets"), lambda i, _w: scores.apri(i["ast"], i["platelets"])),
        (
            ("bilirubin_total", "inr", "creatinine"),
            lambda i, _w: scores.meld(i["bilirubin_total"], i["inr"], i["creatinine"]),
        ),
        (
            ("bilirubin_total", "inr", "creatinine", "sodium"),
            lambda i, _w: scores.meld_na(i["bilirubin_total"], i["inr"], i["creatinine"], i["sodium"]),
        ),
        (
            ("bilirubin_total", "sodium", "inr", "creatinine", "albumin"),
            lambda i, _w: scores.meld3(
                patient.sex, i["bilirubin_total"], i["sodium"], i["inr"], i["creatinine"], i["albumin"]
            ),
        ),
        (("bilirubin_total", "albumin"), lambda i, _w: scores.albi(i["bilirubin_total"], i["albumin"])),
        (
            ("bilirubin_total", "albumin", "inr"),
            lambda i, _w: scores.child_pugh_lab(i["bilirubin_total"], i["albumin"], i["inr"]),
        ),
        (("alt", "alp"), r_ratio),
        (("alt", "ast", "alp"), lambda i, _w: patterns.new_r(i["alt"], i["ast"], i["alp"])),
        (("ast", "alt"), lambda i, _w: patterns.de_ritis(i["ast"], i["alt"])),
        (
            ("alt", "ast", "bilirubin_total", "alp"),
            lambda i, _w: patterns.hys_law(i["alt"], i["ast"], i["bilirubin_total"], i["alp"]),
        ),
        (("alp",), lambda i, _w: patterns.alp_band(i["alp"])),
        (("alt",), lambda i, _w: patterns.acg_alt(i["alt"], patient.sex)),
    ]
    specs.extend(((analyte,), _ctcae_fn(analyte)) for analyte in patterns.CTCAE_BOUNDS)
    return specs


def _ctcae_fn(analyte: str) -> ScoreFn:
    """A CTCAE grading call bound to one analyte."""

    def grade(i: Inputs, _when: dt.date | None) -> ScoreResult:
        return patterns.ctcae(i[analyte], analyte)

    return grade


def _baseline(by: Mapping[str, Timeline], analyte: str, patient: PatientInfo) -> Evidence | None:
    """Pre-treatment baseline (latest result before a recorded treatment start); None when unknown."""
    start = patient.context.treatment_start
    if start is None:
        return None
    return at_or_before(by.get(analyte), start - dt.timedelta(days=1))


def compute_scores(
    timelines: Sequence[Timeline], patient: PatientInfo, ages: Mapping[str, float] | None = None
) -> list[ScoreResult]:
    """Every score with at least one input measured, on the latest draw holding any of its inputs."""
    by = index(timelines)
    out: list[ScoreResult] = []
    for analytes, fn in _specs(patient, ages or {}):
        dates = draw_dates(by, analytes)
        if not dates:
            continue
        inputs = inputs_for(by, analytes)
        if "alp" in analytes and "alt" in analytes and len(analytes) == 2:
            inputs["alt_baseline"] = _baseline(by, "alt", patient)
            inputs["alp_baseline"] = _baseline(by, "alp", patient)
        result = fn(inputs, dates[-1])
        if not result.computable:
            result = _fallback(by, analytes, fn, result) or result
        out.append(result)
    return out


def _fallback(
    by: Mapping[str, Timeline], analytes: Sequence[str], fn: ScoreFn, latest: ScoreResult
) -> ScoreResult | None:
    """The score of the latest earlier draw holding all inputs, captioned with why the latest was not used."""
    complete = complete_draws(by, analytes)
    if not complete:
        return None
    when = complete[-1]
    earlier = fn(inputs_for(by, analytes, when), when)
    if not earlier.computable:
        return None
    caveat = f"latest draw not usable ({latest.reason}); shown from the draw of {when.isoformat()}"
    return earlier.model_copy(update={"caveats": [caveat, *earlier.caveats]})
