"""What the row readers share: the row-reading context, the candidate row, what a line turned out to be,
and the small judgements every reader makes (which test a name is, whether text is unexplained).

A row is a test name followed by a value, with optional unit, range and flag, and nothing unexplained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from parsers.knowledge import Analyte, KnowledgeBase, NameMatch
from parsers.types import DateOrder
from parsers.units import closest_unit
from pipeline.columns import Role
from pipeline.fields import Field, FieldContext
from pipeline.hints import LabHint
from pipeline.models import Line, Word

VALUE_KINDS = ("number", "qualitative", "bound")


RANGE_KINDS = ("range", "bound", "norange")


_ABNORMAL_MARKS = frozenset("¬!†‡▲▼")


FILLER = frozenset({"serum", "plasma", "blood", "whole", "urine", ":", "-", "=", "–", "—"})


MAX_NAME_WORDS = 9


NOISE_CONF = 0.6
"""On a scan, a word of one or two characters read below this confidence just before a test's name is taken
for a mark beside it (a logo, a stamp, a hole punch), when the name only matches without it."""


@dataclass(frozen=True, slots=True)
class RowContext:
    kb: KnowledgeBase
    fields: FieldContext
    date_order: DateOrder | None
    hint: LabHint | None = None
    """The per-lab hint that applies to this report, if any."""
    hint_names: Mapping[str, Analyte] = field(default_factory=dict)
    hint_headers: Mapping[str, Role] = field(default_factory=dict)


@dataclass(slots=True)
class Candidate:
    """One row read from the page, before validation."""

    page: int
    mode: Literal["table", "free"]
    name_words: tuple[Word, ...]
    matches: list[NameMatch]
    value: Field | None
    unit: Field | None = None
    range: Field | None = None
    range_extra: list[Field] = field(default_factory=list)
    flag: Field | None = None
    words: tuple[Word, ...] = ()
    collected_at: dt.date | None = None
    junk: list[str] = field(default_factory=list)
    extra_numbers: int = 0
    joined_name: bool = False

    @property
    def name(self) -> str:
        return " ".join(w.text for w in self.name_words).strip(" :")

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        words = self.words or self.name_words
        return (
            min(w.x0 for w in words),
            min(w.top for w in words),
            max(w.x1 for w in words),
            max(w.bottom for w in words),
        )


@dataclass(slots=True)
class Parsed:
    """What one line (or one column group of it) turned out to be."""

    line: Line
    kind: Literal["row", "name_only", "range_only", "labelled", "header", "other"]
    rows: list[Candidate] = field(default_factory=list)
    name_words: tuple[Word, ...] = ()
    range_fields: list[Field] = field(default_factory=list)
    group: int = 0
    label: Role | None = None
    """For a labelled line ('Resultado: 112 mg/dL'): what its label says the rest is."""
    fields: list[Field] = field(default_factory=list)


def first_of(fields: Sequence[Field], kinds: Sequence[str]) -> Field | None:
    return next((f for f in fields if f.kind in kinds), None)


def flag_of(fields: Sequence[Field]) -> Field | None:
    """A printed flag: a flag word, a flag fused to a value, or an abnormal mark such as '¬'."""
    for f in fields:
        if f.kind == "flag" or (f.kind in VALUE_KINDS and f.flag is not None):
            return f
        if f.kind == "mark" and f.text[:1] in _ABNORMAL_MARKS:
            return f
    return None


def match_name(ctx: RowContext, words: Sequence[Word]) -> list[NameMatch]:
    """The analytes a printed name denotes: the lab's hint first, then the knowledge base."""
    text = " ".join(w.text for w in words).strip(" :")
    if not text or not any(ch.isalpha() for ch in text):
        return []
    hinted = ctx.hint_names.get(ctx.kb.key(text)) if ctx.hint_names else None
    if hinted is not None:
        return [NameMatch(hinted, text, True, 1.0, text)]
    matches = ctx.kb.match(text, ocr=ctx.fields.ocr)
    start = _leading_marks(words) if ctx.fields.ocr and not matches else 0
    if not start or start == len(words):
        return matches
    # not exact: a name read past a smudge goes to review
    return [replace(m, exact=False) for m in match_name(ctx, words[start:])]


def _leading_marks(words: Sequence[Word]) -> int:
    """How many words at the start of an OCR'd name are punctuation or a faint one- or two-character mark."""
    count = 0
    for word in words:
        text = word.text.strip()
        if any(c.isalnum() for c in text) and (len(text) > 2 or word.conf >= NOISE_CONF):
            break
        count += 1
    return count


def damaged_unit(fields: Sequence[Field], matches: Sequence[NameMatch], junk: list[str]) -> Field | None:
    """On an OCR'd row of a known test, a text that is a damaged spelling of one of the test's units
    ('x1046/ul' for x10^6/µl) is that unit, with the repair recorded; it is then no longer junk."""
    allowed = {unit for match in matches for unit in match.analyte.units}
    for found in fields:
        if found.kind == "text":
            unit = closest_unit(found.text, allowed)
            if unit is not None:
                if found.text in junk:
                    junk.remove(found.text)
                return Field("unit", found.words, unit=unit)
    return None


def unknown_test(
    name: Sequence[Word], value: Field, unit: Field | None, range_field: Field | None, junk: Sequence[str]
) -> bool:
    """A row whose name the knowledge base does not know is still reported (as an unknown test) when it has
    the full shape of a result: a name, a plain number, a unit or a range, and nothing unexplained."""
    return (
        looks_like_name(name) and value.kind == "number" and (unit is not None or range_field is not None) and not junk
    )


def looks_like_name(words: Sequence[Word]) -> bool:
    """A plausible name for an unknown test: short, starts with a letter, not a sentence or a label."""
    if not words or len(words) > 6:
        return False
    text = " ".join(w.text for w in words)
    return text[0].isalpha() and not text.rstrip().endswith((":", ".")) and text.count(",") <= 1


def junk_phrases(fields: Sequence[Field]) -> list[str]:
    """Text on a row that no field explains, as phrases of consecutive words; filler words and a phrase in
    parentheses (a method or a note: '(calc)', '(CKD EPI)') are not junk."""
    phrases: list[list[str]] = [[]]
    for found in fields:
        if found.kind == "text":
            phrases[-1].append(found.text)
        elif phrases[-1]:
            phrases.append([])
    texts = (" ".join(words) for words in phrases if words)
    return [t for t in texts if t.casefold() not in FILLER and not (t.startswith("(") and t.endswith(")"))]
