"""Printed lab units -> UCUM.

Contract: `normalise_unit(printed)` maps a unit as a lab prints it ("mg/dl", "x10^3/µL", "thou/mm3",
"mEq/L", "µIU/mL") to its UCUM code and a coarse dimension (`UnitInfo`), or returns None when the text
is not a unit it knows (a number, a flag, a word). It never guesses: a spelling maps only when
`knowledge/units.yaml` lists it, after these normalisations: enclosing brackets and trailing dots
dropped, spaces removed, micro sign (U+00B5) and Greek mu (U+03BC) read as "u", "×" as "x", superscript
digits and 10e3 / 10E3 / 10*3 / 10(3) / x10^3 read as 10^3. Case is ignored except where it decides the
unit ("G/L" is 10*9/L, "g/L" is grams per litre; `unit_readings` returns both readings of such text).
With `ocr=True`, up to two OCR confusions are repaired when exactly one known unit results: the micro
sign read as p/j/y/q (or "%" after "/"), a caret read as "/" or "°", "1", "I" or "|" for "l", "0" for "o",
"rn" for "m", "//" for "/", "103" for 10^3, a stray exponent digit ("10^69/L"), "°/o" for "%"; each
repair is named in `UnitInfo.corrections`. The broken micro glyph "¼" is repaired in both modes because
it is never part of a real unit; that repair is recorded too.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from parsers.types import UnitInfo

log = logging.getLogger(__name__)

UNITS_PATH = Path(__file__).parent / "knowledge" / "units.yaml"
DIMENSIONS = frozenset({
    "enzyme", "mass_conc", "molar_conc", "eq_conc", "amount", "fraction", "ratio", "volume", "mass",
    "time", "count", "arbitrary_conc", "volume_rate_area", "volume_rate",
})
_MAX_LEN = 40
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_CHARS = str.maketrans({"µ": "u", "μ": "u", "×": "x", "⁄": "/", "∕": "/", "％": "%", "–": "-", "‐": "-"})
_SUPER_RUN = re.compile(r"(10)?([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_EXPONENT = re.compile(r"^[xX*]?10(?:\^|\*\*|\*|[eE]|\()\+?(\d{1,2})\)?(?=\D)")
_LETTER_CARET = re.compile(r"(?<=[A-Za-z])\^(?=\d)")
_ENCLOSED = ("()", "[]", "{}")
_SPELLING_START = re.compile(r"(?:10\^|1000/|x1000/|[^\d])")
_KNOWN_EXPONENTS = frozenset({"3", "5", "6", "9", "12"})
YAML_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""The C-accelerated safe loader when libyaml is present (parsing is ~10x faster), else the pure one."""


class UnitTableError(ValueError):
    """units.yaml is malformed: the message names the entry and the problem."""


@dataclass(frozen=True, slots=True)
class _Reading:
    ucum: str
    dimension: str


@dataclass(frozen=True, slots=True)
class UnitTable:
    """Compact spelling -> reading, case-sensitive and case-folded; built once from units.yaml."""

    exact: Mapping[str, _Reading]
    folded: Mapping[str, tuple[_Reading, ...]]
    dimensions: Mapping[str, str]
    """UCUM code -> dimension, for every code the table knows."""


def compact(text: str) -> tuple[str, tuple[str, ...]]:
    """Canonical spelling of a printed unit (see module docstring) and the glyph repairs it needed."""
    s = text.strip().rstrip(".,;:").strip()
    while len(s) >= 2 and s[0] + s[-1] in _ENCLOSED:
        s = s[1:-1].strip()
    fixes: tuple[str, ...] = ()
    if "¼" in s:
        s = s.replace("¼", "u")
        fixes = ("read broken glyph '¼' as micro sign",)
    s = "".join(s.translate(_CHARS).split())
    if any(ch in s for ch in "⁰¹²³⁴⁵⁶⁷⁸⁹"):
        s = _SUPER_RUN.sub(lambda m: (m.group(1) or "") + "^" + m.group(2).translate(_SUPERSCRIPT), s)
    if "^" in s:
        s = _LETTER_CARET.sub("", s)
    if "10" in s:
        s = _EXPONENT.sub(r"10^\1", s)
    return s, fixes


def _load_table(path: Path) -> UnitTable:
    """Read and validate units.yaml; raise UnitTableError naming the first problem."""
    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=YAML_LOADER)
    if not isinstance(data, dict) or set(data) != {"sources", "units"}:
        raise UnitTableError(f"{path.name}: top level must have exactly 'sources' and 'units'")
    entries = data["units"]
    if not isinstance(entries, dict):
        raise UnitTableError(f"{path.name}: 'units' must be a mapping of UCUM code -> entry")
    exact: dict[str, _Reading] = {}
    folded: dict[str, list[_Reading]] = {}
    dimensions: dict[str, str] = {}
    for ucum, entry in entries.items():
        if not isinstance(entry, dict) or set(entry) != {"dimension", "printed"}:
            raise UnitTableError(f"{path.name}: {ucum}: needs exactly 'dimension' and 'printed'")
        if entry["dimension"] not in DIMENSIONS:
            raise UnitTableError(f"{path.name}: {ucum}: unknown dimension {entry['dimension']!r}")
        printed = entry["printed"]
        if not isinstance(printed, list) or not all(isinstance(p, str) and p.strip() for p in printed):
            raise UnitTableError(f"{path.name}: {ucum}: 'printed' must be a list of non-empty strings")
        reading = _Reading(str(ucum), entry["dimension"])
        dimensions[reading.ucum] = reading.dimension
        for spelling in (reading.ucum, *printed):
            key, _ = compact(spelling)
            if not _SPELLING_START.match(key):
                raise UnitTableError(f"{path.name}: {ucum}: {spelling!r} does not look like a unit (a YAML "
                                     "flow list splits on commas: quote spellings such as '1,73 m2')")
            other = exact.setdefault(key, reading)
            if other is not reading and other.ucum != reading.ucum:
                raise UnitTableError(f"{path.name}: {spelling!r} maps to both {other.ucum} and {ucum}")
            bucket = folded.setdefault(key.casefold(), [])
            if reading not in bucket:
                bucket.append(reading)
    log.debug("unit table: %d spellings, %d UCUM codes", len(exact), len(dimensions))
    return UnitTable(
        exact=MappingProxyType(exact),
        folded=MappingProxyType({k: tuple(v) for k, v in folded.items()}),
        dimensions=MappingProxyType(dimensions),
    )


@functools.cache
def unit_table(path: Path | None = None) -> UnitTable:
    """The unit table from `path` (default: knowledge/units.yaml), loaded once per path."""
    return _load_table(path or UNITS_PATH)


def _lookup(table: UnitTable, key: str) -> tuple[_Reading, ...]:
    """Readings of one compact spelling: the exact-case one first, then case-folded alternatives."""
    hit = table.exact.get(key)
    alts = table.folded.get(key.casefold(), ())
    if hit is None:
        return alts
    return (hit, *(r for r in alts if r.ucum != hit.ucum))


def _ocr_edits(s: str) -> Iterator[tuple[str, str]]:
    """Single OCR repairs of a compact spelling: (candidate, reason)."""
    n = len(s)
    for i, ch in enumerate(s):
        nxt = s[i + 1] if i + 1 < n else ""
        prev = s[i - 1] if i else ""
        if (ch in "pjyq" or (ch == "%" and prev == "/")) and nxt and nxt in "gLlmMIUkKiE":
            yield s[:i] + "u" + s[i + 1:], f"read {ch!r} as micro sign"
        elif ch in "1I|!" and (prev.isalpha() or prev == "/" or nxt.isalpha()) and not s.startswith("10", i):
            yield s[:i] + "l" + s[i + 1:], f"read {ch!r} as 'l'"
        elif ch in "0O" and prev.isalpha() and (nxt.isalpha() or nxt == "/"):
            yield s[:i] + "o" + s[i + 1:], f"read {ch!r} as 'o'"
    if "//" in s:
        yield s.replace("//", "/"), "read '//' as '/'"
    if "rn" in s:
        yield s.replace("rn", "m"), "read 'rn' as 'm'"
    if s in {"°/o", "o/o", "0/0", "%o", "°/0", "o/0"}:
        yield "%", f"read {s!r} as '%'"
    m = re.match(r"^[xX*]?10(3|5|6|9|12)(?=/)", s)
    if m:
        yield "10^" + m.group(1) + s[m.end():], f"read '10{m.group(1)}' as 10^{m.group(1)}"
    m = re.match(r"^[xX*]?10[°'\"~A’`´/](\d{1,2})(?=/)", s)
    if m:
        yield "10^" + m.group(1) + s[m.end():], "read a damaged caret as '^'"
    m = re.match(r"^10\^(\d{2,3})(?=/)", s)
    if m and m.group(1) not in _KNOWN_EXPONENTS:
        digits = m.group(1)
        for i in range(len(digits)):
            exp = digits[:i] + digits[i + 1:]
            yield "10^" + exp + s[m.end():], f"dropped stray digit in exponent 10^{digits}"


def _ocr_repair(table: UnitTable, s: str) -> tuple[tuple[_Reading, ...], tuple[str, ...]]:
    """Readings reachable by at most two OCR edits, when they agree on one UCUM code; else ()."""
    frontier: list[tuple[str, tuple[str, ...]]] = [(s, ())]
    seen = {s}
    for _depth in range(2):
        found: dict[str, tuple[_Reading, tuple[str, ...]]] = {}
        nxt: list[tuple[str, tuple[str, ...]]] = []
        for cand, reasons in frontier:
            for edited, reason in _ocr_edits(cand):
                if edited in seen or len(seen) > 400:
                    continue
                seen.add(edited)
                why = (*reasons, reason)
                readings = _lookup(table, edited)
                if len(readings) == 1 or (readings and edited in table.exact):
                    found.setdefault(readings[0].ucum, (readings[0], why))
                nxt.append((edited, why))
        if len(found) == 1:
            reading, why = next(iter(found.values()))
            return (reading,), why
        if found:
            return (), ()
        frontier = nxt
    return (), ()


@functools.lru_cache(maxsize=4096)
def unit_readings(printed: str, *, ocr: bool = False) -> tuple[UnitInfo, ...]:
    """Every UCUM reading of a printed unit, most literal first; () when it is not a known unit."""
    if not printed or len(printed) > _MAX_LEN:
        return ()
    table = unit_table()
    key, fixes = compact(printed)
    if not key:
        return ()
    readings = _lookup(table, key)
    if not readings and ocr:
        readings, repairs = _ocr_repair(table, key)
        fixes = (*fixes, *repairs)
    text = printed.strip()
    return tuple(UnitInfo(text, r.ucum, r.dimension, fixes) for r in readings)


def normalise_unit(printed: str, *, ocr: bool = False) -> UnitInfo | None:
    """The UCUM reading of a printed unit, or None when it is unknown or its case leaves two readings."""
    readings = unit_readings(printed, ocr=ocr)
    if not readings:
        return None
    if len(readings) > 1 and compact(printed)[0] not in unit_table().exact:
        return None
    return readings[0]


_SKELETON_DROP = str.maketrans({c: None for c in "^*xX×°'\" "})
_MICRO_LIKE = str.maketrans({c: "u" for c in "µμ¼½"})


def _skeleton(text: str) -> str:
    """A damaged unit's bare shape: lower case, micro-like glyphs as 'u', carets, stars and crosses gone."""
    return text.translate(_MICRO_LIKE).translate(_SKELETON_DROP).casefold()


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (small strings only)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest_unit(printed: str, allowed: Iterable[str]) -> UnitInfo | None:
    """For a damaged unit on an OCR'd row whose test is known: the one unit valid for that test whose
    spelling is within two edits of it ('x1046/ul' -> 10*6/uL, 'cells//4L' -> /uL) or that lost its slash
    ('gL' -> g/L); None when no unit or several different units are that close. The repair is recorded, so
    the result goes to review."""
    shape = _skeleton(printed)
    if normalise_unit(printed, ocr=True) is not None:
        return None
    wanted = set(allowed)
    table = unit_table()
    if "/" not in shape and 2 <= len(shape) <= 8 and shape.isalpha():
        # the slash lost ('gL', 'mmolL': a bold scan joins it to its neighbours)
        lost = {
            r.ucum
            for spelling, r in table.exact.items()
            if r.ucum in wanted and "/" in spelling and _skeleton(spelling).replace("/", "") == shape
        }
        if len(lost) != 1:
            return None
        ucum = lost.pop()
        reason = f"damaged unit {printed!r} read as {ucum} (the unit valid for this test, its slash lost)"
        return UnitInfo(printed.strip(), ucum, table.dimensions[ucum], (reason,))
    if not 5 <= len(shape) <= 16 or "/" not in shape:
        return None
    best: dict[str, int] = {}
    for spelling, reading in table.exact.items():
        if reading.ucum in wanted:
            gap = _distance(shape, _skeleton(spelling))
            best[reading.ucum] = min(gap, best.get(reading.ucum, gap))
    limit = 1 if len(shape) <= 6 else 2
    close = sorted((gap, ucum) for ucum, gap in best.items() if gap <= limit)
    if not close or (len(close) > 1 and close[0][0] == close[1][0]):
        return None
    gap, ucum = close[0]
    reason = f"damaged unit {printed!r} read as {ucum} (the closest unit valid for this test, {gap} edits)"
    return UnitInfo(printed.strip(), ucum, table.dimensions[ucum], (reason,))


def looks_like_unit(text: str) -> bool:
    """Fast pre-check: a known unit spelling, or a short slash-shaped token with letters (a damaged unit)."""
    if not text or len(text) > _MAX_LEN:
        return False
    key, _ = compact(text)
    if not key or len(key) > 24:
        return False
    table = unit_table()
    if key in table.exact or key.casefold() in table.folded:
        return True
    return "/" in key and any(ch.isalpha() for ch in key)


def dimension_of(ucum: str) -> str | None:
    """The dimension of a UCUM code the table knows, else None."""
    return unit_table().dimensions.get(ucum)
