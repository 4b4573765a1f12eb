"""Reference change values (computed by hand), Mann-Kendall / Theil-Sen, and the trend rules."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.interpret.change import (
    Z_ONE_SIDED,
    mann_kendall,
    rcv_limits,
    rcv_lognormal,
    rcv_symmetric,
    read_trend,
)
from pipeline.interpret.models import Observation, Timeline
from pipeline.interpret.timeline import build_timeline

START = dt.date(2024, 1, 1)


def timeline(
    analyte: str,
    values: list[float],
    unit: str = "U/L",
    high: float = 40,
    low: float = 5,
    step_days: int = 30,
    labs: list[str] | None = None,
) -> Timeline:
    obs = [
        Observation(
            analyte=analyte,
            value=v,
            value_text=str(v),
            unit=unit,
            ref_low=low,
            ref_high=high,
            collected_at=START + dt.timedelta(days=step_days * i),
            report_id=f"r{i}",
            lab=(labs[i] if labs else "Lab A"),
        )
        for i, v in enumerate(values)
    ]
    return build_timeline(analyte, obs)


# --------------------------------------------------------------------------------------------------
# RCV formulas, expected values computed by hand.


def test_rcv_symmetric_alt_by_hand() -> None:
    """ALT CVI 9.3%, CVA 0.5 x 9.3 = 4.65%: sqrt(4.65^2 + 9.3^2) = sqrt(21.6225 + 86.49) = 10.39772;
    x 1.96 x sqrt(2) (2.77186) = 28.821%."""
    assert rcv_symmetric(9.3) == pytest.approx(28.821, abs=1e-3)
    assert rcv_symmetric(9.3, 4.65, 1.96) == pytest.approx(28.821, abs=1e-3)


def test_rcv_lognormal_alt_by_hand() -> None:
    """CVT = 0.1039772; sigma = sqrt(ln(1 + 0.0108113)) = 0.1036978; Z sqrt(2) sigma = 2.77186 x 0.1036978
    = 0.287436; up = e^0.287436 - 1 = 33.300%; down = e^-0.287436 - 1 = -24.982%."""
    up, down = rcv_lognormal(9.3)
    assert up == pytest.approx(33.300, abs=2e-3)
    assert down == pytest.approx(-24.982, abs=2e-3)


def test_rcv_limits_choose_model_and_source() -> None:
    """Albumin (CVI 2.5, symmetric): sqrt(1.25^2 + 2.5^2) = 2.79508 x 2.77186 = 7.748%."""
    alb = rcv_limits("albumin")
    assert alb is not None and alb.method == "symmetric"
    assert alb.up_pct == pytest.approx(7.748, abs=1e-3) and alb.down_pct == pytest.approx(-7.748, abs=1e-3)
    alt = rcv_limits("alt")
    assert alt is not None and alt.method == "lognormal" and any("Carobene" in s for s in alt.sources)
    one_sided = rcv_limits("alt", z=Z_ONE_SIDED)
    assert one_sided is not None and one_sided.up_pct < alt.up_pct


@pytest.mark.parametrize("analyte", ["bilirubin_total", "inr", "platelets", "sodium", "tsh"])
def test_no_invented_cvi(analyte: str) -> None:
    assert rcv_limits(analyte) is None


@settings(max_examples=100, deadline=None)
@given(cvi=st.floats(0.5, 40), cva=st.floats(0.1, 20))
def test_lognormal_rcv_is_asymmetric_and_brackets_zero(cvi: float, cva: float) -> None:
    up, down = rcv_lognormal(cvi, cva)
    assert up > 0 > down > -100
    assert up > -down
    assert math.isclose((1 + up / 100) * (1 + down / 100), 1.0, rel_tol=1e-9)


# --------------------------------------------------------------------------------------------------
# Mann-Kendall and Theil-Sen, by hand.


def test_mann_kendall_monotonic_four_points() -> None:
    """[1,2,3,4]: S = 6; var = 4*3*13/18 = 8.6667; z = (6-1)/2.94392 = 1.69842; one-sided p = 0.04471."""
    mk = mann_kendall([0, 30, 60, 90], [1, 2, 3, 4])
    assert mk is not None
    assert mk.s == 6 and mk.var_s == pytest.approx(8.6667, abs=1e-4)
    assert mk.z == pytest.approx(1.69842, abs=1e-4)
    assert mk.p_one_sided == pytest.approx(0.04471, abs=1e-4)
    assert mk.tau == 1.0
    assert mk.theil_sen_per_30_days == pytest.approx(1.0)


def test_mann_kendall_ties_and_theil_sen() -> None:
    """[5,5,6] over days 0,15,30: S = 0+1+1 = 2; var = (3*2*11 - 2*1*9)/18 = 2.6667;
    pairwise slopes 0/15, 1/30, 1/15 -> median 1/30 per day = 1 per 30 days."""
    mk = mann_kendall([0, 15, 30], [5, 5, 6])
    assert mk is not None
    assert mk.s == 2 and mk.var_s == pytest.approx(2.6667, abs=1e-4)
    assert mk.theil_sen_per_30_days == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------------
# Trend rules.


@pytest.mark.parametrize(
    ("values", "direction", "confirmation"),
    [
        ([200, 140, 90], "falling", "sustained"),
        ([30, 31, 29, 60], "rising", "unconfirmed"),
        ([30, 29, 80, 31, 30], "stable", "unconfirmed"),
        ([30, 32, 29, 31, 30], "stable", "none"),
        ([30, 31, 32, 33, 34, 35, 36, 37], "stable", "none"),
        ([90, 100, 94, 88, 82, 76, 71], "falling", "trend"),
        ([30], "insufficient", "not_assessable"),
    ],
    ids=[
        "sustained-fall",
        "latest-only",
        "spike-returned",
        "noise",
        "monotonic-but-within-rcv",
        "trend-from-noisy-high-baseline",
        "one-point",
    ],
)
def test_alt_trend_rules(values: list[float], direction: str, confirmation: str) -> None:
    tr = read_trend(timeline("alt", values))
    assert (tr.direction, tr.confirmation) == (direction, confirmation), tr.summary


def test_mann_kendall_trend_needs_a_fitted_change_beyond_the_rcv() -> None:
    """[90,100,94,88,82,76,71]: no result is beyond the RCV from the (low) first value, yet MK p = 0.016
    and the Theil-Sen line falls about 5.8 U/L per 30 days, about -35% over the span: beyond -24.98%.
    30..37 rises just as monotonically (p < 0.001) but only about +23% along the line: inside +33.3%."""
    trend = read_trend(timeline("alt", [90, 100, 94, 88, 82, 76, 71]))
    assert not any(c.significant for c in trend.from_baseline)
    assert trend.mann_kendall is not None and trend.mann_kendall.p_value < 0.05
    drift = read_trend(timeline("alt", [30, 31, 32, 33, 34, 35, 36, 37]))
    assert drift.mann_kendall is not None and drift.mann_kendall.p_value < 0.001
    assert drift.confirmation == "none"


def test_four_monotonic_points_are_not_a_trend_test_result() -> None:
    """Two-sided MK p for 4 strictly monotonic points is 0.089: INR (no CVI) stays descriptive."""
    tr = read_trend(timeline("inr", [1.0, 1.1, 1.3, 1.6], unit="{INR}", high=1.2, low=0.8))
    assert tr.direction == "rising" and tr.confirmation == "not_assessable"


def test_spike_is_an_excursion_not_a_change() -> None:
    tr = read_trend(timeline("alt", [30, 29, 80, 31, 30]))
    assert [e.value for e in tr.excursions] == [80]
    kinds = [c.kind for c in tr.from_baseline]
    assert kinds == ["none", "single", "none", "none"]


def test_changes_report_absolute_percent_and_per_30_days() -> None:
    """200 -> 140 over 60 days: -60 U/L, -30%, -30 U/L per 30 days; lognormal RCV down -24.98% passed."""
    tr = read_trend(timeline("alt", [200, 140], step_days=60))
    ch = tr.from_baseline[0]
    assert (ch.absolute, ch.days) == (-60, 60)
    assert ch.percent == pytest.approx(-30.0)
    assert ch.per_30_days == pytest.approx(-30.0)
    assert ch.significant is True and ch.direction == "down" and ch.rcv_method == "lognormal"


def test_direction_and_severity_are_separate() -> None:
    tr = read_trend(timeline("alt", [600, 400, 240]))
    assert tr.direction == "falling"
    assert tr.severity is not None and tr.severity.uln_multiple == pytest.approx(6.0)
    assert tr.severity.ctcae_grade == 3
    assert "still above range (6.0x ULN)" in tr.summary


def test_regression_to_the_mean_softens_wording() -> None:
    tr = read_trend(timeline("alt", [300, 200, 150]))
    assert tr.regression_to_mean is not None
    assert tr.summary.startswith("lower than the first result")
    normal_start = read_trend(timeline("alt", [35, 20, 12], high=40))
    assert normal_start.regression_to_mean is None


def test_analyte_without_cvi_is_only_descriptive() -> None:
    rising = read_trend(timeline("inr", [1.0, 1.2, 1.4], unit="{INR}", high=1.2, low=0.8))
    assert rising.direction == "rising" and rising.confirmation == "not_assessable"
    assert rising.rcv_note is not None and "no sourced biological variation" in rising.rcv_note
    assert all(c.significant is None for c in rising.from_baseline)
    zigzag = read_trend(timeline("inr", [1.0, 1.4, 1.1], unit="{INR}", high=1.2, low=0.8))
    assert zigzag.direction == "insufficient"


def test_change_across_labs_carries_the_caveat() -> None:
    tr = read_trend(timeline("alt", [100, 60], labs=["Lab A", "Lab B"]))
    assert any("different laboratory" in c for c in tr.from_baseline[0].caveats)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(10, 500), min_size=2, max_size=8))
def test_trend_never_contradicts_itself(values: list[float]) -> None:
    tr = read_trend(timeline("alt", values))
    if tr.confirmation == "sustained":
        last = tr.from_baseline[-2:]
        assert len({c.direction for c in last}) == 1 and all(c.significant for c in last)
    if tr.confirmation == "none":
        # Nothing current: the latest result is within the RCV; an earlier episode may have resolved.
        assert tr.direction == "stable" and not tr.from_baseline[-1].significant
        if any(c.significant for c in tr.from_baseline):
            assert "resolved" in tr.summary
    assert tr.n_points == len(values)
