"""What the field parsers return: small frozen records shared by every parser in this package."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

Comparator = Literal["<", "<=", ">", ">="]
Flag = Literal["H", "L", "HH", "LL", "A"]
Sex = Literal["female", "male"]


class NumberStyle(Enum):
    """How a document writes decimals: 1,234.5 (DOT) or 1.234,5 (COMMA); UNKNOWN until a cue decides."""

    DOT = "."
    COMMA = ","
    UNKNOWN = "?"


class DateOrder(Enum):
    DMY = "DMY"
    MDY = "MDY"
    YMD = "YMD"


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """A result value as printed: a number (with comparator) or a qualitative text such as 'Negative'."""

    text: str
    value: float | None
    comparator: Comparator | None = None
    decimals: int = 0
    """Digits printed after the decimal separator (0 for integers and text)."""
    is_text: bool = False
    alternatives: tuple[float, ...] = ()
    """Other readings of an ambiguous number ('1,234' is 1234 or 1.234); the caller picks by plausibility."""
    corrections: tuple[str, ...] = ()
    """OCR repairs applied to reach `value`, each a short human-readable reason."""


@dataclass(frozen=True, slots=True)
class ParsedRange:
    """A printed reference range, resolved to the stratum that applies to this patient when possible."""

    text: str
    low: float | None
    high: float | None
    kind: Literal["interval", "upper", "lower", "text", "none"]
    """interval: low-high; upper: '<33', 'Up to 40'; lower: '>60'; text: 'Negative'; none: 'Not Estab.'."""
    low_inclusive: bool = True
    high_inclusive: bool = True
    applies_to: str | None = None
    """The stratum chosen ('male', 'female', 'age 18-60'), None when the range is not stratified."""
    stratified: bool = False
    """True when the printed range has strata (by sex or age) even if none could be chosen."""
    unresolved: str | None = None
    """Why no stratum could be chosen (e.g. 'range depends on sex; sex unknown')."""


@dataclass(frozen=True, slots=True)
class ParsedFlag:
    text: str
    flag: Flag | None
    """'A' when the mark says abnormal without a direction ('*', '¬'); None when it says normal."""
    abnormal: bool = True


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """A printed unit mapped to UCUM."""

    printed: str
    ucum: str
    dimension: str
    """Coarse kind used to check an analyte's unit: 'mass_conc', 'molar_conc', 'enzyme', 'count'..."""
    corrections: tuple[str, ...] = ()
