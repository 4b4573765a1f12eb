"""Conversion of a value to its analyte's canonical unit, delegated to the project knowledge base.

Contract: ``conversion(analyte, ucum)`` gives the ``(factor, offset)`` that takes a value printed in ``ucum`` to
the analyte's canonical unit (the ``unit`` of ``parsers/knowledge.py``'s analyte: canonical = value x factor
+ offset), or None when the unit is not convertible for that analyte: the caller must then refuse the
comparison, never guess. ``to_canonical`` and ``convert`` apply it. Factors and offsets come from
``load_knowledge()`` (its analytes.yaml carries them with their sources). Local additions only:

- ``ALIASES``: UCUM spellings the knowledge base does not list (it normalises printed units upstream), all
  identities by definition (IU/L = U/L, mEq/L = mmol/L for monovalent ions, um3 = fL, unitless INR).
- Affine conversions (an offset, not only a factor): the knowledge base has one, HbA1c IFCC mmol/mol ->
  NGSP %. /work/shared/clinical.md marks its formula [check]; it is used because it is now confirmed from
  its primary sources (``NGSP_HBA1C``: the NGSP's published IFCC-NGSP master equation, NGSP % = 0.09148 x
  IFCC + 2.152, established by Hoelzel et al., Clin Chem 2004;50:166). Percent changes of converted values
  are computed on the NGSP % scale, the scale the sourced HbA1c CVI is applied to.
- ``REFUSED``: conversions the engine will not make on purpose (with the reason shown to the reader);
  empty now that the HbA1c equation is sourced, kept so a refusal stays data.

Analytes the knowledge base does not know are compared only in their own printed unit (timeline.py).
"""

from __future__ import annotations

from parsers.knowledge import Analyte, load_knowledge

from .sources import NGSP_HBA1C, UNIT_CONVERSIONS, UNIT_DEFINITIONS

ALIASES: dict[str, dict[str, float]] = {
    **{a: {"IU/L": 1.0, "[IU]/L": 1.0} for a in ("alt", "ast", "alp", "ggt", "ldh")},
    "inr": {"{INR}": 1.0, "{ratio}": 1.0, "1": 1.0},
    "sodium": {"mEq/L": 1.0, "meq/L": 1.0},
    "potassium": {"mEq/L": 1.0, "meq/L": 1.0},
    "chloride": {"mEq/L": 1.0, "meq/L": 1.0},
    "mcv": {"um3": 1.0},
}
"""Identity spellings (UNIT_DEFINITIONS); multiply by the factor to reach the canonical unit."""

REFUSED: dict[tuple[str, str], str] = {}
"""(analyte, UCUM) -> why the engine refuses that conversion on purpose."""

AFFINE_SOURCES: dict[str, str] = {"hba1c": NGSP_HBA1C}
"""Analytes whose offset conversion is confirmed from a primary source; any other offset is refused."""
UNSOURCED_AFFINE = "conversion with an offset that has no confirmed primary source"

SOURCES = (
    UNIT_CONVERSIONS,
    UNIT_DEFINITIONS,
    NGSP_HBA1C,
    "parsers/knowledge/analytes.yaml (project knowledge base)",
)

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


def conversion(analyte: str, ucum: str | None) -> tuple[float, float] | None:
    """(factor, offset) from ``ucum`` to the canonical unit, or None when not known or refused."""
    entry = _analyte(analyte)
    if entry is None:
        return None
    if ucum is None:
        # Only a unitless analyte (INR) may be printed without a unit.
        return (1.0, 0.0) if entry.unit in UNITLESS else None
    if (analyte, ucum) in REFUSED:
        return None
    if ucum in entry.units:
        offset = entry.offsets.get(ucum, 0.0)
        if offset and analyte not in AFFINE_SOURCES:
            return None
        return entry.units[ucum], offset
    if ucum == entry.unit:
        return 1.0, 0.0
    alias = ALIASES.get(analyte, {}).get(ucum)
    return None if alias is None else (alias, 0.0)


def affine_source(analyte: str, ucum: str | None) -> str | None:
    """The citation of an affine (offset) conversion, shown with every value converted by it."""
    conv = conversion(analyte, ucum)
    return AFFINE_SOURCES.get(analyte) if conv is not None and conv[1] != 0.0 else None


def refusal_reason(analyte: str, ucum: str | None) -> str | None:
    """Why a conversion is refused on purpose (shown in the comparability note), else None."""
    entry = _analyte(analyte)
    if entry is not None and ucum is not None and entry.offsets.get(ucum) and analyte not in AFFINE_SOURCES:
        return UNSOURCED_AFFINE
    return REFUSED.get((analyte, ucum or ""))


def to_canonical(analyte: str, value: float, ucum: str | None) -> float | None:
    """``value`` in ``ucum`` expressed in the analyte's canonical unit, or None when not convertible."""
    conv = conversion(analyte, ucum)
    return None if conv is None else value * conv[0] + conv[1]


def convert(analyte: str, value: float, from_ucum: str | None, to_ucum: str) -> float | None:
    """Convert between any two units known for the analyte (used by scores that need SI units)."""
    src, dst = conversion(analyte, from_ucum), conversion(analyte, to_ucum)
    if src is None or dst is None:
        return None
    return (value * src[0] + src[1] - dst[1]) / dst[0]
