"""Seed scenarios as synthetic patient series -> the expected findings; a stable patient -> none.

Every series is built here from Observations: several reports, two laboratories, Lab A printing conventional
units (mg/dL, g/dL, 10*3/uL) and Lab B SI units (umol/L, g/L, 10*9/L) with slightly different ranges. Values
are written in conventional units and converted for Lab B, so the engine must convert them back.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import pytest

from parsers.knowledge import load_knowledge
from pipeline.interpret import interpret
from pipeline.interpret.engine import findings_json
from pipeline.interpret.models import FINDING_CODES, ClinicalContext, Interpretation, Observation, PatientInfo
from pipeline.interpret.names import label, prose

START = dt.date(2024, 1, 10)

# (unit, low, high) per lab, in the unit that lab prints.
RANGES: dict[str, dict[str, tuple[str | None, float, float]]] = {
    "A": {
        "alt": ("U/L", 7, 40),
        "ast": ("U/L", 8, 40),
        "alp": ("U/L", 40, 130),
        "ggt": ("U/L", 8, 60),
        "bilirubin_total": ("mg/dL", 0.2, 1.2),
        "albumin": ("g/dL", 3.5, 5.0),
        "inr": (None, 0.8, 1.2),
        "platelets": ("10*3/uL", 150, 400),
        "creatinine": ("mg/dL", 0.6, 1.2),
        "sodium": ("mmol/L", 135, 145),
    },
    "B": {
        "alt": ("U/L", 5, 45),
        "ast": ("U/L", 5, 42),
        "alp": ("U/L", 35, 120),
        "ggt": ("U/L", 5, 55),
        "bilirubin_total": ("umol/L", 3.4, 20.5),
        "albumin": ("g/L", 35, 52),
        "inr": ("{INR}", 0.9, 1.2),
        "platelets": ("10*9/L", 150, 410),
        "creatinine": ("umol/L", 53, 106),
        "sodium": ("mmol/L", 136, 145),
    },
}
TO_SI = {"bilirubin_total": 17.1, "albumin": 10.0, "creatinine": 88.4}
"""Conventional -> Lab B unit (clinical.md §4)."""


def report(month: int, lab: str, values: dict[str, float], age: float | None = 58) -> list[Observation]:
    """One report: the values (conventional units) as lab ``lab`` prints them, drawn ``month`` months in."""
    day = START + dt.timedelta(days=30 * month)
    out = []
    for analyte, v in values.items():
        unit, low, high = RANGES[lab][analyte]
        printed = v * TO_SI.get(analyte, 1.0) if lab == "B" else v
        out.append(
            Observation(
                analyte=analyte,
                value=round(printed, 2),
                value_text=f"{printed:.2f}",
                unit=unit,
                ref_low=low,
                ref_high=high,
                ref_text=f"{low}-{high}",
                collected_at=day,
                report_id=f"r{month}{lab}",
                lab="Lab A" if lab == "A" else "Lab B",
                age_years=age,
            )
        )
    return out


def series(*reports: list[Observation]) -> list[Observation]:
    return [o for r in reports for o in r]


NORMAL = {"alp": 70, "ggt": 25, "bilirubin_total": 0.6, "albumin": 4.4, "inr": 1.0, "platelets": 250}

SCENARIOS: dict[str, list[Observation]] = {
    "synthetic_failure": series(
        report(
            0,
            "A",
            {
                "alt": 220,
                "ast": 180,
                "alp": 110,
                "ggt": 70,
                "bilirubin_total": 1.4,
                "albumin": 3.6,
                "inr": 1.2,
                "platelets": 160,
            },
        ),
        report(
            1,
            "A",
            {
                "alt": 150,
                "ast": 120,
                "alp": 112,
                "bilirubin_total": 1.8,
                "albumin": 3.3,
                "inr": 1.4,
                "platelets": 150,
            },
        ),
        report(
            2,
            "B",
            {
                "alt": 90,
                "ast": 75,
                "alp": 108,
                "bilirubin_total": 2.4,
                "albumin": 3.0,
                "inr": 1.6,
                "platelets": 135,
            },
        ),
        report(
            3,
            "B",
            {
                "alt": 60,
                "ast": 52,
                "alp": 110,
                "bilirubin_total": 3.0,
                "albumin": 2.8,
                "inr": 1.8,
                "platelets": 130,
            },
        ),
    ),
    "cholestatic_shift": series(
        report(
            0,
            "A",
            {
                "alt": 250,
                "ast": 200,
                "alp": 140,
                "ggt": 90,
                "bilirubin_total": 1.0,
                "albumin": 4.0,
                "inr": 1.0,
                "platelets": 250,
            },
        ),
        report(1, "A", {"alt": 160, "ast": 120, "alp": 210, "ggt": 150}),
        report(2, "B", {"alt": 100, "ast": 70, "alp": 320, "ggt": 260, "bilirubin_total": 1.1}),
        report(3, "B", {"alt": 70, "ast": 50, "alp": 420, "ggt": 330}),
    ),
    "de_ritis_reversal": series(
        report(0, "A", {"alt": 90, "ast": 60, **NORMAL}),
        report(1, "A", {"alt": 85, "ast": 66, **NORMAL}),
        report(2, "B", {"alt": 70, "ast": 75, **NORMAL}),
        report(3, "B", {"alt": 62, "ast": 82, **NORMAL}),
    ),
    "inr_threshold": series(
        report(0, "A", {"alt": 30, "ast": 28, **{**NORMAL, "inr": 1.1}}),
        report(1, "A", {"alt": 29, "ast": 30, **{**NORMAL, "inr": 1.3}}),
        report(2, "B", {"alt": 31, "ast": 29, **{**NORMAL, "inr": 1.65}}),
        report(3, "B", {"alt": 30, "ast": 28, **{**NORMAL, "inr": 1.75}}),
    ),
    "genuine_improvement": series(
        report(
            0,
            "A",
            {
                "alt": 180,
                "ast": 110,
                "alp": 100,
                "ggt": 80,
                "bilirubin_total": 0.9,
                "albumin": 4.2,
                "inr": 1.0,
                "platelets": 240,
            },
        ),
        report(
            1,
            "A",
            {
                "alt": 120,
                "ast": 80,
                "alp": 95,
                "ggt": 62,
                "bilirubin_total": 0.8,
                "albumin": 4.3,
                "inr": 1.0,
                "platelets": 245,
            },
        ),
        report(
            2,
            "B",
            {
                "alt": 75,
                "ast": 50,
                "alp": 92,
                "ggt": 50,
                "bilirubin_total": 0.8,
                "albumin": 4.3,
                "inr": 1.0,
                "platelets": 250,
            },
        ),
        report(
            3,
            "B",
            {
                "alt": 48,
                "ast": 36,
                "alp": 90,
                "ggt": 45,
                "bilirubin_total": 0.7,
                "albumin": 4.4,
                "inr": 1.0,
                "platelets": 248,
            },
        ),
    ),
    "related_missing": series(
        report(0, "A", {"alt": 150, "ast": 100}),
        report(1, "A", {"alt": 110, "ast": 70}),
        report(2, "B", {"alt": 80, "ast": 50}),
    ),
    "hys_law": series(
        report(0, "A", {"alt": 35, "ast": 30, "alp": 80, "bilirubin_total": 0.7}),
        report(1, "A", {"alt": 400, "ast": 300, "alp": 150, "bilirubin_total": 3.0}),
    ),
}

EXPECTED: list[tuple[str, str, str]] = [
    ("synthetic_failure", "SYNTHETIC_FAILURE_DISCORDANCE", "urgent"),
    ("synthetic_failure", "INR_THRESHOLD_CROSSED", "warning"),
    ("cholestatic_shift", "CHOLESTATIC_SHIFT", "warning"),
    ("de_ritis_reversal", "DE_RITIS_REVERSAL", "warning"),
    ("inr_threshold", "INR_THRESHOLD_CROSSED", "warning"),
    ("genuine_improvement", "GENUINE_IMPROVEMENT", "info"),
    ("related_missing", "RELATED_TESTS_MISSING", "warning"),
    ("hys_law", "HYS_LAW_PATTERN", "urgent"),
]

NOT_EXPECTED: list[tuple[str, str]] = [
    ("synthetic_failure", "GENUINE_IMPROVEMENT"),
    ("cholestatic_shift", "GENUINE_IMPROVEMENT"),
    ("related_missing", "GENUINE_IMPROVEMENT"),
    ("genuine_improvement", "SYNTHETIC_FAILURE_DISCORDANCE"),
    ("genuine_improvement", "CHOLESTATIC_SHIFT"),
    ("genuine_improvement", "RELATED_TESTS_MISSING"),
    ("inr_threshold", "SYNTHETIC_FAILURE_DISCORDANCE"),
]

PATIENT = PatientInfo(sex="male")


def run(name: str, patient: PatientInfo = PATIENT) -> Interpretation:
    return interpret(SCENARIOS[name], patient)


def codes(interp: Interpretation) -> dict[str, str]:
    return {f.code: f.severity for f in interp.findings}


@pytest.mark.parametrize(("scenario", "code", "severity"), EXPECTED, ids=[f"{s}-{c}" for s, c, _ in EXPECTED])
def test_scenario_produces_its_finding(scenario: str, code: str, severity: str) -> None:
    found = codes(run(scenario))
    assert code in found, found
    assert found[code] == severity


@pytest.mark.parametrize(("scenario", "code"), NOT_EXPECTED, ids=[f"{s}-no-{c}" for s, c in NOT_EXPECTED])
def test_scenario_does_not_produce_the_wrong_reading(scenario: str, code: str) -> None:
    assert code not in codes(run(scenario))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_finding_has_evidence_with_dates_sources_and_known_code(scenario: str) -> None:
    interp = run(scenario)
    assert interp.findings
    dates = {o.collected_at for o in SCENARIOS[scenario]}
    for f in interp.findings:
        assert f.code in FINDING_CODES
        assert f.sources and all(s.strip() for s in f.sources)
        assert f.evidence and {e.collected_at for e in f.evidence} <= dates
        assert set(f.analytes) == {e.analyte for e in f.evidence}
        assert f.title and f.detail and f.patient_text


def test_synthetic_failure_lists_other_inr_causes_and_bleeding_caveat() -> None:
    f = next(f for f in run("synthetic_failure").findings if f.code == "SYNTHETIC_FAILURE_DISCORDANCE")
    text = " ".join(f.caveats)
    for cause in (
        "vitamin K deficiency",
        "warfarin",
        "consumption coagulopathy",
        "does not predict bleeding",
    ):
        assert cause in text
    assert {"alt", "inr", "albumin", "bilirubin_total"} <= set(f.analytes)
    assert "warfarin or other vitamin K antagonist use" in f.unknowns


def test_synthetic_failure_evidence_is_in_canonical_units_across_labs() -> None:
    """Bilirubin printed 3.0 mg/dL x 17.1 = 51.3 umol/L by Lab B comes back as 3.0 mg/dL."""
    f = next(f for f in run("synthetic_failure").findings if f.code == "SYNTHETIC_FAILURE_DISCORDANCE")
    bili = [e for e in f.evidence if e.analyte == "bilirubin_total"]
    assert [e.unit for e in bili] == ["mg/dL", "mg/dL"]
    assert bili[-1].value == pytest.approx(51.3 / 17.1, rel=1e-3)
    assert bili[-1].collected_at == START + dt.timedelta(days=90)


def test_cholestatic_shift_gives_r_ratio_ggt_band_and_next_steps() -> None:
    interp = run("cholestatic_shift")
    f = next(f for f in interp.findings if f.code == "CHOLESTATIC_SHIFT")
    r = next(s for s in interp.scores if s.name == "r_ratio")
    expected_r = (70 / 45) / (420 / 120)  # latest draw, Lab B upper limits
    assert r.value == pytest.approx(expected_r, abs=0.005)
    assert "cholestatic" in (r.band or "")
    assert "R ratio" in f.detail and "GGT raised" in f.detail and "mild (<5x ULN)" in f.detail
    steps = " ".join(f.next_steps)
    assert "ultrasound" in steps and "MRCP" in steps and "fractionated" in steps


def test_inr_finding_softens_when_a_vka_is_recorded() -> None:
    on_vka = PatientInfo(sex="male", context=ClinicalContext(on_vitamin_k_antagonist=True))
    assert codes(run("inr_threshold", on_vka))["INR_THRESHOLD_CROSSED"] == "info"


def test_genuine_improvement_keeps_direction_apart_from_severity() -> None:
    interp = run("genuine_improvement")
    f = next(f for f in interp.findings if f.code == "GENUINE_IMPROVEMENT")
    alt = next(t for t in interp.trends if t.analyte == "alt")
    assert alt.direction == "falling" and alt.confirmation == "sustained"
    assert alt.severity is not None and alt.severity.range_status == "above"  # 48 > 45 (Lab B)
    assert "still above range" in f.title
    assert any("regression to the mean" in c for c in f.caveats)
    assert "treatment start date" in f.unknowns


def test_stable_normal_patient_has_no_findings() -> None:
    vals = [
        (
            {
                "alt": 22,
                "ast": 24,
                "alp": 70,
                "ggt": 25,
                "bilirubin_total": 0.6,
                "albumin": 4.4,
                "inr": 1.0,
                "platelets": 250,
                "creatinine": 0.9,
                "sodium": 140,
            },
            "A",
        ),
        (
            {
                "alt": 25,
                "ast": 22,
                "alp": 72,
                "ggt": 27,
                "bilirubin_total": 0.7,
                "albumin": 4.3,
                "inr": 1.0,
                "platelets": 240,
                "creatinine": 0.92,
                "sodium": 139,
            },
            "A",
        ),
        (
            {
                "alt": 21,
                "ast": 25,
                "alp": 68,
                "ggt": 24,
                "bilirubin_total": 0.6,
                "albumin": 4.5,
                "inr": 1.1,
                "platelets": 260,
                "creatinine": 0.88,
                "sodium": 141,
            },
            "B",
        ),
        (
            {
                "alt": 24,
                "ast": 23,
                "alp": 71,
                "ggt": 26,
                "bilirubin_total": 0.65,
                "albumin": 4.4,
                "inr": 1.0,
                "platelets": 245,
                "creatinine": 0.9,
                "sodium": 140,
            },
            "B",
        ),
        (
            {
                "alt": 23,
                "ast": 24,
                "alp": 69,
                "ggt": 25,
                "bilirubin_total": 0.6,
                "albumin": 4.4,
                "inr": 1.0,
                "platelets": 255,
                "creatinine": 0.91,
                "sodium": 140,
            },
            "A",
        ),
    ]
    interp = interpret(series(*(report(i, lab, v) for i, (v, lab) in enumerate(vals))), PATIENT)
    assert interp.findings == []
    assert interp.missing_tests == []
    assert all(t.direction in ("stable", "insufficient") for t in interp.trends), [
        (t.analyte, t.summary) for t in interp.trends
    ]
    assert next(s for s in interp.scores if s.name == "fib4").computable


def test_single_spike_returning_to_baseline_is_unconfirmed_not_a_trend() -> None:
    alts = [24, 23, 95, 25, 24]
    interp = interpret(
        series(
            *(report(i, "A" if i < 3 else "B", {"alt": a, "ast": 24, **NORMAL}) for i, a in enumerate(alts))
        ),
        PATIENT,
    )
    alt = next(t for t in interp.trends if t.analyte == "alt")
    assert alt.confirmation == "unconfirmed"
    assert alt.direction == "stable"
    assert [e.collected_at for e in alt.excursions] == [START + dt.timedelta(days=60)]
    assert "not a trend" in alt.summary
    assert not [f for f in interp.findings if "alt" in f.analytes]


def test_scores_from_different_draws_are_not_computable_with_reason() -> None:
    obs = series(report(0, "A", {"alt": 60, "ast": 70}), report(1, "A", {"platelets": 120}))
    interp = interpret(obs, PATIENT)
    fib4 = next(s for s in interp.scores if s.name == "fib4")
    apri = next(s for s in interp.scores if s.name == "apri")
    for s in (fib4, apri):
        assert not s.computable
        assert s.reason is not None and "different draws" in s.reason
        assert "2024-01-10" in s.reason and "2024-02-09" in s.reason


def test_findings_json_has_the_issue_shape() -> None:
    data = json.loads(findings_json(run("synthetic_failure")))
    assert isinstance(data, list) and data
    for item in data:
        assert {"code", "severity", "title", "detail", "analytes", "evidence", "sources"} <= item.keys()
        assert item["severity"] in ("info", "warning", "urgent")
        for e in item["evidence"]:
            assert {"analyte", "value", "unit", "collected_at"} <= e.keys()
            dt.date.fromisoformat(e["collected_at"])


def test_reader_lists_are_present_and_context_stays_unknown() -> None:
    interp = run("synthetic_failure")
    assert any("black" in r for r in interp.red_flags) and any("yellow" in r for r in interp.red_flags)
    assert any("INR" in q for q in interp.questions)
    assert "alcohol intake" in interp.unknown_context
    assert interp.patient.context.alcohol is None
    assert interp.sources and len(interp.sources) == len(set(interp.sources))


def test_latest_single_result_outside_range_is_an_unconfirmed_change() -> None:
    """GGT 25, 27, 24 then 95 (Lab B ULN 55): +280% against a log-normal RCV of about +32%: repeat."""
    ggts = [25, 27, 24, 95]
    obs = series(
        *(
            report(i, "A" if i < 2 else "B", {**NORMAL, "alt": 24, "ast": 24, "ggt": g})
            for i, g in enumerate(ggts)
        )
    )
    interp = interpret(obs, PATIENT)
    found = [f for f in interp.findings if f.code == "UNCONFIRMED_CHANGE"]
    assert [f.analytes for f in found] == [["ggt"]]
    assert found[0].severity == "info" and "repeat" in found[0].detail
    assert any("Carobene" in s for s in found[0].sources)


def test_score_falls_back_to_the_latest_complete_draw_with_a_caveat() -> None:
    obs = series(
        report(0, "A", {"alt": 30, "ast": 40, "platelets": 200}),
        report(1, "A", {"alt": 32}),
    )
    fib4 = next(s for s in interpret(obs, PATIENT).scores if s.name == "fib4")
    assert fib4.computable and fib4.collected_at == START
    assert fib4.value == pytest.approx(58 * 40 / (200 * 30**0.5), abs=5e-4)  # age 58 printed on the report
    assert "latest draw not usable" in fib4.caveats[0] and "different draws" in fib4.caveats[0]


def test_single_inr_crossing_is_only_info_repeat() -> None:
    obs = series(
        *(report(i, "A", {**NORMAL, "alt": 30, "ast": 28, "inr": v}) for i, v in enumerate([1.1, 1.3, 1.62]))
    )
    found = [f for f in interpret(obs, PATIENT).findings if f.code == "INR_THRESHOLD_CROSSED"]
    assert [f.severity for f in found] == ["info"]
    assert any("repeat" in c for c in found[0].caveats)


def test_de_ritis_flip_on_one_draw_is_not_a_finding() -> None:
    pairs = [(90, 60), (85, 66), (70, 75)]  # ratio above 1 on the last draw only
    obs = series(*(report(i, "A", {**NORMAL, "alt": a, "ast": s}) for i, (a, s) in enumerate(pairs)))
    assert "DE_RITIS_REVERSAL" not in codes(interpret(obs, PATIENT))


# Noise-only patients: no real change, so warnings and urgent findings must stay rare.
CHRONIC = {
    "alt": (90, 0.15),
    "ast": (70, 0.15),
    "alp": (110, 0.06),
    "ggt": (80, 0.1),
    "bilirubin_total": (1.6, 0.1),
    "albumin": (3.3, 0.03),
    "inr": (1.5, 0.05),
    "platelets": (120, 0.08),
}


def _noisy(means: dict[str, tuple[float, float]], n: int, seed: int) -> list[Observation]:
    rng = random.Random(seed)
    return series(
        *(
            report(i, "A" if i % 2 else "B", {a: m * (1 + rng.gauss(0, cv)) for a, (m, cv) in means.items()})
            for i in range(n)
        )
    )


def test_noise_in_a_normal_patient_gives_no_findings() -> None:
    normal = {a: (v, 0.05) for a, v in {"alt": 22, "ast": 24, **NORMAL}.items()}
    found = [
        f.code
        for seed in range(30)
        for n in (4, 8)
        for f in interpret(_noisy(normal, n, seed), PATIENT).findings
    ]
    assert found == []


def test_noise_in_a_stable_chronic_patient_rarely_warns() -> None:
    """Stable but abnormal (ALT ~2x ULN, INR ~1.5, albumin ~3.3) with disease-sized noise: measured rate of
    warning/urgent findings 2% of these 50 patients (4.8% over 400, none urgent); allow up to 8%, and urgent
    in at most 1 in 50."""
    results = [interpret(_noisy(CHRONIC, n, seed), PATIENT) for seed in range(25) for n in (4, 6)]
    warn = sum(any(f.severity != "info" for f in r.findings) for r in results)
    urgent = sum(any(f.severity == "urgent" for f in r.findings) for r in results)
    assert warn <= 0.08 * len(results)
    assert urgent <= len(results) / 50


# --------------------------------------------------------------------------------------------------
# Regression tests for defects found end to end (tests/test_series_e2e.py scenarios 9 and 10).


def _falling_enzymes(inrs: list[float], **other: float) -> list[Observation]:
    """ALT/AST falling from 5x ULN over len(inrs) draws, with the given INR series (albumin, bilirubin steady)."""
    alts = [288, 201, 139, 94, 63, 50][: len(inrs)]
    return series(
        *(
            report(i, "A" if i < 2 else "B", {**NORMAL, "alt": a, "ast": a * 0.75, "inr": v, **other})
            for i, (a, v) in enumerate(zip(alts, inrs, strict=True))
        )
    )


def test_issue_inr_only_discordance_is_not_hidden_by_a_small_dip() -> None:
    """Seed 000's headline case: INR 1.16, 1.31, 1.29, 1.62, 1.78 (not monotonic: a 0.02 dip) while ALT/AST
    fall from 5x ULN: INR newly at or above 1.6 on the last two results is worsening synthetic function."""
    interp = interpret(_falling_enzymes([1.16, 1.31, 1.29, 1.62, 1.78]), PATIENT)
    inr = next(t for t in interp.trends if t.analyte == "inr")
    assert inr.direction == "insufficient"  # the descriptive rule alone does not call it
    found = codes(interp)
    assert found.get("SYNTHETIC_FAILURE_DISCORDANCE") == "urgent", found
    assert found.get("INR_THRESHOLD_CROSSED") == "warning"
    f = next(f for f in interp.findings if f.code == "SYNTHETIC_FAILURE_DISCORDANCE")
    assert [e.value for e in f.evidence if e.analyte == "inr"] == [1.16, 1.31, 1.29, 1.62, 1.78]  # dip shown
    assert "INR 1.16, 1.31, 1.29, 1.62, 1.78: newly at or above 1.6 on the last two results" in f.detail


@pytest.mark.parametrize(
    ("inrs", "expected"),
    [
        ([1.05, 1.10, 1.08, 1.12, 1.15], None),  # within range throughout
        ([1.16, 1.31, 1.29, 1.35, 1.62], "warning"),  # above its range on the last two, 1.6 only once
        ([1.16, 1.62, 1.29, 1.35, 1.25], "warning"),  # crossed and came back under 1.6: range only
        ([1.16, 1.20, 1.18, 1.15, 1.62], None),  # a single result past the range and 1.6: repeat first
    ],
    ids=["in-range", "range-confirmed-1.6-once", "1.6-not-sustained", "single-jump"],
)
def test_inr_crossing_counts_only_when_confirmed(inrs: list[float], expected: str | None) -> None:
    """An INR crossing needs the last two results at or above the limit; an INR only past its printed range
    (below 1.6) gives a warning, not an urgent discordance (Wang 2021 puts the inflection at 1.6)."""
    found = codes(interpret(_falling_enzymes(inrs), PATIENT))
    assert found.get("SYNTHETIC_FAILURE_DISCORDANCE") == expected, found


def test_issue_a_tiny_in_range_drift_does_not_veto_improvement() -> None:
    """Platelets 247 -> 244 -> 241 -> 238 (no sourced CVI, in range) must not veto GENUINE_IMPROVEMENT; the
    drift is shown as a caveat instead. A fall to below the range still vetoes it."""

    def improving(platelets: list[float], inr: list[float] | None = None) -> Interpretation:
        alts = [176, 121, 80, 54]
        inrs = inr or [1.0] * 4
        return interpret(
            series(
                *(
                    report(i, "A" if i < 2 else "B", {**NORMAL, "alt": a, "ast": a * 0.6, "platelets": p, "inr": r})
                    for i, (a, p, r) in enumerate(zip(alts, platelets, inrs, strict=True))
                )
            ),
            PATIENT,
        )

    drift = improving([247, 244, 241, 238])
    f = next(f for f in drift.findings if f.code == "GENUINE_IMPROVEMENT")
    assert any("small drift down inside its printed range" in c and "Platelet count" in c for c in f.caveats)
    assert "GENUINE_IMPROVEMENT" not in codes(improving([200, 175, 150, 130]))  # now below 150
    assert "GENUINE_IMPROVEMENT" in codes(improving([247, 247, 247, 247], [0.98, 1.0, 1.02, 1.04]))
    assert "GENUINE_IMPROVEMENT" not in codes(improving([247, 247, 247, 247], [1.0, 1.1, 1.3, 1.45]))


# --------------------------------------------------------------------------------------------------
# Synthetic function worsening while the transaminases are steady (seed 000; SYNTHETIC_FUNCTION_WORSENING).


def _steady_enzymes(**paths: list[float]) -> Interpretation:
    """ALT/AST steady just above range; other tests steady normal unless given as a path over the draws."""
    n = len(next(iter(paths.values())))
    alts = [48, 45, 50, 46, 47, 49][:n]
    return interpret(
        series(
            *(
                report(i, "A", {**NORMAL, "alt": a, "ast": 56, **{k: v[i] for k, v in paths.items()}})
                for i, a in enumerate(alts)
            )
        ),
        PATIENT,
    )


def test_albumin_and_bilirubin_worsening_with_steady_enzymes_is_a_finding() -> None:
    interp = _steady_enzymes(albumin=[3.9, 3.7, 3.5, 3.3, 3.1], bilirubin_total=[1.0, 1.2, 1.5, 1.9, 2.2])
    f = next(f for f in interp.findings if f.code == "SYNTHETIC_FUNCTION_WORSENING")
    assert f.severity == "warning"
    assert {"albumin", "bilirubin_total", "alt", "ast"} <= set(f.analytes)
    assert "albumin and total bilirubin" in f.title and "transaminases did not fall" in f.detail
    assert any("haemolysis" in c for c in f.caveats) and any("nutrition" in c for c in f.caveats)
    assert any("Johnson" in s for s in f.sources)  # ALBI quoted with its source
    assert "SYNTHETIC_FAILURE_DISCORDANCE" not in codes(interp)
    assert "not a diagnosis" in f.patient_text


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ({"albumin": [3.9, 3.7, 3.5, 3.3, 3.1]}, False),  # albumin alone: too many non-hepatic causes
        ({"bilirubin_total": [1.0, 1.2, 1.5, 1.9, 2.2]}, False),  # bilirubin alone (Gilbert's, haemolysis)
        ({"inr": [1.0, 1.1, 1.25, 1.35, 1.45]}, True),  # INR newly past its range, below 1.6
        ({"inr": [1.2, 1.35, 1.5, 1.62, 1.7]}, False),  # INR past 1.6: INR_THRESHOLD_CROSSED reports it
    ],
    ids=["albumin-only", "bilirubin-only", "inr-past-range", "inr-past-1.6-reported-once"],
)
def test_synthetic_worsening_needs_inr_or_albumin_with_bilirubin(paths: dict[str, list[float]], expected: bool) -> None:
    found = codes(_steady_enzymes(**paths))
    assert ("SYNTHETIC_FUNCTION_WORSENING" in found) == expected, found


def test_synthetic_worsening_and_discordance_never_both_fire() -> None:
    for name in ("synthetic_failure", "inr_threshold", "genuine_improvement", "cholestatic_shift"):
        found = codes(run(name))
        assert not {"SYNTHETIC_FAILURE_DISCORDANCE", "SYNTHETIC_FUNCTION_WORSENING"} <= set(found), name


# --------------------------------------------------------------------------------------------------
# INR threshold: severity and wording agree.


@pytest.mark.parametrize(
    ("inrs", "vka", "severity", "says", "never"),
    [
        ([1.1, 1.3, 1.45, 1.72], False, "info", "needs to be repeated", "review it soon"),
        ([1.1, 1.3, 1.64, 1.72], False, "warning", "should review it soon", "first time"),
        ([1.1, 1.3, 1.45, 2.2], False, "urgent", "contact your doctor promptly", "first time"),
        ([1.1, 1.3, 1.64, 1.72], True, "info", "raises the INR on purpose", "review it soon"),
    ],
    ids=["single-1.7", "confirmed", "2.1-or-more", "on-vka"],
)
def test_inr_threshold_severity_matches_its_words(
    inrs: list[float], vka: bool, severity: str, says: str, never: str
) -> None:
    patient = PatientInfo(sex="male", context=ClinicalContext(on_vitamin_k_antagonist=True if vka else None))
    obs = series(*(report(i, "A", {**NORMAL, "alt": 30, "ast": 28, "inr": v}) for i, v in enumerate(inrs)))
    f = next(f for f in interpret(obs, patient).findings if f.code == "INR_THRESHOLD_CROSSED")
    assert f.severity == severity
    assert says in f.patient_text and never not in f.patient_text
    assert f.evidence[-1].value == inrs[-1] and f.evidence[0].value is not None and f.evidence[0].value < 1.6


# --------------------------------------------------------------------------------------------------
# Names: every sentence names tests by their knowledge-base names, never by internal codes.


def _internal_codes() -> re.Pattern[str]:
    """Codes that would betray themselves in text: with an underscore, or an abbreviation in lower case."""
    kb = [a.code for a in load_knowledge().analytes]
    bad = [c for c in kb if "_" in c or (prose(c) != c and prose(c).lower() == c)]
    return re.compile(r"\b(" + "|".join(map(re.escape, bad)) + r")\b")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_no_sentence_names_a_test_by_its_code(scenario: str) -> None:
    interp = run(scenario)
    texts = [*interp.caveats, *interp.questions, *(m.reason for m in interp.missing_tests)]
    texts += [t.summary for t in interp.trends] + [n.detail for t in interp.timelines for n in t.notes]
    texts += [t.label for t in interp.timelines]
    for s in interp.scores:
        texts += [s.label, s.band or "", s.reason or "", s.interpretation or "", *s.caveats]
    for f in interp.findings:
        texts += [f.title, f.detail, f.patient_text, *f.caveats, *f.next_steps, *f.unknowns]
    leaked = {m for t in texts for m in _internal_codes().findall(t)}
    assert leaked == set(), [t for t in texts if _internal_codes().search(t)]


def test_display_names_come_from_the_knowledge_base() -> None:
    kb = load_knowledge()
    interp = run("synthetic_failure")
    for t in interp.timelines:
        assert t.label.startswith(kb.get(t.analyte).name)
    assert label("crp") == "C-reactive protein (CRP)" and prose("basophils_pct") == "basophils (%)"
    assert prose("bilirubin_total") == "total bilirubin" and label("inr") == "INR"


def test_noise_in_a_chronic_patient_whose_inr_hovers_at_its_limit_rarely_warns() -> None:
    """As above, but INR ~1.18 against a printed upper limit of 1.2, so noise crosses it both ways: the INR
    rules must not read two results just above the limit as a rise. Measured over 400 such patients: 4.3%
    warnings (3.5% before the confirmed-crossing and synthetic-worsening rules), 0.75% from
    SYNTHETIC_FUNCTION_WORSENING, none urgent; none in these 50. Allow up to 8%, urgent 1 in 50."""
    hovering = {**CHRONIC, "inr": (1.18, 0.05)}
    results = [interpret(_noisy(hovering, n, seed), PATIENT) for seed in range(25) for n in (4, 6)]
    warn = sum(any(f.severity != "info" for f in r.findings) for r in results)
    urgent = sum(any(f.severity == "urgent" for f in r.findings) for r in results)
    worsening = sum(any(f.code == "SYNTHETIC_FUNCTION_WORSENING" for f in r.findings) for r in results)
    assert warn <= 0.08 * len(results) and urgent <= len(results) / 50 and worsening <= len(results) / 50
