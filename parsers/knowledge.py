"""The analyte knowledge base: load `knowledge/analytes.yaml` and answer "which test is this name?".

Contract: `load_knowledge()` returns a validated, immutable `KnowledgeBase` (unknown keys, unknown units,
duplicate codes, bad LOINC check digits, undeclared alias collisions and alias keys that are also panel
headings fail at load with a message naming the entry; the schema is checked in `parsers.knowledge_data`).
`KnowledgeBase.match(text)` never guesses: it returns every analyte whose alias equals the text after
these normalisations, best first, or [] when the name is unknown:
  key: `parsers.knowledge_data.name_key` (accents, case, punctuation, '&', '%' and '#', "S.G.O.T.");
  score 1.0: the key is an alias; 0.98: equal without spaces ("Hemo globin");
  0.95 / 0.93 / 0.91: equal after one, two or three of: a Nordic specimen prefix or Danish suffix dropped
  ("P-ALAT", "Kreatinin;P"), parentheticals removed or one used alone ("Hemoglobin (HB)", "Total
  Leukocyte Count (TLC)"), specimen or method words dropped at the ends (", serum", "Calculated");
  a dropped part holding a blocking word ("(ionized)", "(free)", "(urine)") forbids that reading;
  with ocr=True only: 0.9 equal after reading 0/1 as o/l; 0.85 / 0.75 one or two Damerau-Levenshtein
  edits from an alias of 6+ / 12+ characters, never changing a digit, '%' or '#' (exact=False; see
  `parsers.fuzzy`).
Names shared by a declared pair (percent and absolute differential counts) return both; `resolve` picks
by unit. Panel headings ("Lipid Profile", "Emocromo") never match an analyte: see `is_panel_heading`.
`Analyte`, `NameMatch`, `KnowledgeError` and the schema constants are re-exported from
`parsers.knowledge_data`, so callers import everything from here.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from parsers.fuzzy import FuzzyIndex
from parsers.knowledge_data import (
    LANGUAGES,
    PANELS,
    VALUE_KINDS,
    Analyte,
    KnowledgeError,
    NameMatch,
    Rules,
    name_key,
    read_knowledge,
)

__all__ = [
    "ANALYTES_PATH",
    "LANGUAGES",
    "PANELS",
    "VALUE_KINDS",
    "Analyte",
    "KnowledgeBase",
    "KnowledgeError",
    "NameMatch",
    "is_panel_heading",
    "load_knowledge",
]

log = logging.getLogger(__name__)

ANALYTES_PATH = Path(__file__).parent / "knowledge" / "analytes.yaml"
_PAREN = re.compile(r"[(\[]([^)\]]*)(?:[)\]]|$)")
_WORD = re.compile(r"[^\W_]+")
_EDGE = " ,;:-–—/.*"
_MAX_TEXT = 120
_FOLD = str.maketrans("01", "ol")


class KnowledgeBase:
    """Analytes by code and by normalised alias; answers name, unit and plausibility questions."""

    def __init__(self, analytes: Sequence[Analyte], aliases: Mapping[str, Sequence[tuple[Analyte, str]]],
                 rules: Rules, headings: Mapping[str, str], filler: frozenset[str]) -> None:
        self.analytes: tuple[Analyte, ...] = tuple(analytes)
        self._by_code = {a.code: a for a in self.analytes}
        self._order = {a.code: i for i, a in enumerate(self.analytes)}
        self._exact = {k: tuple(v) for k, v in aliases.items()}
        self._compact: dict[str, tuple[tuple[Analyte, str], ...]] = {}
        self._folded: dict[str, tuple[tuple[Analyte, str], ...]] = {}
        self._rules = rules
        self._headings = dict(headings)
        self._filler = filler | rules.ignorable
        self._fuzzy: FuzzyIndex | None = None
        self._edge_words = rules.ignorable | rules.leading
        for key, hits in self._exact.items():
            self._compact.setdefault(key.replace(" ", ""), hits)
            self._folded.setdefault(key.replace(" ", "").translate(_FOLD), hits)
        self._cached = functools.lru_cache(maxsize=16384)(self._match)

    # -- names -------------------------------------------------------------------------------------
    def key(self, text: str) -> str:
        """The normalised lookup key of `text` (exposed for callers that index names themselves)."""
        return name_key(text, self._rules.percent)

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
            self._fuzzy = FuzzyIndex(self._exact)
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


def _build(path: Path) -> KnowledgeBase:
    """Parse, validate and index analytes.yaml."""
    data = read_knowledge(path)
    kb = KnowledgeBase(data.analytes, data.aliases, data.rules, data.headings, data.filler)
    for key in data.aliases:
        if panel := kb.is_panel_heading(key):
            raise KnowledgeError(f"alias key {key!r} is also a {panel} panel heading")
    log.debug("knowledge base: %d analytes, %d alias keys, %d headings",
              len(data.analytes), len(data.aliases), len(data.headings))
    return kb


@functools.cache
def _default() -> KnowledgeBase:
    """The packaged knowledge base, built on first use."""
    return _build(ANALYTES_PATH)


def load_knowledge(path: Path | None = None) -> KnowledgeBase:
    """The knowledge base from `path`, or the packaged one (built once and cached)."""
    return _default() if path is None or path == ANALYTES_PATH else _build(path)


def is_panel_heading(text: str) -> str | None:
    """The panel a heading line names, using the packaged knowledge base."""
    return _default().is_panel_heading(text)
