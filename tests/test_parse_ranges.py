"""parsers.ranges: printed reference ranges, their strata by sex and age, and the cheap pre-check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.ranges import looks_like_range, parse_range
from parsers.types import NumberStyle, ParsedRange, Sex

DOT, COMMA, UNKNOWN = NumberStyle.DOT, NumberStyle.COMMA, NumberStyle.UNKNOWN

# text, style, low, high, kind, low_inclusive, high_inclusive
SIMPLE = [
    ("7-55", UNKNOWN, 7.0, 55.0, "interval", True, True),
    ("7 - 55", UNKNOWN, 7.0, 55.0, "interval", True, True),
    ("7–55", UNKNOWN, 7.0, 55.0, "interval", True, True),
    ("7 — 55", UNKNOWN, 7.0, 55.0, "interval", True, True),
    ("(5 - 40)", UNKNOWN, 5.0, 40.0, "interval", True, True),
    ("(135-145)", UNKNOWN, 135.0, 145.0, "interval", True, True),
    ("[ 8.5 - 13.3 ]", UNKNOWN, 8.5, 13.3, "interval", True, True),
    ("13.00 - 17.00", UNKNOWN, 13.0, 17.0, "interval", True, True),
    ("0.550 - 4.780", UNKNOWN, 0.55, 4.78, "interval", True, True),
    ("0 to 55", UNKNOWN, 0.0, 55.0, "interval", True, True),
    ("40,0 a 80,0", UNKNOWN, 40.0, 80.0, "interval", True, True),
    ("40,0 - 80,0", COMMA, 40.0, 80.0, "interval", True, True),
    ("4,00 - 9,50", UNKNOWN, 4.0, 9.5, "interval", True, True),
    ("3.5 bis 5.0", UNKNOWN, 3.5, 5.0, "interval", True, True),
    ("de 10 à 40", UNKNOWN, 10.0, 40.0, "interval", True, True),
    ("de 10 a 40", UNKNOWN, 10.0, 40.0, "interval", True, True),
    ("10 a 40", UNKNOWN, 10.0, 40.0, "interval", True, True),
    ("entre 10 y 40", UNKNOWN, 10.0, 40.0, "interval", True, True),
    ("between 10 and 40", UNKNOWN, 10.0, 40.0, "interval", True, True),
    ("10~40", UNKNOWN, 10.0, 40.0, "interval", True, True),
    ("-2 - 2", UNKNOWN, -2.0, 2.0, "interval", True, True),
    ("-2 to +2", UNKNOWN, -2.0, 2.0, "interval", True, True),
    ("\u22122 \u2013 2", UNKNOWN, -2.0, 2.0, "interval", True, True),
    ("-5--2", UNKNOWN, -5.0, -2.0, "interval", True, True),
    ("4,500 - 11,000", DOT, 4500.0, 11000.0, "interval", True, True),
    ("4.500 - 11.000", COMMA, 4500.0, 11000.0, "interval", True, True),
    ("150,000-450,000", DOT, 150000.0, 450000.0, "interval", True, True),
    ("1,500 - 4,000.5", UNKNOWN, 1500.0, 4000.5, "interval", True, True),
    ("50 - 10", UNKNOWN, 50.0, 10.0, "interval", True, True),  # reversed: the validator reports it
    ("<33", UNKNOWN, None, 33.0, "upper", True, False),
    ("< 33", UNKNOWN, None, 33.0, "upper", True, False),
    ("(< 21)", UNKNOWN, None, 21.0, "upper", True, False),
    ("<0.3", UNKNOWN, None, 0.3, "upper", True, False),
    ("<200.00", UNKNOWN, None, 200.0, "upper", True, False),
    ("<=33", UNKNOWN, None, 33.0, "upper", True, True),
    ("< OR = 39", UNKNOWN, None, 39.0, "upper", True, True),
    ("<= 39", UNKNOWN, None, 39.0, "upper", True, True),
    ("≤39", UNKNOWN, None, 39.0, "upper", True, True),
    ("Up to 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("Upto 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("upto: 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("Less than 5", UNKNOWN, None, 5.0, "upper", True, False),
    ("Below 5", UNKNOWN, None, 5.0, "upper", True, False),
    ("hasta 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("fino a 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("jusqu'à 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("jusqu’à 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("bis 40", UNKNOWN, None, 40.0, "upper", True, True),
    ("inferior a 5,0", COMMA, None, 5.0, "upper", True, False),
    ("5 or less", UNKNOWN, None, 5.0, "upper", True, True),
    (">60", UNKNOWN, 60.0, None, "lower", False, True),
    ("> 59", UNKNOWN, 59.0, None, "lower", False, True),
    (">40.00", UNKNOWN, 40.0, None, "lower", False, True),
    (">= 40", UNKNOWN, 40.0, None, "lower", True, True),
    ("≥40", UNKNOWN, 40.0, None, "lower", True, True),
    ("> OR = 40", UNKNOWN, 40.0, None, "lower", True, True),
    ("Greater than 60", UNKNOWN, 60.0, None, "lower", False, True),
    ("Above 60", UNKNOWN, 60.0, None, "lower", False, True),
    ("über 60", UNKNOWN, 60.0, None, "lower", False, True),
    ("40 and above", UNKNOWN, 40.0, None, "lower", True, True),
]


@pytest.mark.parametrize(
    ("text", "style", "low", "high", "kind", "low_inclusive", "high_inclusive"),
    SIMPLE,
    ids=[f"{t!r}-{s.name}" for t, s, *_ in SIMPLE],
)
def test_simple_ranges(
    text: str,
    style: NumberStyle,
    low: float | None,
    high: float | None,
    kind: str,
    low_inclusive: bool,
    high_inclusive: bool,
) -> None:
    parsed = parse_range(text, style)
    assert parsed is not None
    assert (parsed.low, parsed.high, parsed.kind) == (low, high, kind)
    assert (parsed.low_inclusive, parsed.high_inclusive) == (low_inclusive, high_inclusive)
    assert parsed.text == text.strip()
    assert not parsed.stratified and parsed.applies_to is None and parsed.unresolved is None
    assert looks_like_range(text)


WORDS = [
    ("Not Estab.", "none"), ("Not established", "none"), ("N/A", "none"), ("--", "none"), ("-", "none"),
    ("See note", "none"), ("see comment", "none"), ("Ver nota", "none"),
    ("Negative", "text"), ("Negativo", "text"), ("Non-reactive", "text"), ("Not detected", "text"),
    ("Négatif", "text"), ("Assente", "text"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "kind"), WORDS, ids=[t for t, _ in WORDS])
def test_text_and_none_ranges(text: str, kind: str) -> None:
    assert parse_range(text) == ParsedRange(text, None, None, kind)  # type: ignore[arg-type]


NOT_RANGES = [
    "", "55", "15.00", "15-02-2025", "15/02/2025", "2025-02-15", "555-123-4567", "(555) 555-1234",
    "+1 555 123 4567", "020 7946 0958", "2-4 a.m.", "3.5-5.0 mmol/L", "mg/dL", "Hemoglobin", "10 y 40",
    "1,000 - 4,000", "4.500 - 11.000", "1-2-3", "< >", "<", "Male", "M: 10-50", "Male: abc", "10 - ", "- 10",
    "01-05", "10 20", "bis4", "upto40", "H42 a 4", "F >4", "h -", "-.", "F: 7-35",
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_RANGES, ids=[repr(t) for t in NOT_RANGES])
def test_not_ranges(text: str) -> None:
    assert parse_range(text) is None


# text, sex, age, low, high, applies_to
STRATIFIED: list[tuple[str, Sex | None, float | None, float | None, float | None, str | None]] = [
    ("Male: 10-50; Female: 7-35", "male", None, 10.0, 50.0, "male"),
    ("Male: 10-50; Female: 7-35", "female", None, 7.0, 35.0, "female"),
    ("Male: 10-50\nFemale: 7-35", "female", None, 7.0, 35.0, "female"),
    ("Male: 10-50, Female: 7-35", "female", None, 7.0, 35.0, "female"),
    ("M 10-50 F 7-35", "male", None, 10.0, 50.0, "male"),
    ("M: 10-50 / F: 7-35", "female", None, 7.0, 35.0, "female"),
    ("Men 13.0-17.0 Women 12.0-15.5", "female", None, 12.0, 15.5, "female"),
    ("H: 10-50 M: 7-35", "male", None, 10.0, 50.0, "male"),
    ("H: 10-50 M: 7-35", "female", None, 7.0, 35.0, "female"),
    ("Hombres: 10-50; Mujeres: 7-35", "female", None, 7.0, 35.0, "female"),
    ("Homens: 10,0 a 50,0; Mulheres: 7,0 a 35,0", "male", None, 10.0, 50.0, "male"),
    ("Uomini 10-50 Donne 7-35", "female", None, 7.0, 35.0, "female"),
    ("Hommes : 10-50 ; Femmes : 7-35", "male", None, 10.0, 50.0, "male"),
    ("Männer: 10-50; Frauen: 7-35", "female", None, 7.0, 35.0, "female"),
    ("m: 10-50 w: 7-35", "male", None, 10.0, 50.0, "male"),
    ("13.0-17.0 (M), 12.0-15.5 (F)", "female", None, 12.0, 15.5, "female"),
    ("Male: <40; Female: <35", "female", None, None, 35.0, "female"),
    ("0-1 y: 10-30; 1-18 y: 15-40; >18 y: 7-55", None, 0.5, 10.0, 30.0, "age 0-1"),
    ("0-1 y: 10-30; 1-18 y: 15-40; >18 y: 7-55", None, 1.0, 15.0, 40.0, "age 1-18"),
    ("0-1 y: 10-30; 1-18 y: 15-40; >18 y: 7-55", None, 18.0, 15.0, 40.0, "age 1-18"),
    ("0-1 y: 10-30; 1-18 y: 15-40; >18 y: 7-55", None, 45.0, 7.0, 55.0, "age >18"),
    ("Adults: 7-55 Children: 5-45", None, 40.0, 7.0, 55.0, "adults"),
    ("Adults: 7-55 Children: 5-45", None, 6.0, 5.0, 45.0, "children"),
    ("Adults: 7-55 Children: 5-45", None, 18.0, 7.0, 55.0, "adults"),
    ("Adultos: 7-55\nNiños: 5-45", None, 6.0, 5.0, 45.0, "niños"),
    ("18-60 years: 0.5-1.2", None, 30.0, 0.5, 1.2, "age 18-60"),
    ("1-12 months: 10-30; >1 y: 5-20", None, 0.5, 10.0, 30.0, "age 1-12 months"),
    ("Adults: 7-55; Elderly: 10-60", None, 70.0, 10.0, 60.0, "elderly"),
    ("Adults: M 13-17 F 12-15; Children: 11-14", "female", 30.0, 12.0, 15.0, "adults, female"),
    ("Male: Adults 13-17 Children 11-14; Female: 12-15", "male", 8.0, 11.0, 14.0, "male, children"),
]


@pytest.mark.parametrize(
    ("text", "sex", "age", "low", "high", "applies_to"),
    STRATIFIED,
    ids=[f"{t!r}-{s}-{a}" for t, s, a, *_ in STRATIFIED],
)
def test_stratified_ranges(
    text: str, sex: Sex | None, age: float | None, low: float | None, high: float | None, applies_to: str
) -> None:
    parsed = parse_range(text, sex=sex, age_years=age)
    assert parsed is not None
    assert (parsed.low, parsed.high, parsed.applies_to) == (low, high, applies_to)
    assert parsed.stratified and parsed.unresolved is None
    assert parsed.text == text
    assert looks_like_range(text)


UNRESOLVED: list[tuple[str, Sex | None, float | None, str]] = [
    ("Male: 10-50; Female: 7-35", None, 40.0, "range depends on sex; sex unknown"),
    ("M 10-50 F 7-35", None, None, "range depends on sex; sex unknown"),
    ("Female: 7-35", "male", None, "no stratum for male"),
    ("0-1 y: 10-30; >18 y: 7-55", "male", None, "range depends on age; age unknown"),
    ("0-1 y: 10-30; >18 y: 7-55", "male", 10.0, "no single age band fits"),
    ("Adults: M 13-17 F 12-15; Children: 11-14", None, 30.0, "range depends on sex; sex unknown"),
]


@pytest.mark.parametrize(
    ("text", "sex", "age", "why"), UNRESOLVED, ids=[f"{t!r}-{s}-{a}" for t, s, a, _ in UNRESOLVED]
)
def test_unresolved_strata(text: str, sex: Sex | None, age: float | None, why: str) -> None:
    parsed = parse_range(text, sex=sex, age_years=age)
    assert parsed is not None
    assert parsed.stratified
    assert (parsed.low, parsed.high) == (None, None)
    assert parsed.unresolved == why


LOOKS_NOT = ["55", "15.00", "Hemoglobin", "mg/dL", "g/dL", "H", "Negative", "15/02/2025", "x10^3/μl", ""]


@pytest.mark.parametrize("text", LOOKS_NOT, ids=[repr(t) for t in LOOKS_NOT])
def test_looks_like_range_rejects_plain_cells(text: str) -> None:
    assert not looks_like_range(text)


# ------------------------------------------------------------------------------------------------
# Properties

_bounds = st.tuples(
    st.decimals(min_value=-50, max_value=5000, places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=Decimal("0.01"), max_value=5000, places=2, allow_nan=False, allow_infinity=False),
)


def _fmt(n: Decimal, style: NumberStyle) -> str:
    """A number printed with the style's decimal mark (no grouping)."""
    text = f"{n:.2f}"
    return text.replace(".", ",") if style is COMMA else text


INTERVAL_SYNTAXES = [
    "{lo}-{hi}", "{lo} - {hi}", "{lo}–{hi}", "({lo} - {hi})", "[ {lo} - {hi} ]", "{lo} to {hi}",
    "{lo} a {hi}", "{lo} bis {hi}", "de {lo} à {hi}", "{lo}~{hi}", "entre {lo} y {hi}",
]  # fmt: skip


@given(bounds=_bounds, syntax=st.sampled_from(INTERVAL_SYNTAXES), style=st.sampled_from([DOT, COMMA]))
def test_intervals_parse_back(bounds: tuple[Decimal, Decimal], syntax: str, style: NumberStyle) -> None:
    lo, width = bounds
    hi = lo + width
    text = syntax.format(lo=_fmt(lo, style), hi=_fmt(hi, style))
    parsed = parse_range(text, style)
    assert parsed is not None, text
    assert (parsed.kind, parsed.low, parsed.high) == ("interval", float(lo), float(hi))
    assert looks_like_range(text)


LIMIT_SYNTAXES = [
    ("<{n}", "upper", False), ("< {n}", "upper", False), ("<={n}", "upper", True), ("≤ {n}", "upper", True),
    ("< OR = {n}", "upper", True), ("Up to {n}", "upper", True), ("Less than {n}", "upper", False),
    ("hasta {n}", "upper", True), ("fino a {n}", "upper", True), ("jusqu'à {n}", "upper", True),
    ("bis {n}", "upper", True), ("Below {n}", "upper", False), (">{n}", "lower", False),
    (">= {n}", "lower", True), ("≥{n}", "lower", True), ("Greater than {n}", "lower", False),
    ("Above {n}", "lower", False), ("{n} and above", "lower", True),
]  # fmt: skip


@given(
    n=st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False, allow_infinity=False),
    syntax=st.sampled_from(LIMIT_SYNTAXES),
    style=st.sampled_from([DOT, COMMA]),
)
def test_limits_parse_back(n: Decimal, syntax: tuple[str, str, bool], style: NumberStyle) -> None:
    pattern, kind, inclusive = syntax
    text = pattern.format(n=_fmt(n, style))
    parsed = parse_range(text, style)
    assert parsed is not None, text
    assert parsed.kind == kind
    if kind == "upper":
        assert (parsed.low, parsed.high, parsed.high_inclusive) == (None, float(n), inclusive)
    else:
        assert (parsed.low, parsed.high, parsed.low_inclusive) == (float(n), None, inclusive)
    assert looks_like_range(text)


SEX_LABELS = [
    ("Male: ", "Female: "), ("M ", "F "), ("Men ", "Women "), ("H: ", "M: "), ("Hombres ", "Mujeres "),
    ("Uomini: ", "Donne: "), ("Homens ", "Mulheres "), ("Hommes : ", "Femmes : "), ("Männer ", "Frauen "),
    ("m: ", "w: "),
]  # fmt: skip


@given(
    male=_bounds,
    female=_bounds,
    labels=st.sampled_from(SEX_LABELS),
    joiner=st.sampled_from(["; ", "\n", " ", " / "]),
    female_first=st.booleans(),
    sex=st.sampled_from(["male", "female"]),
)
def test_stratified_by_sex_picks_the_patients_stratum(
    male: tuple[Decimal, Decimal],
    female: tuple[Decimal, Decimal],
    labels: tuple[str, str],
    joiner: str,
    female_first: bool,
    sex: Sex,
) -> None:
    strata = {
        "male": (male[0], male[0] + male[1], labels[0]),
        "female": (female[0], female[0] + female[1], labels[1]),
    }
    parts = [f"{label}{_fmt(lo, DOT)} - {_fmt(hi, DOT)}" for lo, hi, label in strata.values()]
    text = joiner.join(reversed(parts) if female_first else parts)
    parsed = parse_range(text, DOT, sex=sex)
    assert parsed is not None, text
    lo, hi, _ = strata[sex]
    assert (parsed.low, parsed.high) == (float(lo), float(hi))
    assert (parsed.applies_to, parsed.stratified) == (sex, True)
