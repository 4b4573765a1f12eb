"""Conversion of a value to its analyte's canonical unit, delegated to the project knowledge base.

Contract: ``to_canonical(analyte, value, ucum)`` returns the value in the analyte's canonical unit (the
``unit`` of ``parsers/knowledge.py``'s analyte), or None when the unit is not convertible for that analyte:
the caller must then refuse the comparison, never guess. Factors come from ``load_knowledge()`` (its
analytes.yaml carries them with their sources). Two local additions only:

- ``ALIASES``: UCUM spellings the knowledge base does not list (it normalises printed units upstream), all
  identities by definition (IU/L = U/L, mEq/L = mmol/L for monovalent ions, um3 = fL, unitless INR).
- ``REFUSED``: conversions the engine will not make because /work/shared/clinical.md marks them [check]
  (HbA1c IFCC mmol/mol <-> NGSP %), and any affine (offset) conversion, which is not a factor.

Analytes the knowledge base does not know are compared only in their own printed unit (timeline.py).
"""

from __future__ import annotations

from parsers.knowledge import Analyte, load_knowledge

from .sources import UNIT_CONVERSIONS, UNIT_DEFINITIONS

ALIASES: dict[str, dict[str, float]] = {
    **{a: {"IU/L": 1.0, "[IU]/L": 1.0} for a in ("alt", "ast", "alp", "ggt", "ldh")},
    "inr": {"{INR}": 1.0, "{ratio}": 1.0, "1": 1.0},
    "sodium": {"mEq/L": 1.0, "meq/L": 1.0},
    "potassium": {"mEq/L": 1.0, "meq/L": 1.0},
    "chloride": {"mEq/L": 1.0, "meq/L": 1.0},
    "mcv": {"um3": 1.0},
}
"""Identity spellings (UNIT_DEFINITIONS); multiply by the factor to reach the canonical unit."""

REFUSED: dict[tuple[str, str], str] = {
    ("hba1c", "mmol/mol"): "HbA1c IFCC (mmol/mol) to NGSP (%) is marked [check] in clinical.md",
}

SOURCES = (UNIT_CONVERSIONS, UNIT_DEFINITIONS, "parsers/knowledge/analytes.yaml (project knowledge base)")

UNITLESS = frozenset({"{INR}", "{ratio}", "1"})


def _analyte(code: str) -> Analyte | None:
    """The knowledge-base entry of an analyte code, or None when the knowledge base does not know it."""
    try:
        return load_knowledge().get(code)
    except KeyError:
        return None


def canonical_unit(analyte: str) -> str | None:
    """The unit every value of this analyte is shown and compared in; None when the engine has none."""
    entry = _analyte(analyte)
    return entry.unit if entry is not None else None


def factor(analyte: str, ucum: str | None) -> float | None:
    """Factor from ``ucum`` to the canonical unit, or None when the conversion is not known or refused."""
    entry = _analyte(analyte)
    if entry is None:
        return None
    if ucum is None:
        # Only a unitless analyte (INR) may be printed without a unit.
        return 1.0 if entry.unit in UNITLESS else None
    if (analyte, ucum) in REFUSED or entry.offsets.get(ucum):
        return None
    if ucum in entry.units:
        return entry.units[ucum]
    if ucum == entry.unit:
        return 1.0
    return ALIASES.get(analyte, {}).get(ucum)


def refusal_reason(analyte: str, ucum: str | None) -> str | None:
    """Why a conversion is refused on purpose (shown in the comparability note), else None."""
    return REFUSED.get((analyte, ucum or ""))


def to_canonical(analyte: str, value: float, ucum: str | None) -> float | None:
    """``value`` in ``ucum`` expressed in the analyte's canonical unit, or None when not convertible."""
    f = factor(analyte, ucum)
    return None if f is None else value * f


def convert(analyte: str, value: float, from_ucum: str | None, to_ucum: str) -> float | None:
    """Convert between any two units known for the analyte (used by scores that need SI units)."""
    f_from = factor(analyte, from_ucum)
    f_to = factor(analyte, to_ucum)
    if f_from is None or f_to is None:
        return None
    return value * f_from / f_to
