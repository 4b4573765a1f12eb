"""The interpretation engine's one entry point: observations of one patient -> Interpretation.

Contract: ``interpret(observations, patient)`` is pure (no I/O, no clock): the same inputs give the same
output. It reads like a table of contents: timelines -> trends -> same-draw scores -> findings -> what is
missing -> lists for the reader. All observations must belong to one patient (the store groups them).
Logs carry counts only, never values or identifiers above DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import TypeAdapter

from .change import read_trend
from .findings import cholestatic_shift, de_ritis_reversal, hys_law_finding, inr_threshold
from .findings_synthetic import synthetic_failure, synthetic_worsening
from .findings_trend import genuine_improvement, missing_tests, related_missing, unconfirmed_changes
from .models import (
    Finding,
    Interpretation,
    MissingTest,
    Observation,
    PatientInfo,
    ScoreResult,
    Timeline,
    Trend,
)
from .panel import compute_scores
from .rulekit import SEVERITY_ORDER, Context
from .sources import CVI, JONES_2024, SEED_003
from .texts import RED_FLAGS, questions, unknown_context
from .timeline import build_timelines
from .units import affine_source

log = logging.getLogger(__name__)

HEALTHY_CVI_CAVEAT = (
    "Change significance uses biological variation measured in healthy adults; disease (for example "
    "cirrhosis) raises it, so in liver disease some changes called significant may be within the "
    "patient's own variation."
)


def interpret(observations: Sequence[Observation], patient: PatientInfo | None = None) -> Interpretation:
    """Read one patient's results over time: timelines, trends, scores, findings and reader lists."""
    patient = patient or PatientInfo()
    timelines = build_timelines(observations)
    trends = [read_trend(t) for t in timelines]
    ages = {o.report_id: o.age_years for o in observations if o.age_years is not None}
    scores = compute_scores(timelines, patient, ages)
    ctx = _context(timelines, trends, scores, patient)
    missing = missing_tests(ctx)
    findings = _findings(ctx, missing)
    log.info(
        "interpreted %d observations: %d timelines, %d findings",
        len(observations),
        len(timelines),
        len(findings),
    )
    return Interpretation(
        patient=patient,
        report_ids=sorted({o.report_id for o in observations}),
        as_of=ctx.as_of,
        timelines=timelines,
        trends=trends,
        scores=scores,
        findings=findings,
        caveats=_caveats(timelines, trends),
        missing_tests=missing,
        unknown_context=unknown_context(patient),
        red_flags=list(RED_FLAGS),
        questions=questions(findings, trends),
        sources=_sources(findings, scores, trends, timelines),
    )


def _context(
    timelines: list[Timeline], trends: list[Trend], scores: list[ScoreResult], patient: PatientInfo
) -> Context:
    dates = [p.collected_at for t in timelines for p in t.points]
    return Context(
        timelines={t.analyte: t for t in timelines},
        trends={t.analyte: t for t in trends},
        scores={s.name: s for s in scores},
        patient=patient,
        as_of=max(dates) if dates else None,
    )


def _findings(ctx: Context, missing: Sequence[MissingTest]) -> list[Finding]:
    """Every rule in order; then single unconfirmed changes not already covered; most severe first."""
    rules = (
        synthetic_failure,
        synthetic_worsening,
        cholestatic_shift,
        hys_law_finding,
        inr_threshold,
        de_ritis_reversal,
        genuine_improvement,
    )
    found = [f for rule in rules if (f := rule(ctx)) is not None]
    missing_finding = related_missing(ctx, list(missing))
    if missing_finding is not None:
        found.append(missing_finding)
    covered = {a for f in found if f.code != "RELATED_TESTS_MISSING" for a in f.analytes}
    found.extend(unconfirmed_changes(ctx, covered))
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])


def _caveats(timelines: Sequence[Timeline], trends: Sequence[Trend]) -> list[str]:
    """Interpretation-level caveats: comparability refusals, missing biological variation, healthy CVIs."""
    out: list[str] = []
    refused = sorted({t.label for t in timelines for n in t.notes if n.action == "refuse"})
    if refused:
        out.append(f"Some results could not be compared and were not trended: {', '.join(refused)}.")
    labels = {t.analyte: t.label for t in timelines}
    no_cvi = sorted({labels[t.analyte] for t in trends if t.analyte not in CVI and t.n_points >= 2})
    if no_cvi:
        out.append(
            f"No sourced biological variation data for {'; '.join(no_cvi)}: change significance not "
            "assessed; direction is descriptive only."
        )
    if any(t.analyte in CVI and t.n_points >= 2 for t in trends):
        out.append(HEALTHY_CVI_CAVEAT)
    if any(t.regression_to_mean for t in trends):
        out.append(
            f"Some first results were outside their range; moves back toward it are read cautiously "
            f"(regression to the mean, {JONES_2024})."
        )
    out.append(
        "Treatment dates, medicines and alcohol are not on lab reports; where nobody recorded them "
        f"they are unknown and were not assumed ({SEED_003})."
    )
    return out


def _sources(
    findings: Sequence[Finding],
    scores: Sequence[ScoreResult],
    trends: Sequence[Trend],
    timelines: Sequence[Timeline],
) -> list[str]:
    """Every citation used, deduplicated, in first-use order (with any sourced affine unit conversion)."""
    seen: dict[str, None] = {}
    for f in findings:
        seen.update(dict.fromkeys(f.sources))
    for s in scores:
        seen.update(dict.fromkeys(s.sources))
    for t in trends:
        if t.analyte in CVI and t.n_points >= 2:
            seen[CVI[t.analyte].source] = None
    for tl in timelines:
        for p in tl.points:
            source = affine_source(tl.analyte, p.original_unit) if p.converted and p.offset else None
            if source is not None:
                seen[source] = None
    return list(seen)


_FINDINGS = TypeAdapter(list[Finding])


def findings_json(interpretation: Interpretation) -> str:
    """The findings.json document: a JSON list of findings (code, severity, title, detail, evidence...)."""
    return _FINDINGS.dump_json(interpretation.findings, indent=2).decode()
