"""The analyte knowledge base as data: the schema of `knowledge/analytes.yaml`, its records and the name key.

Contract: `read_knowledge(path)` validates the file and returns its `KnowledgeData` (analytes in file order,
the alias index, the matching rules and the panel headings) or raises `KnowledgeError` with a message
naming the entry: unknown or missing keys, unknown units, duplicate codes, bad LOINC check digits and
undeclared alias collisions (an alias naming two analytes that are not an `ambiguous` pair) all fail here.
`name_key(text)` is the normalised lookup key of a name:
  NFKD, accents stripped, casefolded, '&' -> 'and', punctuation -> space ('%' and '#' kept as tokens at
  the end), runs of single letters joined ("S.G.O.T." -> "sgot"), spaces collapsed.
This module never matches names; `parsers.knowledge.KnowledgeBase` does, over these structures.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from parsers.units import YAML_LOADER, unit_table

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
class Rules:
    """The matching section of analytes.yaml, compiled: specimen prefix/suffix patterns and word sets."""

    prefix: re.Pattern[str]
    suffix: re.Pattern[str]
    ignorable: frozenset[str]
    leading: frozenset[str]
    joining: frozenset[str]
    blocking: frozenset[str]
    percent: frozenset[str]


def name_key(text: str, percent: frozenset[str] = frozenset()) -> str:
    """The normalised lookup key of a name (see the module docstring)."""
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
    """A YAML int or float as float (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnowledgeError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _pair(value: object, where: str) -> tuple[float, float]:
    """A [low, high] pair of numbers with low <= high."""
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


def _rules(raw: object) -> Rules:
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
        return frozenset(name_key(w) for w in lists[name])

    return Rules(
        # NPU style: a system ('P', 'Ery(B)') before the dash, a kind of quantity ('stofk.') after the ';'
        prefix=re.compile(rf"^\s*(?:{alternation}|[^\W\d_]{{2,4}}\([^\W\d_]{{1,3}}\))\s?[-–—]\s*(?=\S)", re.IGNORECASE),
        suffix=re.compile(rf"\s*;\s*(?:{suffixes}|[^\W\d_.]+\.(?:\s?[^\W\d_.]+\.?)?|[^\W\d_]+)\s*$"),
        ignorable=norm("ignorable_words"), leading=norm("leading_words"), joining=norm("joining_words"),
        blocking=norm("blocking_words"), percent=norm("percent_words"),
    )


def _read(path: Path) -> dict[str, Any]:
    """The YAML document, checked to hold exactly the top-level sections."""
    with path.open(encoding="utf-8") as f:
        data = yaml.load(f, Loader=YAML_LOADER)
    if not isinstance(data, dict) or set(data) != _TOP:
        raise KnowledgeError(f"{path.name}: top level needs exactly {sorted(_TOP)}")
    return data


@dataclass(frozen=True, slots=True)
class KnowledgeData:
    """analytes.yaml validated and indexed: what a `KnowledgeBase` is built from."""

    analytes: list[Analyte]
    aliases: dict[str, list[tuple[Analyte, str]]]
    """Alias key -> (analyte, first alias spelling with that key), in file order."""
    rules: Rules
    headings: dict[str, str]
    """Heading stem -> panel."""
    filler: frozenset[str]
    """Words dropped from a heading before lookup."""


def read_knowledge(path: Path) -> KnowledgeData:
    """Parse and validate analytes.yaml and index its aliases by key."""
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
            key = name_key(alias, rules.percent)
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
    return KnowledgeData(analytes, index, rules, headings, filler)


def _headings(raw: object, rules: Rules) -> tuple[dict[str, str], frozenset[str]]:
    """Heading stem -> panel, and the filler words dropped before lookup."""
    if not isinstance(raw, dict) or set(raw) != {"filler", "panels"} or not isinstance(raw["panels"], dict):
        raise KnowledgeError("headings: needs exactly 'filler' (list) and 'panels' (panel -> list)")
    if not isinstance(raw["filler"], list) or not all(isinstance(w, str) for w in raw["filler"]):
        raise KnowledgeError("headings.filler: must be a list of strings (quote YAML words like 'no')")
    filler = frozenset(name_key(w) for w in raw["filler"])
    drop = filler | rules.ignorable
    stems: dict[str, str] = {}
    for panel, names in raw["panels"].items():
        if panel not in PANELS or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise KnowledgeError(f"headings.panels: unknown panel {panel!r} or not a list of strings")
        for name in names:
            stem = " ".join(t for t in name_key(name, rules.percent).split() if t not in drop)
            if not stem or stems.setdefault(stem, panel) != panel:
                raise KnowledgeError(f"headings: {name!r} is empty after filler removal or names two panels")
    return stems, filler
