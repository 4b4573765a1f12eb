"""The analyte knowledge base: load `knowledge/analytes.yaml` and answer "which test is this name?".

Contract: `load_knowledge()` returns a validated, immutable `KnowledgeBase` (unknown keys, unknown units,
duplicate codes, bad LOINC check digits and undeclared alias collisions fail at load with a message
naming the entry). `KnowledgeBase.match(text)` never guesses: it returns every analyte whose alias equals
the text after these normalisations, best first, or [] when the name is unknown:
  key: NFKD, accents stripped, casefolded, '&' -> 'and', punctuation -> space ('%' and '#' kept as
  tokens at the end), runs of single letters joined ("S.G.O.T." -> "sgot"), spaces collapsed;
  score 1.0: the key is an alias; 0.98: equal without spaces ("Hemo globin");
  0.95 / 0.93 / 0.91: equal after one, two or three of: a Nordic specimen prefix or Danish suffix dropped
  ("P-ALAT", "Kreatinin;P"), parentheticals removed or one used alone ("Hemoglobin (HB)", "Total
  Leukocyte Count (TLC)"), specimen or method words dropped at the ends (", serum", "Calculated");
  a dropped part holding a blocking word ("(ionized)", "(free)", "(urine)") forbids that reading;
  with ocr=True only: 0.9 equal after reading 0/1 as o/l; 0.85 / 0.75 one or two Damerau-Levenshtein
  edits from an alias of 6+ / 12+ characters, never changing a digit, '%' or '#' (exact=False).
Names shared by a declared pair (percent and absolute differential counts) return both; `resolve` picks
by unit. Panel headings ("Lipid Profile", "Emocromo") never match an analyte: see `is_panel_heading`.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from parsers.units import YAML_LOADER, unit_table

log = logging.getLogger(__name__)

ANALYTES_PATH = Path(__file__).parent / "knowledge" / "analytes.yaml"
PANELS = frozenset({"liver", "coagulation", "cbc", "differential", "metabolic", "lipids", "thyroid",
                    "diabetes", "inflammation"})
VALUE_KINDS = frozenset({"numeric", "ratio", "numeric_or_text"})
"""numeric_or_text: the test is also reported qualitatively by some labs ('CRP: Negative')."""
LANGUAGES = frozenset({"en", "es", "pt", "it", "fr", "de", "nordic"})
_TOP = {"sources", "ambiguous", "matching", "headings", "analytes"}
_MATCHING = {"specimen_prefixes", "specimen_suffixes", "ignorable_words", "leading_words", "joining_words",
             "blocking_words", "percent_words"}
_REQUIRED = {"code", "name", "loinc", "panel", "unit", "units", "bounds", "value_kind", "aliases"}
_OPTIONAL = {"loinc_by_unit", "typical"}
_LOINC = re.compile(r"\d{1,7}-\d")
_CODE = re.compile(r"[a-z][a-z0-9_]*")
_FRACTION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*")
_PAREN = re.compile(r"[(\[]([^)\]]*)(?:[)\]]|$)")
_WORD = re.compile(r"[^\W_]+")
_EDGE = " ,;:-–—/.*"
_MAX_TEXT = 120
_FOLD = str.maketrans("01", "ol")
_ASCII = str.maketrans({c: " " for c in string.punctuation if c not in "%#&"})
"""Punctuation -> space, one character to one: keeps str.translate on its fast ASCII path."""
_UNICODE = str.maketrans({**{c: " " for c in "–—‐’‘´`·•°¬«»“”\u00a0"}, "ø": "o", "æ": "ae", "œ": "oe",
                          "ð": "d", "þ": "th", "ł": "l", "γ": " gamma ", "α": " alpha ", "β": " beta "})


class KnowledgeError(ValueError):
    """analytes.yaml is malformed: the message names the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Analyte:
    """One test the project can code: LOINC, canonical UCUM unit, accepted units, limits and names."""

    code: str
    name: str
    loinc: str
    loinc_by_unit: Mapping[str, str] = field(compare=False)
    panel: str
    unit: str
    units: Mapping[str, float] = field(compare=False)
    """Accepted UCUM unit -> factor to the canonical unit (canonical = value * factor + offset)."""
    bounds: tuple[float, float]
    typical: tuple[float, float] | None
    value_kind: str
    aliases: tuple[str, ...] = field(compare=False)
    offsets: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    """Affine offsets for the few non-proportional units (HbA1c IFCC mmol/mol -> NGSP %)."""


@dataclass(frozen=True, slots=True)
class NameMatch:
    """One reading of a printed name as an analyte, with how it was reached."""

    analyte: Analyte
    alias: str
    """The alias (as written in analytes.yaml) the text matched."""
    exact: bool
    score: float
    matched: str
    """The part of the input text that matched (the rest was a prefix, a method or specimen word...)."""


@dataclass(frozen=True, slots=True)
class _Rules:
    prefix: re.Pattern[str]
    suffix: re.Pattern[str]
    ignorable: frozenset[str]
    leading: frozenset[str]
    joining: frozenset[str]
    blocking: frozenset[str]
    percent: frozenset[str]


def _key(text: str, percent: frozenset[str] = frozenset()) -> str:
    """The normalised lookup key of a name (see module docstring)."""
    if text.isascii():
        text = text.casefold()
    else:
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
        text = text.casefold().translate(_UNICODE)
    text = text.translate(_ASCII)
    if "%" in text or "#" in text or "&" in text:
        text = text.replace("%", " % ").replace("#", " # ").replace("&", " and ")
    tokens = text.split()
    if not tokens:
        return ""
    if percent and not percent.isdisjoint(tokens):
        tokens = ["%" if t in percent else t for t in tokens]
    if len(tokens) > 1 and min(map(len, tokens)) == 1:
        merged: list[str] = []
        run = False
        for t in tokens:
            single = len(t) == 1 and t.isalnum()
            if single and run:
                merged[-1] += t
            else:
                merged.append(t)
            run = single and (run or len(merged[-1]) == 1)
        tokens = merged
    if "%" in tokens or "#" in tokens:
        tokens = [t for t in tokens if t not in "%#"] + [t for t in tokens if t in "%#"]
    return " ".join(tokens)


def _loinc_ok(code: object) -> bool:
    """LOINC code format and mod-10 check digit (the Luhn variant of the LOINC manual)."""
    if not isinstance(code, str) or not _LOINC.fullmatch(code):
        return False
    body, check = code.split("-")
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(check)


def _factor(value: object, where: str) -> tuple[float, float]:
    """A unit factor written as a number, 'a/b', or {factor, offset}; -> (factor, offset)."""
    spec, offset = value, 0.0
    if isinstance(value, dict) and set(value) == {"factor", "offset"}:
        spec, offset = value["factor"], _number(value["offset"], where)
    if isinstance(spec, str) and (m := _FRACTION.fullmatch(spec)):
        factor = float(m.group(1)) / float(m.group(2))
    else:
        factor = _number(spec, where)
    if not (factor > 0 and math.isfinite(factor)):
        raise KnowledgeError(f"{where}: factor must be a positive number, 'a/b' or {{factor, offset}}")
    return factor, offset


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnowledgeError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _pair(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise KnowledgeError(f"{where}: expected [low, high]")
    low, high = _number(value[0], where), _number(value[1], where)
    if low > high:
        raise KnowledgeError(f"{where}: low {low} > high {high}")
    return low, high


def _parse_analyte(raw: object, known_units: Mapping[str, str]) -> Analyte:
    """One validated analyte (aliases of all languages flattened, first spelling kept)."""
    if not isinstance(raw, dict):
        raise KnowledgeError(f"analyte entry must be a mapping, got {raw!r}")
    code = raw.get("code", "?")
    where = f"analyte {code}"
    if missing := _REQUIRED - set(raw):
        raise KnowledgeError(f"{where}: missing {sorted(missing)}")
    if unknown := set(raw) - _REQUIRED - _OPTIONAL:
        raise KnowledgeError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise KnowledgeError(f"{where}: code must be lower_snake_case")
    if raw["panel"] not in PANELS or raw["value_kind"] not in VALUE_KINDS:
        raise KnowledgeError(f"{where}: bad panel {raw['panel']!r} or value_kind {raw['value_kind']!r}")
    if not _loinc_ok(raw["loinc"]):
        raise KnowledgeError(f"{where}: {raw['loinc']!r} is not a valid LOINC code (format or check digit)")
    units: dict[str, float] = {}
    offsets: dict[str, float] = {}
    if not isinstance(raw["units"], dict) or not raw["units"]:
        raise KnowledgeError(f"{where}: units must be a non-empty mapping of UCUM -> factor")
    for ucum, spec in raw["units"].items():
        if ucum not in known_units:
            raise KnowledgeError(f"{where}: unit {ucum!r} is not in units.yaml")
        units[ucum], offset = _factor(spec, f"{where} unit {ucum}")
        if offset:
            offsets[ucum] = offset
    if units.get(raw["unit"]) != 1.0 or raw["unit"] in offsets:
        raise KnowledgeError(f"{where}: canonical unit {raw['unit']!r} must be listed in units with factor 1")
    by_unit = raw.get("loinc_by_unit") or {}
    if not isinstance(by_unit, dict):
        raise KnowledgeError(f"{where}: loinc_by_unit must be a mapping")
    for ucum, alt in by_unit.items():
        if ucum not in units or not _loinc_ok(alt) or alt == raw["loinc"]:
            raise KnowledgeError(f"{where}: loinc_by_unit {ucum}: {alt!r} needs an accepted unit and "
                                 "a valid LOINC other than the default")
    bounds = _pair(raw["bounds"], f"{where} bounds")
    typical = _pair(raw["typical"], f"{where} typical") if raw.get("typical") is not None else None
    if typical and not bounds[0] <= typical[0] <= typical[1] <= bounds[1]:
        raise KnowledgeError(f"{where}: typical {typical} lies outside bounds {bounds}")
    aliases = raw["aliases"]
    if not isinstance(aliases, dict) or not set(aliases) <= LANGUAGES:
        raise KnowledgeError(f"{where}: aliases must map languages {sorted(LANGUAGES)} to lists")
    for lang, names in aliases.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise KnowledgeError(f"{where}: aliases.{lang} must be a list of non-empty strings")
    flat = tuple(dict.fromkeys(n for names in aliases.values() for n in names))
    return Analyte(
        code=code, name=str(raw["name"]), loinc=raw["loinc"], loinc_by_unit=MappingProxyType(dict(by_unit)),
        panel=raw["panel"], unit=raw["unit"], units=MappingProxyType(units), bounds=bounds, typical=typical,
        value_kind=raw["value_kind"], aliases=flat, offsets=MappingProxyType(offsets),
    )


def _rules(raw: object) -> _Rules:
    """The matching section: specimen prefixes/suffixes and word lists, normalised like keys."""
    if not isinstance(raw, dict) or set(raw) != _MATCHING:
        raise KnowledgeError(f"matching: needs exactly {sorted(_MATCHING)}")
    lists = {}
    for name in _MATCHING:
        words = raw[name]
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise KnowledgeError(f"matching.{name}: must be a list of non-empty strings")
        lists[name] = words
    alternation = "|".join(re.escape(p) for p in sorted(lists["specimen_prefixes"], key=len, reverse=True))
    suffixes = "|".join(re.escape(p) for p in sorted(lists["specimen_suffixes"], key=len, reverse=True))

    def norm(name: str) -> frozenset[str]:
        return frozenset(_key(w) for w in lists[name])

    return _Rules(
        # NPU style: a system ('P', 'Ery(B)') before the dash, a kind of quantity ('stofk.') after the ';'
        prefix=re.compile(rf"^\s*(?:{alternation}|[^\W\d_]{{2,4}}\([^\W\d_]{{1,3}}\))\s?[-–—]\s*(?=\S)", re.IGNORECASE),
        suffix=re.compile(rf"\s*;\s*(?:{suffixes}|[^\W\d_.]+\.(?:\s?[^\W\d_.]+\.?)?|[^\W\d_]+)\s*$"),
        ignorable=norm("ignorable_words"), leading=norm("leading_words"), joining=norm("joining_words"),
        blocking=norm("blocking_words"), percent=norm("percent_words"),
    )


def _deletes(word: str, depth: int) -> set[str]:
    """All strings reachable from `word` by deleting up to `depth` characters (SymSpell index keys)."""
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _osa(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment (Damerau-Levenshtein) distance, or limit + 1 once it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, before[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        before, prev = prev, cur
    return prev[-1]


def _marks(key: str) -> str:
    """Digits and % / # of a key, which a fuzzy match must leave unchanged (T3 vs T4)."""
    return "".join(sorted(ch for ch in key if ch.isdigit() or ch in "%#"))


def _limit(key: str) -> int:
    return 2 if len(key) >= 12 else 1


class _FuzzyIndex:
    """Symmetric-delete (SymSpell) index over alias keys of 6+ characters, stored as sorted hash arrays.

    Deletion strings are kept only as their hashes (int64, with int32 owners): ~3 MB instead of ~45 MB of
    strings. A hash collision only adds a candidate, which the OSA check then rejects."""

    def __init__(self, keys: Iterable[str]) -> None:
        import numpy as np  # lazy: only OCR mode builds this index

        self._keys = [k for k in keys if len(k) >= 6]
        self._longest = max(map(len, self._keys), default=0)
        hashes: list[int] = []
        owners: list[int] = []
        for i, key in enumerate(self._keys):
            deletes = _deletes(key, _limit(key))
            hashes.extend(map(hash, deletes))
            owners.extend([i] * len(deletes))
        order = np.argsort(np.array(hashes, dtype=np.int64), kind="stable")
        self._hashes = np.array(hashes, dtype=np.int64)[order]
        self._owners = np.array(owners, dtype=np.int32)[order]

    def near(self, query: str) -> list[tuple[str, int]]:
        """Alias keys within their edit limit of `query` (distance >= 1), with the distance."""
        import numpy as np

        if not 5 <= len(query) <= self._longest + 2:
            return []
        probes = np.fromiter((hash(d) for d in _deletes(query, 2 if len(query) >= 10 else 1)), dtype=np.int64)
        lo = np.searchsorted(self._hashes, probes, side="left")
        hi = np.searchsorted(self._hashes, probes, side="right")
        candidates = {int(i) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a
                      for i in self._owners[a:b]}
        marks = _marks(query)
        out = []
        for key in (self._keys[i] for i in candidates):
            dist = _osa(query, key, _limit(key))
            if 0 < dist <= _limit(key) and _marks(key) == marks:
                out.append((key, dist))
        return out


class KnowledgeBase:
    """Analytes by code and by normalised alias; answers name, unit and plausibility questions."""

    def __init__(self, analytes: Sequence[Analyte], aliases: Mapping[str, Sequence[tuple[Analyte, str]]],
                 rules: _Rules, headings: Mapping[str, str], filler: frozenset[str]) -> None:
        self.analytes: tuple[Analyte, ...] = tuple(analytes)
        self._by_code = {a.code: a for a in self.analytes}
        self._order = {a.code: i for i, a in enumerate(self.analytes)}
        self._exact = {k: tuple(v) for k, v in aliases.items()}
        self._compact: dict[str, tuple[tuple[Analyte, str], ...]] = {}
        self._folded: dict[str, tuple[tuple[Analyte, str], ...]] = {}
        self._rules = rules
        self._headings = dict(headings)
        self._filler = filler | rules.ignorable
        self._fuzzy: _FuzzyIndex | None = None
        self._edge_words = rules.ignorable | rules.leading
        for key, hits in self._exact.items():
            self._compact.setdefault(key.replace(" ", ""), hits)
            self._folded.setdefault(key.replace(" ", "").translate(_FOLD), hits)
        self._cached = functools.lru_cache(maxsize=16384)(self._match)

    # -- names -------------------------------------------------------------------------------------
    def key(self, text: str) -> str:
        """The normalised lookup key of `text` (exposed for callers that index names themselves)."""
        return _key(text, self._rules.percent)

    def match(self, text: str, *, ocr: bool = False) -> list[NameMatch]:
        """Analytes this name denotes, best first; [] when it is unknown or a panel heading."""
        return list(self._cached(text, ocr))

    def _match(self, text: str, ocr: bool) -> tuple[NameMatch, ...]:
        if not text or len(text) > _MAX_TEXT:
            return ()
        key = self.key(text)
        if not key:
            return ()
        matched = text.strip()
        if hits := self._exact.get(key):
            return tuple(NameMatch(analyte, alias, True, 1.0, matched) for analyte, alias in hits)
        if hits := self._compact.get(key.replace(" ", "")):
            return tuple(NameMatch(analyte, alias, True, 0.98, matched) for analyte, alias in hits)
        first, last = key.split(" ", 1)[0], key.rstrip(" %#").rsplit(" ", 1)[-1]
        structural = ("(" in text or "[" in text or ";" in text or first in self._edge_words
                      or last in self._rules.ignorable or self._rules.prefix.match(text) is not None)
        if not (structural or ocr) or self.is_panel_heading(text):
            return ()
        levels = self._variants(text) if structural else []
        for depth, variants in enumerate(levels):
            found = []
            for raw in variants:
                vkey = self.key(raw)
                hits = self._exact.get(vkey) or self._compact.get(vkey.replace(" ", ""))
                if hits:
                    found.append((hits, 0.95 - 0.02 * depth, raw))
            if found:
                return self._merge(found, exact=True)
        if not ocr:
            return ()
        return self._fuzzy_match([matched, *(v for level in levels for v in level)])

    def _fuzzy_match(self, raws: Sequence[str]) -> tuple[NameMatch, ...]:
        """OCR mode: 0/1 read as o/l, then Damerau-Levenshtein neighbours of every reading."""
        if self._fuzzy is None:
            self._fuzzy = _FuzzyIndex(self._exact)
        folded = []
        for raw in raws:
            hits = self._folded.get(self.key(raw).replace(" ", "").translate(_FOLD))
            if hits:
                folded.append((hits, 0.9, raw))
        if folded:
            return self._merge(folded, exact=False)
        near: list[tuple[tuple[tuple[Analyte, str], ...], float, str]] = []
        for raw in raws:
            near.extend((self._exact[k], 0.95 - 0.1 * d, raw) for k, d in self._fuzzy.near(self.key(raw)))
        if not near:
            return ()
        best = max(score for _, score, _ in near)
        return self._merge([n for n in near if n[1] == best], exact=False)

    def _merge(self, found: Iterable[tuple[Sequence[tuple[Analyte, str]], float, str]], *,
               exact: bool) -> tuple[NameMatch, ...]:
        """One NameMatch per analyte (its best reading), best score first, then file order."""
        best: dict[str, NameMatch] = {}
        for hits, score, raw in found:
            for analyte, alias in hits:
                old = best.get(analyte.code)
                if old is None or score > old.score:
                    best[analyte.code] = NameMatch(analyte, alias, exact, round(score, 4), raw.strip(_EDGE))
        return tuple(sorted(best.values(), key=lambda m: (-m.score, self._order[m.analyte.code])))

    def _variants(self, text: str) -> list[list[str]]:
        """Readings of `text` after 1, 2 and 3 structural drops (prefix, parenthetical, edge words)."""
        levels: list[list[str]] = []
        seen = {text.strip()}
        frontier = [text]
        for _ in range(3):
            level = []
            for raw in frontier:
                for variant in self._drops(raw):
                    variant = " ".join(variant.split()).strip(_EDGE)
                    if variant and variant not in seen:
                        seen.add(variant)
                        level.append(variant)
            if not level:
                break
            levels.append(level)
            frontier = level
        return levels

    def _drops(self, raw: str) -> Iterable[str]:
        """Each single structural drop applicable to `raw`."""
        rules = self._rules
        if m := rules.prefix.match(raw):
            yield raw[m.end():]
        if m := rules.suffix.search(raw):
            yield raw[:m.start()]
        groups = list(_PAREN.finditer(raw))
        if groups:
            outside = _PAREN.sub(" ", raw)
            inside = " ".join(g.group(1) for g in groups)
            if not self._blocked(inside, kept=outside):
                yield outside
            if not self._blocked(outside, kept=inside):
                yield from (g.group(1) for g in groups)
        stripped = self._strip_edges(raw)
        if stripped != raw:
            yield stripped

    def _blocked(self, dropped: str, *, kept: str = "") -> bool:
        """Dropping `dropped` would lose a word that changes the analyte ('(free)', '(urine)'), unless the
        kept part says it too ('Tiroxina livre (T4 livre)')."""
        lost = set(self.key(dropped).split()) - set(self.key(kept).split())
        return not self._rules.blocking.isdisjoint(lost)

    def _strip_edges(self, raw: str) -> str:
        """Drop specimen/method words (and joining words next to them) at both ends; keep marks like '%'."""
        words = [(m.start(), self.key(m.group())) for m in _WORD.finditer(raw)]
        rules = self._rules
        start, end = 0, len(words)
        while start < end and words[start][1] in self._edge_words:
            start += 1
        dropped = False
        while end > start:
            word = words[end - 1][1]
            if not (word in rules.ignorable or (dropped and word in rules.joining)):
                break
            dropped = dropped or word in rules.ignorable
            end -= 1
        if start == end:
            return ""
        return raw[words[start][0] if start else 0:words[end][0] if end < len(words) else len(raw)]

    def is_panel_heading(self, text: str) -> str | None:
        """The panel a heading line names ("LIVER FUNCTION TEST" -> "liver"), else None."""
        if not text or len(text) > _MAX_TEXT:
            return None
        groups = [g.group(1) for g in _PAREN.finditer(text)]
        outside = _PAREN.sub(" ", text)
        for part in (text, outside, *groups, *re.split(r"[;,:/|]", outside)):
            stem = " ".join(t for t in self.key(part).split() if t not in self._filler)
            if stem and (panel := self._headings.get(stem)):
                return panel
        return None

    # -- units and values --------------------------------------------------------------------------
    def resolve(self, matches: Sequence[NameMatch], ucum: str | None) -> NameMatch | None:
        """The match the unit supports; None when it fits none or several analytes equally well."""
        fitting = [m for m in matches if self.unit_compatible(m.analyte, ucum)]
        if not fitting:
            return None
        best = max(m.score for m in fitting)
        top = [m for m in fitting if m.score == best]
        return top[0] if len({m.analyte.code for m in top}) == 1 else None

    def unit_compatible(self, analyte: Analyte, ucum: str | None) -> bool:
        """True when the analyte is reported in this unit; no printed unit (None) contradicts nothing."""
        return ucum is None or ucum in analyte.units

    def loinc_for(self, analyte: Analyte, ucum: str | None) -> str:
        """The LOINC code for a result in this unit (molar codes where the scope lists them)."""
        return analyte.loinc_by_unit.get(ucum, analyte.loinc) if ucum else analyte.loinc

    def to_canonical(self, analyte: Analyte, value: float, ucum: str) -> float | None:
        """`value` in the analyte's canonical unit, or None when the unit is not one it accepts."""
        factor = analyte.units.get(ucum)
        if factor is None:
            return None
        return value * factor + analyte.offsets.get(ucum, 0.0)

    def plausible(self, analyte: Analyte, value: float, ucum: str | None) -> bool:
        """Within the physiological bounds after conversion; with no unit, in any accepted unit."""
        if not math.isfinite(value):
            return False
        low, high = analyte.bounds
        for unit in (ucum,) if ucum is not None else tuple(analyte.units):
            canonical = self.to_canonical(analyte, value, unit)
            if canonical is not None and low <= canonical <= high:
                return True
        return False

    def get(self, code: str) -> Analyte:
        """The analyte with this canonical code; KeyError names an unknown code."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown analyte code {code!r}") from None


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=YAML_LOADER)
    if not isinstance(data, dict) or set(data) != _TOP:
        raise KnowledgeError(f"{path.name}: top level needs exactly {sorted(_TOP)}")
    return data


def _build(path: Path) -> KnowledgeBase:
    """Parse, validate and index analytes.yaml."""
    data = _read(path)
    rules = _rules(data["matching"])
    analytes: list[Analyte] = []
    if not isinstance(data["analytes"], list) or not isinstance(data["ambiguous"], list):
        raise KnowledgeError("'analytes' and 'ambiguous' must be lists")
    for raw in data["analytes"]:
        analytes.append(_parse_analyte(raw, unit_table().dimensions))
    codes = [a.code for a in analytes]
    if len(set(codes)) != len(codes):
        raise KnowledgeError(f"duplicate analyte codes: {sorted({c for c in codes if codes.count(c) > 1})}")
    loincs = [c for a in analytes for c in (a.loinc, *a.loinc_by_unit.values())]
    if len(set(loincs)) != len(loincs):
        raise KnowledgeError(f"duplicate LOINC codes: {sorted({c for c in loincs if loincs.count(c) > 1})}")
    by_code = {a.code: a for a in analytes}
    pairs = set()
    for pair in data["ambiguous"]:
        if not (isinstance(pair, list) and len(pair) == 2 and set(pair) <= set(by_code)):
            raise KnowledgeError(f"ambiguous: {pair!r} must be a pair of known analyte codes")
        if set(by_code[pair[0]].units) & set(by_code[pair[1]].units):
            raise KnowledgeError(f"ambiguous: {pair} share a unit, so resolve() could never tell them apart")
        pairs.add(frozenset(pair))
    index: dict[str, list[tuple[Analyte, str]]] = {}
    owners: tuple[dict[str, set[str]], dict[str, set[str]]] = ({}, {})  # by key, by key without spaces
    for analyte in analytes:
        for alias in analyte.aliases:
            key = _key(alias, rules.percent)
            if not key:
                raise KnowledgeError(f"analyte {analyte.code}: alias {alias!r} normalises to nothing")
            for k, table in zip((key, key.replace(" ", "")), owners, strict=True):
                for other in table.setdefault(k, set()) - {analyte.code}:
                    if frozenset((other, analyte.code)) not in pairs:
                        raise KnowledgeError(f"alias {alias!r} ({k!r}) names both {other} and "
                                             f"{analyte.code}; declare the pair under 'ambiguous' or drop it")
                table[k].add(analyte.code)
            if all(a is not analyte for a, _ in index.get(key, ())):
                index.setdefault(key, []).append((analyte, alias))
    headings, filler = _headings(data["headings"], rules)
    kb = KnowledgeBase(analytes, index, rules, headings, filler)
    for key in index:
        if panel := kb.is_panel_heading(key):
            raise KnowledgeError(f"alias key {key!r} is also a {panel} panel heading")
    log.debug("knowledge base: %d analytes, %d alias keys, %d headings",
              len(analytes), len(index), len(headings))
    return kb


def _headings(raw: object, rules: _Rules) -> tuple[dict[str, str], frozenset[str]]:
    """Heading stem -> panel, and the filler words dropped before lookup."""
    if not isinstance(raw, dict) or set(raw) != {"filler", "panels"} or not isinstance(raw["panels"], dict):
        raise KnowledgeError("headings: needs exactly 'filler' (list) and 'panels' (panel -> list)")
    if not isinstance(raw["filler"], list) or not all(isinstance(w, str) for w in raw["filler"]):
        raise KnowledgeError("headings.filler: must be a list of strings (quote YAML words like 'no')")
    filler = frozenset(_key(w) for w in raw["filler"])
    drop = filler | rules.ignorable
    stems: dict[str, str] = {}
    for panel, names in raw["panels"].items():
        if panel not in PANELS or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise KnowledgeError(f"headings.panels: unknown panel {panel!r} or not a list of strings")
        for name in names:
            stem = " ".join(t for t in _key(name, rules.percent).split() if t not in drop)
            if not stem or stems.setdefault(stem, panel) != panel:
                raise KnowledgeError(f"headings: {name!r} is empty after filler removal or names two panels")
    return stems, filler


@functools.cache
def _default() -> KnowledgeBase:
    return _build(ANALYTES_PATH)


def load_knowledge(path: Path | None = None) -> KnowledgeBase:
    """The knowledge base from `path`, or the packaged one (built once and cached)."""
    return _default() if path is None or path == ANALYTES_PATH else _build(path)


def is_panel_heading(text: str) -> str | None:
    """The panel a heading line names, using the packaged knowledge base."""
    return _default().is_panel_heading(text)
