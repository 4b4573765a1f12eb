"""parsers.values: printed result values, the document's number style, and fused value+flag tokens."""

from __future__ import annotations

import string
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.types import Comparator, NumberStyle, ParsedValue
from parsers.values import detect_number_style, parse_value, qualitative_key, split_value_flag

DOT, COMMA, UNKNOWN = NumberStyle.DOT, NumberStyle.COMMA, NumberStyle.UNKNOWN

# text, style, value, comparator, decimals, alternatives
NUMBERS = [
    ("15.00", UNKNOWN, 15.0, None, 2, ()),
    ("140", UNKNOWN, 140.0, None, 0, ()),
    ("0.90", DOT, 0.9, None, 2, ()),
    ("6,73", UNKNOWN, 6.73, None, 2, ()),
    ("327,01", COMMA, 327.01, None, 2, ()),
    ("0,123", UNKNOWN, 0.123, None, 3, ()),
    ("1,2345", UNKNOWN, 1.2345, None, 4, ()),
    ("0.550", UNKNOWN, 0.55, None, 3, ()),
    ("1,234", UNKNOWN, 1234.0, None, 0, (1.234,)),
    ("1,234", DOT, 1234.0, None, 0, ()),
    ("1,234", COMMA, 1.234, None, 3, ()),
    ("9.480", UNKNOWN, 9.48, None, 3, (9480.0,)),
    ("9.480", DOT, 9.48, None, 3, ()),
    ("9.480", COMMA, 9480.0, None, 0, ()),
    ("12,345.6", UNKNOWN, 12345.6, None, 1, ()),
    ("1,234,567", UNKNOWN, 1234567.0, None, 0, ()),
    ("1.234,5", UNKNOWN, 1234.5, None, 1, ()),
    ("1.234.567", UNKNOWN, 1234567.0, None, 0, ()),
    ("2,12,000", UNKNOWN, 212000.0, None, 0, ()),
    ("12,34,567.50", DOT, 1234567.5, None, 2, ()),
    ("1 234", UNKNOWN, 1234.0, None, 0, ()),
    ("250 000", COMMA, 250000.0, None, 0, ()),
    ("1\u2009234", UNKNOWN, 1234.0, None, 0, ()),
    ("12\u202f345,6", COMMA, 12345.6, None, 1, ()),
    ("1'234.5", UNKNOWN, 1234.5, None, 1, ()),
    (".5", UNKNOWN, 0.5, None, 1, ()),
    ("-2.5", UNKNOWN, -2.5, None, 1, ()),
    ("\u22122.5", UNKNOWN, -2.5, None, 1, ()),
    ("+3", UNKNOWN, 3.0, None, 0, ()),
    ("<0.1", UNKNOWN, 0.1, "<", 1, ()),
    ("< 0.1", UNKNOWN, 0.1, "<", 1, ()),
    ("<0,1", COMMA, 0.1, "<", 1, ()),
    ("<=5", UNKNOWN, 5.0, "<=", 0, ()),
    ("≤5", UNKNOWN, 5.0, "<=", 0, ()),
    ("=<5", UNKNOWN, 5.0, "<=", 0, ()),
    (">90", UNKNOWN, 90.0, ">", 0, ()),
    ("≥ 60", UNKNOWN, 60.0, ">=", 0, ()),
    ("> = 60", UNKNOWN, 60.0, ">=", 0, ()),
    ("< OR = 39", UNKNOWN, 39.0, "<=", 0, ()),
    ("<-2", UNKNOWN, -2.0, "<", 0, ()),
    ("(5.2)", UNKNOWN, 5.2, None, 1, ()),
    ("[ 5.2 ]", UNKNOWN, 5.2, None, 1, ()),
    ("  4.0  ", UNKNOWN, 4.0, None, 1, ()),
    ("1200", UNKNOWN, 1200.0, None, 0, ()),
    ("2023", UNKNOWN, 2023.0, None, 0, ()),
    ("0", UNKNOWN, 0.0, None, 0, ()),
    ("1.2E3", UNKNOWN, 1200.0, None, 1, ()),
    ("1.2x10^3", UNKNOWN, 1200.0, None, 1, ()),
    ("5 × 10^9", UNKNOWN, 5e9, None, 0, ()),
    ("5×10⁹", UNKNOWN, 5e9, None, 0, ()),
    ("2.5x10^-3", UNKNOWN, 0.0025, None, 1, ()),
]


@pytest.mark.parametrize(
    ("text", "style", "value", "comparator", "decimals", "alternatives"),
    NUMBERS,
    ids=[f"{t!r}-{s.name}" for t, s, *_ in NUMBERS],
)
def test_numbers(
    text: str,
    style: NumberStyle,
    value: float,
    comparator: Comparator | None,
    decimals: int,
    alternatives: tuple[float, ...],
) -> None:
    parsed = parse_value(text, style)
    assert parsed == ParsedValue(text.strip(), value, comparator, decimals, False, alternatives)


QUALITATIVE = [
    "Negative", "POSITIVE", "Not detected", "Not Detected.", "Detected", "Trace", "Nil", "Absent",
    "Present", "Reactive", "Non-reactive", "Non Reactive", "NonReactive", "Negativo", "Positivo",
    "No detectado", "Ausente", "Presente", "Negatif", "Négatif", "Positif", "Non détecté", "Assente",
    "Non rilevato", "negativ", "positiv", "nicht nachweisbar", "Não detectado", "Não reagente", "2+", "+++",
    "(Negative)",
]  # fmt: skip


@pytest.mark.parametrize("text", QUALITATIVE, ids=QUALITATIVE)
def test_qualitative_words_are_text_values(text: str) -> None:
    assert parse_value(text) == ParsedValue(text, None, is_text=True)


NOT_VALUES = [
    "", "   ", "mg/dL", "H", "L", "Page 1", "12-20", "12 - 20", "15/02/25", "15.02.2025", "12:30", "41H",
    "41 H", "55 mg", "12 mg/dL", "45%", "~5", "5.", "12.", "1,2,3", "01.5", "007", "1 0.5", "100 20",
    "1,23,4", "1.234,567.8", "Hemoglobin", "Low density", "-", "+", "--", "<", "B12", "4.O", "O.5",
    "12345678901234567", "x10^3/μl", "1/2", "()", "Positive result", "=5", ",5", ",15", "12237e2", "0e5",
    "1234x10^3",
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_VALUES, ids=[repr(t) for t in NOT_VALUES])
def test_not_values(text: str) -> None:
    assert parse_value(text) is None
    assert parse_value(text, NumberStyle.COMMA) is None


OCR_REPAIRS = [
    ("4.O", 4.0, ("OCR: 'O' read as 0",)),
    ("O.5", 0.5, ("OCR: 'O' read as 0",)),
    ("1O", 10.0, ("OCR: 'O' read as 0",)),
    ("1O.5", 10.5, ("OCR: 'O' read as 0",)),
    ("l2.3", 12.3, ("OCR: 'l' read as 1",)),
    ("1I.5", 11.5, ("OCR: 'I' read as 1",)),
    ("1|.5", 11.5, ("OCR: '|' read as 1",)),
    ("2S0", 250.0, ("OCR: 'S' read as 5",)),
    ("1s.2", 15.2, ("OCR: 's' read as 5",)),
    ("1B.2", 18.2, ("OCR: 'B' read as 8",)),
    ("1Z.5", 12.5, ("OCR: 'Z' read as 2",)),
    ("1g.5", 19.5, ("OCR: 'g' read as 9",)),
    ("10O", 100.0, ("OCR: 'O' read as 0",)),
    ("<O.5", 0.5, ("OCR: 'O' read as 0",)),
    ("l0.O5", 10.05, ("OCR: 'l' read as 1", "OCR: 'O' read as 0")),
]


@pytest.mark.parametrize(("text", "value", "corrections"), OCR_REPAIRS, ids=[t for t, *_ in OCR_REPAIRS])
def test_ocr_repairs(text: str, value: float, corrections: tuple[str, ...]) -> None:
    parsed = parse_value(text, ocr=True)
    assert parsed is not None
    assert parsed.value == value
    assert parsed.corrections == corrections
    assert parse_value(text) is None  # never without ocr=True


OCR_REFUSED = [
    "B12", "S0", "lO", "1OO", "lO.O", "O", "Oo", "mg", "12l", "12s", "1 0.5", "Sol", "g/L", "Zn", "ISO 9001",
    "10o", "6o3s9l5o9", "1O2O3O", ",S2",
]  # fmt: skip


@pytest.mark.parametrize("text", OCR_REFUSED, ids=OCR_REFUSED)
def test_ocr_does_not_repair_words_or_codes(text: str) -> None:
    assert parse_value(text, ocr=True) is None


def test_clean_numbers_carry_no_corrections_under_ocr() -> None:
    parsed = parse_value("12.5", ocr=True)
    assert parsed is not None and parsed.corrections == ()


STYLES = [
    (["6,73", "4,00 - 9,50"], COMMA),
    (["1.234,5"], COMMA),
    (["1.234.567"], COMMA),
    (["15.00", "13.00 - 17.00"], DOT),
    (["1,234.5"], DOT),
    (["1,234,567"], DOT),
    (["2,12,000.50"], DOT),
    (["0.550"], DOT),
    (["1,234"], UNKNOWN),
    (["1.234"], UNKNOWN),
    (["140", "Sodium", "15/02/2025", "15.02.2025", "12:30"], UNKNOWN),
    ([], UNKNOWN),
    (["1,5", "2.5"], UNKNOWN),
    (["1,5", "2,5", "3,5", "Version 2.1"], COMMA),
    (["1.2,3.4", "02.123", "1,2,3"], UNKNOWN),
]


@pytest.mark.parametrize(("texts", "style"), STYLES, ids=[" | ".join(t) or "empty" for t, _ in STYLES])
def test_detect_number_style(texts: list[str], style: NumberStyle) -> None:
    assert detect_number_style(texts) is style
    assert detect_number_style(iter(texts)) is style  # any iterable, read once


SPLITS = [
    ("41H", ("41", "H")),
    ("41 H", ("41", "H")),
    ("41*", ("41", "*")),
    ("12.3↑", ("12.3", "↑")),
    ("5.6 L*", ("5.6", "L*")),
    ("0.8(L)", ("0.8", "L")),
    ("0.8 [H]", ("0.8", "H")),
    ("<0.1 L", ("<0.1", "L")),
    ("6,73 H", ("6,73", "H")),
    ("41 High", ("41", "High")),
    ("41 Critical High", ("41", "Critical High")),
    ("41+", ("41", "+")),
    ("Positive H", ("Positive", "H")),
    ("Positive(H)", ("Positive", "H")),
    ("H41", ("H41", None)),
    ("41", ("41", None)),
    ("2+", ("2+", None)),
    ("41-", ("41-", None)),
    ("12 l", ("12 l", None)),
    ("12.3 mg/dL", ("12.3 mg/dL", None)),
    ("Hemoglobin H", ("Hemoglobin H", None)),
    ("", ("", None)),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS, ids=[repr(t) for t, _ in SPLITS])
def test_split_value_flag(text: str, expected: tuple[str, str | None]) -> None:
    assert split_value_flag(text) == expected


# ------------------------------------------------------------------------------------------------
# Properties


def _group(digits: str, sep: str) -> str:
    """Group an integer's digits by threes from the right."""
    head = len(digits) % 3 or 3
    return sep.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    frac=st.text(alphabet=string.digits, min_size=0, max_size=4),
    negative=st.booleans(),
    style=st.sampled_from([DOT, COMMA]),
    grouping=st.sampled_from(["", "mark", " ", "\u2009"]),
)
def test_printed_numbers_parse_back_exactly(
    whole: int, frac: str, negative: bool, style: NumberStyle, grouping: str
) -> None:
    decimal_mark = style.value
    group_mark = {"": "", "mark": "," if style is DOT else "."}.get(grouping, grouping)
    digits = str(whole)
    printed = _group(digits, group_mark) if group_mark else digits
    if frac:
        printed += decimal_mark + frac
    if negative:
        printed = "-" + printed
    expected = float(f"{'-' if negative else ''}{digits}.{frac or '0'}")
    parsed = parse_value(printed, style)
    assert parsed is not None, printed
    assert parsed.value == expected
    assert parsed.decimals == len(frac)
    assert parsed.alternatives == ()
    unknown = parse_value(printed)  # without the style the right reading is the value or an alternative
    assert unknown is not None
    assert expected in (unknown.value, *unknown.alternatives)


@given(
    number=st.decimals(min_value=-10_000, max_value=10_000, places=3, allow_nan=False),
    comparator=st.sampled_from([("<", "<"), ("< ", "<"), ("<=", "<="), ("≤", "<="), ("≤ ", "<="), (">", ">"),
                                ("> ", ">"), (">=", ">="), ("≥", ">="), ("> = ", ">="), ("< or = ", "<=")]),
)  # fmt: skip
def test_comparators_round_trip(number: Decimal, comparator: tuple[str, str]) -> None:
    printed, expected = comparator
    text = f"{printed}{number}"
    parsed = parse_value(text, DOT)
    assert parsed is not None, text
    assert parsed.comparator == expected
    assert parsed.value == float(str(number))


@given(text=st.text(alphabet=string.ascii_letters + " -.éèàöü", min_size=1, max_size=12), ocr=st.booleans())
def test_letter_strings_are_never_numbers(text: str, ocr: bool) -> None:
    parsed = parse_value(text, ocr=ocr)
    if parsed is not None:
        assert parsed.is_text and parsed.value is None
        assert qualitative_key(text) is not None


@given(word=st.sampled_from(QUALITATIVE), case=st.sampled_from([str.upper, str.lower, str.title]))
def test_qualitative_words_any_case(word: str, case: Callable[[str], str]) -> None:
    parsed = parse_value(case(word))
    assert parsed is not None and parsed.is_text and parsed.value is None
