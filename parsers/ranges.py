"""Read one printed reference range, choosing the stratum (sex, age band) that applies to the patient.

Contract: `parse_range` returns a `ParsedRange` only when the whole text is a range it understands:

- interval '7-55', '7 – 55', '(5 - 40)', '[ 8.5 - 13.3 ]', '0 to 55', '40,0 a 80,0', '3.5 bis 5.0',
  'de 10 à 40', '-2 to +2', '10~40';
- upper '<33', '< OR = 39', '≤39', 'Up to 40', 'Less than 5', 'hasta 40', 'fino a 40', 'bis 40',
  '5 or less'; lower '>60', '>= 40', 'Greater than 60', 'Above 60', '40 and above';
- text 'Negative', 'Negativo' (any qualitative result word); none 'Not Estab.', 'N/A', '--', 'See note';
- strata by sex ('Male: 10-50; Female: 7-35', 'M 10-50 F 7-35', 'H: 10-50 M: 7-35', 'm/w', and the
  words in en/es/pt/it/fr/de, labels before or after each range) and by age ('0-1 y: 10-30; >18 y: 7-55',
  'Adults: 7-55 Children: 5-45'), nested one in the other, joined by spaces, '; ', ',' or newlines.

Anything else (a date, a phone number, '2-4 a.m.', a bare '55', a range followed by its unit) is None.
Numbers follow `parsers.values`; an ambiguous '1,234' under an UNKNOWN style is resolved from the other
numbers of the range when they show the style, else the range is None (a wrong bound is worse than none).
Age bands 'a-b' are closed; an age on a shared boundary belongs to the band it starts ('0-1 y', '1-18 y':
age 1 is in '1-18 y'); when bands still overlap the narrowest wins.

A stratified range returns the chosen stratum with `applies_to` ('male', 'age 18-60', 'adults, female'),
or, when none can be chosen, low/high None, the strata's common kind ('interval' if they differ) and
`unresolved` saying why. Every stratum must parse, and sexes must be distinct, or the result is None.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from parsers.types import NumberStyle, ParsedRange, Sex
from parsers.values import (
    COMPARATOR_PATTERN,
    NUMBER_PATTERN,
    comparator_of,
    detect_number_style,
    qualitative_key,
    read_number,
)

logger = logging.getLogger(__name__)

Kind = Literal["interval", "upper", "lower", "text", "none"]
_NUM = rf"[-+]?{NUMBER_PATTERN}"
_DASHES = str.maketrans({c: "-" for c in "\u2212\u2013\u2014\u2012\u2010\u2011\ufe63\uff0d"})
_INTERVAL_RE = re.compile(
    rf"(?:(?P<pre>from|de|da|dal|von|entre|between|tra|fra|zwischen)\s+)?(?P<lo>{_NUM})"
    r"(?:\s*(?:-|~|\.\.\.?|…)\s*|\s+(?P<word>to|a|à|al|au|até|ate|bis|y|e|et|und|and)\s+)"
    rf"(?P<hi>{_NUM})",
    re.IGNORECASE,
)
_CONJUNCTIONS = frozenset({"y", "e", "et", "und", "and"})
"""Separators that need a leading 'entre', 'between', 'zwischen'... ('entre 10 y 40')."""

# (phrase, kind, inclusive); accents are optional when matching
_OPERATOR_WORDS: tuple[tuple[str, Kind, bool], ...] = (
    *((w, "upper", True) for w in (
        "up to", "upto", "up-to", "hasta", "até", "fino a", "sino a", "jusqu'à", "jusqu’à", "bis", "max",
        "max.", "maximum", "not more than", "no more than", "less than or equal to", "menor o igual a",
        "inferior o igual a", "inférieur ou égal à")),
    *((w, "upper", False) for w in (
        "less than", "lower than", "below", "under", "menor que", "menor de", "menos de", "inferior a",
        "inferiore a", "minore di", "meno di", "inférieur à", "inférieure à", "moins de", "kleiner als",
        "unter", "weniger als", "unterhalb")),
    *((w, "lower", True) for w in (
        "at least", "min", "min.", "minimum", "not less than", "greater than or equal to",
        "mayor o igual a", "superior o igual a", "a partir de", "ab", "supérieur ou égal à")),
    *((w, "lower", False) for w in (
        "greater than", "more than", "higher than", "above", "over", "mayor que", "mayor de", "más de",
        "mais de", "superior a", "superiore a", "maggiore di", "più di", "supérieur à", "supérieure à",
        "plus de", "größer als", "grösser als", "über", "mehr als", "oberhalb")),
)  # fmt: skip
_SUFFIX_WORDS: dict[str, Kind] = {
    "and above": "lower", "or above": "lower", "and over": "lower", "or more": "lower",
    "or greater": "lower", "and more": "lower",
    "and below": "upper", "or below": "upper", "or less": "upper", "and less": "upper", "and under": "upper",
}  # fmt: skip
_NONE_MARKERS = frozenset(
    {
        "not estab",
        "not established",
        "not estab.",
        "n/a",
        "na",
        "nil range",
        "-",
        "--",
        "---",
        "see note",
        "see notes",
        "see comment",
        "see comments",
        "see below",
        "see report",
        "see interpretation",
        "refer note",
        "refer to note",
        "not applicable",
        "no range",
        "no reference range",
        "not defined",
        "undefined",
        "no establecido",
        "ver nota",
        "ver comentario",
        "vedi nota",
        "vedi commento",
        "voir note",
        "voir commentaire",
        "siehe befund",
        "siehe kommentar",
        "siehe text",
        "nao estabelecido",
    }
)


def _fold(text: str) -> str:
    """Casefold, drop accents and collapse whitespace: the key for word tables."""
    key = text.casefold()
    if not key.isascii():
        key = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    return " ".join(key.replace("’", "'").split())


def _phrases(words: list[str]) -> str:
    """A regex alternation of phrases, longest first, spaces matching any whitespace, accents optional."""
    variants = {v for w in words for v in (w, _fold(w))}
    escaped = (re.escape(v).replace(r"\ ", r"\s+") for v in sorted(variants, key=len, reverse=True))
    return "|".join(escaped)


_OPERATORS = {_fold(w): (kind, inclusive) for w, kind, inclusive in _OPERATOR_WORDS}
_OPERATOR_PHRASES = _phrases([w for w, _, _ in _OPERATOR_WORDS])
_OPERATOR_RE = re.compile(
    rf"(?:(?P<op>{COMPARATOR_PATTERN})\s*|(?P<word>{_OPERATOR_PHRASES})(?:\s*:\s*|\s+))(?P<n>{_NUM})",
    re.IGNORECASE,
)
_SUFFIX_RE = re.compile(rf"(?P<n>{_NUM})\s*(?P<op>{_phrases(list(_SUFFIX_WORDS))})", re.IGNORECASE)
_LOOKS_RE = re.compile(
    r"[0-9]\s*(?:[-–—−~…]|\.\.|\s(?:to|a|à|al|au|até|ate|bis|y|e|et|und|and)\s)\s*[-+−]?[.,]?[0-9]"
    r"|[<>≤≥⩽⩾]\D{0,6}[0-9]|[0-9]\s*(?:and|or|&)\s*(?:above|over|more|greater|below|less|under)"
    r"|(?:up\s*to|than|below|above|under|over|least|hasta|até|ate|fino|sino|jusqu|bis|max|min|rieur|rieure"
    r"|rior|riore|unter|über|ab|moins|plus|menos|mais|más|mas|als)\D{1,4}[0-9]",
    re.IGNORECASE,
)
_LOOKS_OPERATOR_RE = re.compile(rf"(?:{_OPERATOR_PHRASES})\D{{1,8}}[0-9]", re.IGNORECASE)
"""Every operator the parser knows ('mayor de 60', 'minore di 5') also passes the quick test."""

_BRACKETS = {"(": ")", "[": "]"}


@dataclass(frozen=True, slots=True)
class _Band:
    """One age band in years: bounds, whether each is included, and how it is reported."""

    lo: float
    hi: float
    lo_incl: bool
    hi_incl: bool
    label: str

    def contains(self, age: float) -> bool:
        """Whether `age` (years) falls in the band."""
        above = age > self.lo or (self.lo_incl and age == self.lo)
        below = age < self.hi or (self.hi_incl and age == self.hi)
        return above and below


def _unwrap(s: str) -> str:
    """Drop one pair of parentheses or brackets wrapping the whole text."""
    if len(s) > 2 and s[-1] == _BRACKETS.get(s[0]):
        return s[1:-1].strip()
    return s


def _bound(token: str, style: NumberStyle, whole: str) -> float | None:
    """A range bound; an ambiguous '1,234' is read in the style the whole range shows, else None."""
    sign = -1.0 if token[0] == "-" else 1.0
    body = token.lstrip("+-")
    reading = read_number(body, style)
    if reading is None:
        return None
    if reading[2]:  # ambiguous under UNKNOWN: let the other numbers of the range decide
        local = detect_number_style((whole,))
        if local is NumberStyle.UNKNOWN:
            return None
        reading = read_number(body, local)
        if reading is None:
            return None
    return sign * reading[0] if reading[0] else 0.0


def _parse_simple(s: str, style: NumberStyle) -> ParsedRange | None:
    """One range without strata: interval, upper, lower, text or none."""
    s = _unwrap(s)
    if not s:
        return None
    m = _INTERVAL_RE.fullmatch(s)
    if m is not None:
        word = m.group("word")
        if word is not None and word.casefold() in _CONJUNCTIONS and m.group("pre") is None:
            return None
        lo, hi = _bound(m.group("lo"), style, s), _bound(m.group("hi"), style, s)
        if lo is None or hi is None:
            return None
        return ParsedRange(s, lo, hi, "interval")
    m = _OPERATOR_RE.fullmatch(s)
    if m is not None:
        op = m.group("op")
        if op is not None:
            cmp = comparator_of(op)
            kind: Kind = "upper" if cmp[0] == "<" else "lower"
            inclusive = cmp.endswith("=")
        else:
            meaning = _OPERATORS.get(_fold(m.group("word")))
            if meaning is None:
                return None
            kind, inclusive = meaning
        return _one_sided(s, m.group("n"), kind, inclusive, style)
    m = _SUFFIX_RE.fullmatch(s)
    if m is not None:
        suffix_kind = _SUFFIX_WORDS.get(_fold(m.group("op")))
        return _one_sided(s, m.group("n"), suffix_kind, True, style) if suffix_kind else None
    folded = _fold(s)
    if folded in _NONE_MARKERS or (folded[0].isalpha() and folded.rstrip(".") in _NONE_MARKERS):
        return ParsedRange(s, None, None, "none")
    if qualitative_key(s) is not None:
        return ParsedRange(s, None, None, "text")
    return None


def _one_sided(s: str, token: str, kind: Kind, inclusive: bool, style: NumberStyle) -> ParsedRange | None:
    """An upper ('<33') or lower ('>60') limit."""
    n = _bound(token, style, s)
    if n is None:
        return None
    if kind == "upper":
        return ParsedRange(s, None, n, "upper", high_inclusive=inclusive)
    return ParsedRange(s, n, None, "lower", low_inclusive=inclusive)


# ------------------------------------------------------------------------------------------------
# Strata

_LABEL_BEFORE = r"(?:^|(?<=[\s;,/|(\[]))"
_SEX_CODES: dict[str, str] = {
    **dict.fromkeys(("male", "males", "men", "man", "hombre", "hombres", "varon", "varones", "masculino",
                     "homem", "homens", "uomo", "uomini", "maschi", "maschile", "homme", "hommes", "mann",
                     "manner", "mannlich", "masc", "h"), "male"),
    **dict.fromkeys(("female", "females", "women", "woman", "mujer", "mujeres", "femenino", "feminino",
                     "mulher", "mulheres", "donna", "donne", "femmine", "femminile", "femme", "femmes",
                     "frau", "frauen", "weiblich", "fem", "f", "w"), "female"),
    "m": "m",  # male in en/pt/it/de, female (mujer, mulher) beside 'H'
}  # fmt: skip
_SEX_LABEL_RE = re.compile(
    rf"{_LABEL_BEFORE}(?P<label>{_phrases([*_SEX_CODES, 'männer', 'männlich', 'varón'])})(?![^\W\d_])\.?"
    r"(?:\s*[:=)\]]\s*|\s+)",
    re.IGNORECASE,
)
_AGE_WORDS: dict[str, tuple[float, float, bool]] = {
    **dict.fromkeys(("newborn", "newborns", "neonate", "neonates", "neonatal", "recien nacidos", "neonatos",
                     "neonati", "nouveau nes", "neugeborene", "recem nascidos"), (0.0, 28 / 365.25, True)),
    **dict.fromkeys(("infant", "infants", "lactantes", "lattanti", "nourrissons", "sauglinge", "lactentes"),
                    (0.0, 1.0, True)),
    **dict.fromkeys(("child", "children", "kids", "pediatric", "paediatric", "ninos", "bambini", "enfants",
                     "enfant", "kinder", "criancas"), (0.0, 18.0, False)),
    **dict.fromkeys(("adolescent", "adolescents", "teens", "adolescentes", "adolescenti", "jugendliche"),
                    (12.0, 18.0, False)),
    **dict.fromkeys(("adult", "adults", "adultos", "adulti", "adultes", "adulte", "erwachsene"),
                    (18.0, float("inf"), True)),
    **dict.fromkeys(("elderly", "seniors", "ancianos", "anziani", "senioren"), (65.0, float("inf"), True)),
}  # fmt: skip
_AGE_UNITS = {
    "y": (1.0, ""), "m": (1 / 12, " months"), "w": (7 / 365.25, " weeks"), "d": (1 / 365.25, " days"),
}  # fmt: skip
_AGE_UNIT_WORDS = {
    "y": (
        "years",
        "year",
        "yrs",
        "yr",
        "y",
        "a",
        "anos",
        "años",
        "anni",
        "ans",
        "jahre",
        "j",
        "år",
        "aar",
        "vuotta",
        "v",
    ),
    "m": (
        "months",
        "month",
        "mos",
        "mo",
        "m",
        "meses",
        "mesi",
        "mois",
        "monate",
        "mån",
        "månader",
        "måneder",
        "mnd",
        "kk",
    ),
    "w": (
        "weeks",
        "week",
        "wks",
        "wk",
        "w",
        "semanas",
        "settimane",
        "semaines",
        "wochen",
        "veckor",
        "uker",
        "uger",
        "vk",
    ),
    "d": ("days", "day", "d", "dias", "días", "giorni", "jours", "tage", "dagar", "dager", "dage", "dygn"),
}
_UNIT_OF = {_fold(w): unit for unit, words in _AGE_UNIT_WORDS.items() for w in words}
_AGE_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_AGE_WORD_PHRASES = _phrases([*_AGE_WORDS, "niños", "säuglinge", "crianças", "recién nacidos"])
_AGE_UNIT_PHRASES = _phrases([w for ws in _AGE_UNIT_WORDS.values() for w in ws])
_AGE_LABEL_RE = re.compile(
    rf"{_LABEL_BEFORE}(?:(?P<word>{_AGE_WORD_PHRASES})"
    r"(?![^\W\d_])(?:\s*\([^)]{0,20}\))?(?:\s*[:=]\s*|\s+)"
    rf"|(?P<band>(?:(?P<op>{COMPARATOR_PATTERN})\s*(?P<one>{_AGE_NUM})|(?P<a>{_AGE_NUM})\s*(?:-|to|a|bis)\s*"
    rf"(?P<b>{_AGE_NUM})|(?P<plus>{_AGE_NUM})\s*\+)\s*(?P<unit>{_AGE_UNIT_PHRASES})"
    r"\.?(?:\s*old)?)\s*[:=]\s*)",
    re.IGNORECASE,
)
_CHUNK_STRIP = " \t\r\n;,/|"


def _chunks(s: str, labels: list[re.Match[str]]) -> list[str] | None:
    """The range text of each label: after it ('M: 10-50') or, when every label trails, before it."""
    first, last = labels[0], labels[-1]
    if not s[: first.start()].strip(_CHUNK_STRIP):
        ends = [m.start() for m in labels[1:]] + [len(s)]
        raw = [s[m.end() : end] for m, end in zip(labels, ends, strict=True)]
    elif not s[last.end() :].strip(_CHUNK_STRIP + ")]"):
        starts = [0] + [m.end() for m in labels[:-1]]
        raw = [s[start : m.start()] for start, m in zip(starts, labels, strict=True)]
    else:
        return None
    chunks = [c.strip(_CHUNK_STRIP).removesuffix("(").removesuffix("[").lstrip(")]").strip() for c in raw]
    return chunks if all(chunks) else None


def _sexes(labels: list[re.Match[str]]) -> list[Sex] | None:
    """The sex each label names; 'M' is female beside 'H' (Hombres/Mujeres), male otherwise."""
    if len(labels) == 1 and len(labels[0].group("label")) == 1:
        return None  # a lone 'F 7-35' or 'h 5' is too thin to call a stratum
    codes = [_SEX_CODES.get(_fold(m.group("label")), "") for m in labels]
    if "" in codes:
        return None
    if "m" in codes:
        if "h" in (_fold(m.group("label")) for m in labels):
            m_means: Sex = "female"
        elif "female" in codes:
            m_means = "male"
        else:
            return None
        codes = [m_means if c == "m" else c for c in codes]
    sexes: list[Sex] = ["male" if c == "male" else "female" for c in codes]
    return sexes if len(set(sexes)) == len(sexes) else None


def _band(m: re.Match[str]) -> _Band | None:
    """The age band an age label names, in years."""
    word = m.group("word")
    if word is not None:
        known = _AGE_WORDS.get(_fold(word))
        if known is None:
            return None
        lo, hi, hi_incl = known
        return _Band(lo, hi, True, hi_incl, " ".join(word.casefold().split()))
    unit_code = _UNIT_OF.get(_fold(m.group("unit")))
    if unit_code is None:
        return None
    scale, unit = _AGE_UNITS[unit_code]
    label = "age " + re.sub(r"\s+", "", m.group("band")[: m.start("unit") - m.start("band")]) + unit
    if m.group("a") is not None:
        a, b = (float(m.group(g).replace(",", ".")) * scale for g in ("a", "b"))
        return _Band(a, b, True, True, label)
    if m.group("plus") is not None:
        return _Band(float(m.group("plus").replace(",", ".")) * scale, float("inf"), True, True, label)
    n = float(m.group("one").replace(",", ".")) * scale
    cmp = comparator_of(m.group("op"))
    if cmp[0] == "<":
        return _Band(0.0, n, True, cmp == "<=", label)
    return _Band(n, float("inf"), cmp == ">=", True, label)


def _pick_band(bands: list[_Band], age: float) -> int | None:
    """Index of the band for `age`: boundary ages go to the band they start, then the narrowest wins."""
    hits = [i for i, b in enumerate(bands) if b.contains(age)]
    starts = [i for i in hits if not (bands[i].hi_incl and age == bands[i].hi)]
    hits = starts or hits
    if not hits:
        return None
    keys = sorted((bands[i].hi - bands[i].lo, -bands[i].lo, i) for i in hits)
    if len(keys) > 1 and keys[0][:2] == keys[1][:2]:
        return None
    return keys[0][2]


def _stratified(
    s: str, strata: Sequence[tuple[str, ParsedRange]], chosen: int | None, why: str | None
) -> ParsedRange:
    """The chosen stratum marked as such, or an unresolved stratified range saying why none was chosen."""
    if chosen is not None:
        key, r = strata[chosen]
        applies = key if r.applies_to is None else f"{key}, {r.applies_to}"
        return replace(r, text=s, applies_to=applies, stratified=True)
    kinds = {r.kind for _, r in strata}
    kind: Kind = kinds.pop() if len(kinds) == 1 else "interval"
    return ParsedRange(s, None, None, kind, stratified=True, unresolved=why)


def _by_sex(
    s: str, labels: list[re.Match[str]], parts: list[ParsedRange], sex: Sex | None
) -> ParsedRange | None:
    """Strata by sex: the patient's one, or unresolved; None when the labels do not name two sexes."""
    sexes = _sexes(labels)
    if sexes is None:
        return None
    strata = list(zip(sexes, parts, strict=True))
    if sex is None:
        return _stratified(s, strata, None, "range depends on sex; sex unknown")
    chosen = sexes.index(sex) if sex in sexes else None
    return _stratified(s, strata, chosen, None if chosen is not None else f"no stratum for {sex}")


def _by_age(
    s: str, labels: list[re.Match[str]], parts: list[ParsedRange], age: float | None
) -> ParsedRange | None:
    """Strata by age: the band holding the patient's age, or unresolved; None for an unknown label."""
    bands = [b for b in (_band(m) for m in labels) if b is not None]
    if len(bands) != len(labels):
        return None
    strata = [(b.label, r) for b, r in zip(bands, parts, strict=True)]
    if age is None:
        return _stratified(s, strata, None, "range depends on age; age unknown")
    chosen = _pick_band(bands, age)
    return _stratified(s, strata, chosen, None if chosen is not None else "no single age band fits")


def _parse_level(
    s: str, style: NumberStyle, sex: Sex | None, age: float | None, dims: frozenset[str]
) -> ParsedRange | None:
    """A range that may be stratified by the dimensions in `dims` ('sex', 'age'), each used once."""
    simple = _parse_simple(s, style)
    if simple is not None or not dims:
        return simple
    for dim, pattern in (("sex", _SEX_LABEL_RE), ("age", _AGE_LABEL_RE)):
        if dim not in dims:
            continue
        labels = list(pattern.finditer(s))
        chunks = _chunks(s, labels) if labels else None
        if chunks is None:
            continue
        parts = [_parse_level(c, style, sex, age, dims - {dim}) for c in chunks]
        found = [p for p in parts if p is not None]
        if len(found) != len(parts):
            continue
        result = _by_sex(s, labels, found, sex) if dim == "sex" else _by_age(s, labels, found, age)
        if result is not None:
            return result
    return None


_QUALIFIER_RE = re.compile(
    r"^(?P<label>desirable|optimal|optimum|normal|reference|ref|target|recommended|goal|healthy|ideal|"
    r"desej[aá]vel|[oó]timo|deseable|[oó]ptimo|recomendado|normale|ottimale|desiderabile|raccomandato|"
    r"souhaitable|recommand[ée]|w[uü]nschenswert|erw[uü]nscht|empfohlen|zielwert|ziel|[oö]nskv[aä]rt|"
    r"anbefalt|tavoite)\s*[:=]\s*(?P<rest>\S.*)$",
    re.IGNORECASE,
)


def _qualified(s: str, style: NumberStyle) -> ParsedRange | None:
    """'Desirable: < 200' is the range '< 200' for the desirable stratum (one label only: a list of
    categories such as 'Desirable: <200 Borderline: 200-239' is not a reference range)."""
    match = _QUALIFIER_RE.match(s)
    if match is None:
        return None
    inner = _parse_simple(match.group("rest"), style)
    return None if inner is None else replace(inner, text=s, applies_to=match.group("label").casefold())


def parse_range(
    text: str,
    style: NumberStyle = NumberStyle.UNKNOWN,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> ParsedRange | None:
    """Read a printed reference range and resolve its stratum for this patient; None if not a range."""
    stripped = text.strip()
    if not stripped:
        return None
    s = stripped if stripped.isascii() else stripped.translate(_DASHES)
    result = _parse_level(s, style, sex, age_years, frozenset(("sex", "age"))) or _qualified(s, style)
    if result is None:
        return None
    return result if result.text == stripped else replace(result, text=stripped)


_RANGE_WORDS = frozenset(
    token
    for phrase in (
        *(w for w, _, _ in _OPERATOR_WORDS),
        *_SUFFIX_WORDS,
        *_NONE_MARKERS,
        *_SEX_CODES,
        *_AGE_WORDS,
        *(w for words in _AGE_UNIT_WORDS.values() for w in words),
        "to a à al au até bis y e et und and from de da dal von entre between tra fra zwischen or",
        "desirable optimal optimum normal reference ref target recommended goal healthy ideal",
        "desejável ótimo",
        "deseable óptimo recomendado normale ottimale desiderabile raccomandato souhaitable recommandé",
        "wünschenswert erwünscht empfohlen zielwert ziel önskvärt anbefalt tavoite männer männlich varón",
    )
    for token in _fold(phrase).replace(".", " ").split()
)


def can_be_in_range(word: str) -> bool:
    """Whether one printed word can be part of a reference range (a number, an operator, a stratum label)."""
    core = word.strip("()[]{}:;,.=")
    if not core:
        return True
    return core[0] in "0123456789<>≤≥⩽⩾=±+-–—−" or _fold(core) in _RANGE_WORDS


def looks_like_range(text: str) -> bool:
    """Cheap necessary test for a numeric range (interval, limit, strata); text/none ranges need context."""
    return _LOOKS_RE.search(text) is not None or _LOOKS_OPERATOR_RE.search(text) is not None
