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
A stratified range returns the patient's stratum, or says why none applies: `parsers.ranges_strata`
states how labels are read and a stratum (sex, age band) is chosen. Every stratum must parse, or the
result is None.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from parsers.ranges_strata import (
    AGE_LABEL_RE,
    AGE_UNIT_WORDS,
    AGE_WORDS,
    SEX_CODES,
    SEX_LABEL_RE,
    Kind,
    by_age,
    by_sex,
    fold,
    label_chunks,
    phrases,
)
from parsers.types import NumberStyle, ParsedRange, Sex
from parsers.values import (
    COMPARATOR_PATTERN,
    NUMBER_PATTERN,
    comparator_of,
    detect_number_style,
    qualitative_key,
    read_number,
)

__all__ = ["Kind", "can_be_in_range", "looks_like_range", "parse_range"]

logger = logging.getLogger(__name__)

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


_OPERATORS = {fold(w): (kind, inclusive) for w, kind, inclusive in _OPERATOR_WORDS}
_OPERATOR_PHRASES = phrases([w for w, _, _ in _OPERATOR_WORDS])
_OPERATOR_RE = re.compile(
    rf"(?:(?P<op>{COMPARATOR_PATTERN})\s*|(?P<word>{_OPERATOR_PHRASES})(?:\s*:\s*|\s+))(?P<n>{_NUM})",
    re.IGNORECASE,
)
_SUFFIX_RE = re.compile(rf"(?P<n>{_NUM})\s*(?P<op>{phrases(list(_SUFFIX_WORDS))})", re.IGNORECASE)
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
            meaning = _OPERATORS.get(fold(m.group("word")))
            if meaning is None:
                return None
            kind, inclusive = meaning
        return _one_sided(s, m.group("n"), kind, inclusive, style)
    m = _SUFFIX_RE.fullmatch(s)
    if m is not None:
        suffix_kind = _SUFFIX_WORDS.get(fold(m.group("op")))
        return _one_sided(s, m.group("n"), suffix_kind, True, style) if suffix_kind else None
    folded = fold(s)
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


def _parse_level(
    s: str, style: NumberStyle, sex: Sex | None, age: float | None, dims: frozenset[str]
) -> ParsedRange | None:
    """A range that may be stratified by the dimensions in `dims` ('sex', 'age'), each used once."""
    simple = _parse_simple(s, style)
    if simple is not None or not dims:
        return simple
    for dim, pattern in (("sex", SEX_LABEL_RE), ("age", AGE_LABEL_RE)):
        if dim not in dims:
            continue
        labels = list(pattern.finditer(s))
        chunks = label_chunks(s, labels) if labels else None
        if chunks is None:
            continue
        parts = [_parse_level(c, style, sex, age, dims - {dim}) for c in chunks]
        found = [p for p in parts if p is not None]
        if len(found) != len(parts):
            continue
        result = by_sex(s, labels, found, sex) if dim == "sex" else by_age(s, labels, found, age)
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
        *SEX_CODES,
        *AGE_WORDS,
        *(w for words in AGE_UNIT_WORDS.values() for w in words),
        "to a à al au até bis y e et und and from de da dal von entre between tra fra zwischen or",
        "desirable optimal optimum normal reference ref target recommended goal healthy ideal",
        "desejável ótimo",
        "deseable óptimo recomendado normale ottimale desiderabile raccomandato souhaitable recommandé",
        "wünschenswert erwünscht empfohlen zielwert ziel önskvärt anbefalt tavoite männer männlich varón",
    )
    for token in fold(phrase).replace(".", " ").split()
)


def can_be_in_range(word: str) -> bool:
    """Whether one printed word can be part of a reference range (a number, an operator, a stratum label)."""
    core = word.strip("()[]{}:;,.=")
    if not core:
        return True
    return core[0] in "0123456789<>≤≥⩽⩾=±+-–—−" or fold(core) in _RANGE_WORDS


def looks_like_range(text: str) -> bool:
    """Cheap necessary test for a numeric range (interval, limit, strata); text/none ranges need context."""
    return _LOOKS_RE.search(text) is not None or _LOOKS_OPERATOR_RE.search(text) is not None
