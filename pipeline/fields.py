"""Cut the words of a row (after its name) into typed fields: range, bound, unit, number, flag, mark, text.

Greedy and local: at each word, the longest run of words that parses as a range or a unit wins, else the
word is read alone as a number (with a fused flag), a flag, a lone symbol (a mark), or text. A 'bound' is
a one-sided expression ('<0.3', 'Up to 40') that is a value in a result column and a range in a range
column; the row logic decides which. Field parsers are pure, so their answers are cached per text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import regex

from parsers.flags import parse_flag
from parsers.ranges import can_be_in_range, looks_like_range, parse_range
from parsers.types import NumberStyle, ParsedFlag, ParsedRange, ParsedValue, UnitInfo
from parsers.units import looks_like_unit, normalise_unit
from parsers.values import parse_value, split_value_flag
from pipeline.models import Word

Kind = Literal["range", "bound", "norange", "unit", "number", "qualitative", "flag", "mark", "text"]

_MAX_RANGE_WORDS = 9
_MAX_UNIT_WORDS = 3
_MARK = regex.compile(r"^[^\p{L}\p{N}\s]{1,2}$")


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind
    words: tuple[Word, ...]
    value: ParsedValue | None = None
    range: ParsedRange | None = None
    unit: UnitInfo | None = None
    flag: ParsedFlag | None = None

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@functools.lru_cache(maxsize=65536)
def cached_range(text: str, style: NumberStyle, sex: str | None, age: float | None) -> ParsedRange | None:
    if not looks_like_range(text) and any(ch.isdigit() for ch in text):
        return None
    return parse_range(text, style, sex=sex, age_years=age)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=65536)
def cached_unit(text: str, ocr: bool) -> UnitInfo | None:
    return normalise_unit(text, ocr=ocr) if looks_like_unit(text) else None


@functools.lru_cache(maxsize=65536)
def cached_value(text: str, style: NumberStyle, ocr: bool) -> tuple[ParsedValue | None, str | None]:
    """A number with an optional fused flag ('41H', '5.6*')."""
    body, flag_text = split_value_flag(text)
    return parse_value(body, style, ocr=ocr), flag_text


@functools.lru_cache(maxsize=65536)
def cached_flag(text: str) -> ParsedFlag | None:
    return parse_flag(text)


@dataclass(frozen=True, slots=True)
class FieldContext:
    style: NumberStyle
    sex: str | None
    age_years: float | None
    ocr: bool


def _inverted(parsed: ParsedRange) -> bool:
    """low >= high: not a range but a value and a range read as one ('151 150 - 400' is not 151,150-400)."""
    return parsed.low is not None and parsed.high is not None and parsed.low >= parsed.high


def _range_at(words: Sequence[Word], start: int, ctx: FieldContext) -> Field | None:
    end = start
    while end < len(words) and end - start < _MAX_RANGE_WORDS and can_be_in_range(words[end].text):
        end += 1
    for stop in range(end, start, -1):
        text = " ".join(w.text for w in words[start:stop])
        parsed = cached_range(text, ctx.style, ctx.sex, ctx.age_years)
        if parsed is None or parsed.kind == "text" or _inverted(parsed):
            continue
        if parsed.kind == "none":
            kind: Kind = "norange"
        elif parsed.kind == "interval" or parsed.stratified:
            kind = "range"
        else:
            kind = "bound"
        return Field(kind, tuple(words[start:stop]), range=parsed)
    return None


def _unit_at(words: Sequence[Word], start: int, ctx: FieldContext) -> Field | None:
    for stop in range(min(len(words), start + _MAX_UNIT_WORDS), start, -1):
        text = " ".join(w.text for w in words[start:stop])
        unit = cached_unit(text, ctx.ocr)
        if unit is not None:
            return Field("unit", tuple(words[start:stop]), unit=unit)
    return None


def _single(word: Word, ctx: FieldContext) -> Field:
    value, flag_text = cached_value(word.text, ctx.style, ctx.ocr)
    if value is not None:
        flag = cached_flag(flag_text) if flag_text else None
        return Field("qualitative" if value.is_text else "number", (word,), value=value, flag=flag)
    flag = cached_flag(word.text)
    if flag is not None:
        return Field("flag", (word,), flag=flag)
    if _MARK.match(word.text):
        return Field("mark", (word,))
    return Field("text", (word,))


_GROUP_HEAD = regex.compile(r"^\d{1,3}$")
_GROUP_TAIL = regex.compile(r"^\d{3}(?:,\d+)?$")


def _grouped(words: Sequence[Word], start: int, ctx: FieldContext) -> Field | None:
    """'250 000', '7 850': thousands grouped by a space, as decimal-comma documents print them. Only under that
    style, within one word space, and not when a range follows ('151 150 - 400' is a value and a range)."""
    if ctx.style is not NumberStyle.COMMA or start + 1 >= len(words):
        return None
    head, tail = words[start], words[start + 1]
    if not (_GROUP_HEAD.match(head.text) and _GROUP_TAIL.match(tail.text)):
        return None
    if tail.x0 - head.x1 > 0.5 * max(head.height, 1.0):
        return None
    after = words[start + 2].text if start + 2 < len(words) else ""
    if after in ("-", "–", "—", "to", "a", "à", "bis"):
        return None
    value, _ = cached_value(f"{head.text} {tail.text}", ctx.style, ctx.ocr)
    return Field("number", (head, tail), value=value) if value is not None and not value.is_text else None


def segment(words: Sequence[Word], ctx: FieldContext) -> list[Field]:
    """Typed fields of a run of words, left to right."""
    fields: list[Field] = []
    i = 0
    while i < len(words):
        glued = _unglued(words[i], ctx)
        if glued is not None:
            fields.extend(glued)
            i += 1
            continue
        field = (
            _range_at(words, i, ctx) or _unit_at(words, i, ctx) or _grouped(words, i, ctx) or _single(words[i], ctx)
        )
        fields.append(field)
        i += len(field.words)
    return fields


def _unglued(word: Word, ctx: FieldContext) -> list[Field] | None:
    """A unit printed against its range or value with no space ('mmol/L133-146', 'U/L<33', 'mL/min/1.73m2>60'):
    the longest known unit at the start, and a range, bound or number after it."""
    text = word.text
    if len(text) < 4 or text[0].isdigit() or cached_unit(text, ctx.ocr) is not None:
        return None
    for cut in range(len(text) - 1, 1, -1):
        right = text[cut:]
        if not (right[0].isdigit() or right[0] in "<>≤≥(["):
            continue
        unit = cached_unit(text[:cut], ctx.ocr)
        if unit is None:
            continue
        x = word.x0 + (word.x1 - word.x0) * cut / len(text)
        left_word = Word(text[:cut], word.x0, word.top, x, word.bottom, word.bold, word.conf, word.engine)
        right_word = Word(right, x, word.top, word.x1, word.bottom, word.bold, word.conf, word.engine)
        tail = _range_at([right_word], 0, ctx) or _single(right_word, ctx)
        if tail.kind in ("range", "bound", "number"):
            return [Field("unit", (left_word,), unit=unit), tail]
    return None
