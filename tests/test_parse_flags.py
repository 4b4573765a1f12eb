"""parsers.flags: printed abnormality flags in several languages, and flags derived from a range."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.flags import derive_flag, parse_flag
from parsers.types import Flag

# text, flag, abnormal
FLAGS: list[tuple[str, Flag | None, bool]] = [
    ("H", "H", True), ("L", "L", True), ("hi", "H", True), ("LOW", "L", True),
    ("HH", "HH", True), ("LL", "LL", True), ("A", "A", True), ("AA", "A", True),
    ("High", "H", True), ("HIGH", "H", True), ("Low", "L", True), ("Hi", "H", True), ("Lo", "L", True),
    ("Critical High", "HH", True), ("Critical Low", "LL", True), ("High-Critical", "HH", True),
    ("Low-Critical", "LL", True), ("High Critical", "HH", True), ("Panic High", "HH", True),
    ("Panic Low", "LL", True), ("Panic", "A", True), ("Critical", "A", True),
    ("High-Abnormal", "H", True), ("Low-Abnormal", "L", True), ("Abnormal", "A", True), ("Abn", "A", True),
    ("H*", "H", True), ("*H", "H", True), ("L*", "L", True), ("*L", "L", True), ("H!", "H", True),
    ("(H)", "H", True), ("[L]", "L", True), ("( H )", "H", True),
    ("*", "A", True), ("**", "A", True), ("!", "A", True),
    ("↑", "H", True), ("↓", "L", True), ("↑↑", "HH", True), ("↓↓", "LL", True), ("▲", "H", True),
    ("▼", "L", True), ("+", "H", True),
    ("Alto", "H", True), ("Alta", "H", True), ("Bajo", "L", True), ("Baja", "L", True),
    ("Elevado", "H", True), ("Baixo", "L", True), ("Basso", "L", True), ("Bassa", "L", True),
    ("Élevé", "H", True), ("Eleve", "H", True), ("Haut", "H", True), ("Bas", "L", True), ("Basse", "L", True),
    ("Hoch", "H", True), ("Niedrig", "L", True), ("erhöht", "H", True), ("erniedrigt", "L", True),
    ("Normal", None, False), ("N", None, False), ("Normale", None, False), ("normal", None, False),
    ("WNL", None, False),
]  # fmt: skip


@pytest.mark.parametrize(("text", "flag", "abnormal"), FLAGS, ids=[t for t, *_ in FLAGS])
def test_parse_flag(text: str, flag: Flag | None, abnormal: bool) -> None:
    parsed = parse_flag(text)
    assert parsed is not None
    assert (parsed.flag, parsed.abnormal) == (flag, abnormal)
    assert parsed.text == text.strip()


NOT_FLAGS = [
    "", " ", "-", "--", "Hemoglobin", "Low density", "High sensitivity CRP", "HDL", "Hb", "mg/dL", "15.0",
    "41H", "N/A", "Negative", "*N", "Normal range 10-20", "Cl", "CH", "Hx", "LH", "Alkaline", "a", "h", "l",
    "n", "hh", "Ll", "h*", "above", "below",
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_FLAGS, ids=[repr(t) for t in NOT_FLAGS])
def test_not_flags(text: str) -> None:
    assert parse_flag(text) is None


DERIVED = [
    # value, low, high, low_inclusive, high_inclusive, expected
    (5.0, 3.5, 5.3, True, True, None),
    (5.3, 3.5, 5.3, True, True, None),
    (5.31, 3.5, 5.3, True, True, "H"),
    (3.4, 3.5, 5.3, True, True, "L"),
    (3.5, 3.5, 5.3, True, True, None),
    (33.0, None, 33.0, True, False, "H"),  # '<33'
    (32.9, None, 33.0, True, False, None),
    (39.0, None, 39.0, True, True, None),  # '< OR = 39'
    (60.0, 60.0, None, False, True, "L"),  # '>60'
    (61.0, 60.0, None, False, True, None),
    (1000.0, None, None, True, True, None),
]


@pytest.mark.parametrize(
    ("value", "low", "high", "low_inclusive", "high_inclusive", "expected"),
    DERIVED,
    ids=[f"{v}-in-{lo}..{hi}" for v, lo, hi, *_ in DERIVED],
)
def test_derive_flag(
    value: float,
    low: float | None,
    high: float | None,
    low_inclusive: bool,
    high_inclusive: bool,
    expected: Flag | None,
) -> None:
    flag = derive_flag(value, low, high, low_inclusive=low_inclusive, high_inclusive=high_inclusive)
    assert flag == expected


@given(
    value=st.floats(min_value=-1e6, max_value=1e6),
    low=st.floats(min_value=-1e6, max_value=1e6),
    width=st.floats(min_value=0.001, max_value=1e6),
)
def test_derived_flag_agrees_with_interval(value: float, low: float, width: float) -> None:
    high = low + width
    flag = derive_flag(value, low, high)
    assert flag in (None, "H", "L")  # never HH/LL: criticality is not printed in a range
    assert (flag == "H") == (value > high)
    assert (flag == "L") == (value < low)


_QUALIFIERS = {"abnormal", "anormal", "critical", "crit", "panic", "critico", "critica", "critique",
               "kritisch", "alert", "high", "low", "range", "normal", "limits"}  # fmt: skip


@given(
    flag=st.sampled_from([t for t, *_ in FLAGS]),
    word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10),
    before=st.booleans(),
)
def test_flags_inside_longer_text_are_not_flags(flag: str, word: str, before: bool) -> None:
    if word in _QUALIFIERS or parse_flag(word) is not None:  # '* anomale' is a decorated flag word
        return
    text = f"{word} {flag}" if before else f"{flag} {word}"
    assert parse_flag(text) is None
