"""Scores and patterns: clinical.md vectors, hand-computed MELD 3.0, not-computable reasons, properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.interpret import patterns, scores
from pipeline.interpret.models import Evidence, ScoreResult

DAY = dt.date(2024, 3, 1)
OTHER_DAY = dt.date(2024, 2, 1)


def ev(
    analyte: str,
    value: float | None,
    unit: str,
    high: float | None = None,
    day: dt.date = DAY,
    text: str | None = None,
) -> Evidence:
    return Evidence(
        analyte=analyte,
        value=value,
        unit=unit,
        collected_at=day,
        ref_high=high,
        value_text=text if text is not None else str(value),
    )


def bili(v: float, unit: str = "mg/dL", high: float | None = 1.2, day: dt.date = DAY) -> Evidence:
    return ev("bilirubin_total", v, unit, high, day)


def inr(v: float) -> Evidence:
    return ev("inr", v, "{INR}", 1.2)


def cr(v: float) -> Evidence:
    return ev("creatinine", v, "mg/dL", 1.2)


def na(v: float) -> Evidence:
    return ev("sodium", v, "mmol/L", 145)


def alb(v: float, unit: str = "g/dL") -> Evidence:
    return ev("albumin", v, unit)


# --------------------------------------------------------------------------------------------------
# clinical.md §3 vectors, exactly.


def test_fib4_vector() -> None:
    r = scores.fib4(ev("ast", 40, "U/L"), ev("alt", 30, "U/L"), ev("platelets", 200, "10*3/uL"), 55)
    assert r.computable and r.value == 2.008
    assert r.band == "indeterminate"


def test_apri_vector() -> None:
    r = scores.apri(ev("ast", 80, "U/L", high=40), ev("platelets", 150, "10*9/L"))
    assert r.computable and r.value == 1.33


def test_meld_and_meld_na_vectors() -> None:
    assert scores.meld(bili(2), inr(1.5), cr(1.2)).value == 15
    assert scores.meld_na(bili(2), inr(1.5), cr(1.2), na(135)).value == 17


@pytest.mark.parametrize(
    ("bilirubin", "albumin"),
    [(bili(20.52, "umol/L"), alb(35, "g/L")), (bili(1.2, "mg/dL"), alb(3.5, "g/dL"))],
    ids=["SI", "conventional-same-values"],
)
def test_albi_vector(bilirubin: Evidence, albumin: Evidence) -> None:
    """20.52 umol/L = 1.2 mg/dL (x17.1) and 35 g/L = 3.5 g/dL: both give -2.109, grade 2."""
    r = scores.albi(bilirubin, albumin)
    assert r.value == -2.109 and r.grade == 2


# --------------------------------------------------------------------------------------------------
# MELD 3.0 vectors built by hand from the formula (Kim 2021, clinical.md §3).

MELD3_VECTORS = [
    pytest.param(
        "female",
        2.0,
        130,
        1.5,
        1.2,
        3.0,
        22,
        21.5412,
        id="female-mid",
        # 1.33 + 4.56 ln2 (3.16076) + 0.82*7 (5.74) - 0.24*7*ln2 (1.16449) + 9.09 ln1.5 (3.68568)
        # + 11.14 ln1.2 (2.03106) + 1.85*0.5 (0.925) - 1.83*0.5*ln1.2 (0.16682) + 6 = 21.5412 -> 22
    ),
    pytest.param(
        "male",
        0.8,
        140,
        1.0,
        0.7,
        4.0,
        6,
        6.0,
        id="male-all-floors",
        # bili, INR, Cr raised to 1.0 (ln = 0); Na capped at 137; albumin capped at 3.5: only the +6 remains
    ),
    pytest.param(
        "female",
        5.0,
        128,
        2.0,
        3.5,
        2.5,
        37,
        36.9514,
        id="female-creatinine-capped-at-3",
        # Cr 3.5 -> 3.0. 1.33 + 4.56 ln5 (7.33904) + 0.82*9 (7.38) - 0.24*9*ln5 (3.47639) + 9.09 ln2 (6.30071)
        # + 11.14 ln3 (12.23854) + 1.85*1.0 (1.85) - 1.83*1.0*ln3 (2.01046) + 6 = 36.9514 -> 37
    ),
]


@pytest.mark.parametrize(("sex", "b", "sodium", "i", "c", "a", "expected", "raw"), MELD3_VECTORS)
def test_meld3_hand_vectors(
    sex: str, b: float, sodium: float, i: float, c: float, a: float, expected: float, raw: float
) -> None:
    r = scores.meld3(sex, bili(b), na(sodium), inr(i), cr(c), alb(a))  # type: ignore[arg-type]
    assert r.computable
    assert r.value == expected
    assert r.raw_value == pytest.approx(raw, abs=1e-4)


def test_meld3_caps_at_40_but_keeps_raw() -> None:
    r = scores.meld3("male", bili(30), na(120), inr(6), cr(5), alb(1.0))
    assert r.value == 40
    assert r.raw_value is not None and r.raw_value > 40


# --------------------------------------------------------------------------------------------------
# Not computable, with the reason.

NOT_COMPUTABLE = [
    pytest.param(
        lambda: scores.fib4(ev("ast", 40, "U/L"), None, ev("platelets", 200, "10*3/uL"), 55),
        "ALT not measured",
        id="fib4-missing-alt",
    ),
    pytest.param(
        lambda: scores.fib4(
            ev("ast", 40, "U/L"), ev("alt", 30, "U/L"), ev("platelets", 200, "10*3/uL", day=OTHER_DAY), 55
        ),
        "different draws",
        id="fib4-platelets-other-draw",
    ),
    pytest.param(
        lambda: scores.fib4(
            ev("ast", 40, "U/L"), ev("alt", 30, "U/L"), ev("platelets", 200, "10*3/uL"), None
        ),
        "age",
        id="fib4-no-age",
    ),
    pytest.param(
        lambda: scores.fib4(
            ev("ast", None, "U/L", text="hemolysed"),
            ev("alt", 30, "U/L"),
            ev("platelets", 200, "10*3/uL"),
            55,
        ),
        "non-numeric",
        id="fib4-text-ast",
    ),
    pytest.param(
        lambda: scores.apri(ev("ast", 80, "U/L"), ev("platelets", 150, "10*3/uL")),
        "upper reference limit not printed",
        id="apri-no-uln",
    ),
    pytest.param(
        lambda: scores.apri(ev("ast", 80, "U/L", 40), ev("platelets", 150, "mg/dL")),
        "cannot be converted",
        id="apri-bad-unit",
    ),
    pytest.param(
        lambda: scores.meld(bili(2, day=OTHER_DAY), inr(1.5), cr(1.2)),
        "different draws",
        id="meld-bili-other-draw",
    ),
    pytest.param(
        lambda: scores.meld3(None, bili(2), na(135), inr(1.5), cr(1.2), alb(3)),
        "sex not known",
        id="meld3-no-sex",
    ),
    pytest.param(lambda: scores.albi(bili(1.0), None), "Albumin not measured", id="albi-missing"),
    pytest.param(
        lambda: scores.child_pugh_lab(bili(1.0), alb(3.0), None), "INR not measured", id="cp-no-inr"
    ),
    pytest.param(
        lambda: patterns.r_ratio(ev("alt", 100, "U/L", 40), ev("alp", 200, "U/L")),
        "upper reference limit not printed",
        id="r-no-alp-uln",
    ),
    pytest.param(
        lambda: patterns.de_ritis(ev("ast", 50, "U/L"), ev("alt", 40, "U/L", day=OTHER_DAY)),
        "different draws",
        id="de-ritis-other-draw",
    ),
    pytest.param(
        lambda: patterns.hys_law(
            ev("alt", 400, "U/L", 40, day=OTHER_DAY), None, bili(3.0), ev("alp", 100, "U/L", 130)
        ),
        "ALT/AST not measured",
        id="hys-alt-other-draw",
    ),
    pytest.param(lambda: patterns.acg_alt(ev("alt", 30, "U/L", 40), None), "sex not known", id="acg-no-sex"),
]


@pytest.mark.parametrize(("call", "reason"), NOT_COMPUTABLE)
def test_not_computable_says_why(call: object, reason: str) -> None:
    assert callable(call)
    r = call()
    assert isinstance(r, ScoreResult)
    assert not r.computable and r.value is None
    assert r.reason is not None and reason in r.reason
    assert r.sources


def test_different_draw_reason_names_the_dates() -> None:
    r = scores.meld(bili(2, day=OTHER_DAY), inr(1.5), cr(1.2))
    assert r.reason is not None and "2024-02-01" in r.reason and "2024-03-01" in r.reason


# --------------------------------------------------------------------------------------------------
# Bands, grades, patterns.


@pytest.mark.parametrize(
    ("age", "ast", "band"),
    [(40, 40, "indeterminate"), (70, 30, "low"), (50, 30, "indeterminate"), (30, 40, "not interpretable")],
    ids=["40y-1.461", "70y-1.917-low-cut-2.0", "50y-1.369-low-cut-1.30", "30y-unreliable"],
)
def test_fib4_age_cut_offs(age: float, ast: float, band: str) -> None:
    """ALT 30, PLT 200: FIB-4 = age x AST / (200 x 5.4772). 1.917 is 'low' at 70 (cut-off 2.0, McPherson)
    but 1.369 is 'indeterminate' at 50 (cut-off 1.30); at 30 FIB-4 is not interpretable."""
    r = scores.fib4(ev("ast", ast, "U/L"), ev("alt", 30, "U/L"), ev("platelets", 200, "10*3/uL"), age)
    assert r.value == pytest.approx(age * ast / (200 * 30**0.5), abs=5e-4)
    assert r.band == band


@pytest.mark.parametrize(
    ("analyte", "multiple", "grade"),
    [
        ("alt", 1.0, 0),
        ("alt", 3.0, 1),
        ("alt", 3.01, 2),
        ("alt", 5.0, 2),
        ("alt", 20.0, 3),
        ("alt", 20.5, 4),
        ("alp", 2.5, 1),
        ("alp", 2.6, 2),
        ("ggt", 5.1, 3),
        ("bilirubin_total", 1.5, 1),
        ("bilirubin_total", 1.6, 2),
        ("bilirubin_total", 10.0, 3),
        ("bilirubin_total", 10.1, 4),
        ("albumin", 3.0, None),
    ],
)
def test_ctcae_grades_by_multiple_of_uln(analyte: str, multiple: float, grade: int | None) -> None:
    assert patterns.ctcae_grade(analyte, multiple) == grade


@pytest.mark.parametrize(
    ("multiple", "word"),
    [(0.9, "within"), (4.9, "mild"), (5.0, "moderate"), (10.0, "moderate"), (10.5, "severe")],
)
def test_alp_seed002_band(multiple: float, word: str) -> None:
    assert patterns.alp_severity_band(multiple).startswith(word)


@pytest.mark.parametrize(
    ("b", "a", "i", "points"),
    [
        (1.9, 3.6, 1.6, (1, 1, 1)),
        (2.0, 3.5, 1.7, (2, 2, 2)),
        (3.0, 2.8, 2.3, (2, 2, 2)),
        (3.1, 2.7, 2.4, (3, 3, 3)),
    ],
    ids=["all-1", "lower-edges-2", "upper-edges-2", "all-3"],
)
def test_child_pugh_lab_points_and_class_not_computable(
    b: float, a: float, i: float, points: tuple[int, ...]
) -> None:
    r = scores.child_pugh_lab(bili(b), alb(a), inr(i))
    assert [c.value for c in r.components[:3]] == list(points)
    assert r.value == sum(points)
    assert r.interpretation is not None and "class not computable" in r.interpretation
    assert [c.value for c in r.components[3:]] == [None, None]


@pytest.mark.parametrize(
    ("alt_v", "ast_v", "bili_v", "alp_v", "present"),
    [
        (120, None, 2.5, 100, True),
        (119, None, 2.5, 100, False),
        (120, None, 2.4, 100, False),
        (120, None, 2.5, 260, False),
        (50, 130, 2.5, 100, True),
    ],
    ids=["present", "alt-below-3x", "bili-exactly-2x", "alp-2x", "ast-carries-it"],
)
def test_hys_law(alt_v: float, ast_v: float | None, bili_v: float, alp_v: float, present: bool) -> None:
    """ULNs: ALT 40, AST 40, bilirubin 1.2, ALP 130."""
    ast = ev("ast", ast_v, "U/L", 40) if ast_v is not None else None
    r = patterns.hys_law(ev("alt", alt_v, "U/L", 40), ast, bili(bili_v), ev("alp", alp_v, "U/L", 130))
    assert r.computable and r.value == (1.0 if present else 0.0)


def test_r_ratio_bands_and_abnormal_baseline_divisor() -> None:
    r = patterns.r_ratio(ev("alt", 400, "U/L", 40), ev("alp", 130, "U/L", 130))
    assert r.value == 10.0 and r.band is not None and r.band.startswith("hepatocellular")
    base = ev("alt", 100, "U/L", 40, day=OTHER_DAY)  # abnormal baseline 100 replaces ULN 40
    r2 = patterns.r_ratio(ev("alt", 400, "U/L", 40), ev("alp", 130, "U/L", 130), alt_baseline=base)
    assert r2.value == 4.0 and r2.band is not None and r2.band.startswith("mixed")
    assert "abnormal baseline" in (r2.components[0].note or "")


def test_new_r_takes_the_larger_transaminase() -> None:
    r = patterns.new_r(ev("alt", 80, "U/L", 40), ev("ast", 200, "U/L", 40), ev("alp", 260, "U/L", 130))
    assert r.value == 2.5  # max(2, 5) / 2


def test_de_ritis_bands() -> None:
    assert patterns.de_ritis(ev("ast", 90, "U/L"), ev("alt", 40, "U/L")).band.startswith(">= 2")  # type: ignore[union-attr]
    assert patterns.de_ritis(ev("ast", 50, "U/L"), ev("alt", 40, "U/L")).band.startswith(">= 1")  # type: ignore[union-attr]


@pytest.mark.parametrize(("sex", "side"), [("male", "above"), ("female", "above")])
def test_acg_alt_is_shown_beside_the_printed_limit(sex: str, side: str) -> None:
    r = patterns.acg_alt(ev("alt", 38, "U/L", 55), sex)  # type: ignore[arg-type]
    assert r.band is not None and r.band.startswith(side) and "printed upper limit 55 U/L (within)" in r.band


# --------------------------------------------------------------------------------------------------
# Properties.

pos = st.floats(min_value=0.1, max_value=60, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    ast=st.floats(5, 2000),
    alt=st.floats(5, 2000),
    plt=st.floats(10, 800),
    age=st.floats(36, 90),
    bump=st.floats(1, 500),
)
def test_fib4_increases_with_ast(ast: float, alt: float, plt: float, age: float, bump: float) -> None:
    def f(a: float) -> float:
        r = scores.fib4(ev("ast", a, "U/L"), ev("alt", alt, "U/L"), ev("platelets", plt, "10*3/uL"), age)
        assert r.raw_value is not None
        return r.raw_value

    assert f(ast + bump) > f(ast)


@settings(max_examples=200, deadline=None)
@given(b=pos, i=st.floats(0.5, 10), c=st.floats(0.1, 15), n=st.floats(100, 170), extra=st.floats(0, 20))
def test_meld_bounded_and_monotonic_in_bilirubin(
    b: float, i: float, c: float, n: float, extra: float
) -> None:
    m = scores.meld(bili(b), inr(i), cr(c)).value
    m2 = scores.meld(bili(b + extra), inr(i), cr(c)).value
    mna = scores.meld_na(bili(b), inr(i), cr(c), na(n)).value
    assert m is not None and m2 is not None and mna is not None
    assert 6 <= m <= 40 and 6 <= mna <= 40
    assert m2 >= m


@settings(max_examples=100, deadline=None)
@given(b=st.floats(1, 600), a=st.floats(10, 60), extra=st.floats(0, 300))
def test_albi_grade_never_improves_as_bilirubin_rises(b: float, a: float, extra: float) -> None:
    g1 = scores.albi(bili(b, "umol/L"), alb(a, "g/L")).grade
    g2 = scores.albi(bili(b + extra, "umol/L"), alb(a, "g/L")).grade
    assert g1 is not None and g2 is not None and g2 >= g1


@settings(max_examples=100, deadline=None)
@given(alt=st.floats(1, 5000), alp=st.floats(1, 5000))
def test_r_ratio_band_matches_value(alt: float, alp: float) -> None:
    r = patterns.r_ratio(ev("alt", alt, "U/L", 40), ev("alp", alp, "U/L", 120))
    raw = r.raw_value
    assert raw is not None and r.band is not None
    expected = "hepatocellular" if raw >= 5 else "mixed" if raw > 2 else "cholestatic"
    defining_raised = alt > 40 if expected == "hepatocellular" else alp > 120 if expected == "cholestatic" else True
    if (alt > 40 or alp > 120) and defining_raised:
        assert r.band.startswith(expected)
    else:  # R names the pattern of an abnormality: not when the enzyme defining it is within range
        assert r.band.startswith("no pattern named")


@pytest.mark.parametrize(
    ("alt", "alp", "band"),
    [
        (30, 100, "no pattern named: the enzymes are within"),
        (45, 110, "no pattern named: cholestatic by R, but ALP is within"),
        (45, 260, "cholestatic (R <= 2)"),
        (300, 100, "hepatocellular (R >= 5)"),
    ],
    ids=["both-normal", "barely-raised-alt-normal-alp", "raised-alp", "raised-alt"],
)
def test_r_ratio_names_a_pattern_only_for_a_raised_enzyme(alt: float, alp: float, band: str) -> None:
    """ALT ULN 40, ALP ULN 120: ALT 45 / ALP 110 gives R 1.23 but nothing is cholestatic about a normal ALP."""
    r = patterns.r_ratio(ev("alt", alt, "U/L", 40), ev("alp", alp, "U/L", 120))
    assert r.band is not None and r.band.startswith(band)
