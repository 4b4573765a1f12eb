"""Read a printed abnormality flag, and derive one from a value and its reference range.

Contract: `parse_flag` accepts a text only when the whole of it is a flag mark ('H', 'L*', '↑↑',
'High-Critical', 'Erniedrigt', 'Normal'); ordinary words ('Hemoglobin', 'Low density') and a lone '-'
(an empty cell in most reports) are None. Meanings:

- H / L: high / low in any supported language, with or without decoration ('H*', '*L', '(H)', 'L!'),
  and the marks '↑' '↓' '▲' '▼' '+' (a lone '+' is a flag here; '2+', '++' are dipstick values).
- HH / LL: only an explicit critical mark: 'HH', 'LL', '↑↑', '↓↓', 'Critical High', 'High-Critical',
  'Panic High' (and the same low).
- A: abnormal without a direction ('A', 'Abnormal', '*', '**', '!', 'Critical', 'Panic', and '¬',
  what a symbol-font arrow becomes in some text layers): the caller may derive H/L from the range with
  `derive_flag`.
- Normal marks ('N', 'Normal', 'Normale', 'WNL') return flag None with abnormal False.

Words match in any case and with or without accents; the one-letter codes (and HH, LL, AA) only in
capitals, because a lone 'a', 'l' or 'h' is far more often a word or a unit than a flag.

`derive_flag` compares a value with range bounds and never returns HH/LL: criticality is not printed
in a range.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from parsers.types import Flag, ParsedFlag

logger = logging.getLogger(__name__)

_HIGH_WORDS = (
    "h", "hi", "high", "alto", "alta", "elevado", "elevada", "aumentado", "aumentada", "elevato", "elevata",
    "aumentato", "aumentata", "eleve", "elevee", "haut", "haute", "augmente", "augmentee", "hoch", "erhoht",
    "erhoeht", "above range", "above normal", "above high normal", "above high reference limit",
    "above reference range", "above reference limit", "above upper reference limit", "above the reference range",
)  # fmt: skip
_LOW_WORDS = (
    "l", "lo", "low", "bajo", "baja", "disminuido", "disminuida", "baixo", "baixa", "diminuido", "diminuida",
    "basso", "bassa", "diminuito", "diminuita", "bas", "basse", "diminue", "diminuee", "abaisse", "abaissee",
    "niedrig", "erniedrigt", "below range", "below normal", "below low normal", "below low reference limit",
    "below reference range", "below reference limit", "below lower reference limit", "below the reference range",
)  # fmt: skip
_CRITICAL_WORDS = ("critical", "crit", "panic", "critico", "critica", "critique", "kritisch", "alert")
_ABNORMAL_WORDS = (
    "a", "aa", "abn", "abnormal", "anormal", "anomalo", "anormale", "anomale", "auffallig", "pathologisch",
    "path", "patologico", "alterado", "alterada", "alterato", "out of range", "fuera de rango",
)  # fmt: skip
_NORMAL_WORDS = (
    "n", "normal", "normale", "norm", "nl", "wnl", "within normal limits", "within range", "in range",
    "normal range", "unauffallig", "nella norma", "dentro de rango", "dentro del rango",
)  # fmt: skip

_SYMBOLS: dict[str, Flag] = {
    "↑": "H", "⬆": "H", "▲": "H", "⇑": "H", "↗": "H", "+": "H",
    "↓": "L", "⬇": "L", "▼": "L", "⇓": "L", "↘": "L",
    "↑↑": "HH", "⬆⬆": "HH", "▲▲": "HH", "↓↓": "LL", "⬇⬇": "LL", "▼▼": "LL",
    "hh": "HH", "ll": "LL", "*": "A", "**": "A", "***": "A", "!": "A", "!!": "A",
    "¬": "A",  # what a symbol-font arrow becomes in some text layers (seen in an Italian CBC)
}  # fmt: skip


def _build_table() -> dict[str, ParsedFlag]:
    """Every accepted normalised flag text mapped to its meaning (text filled in per call)."""
    table: dict[str, ParsedFlag] = {}
    directions: tuple[tuple[Flag, Flag, tuple[str, ...]], ...] = (
        ("H", "HH", _HIGH_WORDS),
        ("L", "LL", _LOW_WORDS),
    )
    for flag, crit, words in directions:
        for word in words:
            table[word] = table[f"very {word}"] = ParsedFlag("", flag)
            for qualifier in ("abnormal", "abn", "anormal"):
                table[f"{word} {qualifier}"] = table[f"{qualifier} {word}"] = ParsedFlag("", flag)
            for qualifier in _CRITICAL_WORDS:
                table[f"{word} {qualifier}"] = table[f"{qualifier} {word}"] = ParsedFlag("", crit)
    for word in (*_CRITICAL_WORDS, *_ABNORMAL_WORDS):
        table[word] = ParsedFlag("", "A")
    for word in _NORMAL_WORDS:
        table[word] = ParsedFlag("", None, abnormal=False)
    for mark, flag in _SYMBOLS.items():
        table[mark] = ParsedFlag("", flag)
    return table


_TABLE = _build_table()
_UPPERCASE_ONLY = frozenset({"h", "l", "a", "n", "hh", "ll", "aa"})
"""Letter codes taken only in capitals: a lone 'a', 'l' or 'h' is a word ('a' in es/pt/it/fr) or a unit."""
_DECORATION = "*!"
_SEPARATORS_RE = re.compile(r"[\s\-_/:]+")
_BRACKETS = {"(": ")", "[": "]", "<": ">"}


def _normalise(text: str) -> str:
    """Casefold, drop accents and wrapping brackets, and join words with single spaces."""
    key = text.strip()
    if len(key) > 2 and key[-1] == _BRACKETS.get(key[0]):
        key = key[1:-1].strip()
    key = key.casefold()
    if not key.isascii():
        key = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    if len(key) > 1 and key[-1] == "." and key[-2].isalpha():
        key = key[:-1]
    return _SEPARATORS_RE.sub(" ", key).strip()


def parse_flag(text: str) -> ParsedFlag | None:
    """Read a printed flag mark; None unless the whole text is one."""
    key = _normalise(text)
    if not key:
        return None
    core = key.strip(_DECORATION).strip() or key  # 'H*', '*L', 'L!' mark the same as 'H', 'L'
    if core in _UPPERCASE_ONLY and not text.isupper():
        return None
    found = _TABLE.get(key)
    if found is None:
        found = _TABLE.get(core) if core != key else None
        if found is None or not found.abnormal:
            return None
    return ParsedFlag(text.strip(), found.flag, found.abnormal)


def derive_flag(
    value: float,
    low: float | None,
    high: float | None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> Flag | None:
    """'H' above the range, 'L' below it, None inside or without bounds; an inclusive bound is in range."""
    if high is not None and (value > high or (value == high and not high_inclusive)):
        return "H"
    if low is not None and (value < low or (value == low and not low_inclusive)):
        return "L"
    return None
