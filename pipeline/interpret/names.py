"""Display names of analytes, taken from the knowledge base: the one place the engine names a test.

Contract: every name shown to a reader comes from ``parsers/knowledge`` (``load_knowledge().get(code)``),
never from a local table and never from the internal analyte code:

- ``label(code)`` is the heading form, for chart titles, tables and finding titles: the knowledge base's
  ``name``, with its first alias appended in parentheses when that alias is an abbreviation the name does
  not already show ('Alanine aminotransferase (ALT)', 'Bilirubin, total', 'INR').
- ``prose(code)`` is the running-text form: that abbreviation when there is one ('ALT'), else the name with
  a trailing qualifier moved in front and the first letter lowered ('Bilirubin, total' -> 'total
  bilirubin'). ``cap`` raises the first letter again at the start of a sentence.
- ``unit_text(ucum)`` shows a UCUM code the way labs print it ('10*3/uL' -> '10³/µL'; '{INR}' -> '').
- A code the knowledge base does not know (only possible for hand-made observations) is named by the
  ``printed`` name the caller passes (the test name as printed on the report), else as an unnamed test.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from parsers.knowledge import Analyte, load_knowledge

_ABBREVIATION = re.compile(r"[A-Z][A-Z0-9]{1,5}")
"""'ALT', 'GGT', 'MCHC', 'CO2': an alias printed in capitals, short enough to be an abbreviation."""
_QUALIFIED = re.compile(r"(?P<head>[^,]+), (?P<qualifier>[a-z]+)(?P<rest> \(.*\))?")
"""'Bilirubin, total', 'Thyroxine, free (FT4)': a name whose qualifier follows a comma."""
UNNAMED = "unnamed test"


@functools.cache
def _entry(code: str) -> Analyte | None:
    try:
        return load_knowledge().get(code)
    except KeyError:
        return None


def _abbreviation(entry: Analyte) -> str | None:
    """The first alias when it is an abbreviation ('ALT'); the name itself when it is one ('INR')."""
    if _ABBREVIATION.fullmatch(entry.name):
        return entry.name
    first = entry.aliases[0] if entry.aliases else ""
    return first if _ABBREVIATION.fullmatch(first) else None


@functools.cache
def label(code: str, printed: str | None = None) -> str:
    """Heading form of an analyte's name (see module docstring)."""
    entry = _entry(code)
    if entry is None:
        return (printed or "").strip() or UNNAMED
    abbr = _abbreviation(entry)
    if abbr is None or abbr in entry.name or "(" in entry.name:
        return entry.name
    return f"{entry.name} ({abbr})"


def _lower_first(text: str) -> str:
    """'Platelet count' -> 'platelet count'; 'HbA1c' and 'eGFR' stay as they are."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:].islower():
        return text[0].lower() + text[1:]
    return text


@functools.cache
def prose(code: str, printed: str | None = None) -> str:
    """Running-text form of an analyte's name (see module docstring)."""
    entry = _entry(code)
    if entry is None:
        return (printed or "").strip() or UNNAMED
    abbr = _abbreviation(entry)
    if abbr is not None:
        return abbr
    m = _QUALIFIED.fullmatch(entry.name)
    if m:
        return f"{m['qualifier']} {_lower_first(m['head'])}{m['rest'] or ''}"
    return _lower_first(entry.name)


def cap(text: str) -> str:
    """First letter raised, for a name that starts a sentence ('total bilirubin' -> 'Total bilirubin')."""
    return text[:1].upper() + text[1:]


def listed(codes: Sequence[str]) -> str:
    """'INR, albumin and total bilirubin': running-text names joined as a list."""
    words = [prose(c) for c in codes]
    if not words:
        return ""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


_MICRO = frozenset({"10*3/uL", "10*6/uL", "umol/L", "ug/dL", "uL", "ukat/L", "ug/L", "ug/mL"})


def unit_text(ucum: str | None) -> str:
    """A UCUM code as labs print it: powers of ten as superscripts, 'u' as 'µ'; annotations such as
    '{INR}' are not shown."""
    if not ucum or (ucum.startswith("{") and ucum.endswith("}")):
        return ""
    shown = ucum
    for code, sup in (("10*12", "10¹²"), ("10*3", "10³"), ("10*6", "10⁶"), ("10*9", "10⁹")):
        shown = shown.replace(code, sup)
    if ucum in _MICRO:
        shown = shown.replace("u", "µ")
    return shown.replace("m[IU]/L", "mIU/L").replace("{1.73_m2}", "1.73 m²")
