"""Reference ranges stratified by sex and age: find the stratum labels and choose the patient's stratum.

Contract: `SEX_LABEL_RE` and `AGE_LABEL_RE` find the labels ('Male:', 'H', 'Frauen', '0-1 y:', 'Adults:'),
`label_chunks` cuts the text into the range printed with each label (labels before or after each range,
joined by spaces, '; ', ',' or newlines), and `by_sex` / `by_age` turn the labels and the already parsed
ranges into one stratified `ParsedRange`, or None when the labels do not name distinct strata. Parsing
each chunk, and nesting one dimension in the other, is the job of `parsers.ranges`.

Age bands 'a-b' are closed; an age on a shared boundary belongs to the band it starts ('0-1 y', '1-18 y':
age 1 is in '1-18 y'); when bands still overlap the narrowest wins.

A stratified range returns the chosen stratum with `applies_to` ('male', 'age 18-60', 'adults, female'),
or, when none can be chosen, low/high None, the strata's common kind ('interval' if they differ) and
`unresolved` saying why. Sexes must be distinct, or the result is None.

`fold` and `phrases` build the word tables of both modules; `parsers.ranges` imports from here, never
the reverse.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from parsers.types import ParsedRange, Sex
from parsers.values import COMPARATOR_PATTERN, comparator_of

Kind = Literal["interval", "upper", "lower", "text", "none"]


def fold(text: str) -> str:
    """Casefold, drop accents and collapse whitespace: the key for word tables."""
    key = text.casefold()
    if not key.isascii():
        key = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    return " ".join(key.replace("’", "'").split())


def phrases(words: list[str]) -> str:
    """A regex alternation of phrases, longest first, spaces matching any whitespace, accents optional."""
    variants = {v for w in words for v in (w, fold(w))}
    escaped = (re.escape(v).replace(r"\ ", r"\s+") for v in sorted(variants, key=len, reverse=True))
    return "|".join(escaped)


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


_LABEL_BEFORE = r"(?:^|(?<=[\s;,/|(\[]))"
SEX_CODES: dict[str, str] = {
    **dict.fromkeys(("male", "males", "men", "man", "hombre", "hombres", "varon", "varones", "masculino",
                     "homem", "homens", "uomo", "uomini", "maschi", "maschile", "homme", "hommes", "mann",
                     "manner", "mannlich", "masc", "h"), "male"),
    **dict.fromkeys(("female", "females", "women", "woman", "mujer", "mujeres", "femenino", "feminino",
                     "mulher", "mulheres", "donna", "donne", "femmine", "femminile", "femme", "femmes",
                     "frau", "frauen", "weiblich", "fem", "f", "w"), "female"),
    "m": "m",  # male in en/pt/it/de, female (mujer, mulher) beside 'H'
}  # fmt: skip
SEX_LABEL_RE = re.compile(
    rf"{_LABEL_BEFORE}(?P<label>{phrases([*SEX_CODES, 'männer', 'männlich', 'varón'])})(?![^\W\d_])\.?"
    r"(?:\s*[:=)\]]\s*|\s+)",
    re.IGNORECASE,
)
AGE_WORDS: dict[str, tuple[float, float, bool]] = {
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
AGE_UNIT_WORDS = {
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
_UNIT_OF = {fold(w): unit for unit, words in AGE_UNIT_WORDS.items() for w in words}
_AGE_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_AGE_WORD_PHRASES = phrases([*AGE_WORDS, "niños", "säuglinge", "crianças", "recién nacidos"])
_AGE_UNIT_PHRASES = phrases([w for ws in AGE_UNIT_WORDS.values() for w in ws])
AGE_LABEL_RE = re.compile(
    rf"{_LABEL_BEFORE}(?:(?P<word>{_AGE_WORD_PHRASES})"
    r"(?![^\W\d_])(?:\s*\([^)]{0,20}\))?(?:\s*[:=]\s*|\s+)"
    rf"|(?P<band>(?:(?P<op>{COMPARATOR_PATTERN})\s*(?P<one>{_AGE_NUM})|(?P<a>{_AGE_NUM})\s*(?:-|to|a|bis)\s*"
    rf"(?P<b>{_AGE_NUM})|(?P<plus>{_AGE_NUM})\s*\+)\s*(?P<unit>{_AGE_UNIT_PHRASES})"
    r"\.?(?:\s*old)?)\s*[:=]\s*)",
    re.IGNORECASE,
)
_CHUNK_STRIP = " \t\r\n;,/|"


def label_chunks(s: str, labels: list[re.Match[str]]) -> list[str] | None:
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
    codes = [SEX_CODES.get(fold(m.group("label")), "") for m in labels]
    if "" in codes:
        return None
    if "m" in codes:
        if "h" in (fold(m.group("label")) for m in labels):
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
        known = AGE_WORDS.get(fold(word))
        if known is None:
            return None
        lo, hi, hi_incl = known
        return _Band(lo, hi, True, hi_incl, " ".join(word.casefold().split()))
    unit_code = _UNIT_OF.get(fold(m.group("unit")))
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


def by_sex(
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


def by_age(
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

