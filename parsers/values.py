"""Read one printed result value: a number (with comparator) or a qualitative word such as 'Negative'.

Contract: pure functions on short texts, strict rather than clever. Every accepted form reads one way
only, or says how else it could read (`ParsedValue.alternatives`); anything with junk that is not part
of the value ('12 mg/dL', '41H', '15/02/25', '12-20') returns None and leaves the decision to the caller.
Wrapping parentheses or brackets are the only decoration dropped. Separator rules:

- A separator that can only be a decimal mark is one ('6,73', '0.550', '1,2345'), whatever the style.
- Repeated or mixed separators are grouping ('1,234,567', '1.234,5', Indian '2,12,000').
- One '.' or ',' before exactly three digits ('1,234', '9.480') is ambiguous: the document's
  `NumberStyle` decides, and under UNKNOWN the dot reading wins and the other is an alternative.
- Spaces, thin spaces and apostrophes only group ('1 234', "1'234.5"), in strict groups of three.

With ``ocr=True``, typical OCR letter/digit confusions inside an otherwise numeric token are repaired
and each repair is recorded in `ParsedValue.corrections`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable

from parsers.flags import parse_flag
from parsers.types import Comparator, NumberStyle, ParsedValue

logger = logging.getLogger(__name__)

_GROUP_ONLY = " \u00a0\u2007\u2009\u202f'\u2019"
"""Separators that can only group digits: spaces (normal, no-break, figure, thin) and apostrophes."""

NUMBER_PATTERN = r"(?:[0-9]+(?:[.,' \u00a0\u2007\u2009\u202f\u2019][0-9]+)*|\.[0-9]+)"
"""An unsigned number as printed, before its separators are interpreted (shared with ranges.py)."""

_MINUS_TABLE = str.maketrans({c: "-" for c in "\u2212\u2013\u2010\u2011\ufe63\uff0d"})
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SPLIT_RE = re.compile(r"([^0-9])")

COMPARATOR_PATTERN = r"<\s*or\s*=|>\s*or\s*=|<\s*=|>\s*=|=\s*<|=\s*>|<|>|≤|≥|⩽|⩾"
_VALUE_RE = re.compile(
    rf"(?P<cmp>{COMPARATOR_PATTERN})?\s*(?P<sign>[-+])?(?P<body>{NUMBER_PATTERN})"
    r"(?:[eE](?P<e1>[-+]?[0-9]{1,3})|\s*[x×*]\s*10\s*(?:\^|\*\*)\s*(?P<e2>[-+]?[0-9]{1,3})"
    r"|\s*[x×*]\s*10(?P<e3>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}))?",
    re.IGNORECASE,
)
_E_MANTISSA_RE = re.compile(r"[1-9](?:\.[0-9]+)?")
"""'1.2E3' is written normalised; '12237e2' is a code, not a value."""
_X10_MANTISSA_RE = re.compile(r"[0-9]{1,3}(?:[.,][0-9]+)?")
_MAX_DIGITS = 15
"""More significant digits than a float holds: an identifier, not a value."""
_MAX_REPAIRS = 2
"""OCR misreads one or two glyphs of a number; more letters than that make a word or a code."""

_COMPARATORS: dict[str, Comparator] = {"<": "<", ">": ">", "≤": "<=", "⩽": "<=", "≥": ">=", "⩾": ">="}

_QUALITATIVE = frozenset(
    {
        # en
        "negative", "positive", "neg", "pos", "weakly positive", "weak positive", "strongly positive",
        "not detected", "non detected", "none detected", "undetected", "not detectable", "undetectable",
        "detected", "trace", "traces", "nil", "absent", "present", "reactive", "non reactive", "nonreactive",
        "weakly reactive", "indeterminate", "equivocal", "borderline", "normal", "abnormal",
        # es / pt
        "negativo", "positivo", "negativa", "positiva", "no detectado", "detectado", "no reactivo",
        "reactivo", "ausente", "presente", "trazas", "indicios", "indetectable", "nao detectado",
        "nao detetado", "detetado", "nao reagente", "reagente", "nao reativo", "reativo", "tracos",
        "indeterminado",
        # it
        "assente", "non rilevato", "non rilevabile", "rilevato", "tracce", "non reattivo", "reattivo",
        "negativi", "positivi",
        # fr
        "negatif", "positif", "absence", "presence", "non detecte", "detecte", "non reactif",
        "reactif", "douteux",
        # de
        "negativ", "positiv", "nicht nachweisbar", "nachweisbar", "nicht reaktiv", "reaktiv", "spuren",
        "grenzwertig", "fraglich",
        # urine dipstick grades (a lone '+' is left to the flag parser)
        "1+", "2+", "3+", "4+", "++", "+++", "++++",
    }
)  # fmt: skip

_OCR_DIGITS = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5", "s": "5", "B": "8", "Z": "2",
               "g": "9"}  # fmt: skip
_OCR_TOKEN_RE = re.compile(rf"(?P<cmp>{COMPARATOR_PATTERN})?\s*(?P<sign>[-+])?(?P<core>[0-9OolI|SsBZg.,]+)")
_OCR_TABLE = str.maketrans(_OCR_DIGITS)
_DECIMAL_SEPS = ".,"

_STYLE_TOKEN_RE = re.compile(r"(?<![0-9.,])[0-9]+(?:[.,][0-9]+)+")
_FUSED_FLAG_RES = (
    re.compile(r"(?P<head>.*?[0-9])\s*(?P<flag>[^\s0-9][^0-9]{0,20})"),  # '41H', '5.6 L*', '41 Critical High'
    re.compile(r"(?P<head>.*?\S)\s*(?P<flag>\([^\s()]{1,8}\)|\[[^\s\[\]]{1,8}\])"),  # 'Positive(H)'
    re.compile(r"(?P<head>.*?\S)\s+(?P<flag>\S{1,12})"),  # 'Positive H'
)
_BRACKETS = {"(": ")", "[": "]"}


def _unwrap(s: str) -> str:
    """Drop one pair of parentheses or brackets wrapping the whole text."""
    if len(s) > 2 and s[-1] == _BRACKETS.get(s[0]):
        return s[1:-1].strip()
    return s


def qualitative_key(text: str) -> str | None:
    """The normalised qualitative word ('non reactive') when `text` is one, else None."""
    key = text.casefold().replace("-", " ").replace("_", " ")
    if not key.isascii():
        key = "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))
    key = " ".join(key.split()).rstrip(".").strip()
    return key if key in _QUALITATIVE else None


def _is_grouping(groups: list[str], indian_ok: bool) -> bool:
    """Whether digit groups group thousands: western (1-3 digits, then threes) or Indian (1-2, twos, 3)."""
    first = groups[0]
    if not first or first[0] == "0" or len(first) > 3:
        return False
    rest = groups[1:]
    if all(len(g) == 3 for g in rest):
        return True
    return indian_ok and len(first) <= 2 and len(rest[-1]) == 3 and all(len(g) == 2 for g in rest[:-1])


def read_number(body: str, style: NumberStyle) -> tuple[float, int, tuple[float, ...]] | None:
    """Interpret an unsigned printed number: (value, decimals, alternative readings), or None if invalid."""
    if body.isdigit():
        if len(body) > _MAX_DIGITS or (len(body) > 1 and body[0] == "0"):
            return None
        return float(body), 0, ()
    if body[0] == ".":  # '.5' (a leading ',5' is more often a split '4,5' than a value)
        frac = body[1:]
        return (float("0." + frac), len(frac), ()) if frac.isdigit() else None
    parts = _SPLIT_RE.split(body)
    groups, seps = parts[0::2], parts[1::2]
    if sum(len(g) for g in groups) > _MAX_DIGITS or (len(groups[0]) > 1 and groups[0][0] == "0"):
        return None
    last = seps[-1]
    if last in _GROUP_ONLY:  # spaces/apostrophes only: an integer
        if all(s in _GROUP_ONLY for s in seps) and _is_grouping(groups, indian_ok=False):
            return float("".join(groups)), 0, ()
        return None
    head, frac = groups[:-1], groups[-1]
    before = seps[:-1]
    if last in before:  # '1,234,567': a repeated mark groups
        if all(s == last for s in seps) and _is_grouping(groups, indian_ok=last == ","):
            return float("".join(groups)), 0, ()
        return None
    if before:  # '1,234.5', '1 234,5': the last mark is the decimal one, the others group
        if len(set(before)) != 1 or not _is_grouping(head, indian_ok=before[0] == ","):
            return None
        return float("".join(head) + "." + frac), len(frac), ()
    whole = head[0]
    as_decimal = float(whole + "." + frac)
    if len(frac) != 3 or whole[0] == "0" or len(whole) > 3:
        return as_decimal, len(frac), ()
    as_grouped = float(whole + frac)
    if style is NumberStyle.UNKNOWN:
        return (as_decimal, 3, (as_grouped,)) if last == "." else (as_grouped, 0, (as_decimal,))
    if last == style.value:
        return as_decimal, 3, ()
    return as_grouped, 0, ()


def comparator_of(printed: str) -> Comparator:
    """The comparator a printed operator means: '<', '< or =', '≤', '=<', '> = ' and so on."""
    key = printed.replace(" ", "").casefold()
    found = _COMPARATORS.get(key)
    if found is not None:
        return found
    return "<=" if "<" in key else ">="


def _scaled(value: float, exp: str) -> float:
    """`value` times ten to `exp`, rounded as the printed decimal would be (1.2e3 is exactly 1200)."""
    return float(f"{value!r}e{int(exp.translate(_SUPERSCRIPTS))}")


def _parse_numeric(s: str, text: str, style: NumberStyle, corrections: tuple[str, ...]) -> ParsedValue | None:
    """Parse a normalised numeric text (comparator, sign, number, optional exponent)."""
    m = _VALUE_RE.fullmatch(s)
    if m is None:
        return None
    reading = read_number(m.group("body"), style)
    if reading is None:
        return None
    value, decimals, alternatives = reading
    if m.group("sign") == "-" and value:
        value, alternatives = -value, tuple(-a for a in alternatives)
    exp = m.group("e1") or m.group("e2") or m.group("e3")
    if exp:
        mantissa = _E_MANTISSA_RE if m.group("e1") else _X10_MANTISSA_RE
        if not mantissa.fullmatch(m.group("body")):
            return None
        value, alternatives = _scaled(value, exp), tuple(_scaled(a, exp) for a in alternatives)
    cmp = m.group("cmp")
    comparator = comparator_of(cmp) if cmp else None
    return ParsedValue(text, value, comparator, decimals, False, alternatives, corrections)


def _repairable(core: str, i: int) -> bool:
    """Whether the letter at `core[i]` sits where an OCR digit confusion is plausible (not 'B12', 'mg')."""
    n = len(core)
    prev = core[i - 1] if i else ""
    nxt = core[i + 1] if i + 1 < n else ""
    if prev and nxt:
        return True
    if not prev:  # leading: 'O.5', 'l2.3' but not 'B12'
        return nxt in _DECIMAL_SEPS or any(c in _DECIMAL_SEPS for c in core)
    return prev in _DECIMAL_SEPS or (core[i] == "O" and (prev.isdigit() or prev in _OCR_DIGITS))


def _ocr_repair(s: str, text: str, style: NumberStyle) -> ParsedValue | None:
    """Retry `s` after mapping OCR letter confusions to digits inside a mostly numeric token."""
    m = _OCR_TOKEN_RE.fullmatch(s)
    if m is None:
        return None
    core = m.group("core")
    letters = [i for i, c in enumerate(core) if c in _OCR_DIGITS]
    digits = sum(c.isdigit() for c in core)
    if not letters or len(letters) > min(digits, _MAX_REPAIRS):
        return None
    if not all(_repairable(core, i) for i in letters):
        return None
    reasons = tuple(dict.fromkeys(f"OCR: '{core[i]}' read as {_OCR_DIGITS[core[i]]}" for i in letters))
    repaired = s[: m.start("core")] + core.translate(_OCR_TABLE)
    result = _parse_numeric(repaired, text, style, reasons)
    if result is not None:
        logger.debug("OCR-repaired a value token (%d repairs)", len(reasons))
    return result


def parse_value(
    text: str, style: NumberStyle = NumberStyle.UNKNOWN, *, ocr: bool = False
) -> ParsedValue | None:
    """Read a printed result value; None when the text is not exactly one value."""
    stripped = text.strip()
    if not stripped:
        return None
    s = _unwrap(stripped)
    if not s:
        return None
    if s[0].isalpha() or s[-1] == "+":
        if qualitative_key(s) is not None:
            return ParsedValue(stripped, None, is_text=True)
        if not ocr:
            return None
    if not s.isascii():
        s = s.translate(_MINUS_TABLE)
    result = _parse_numeric(s, stripped, style, ())
    if result is None and ocr:
        result = _ocr_repair(s, stripped, style)
    return result


def _token_style(token: str) -> NumberStyle:
    """The decimal style one numeric token proves on its own, UNKNOWN when it proves none.

    Only a valid number with one reading is a cue ('15.02.2025' and '1,234' prove nothing): its last
    mark is the decimal mark when it has decimals, else a grouping mark.
    """
    reading = read_number(token, NumberStyle.UNKNOWN)
    if reading is None or reading[2]:
        return NumberStyle.UNKNOWN
    last_is_dot = token.rfind(".") > token.rfind(",")
    return NumberStyle.DOT if last_is_dot == (reading[1] > 0) else NumberStyle.COMMA


def detect_number_style(texts: Iterable[str]) -> NumberStyle:
    """Decide a document's decimal mark from its unambiguous numeric tokens; UNKNOWN without a clear cue.

    A style wins when it has more than twice the cues of the other; closer counts are a conflict.
    """
    dot = comma = 0
    for text in texts:
        for token in _STYLE_TOKEN_RE.findall(text):
            style = _token_style(token)
            if style is NumberStyle.DOT:
                dot += 1
            elif style is NumberStyle.COMMA:
                comma += 1
    logger.debug("number style cues: dot=%d comma=%d", dot, comma)
    if dot > 2 * comma:
        return NumberStyle.DOT
    if comma > 2 * dot:
        return NumberStyle.COMMA
    return NumberStyle.UNKNOWN


def split_value_flag(text: str) -> tuple[str, str | None]:
    """Split a value with a fused trailing flag ('41H', '5.6 L*', '0.8(L)') into (value, flag)."""
    stripped = text.strip()
    if not stripped or parse_value(stripped, ocr=True) is not None:
        return stripped, None
    for pattern in _FUSED_FLAG_RES:
        m = pattern.fullmatch(stripped)
        if m is None:
            continue
        head, flag = m.group("head").rstrip(), _unwrap(m.group("flag").strip())
        if flag.startswith("/"):
            continue  # '1049/L': a count unit's denominator fused to a damaged '10^9', not a flag
        if parse_flag(flag) is not None and parse_value(head, ocr=True) is not None:
            return head, flag
    return stripped, None
