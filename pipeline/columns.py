"""Find a results table's column header and assign the words of later lines to its columns.

A header is a line (with its qualifier line above or continuation line below) whose words are mostly
header vocabulary from `parsers/knowledge/headers.yaml`, naming at least a value column (or two or more
date columns, as in cumulative reports) and one other role. Column order is free: the range may come
before the result. The same header printed twice side by side makes two column groups.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import regex
import yaml

from parsers.dates import parse_date
from parsers.ranges import looks_like_range, parse_range
from parsers.types import DateOrder
from parsers.units import normalise_unit
from pipeline.models import Line, Word

Role = Literal["name", "value", "unit", "range", "flag", "previous", "method", "ignore"]
_ROLES: tuple[Role, ...] = ("name", "value", "unit", "range", "flag", "previous", "method", "ignore")
_VOCABULARY = Path(__file__).resolve().parent.parent / "parsers" / "knowledge" / "headers.yaml"
_MAX_PHRASE = 5
_PUNCT = regex.compile(r"[^\p{L}\p{N}]+")
_DATE_TOKEN = regex.compile(r"\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?|\d{1,2}[ -]\p{L}{3,9}[ -]\d{2,4}")


def normalise(text: str) -> str:
    """Lower case, accents stripped, punctuation as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _PUNCT.sub(" ", plain.casefold()).strip()


@dataclass(frozen=True, slots=True)
class Vocabulary:
    phrases: dict[str, Role]
    qualifiers: dict[str, Role]


@functools.cache
def vocabulary() -> Vocabulary:
    """The header vocabulary, validated: unknown roles fail at load."""
    data = yaml.safe_load(_VOCABULARY.read_text(encoding="utf-8"))
    unknown = set(data) - {"roles", "qualifiers"}
    if unknown:
        raise ValueError(f"{_VOCABULARY}: unknown keys {sorted(unknown)}")
    phrases: dict[str, Role] = {}
    qualifiers: dict[str, Role] = {}
    for target, section in ((phrases, data["roles"]), (qualifiers, data["qualifiers"])):
        for role, words in section.items():
            if role not in _ROLES:
                raise ValueError(f"{_VOCABULARY}: unknown role {role!r}")
            for phrase in words:
                target[normalise(phrase)] = role
    return Vocabulary(phrases, qualifiers)


@dataclass(frozen=True, slots=True)
class Column:
    role: Role
    x0: float
    x1: float
    label: str
    date: dt.date | None = None
    """The collection date a cumulative report prints above this value column."""
    group: int = 0


@dataclass(frozen=True, slots=True)
class TableHeader:
    page: int
    top: float
    bottom: float
    columns: tuple[Column, ...]
    group_edges: tuple[float, ...] = ()
    """x positions that separate side-by-side column groups."""

    def in_group(self, group: int) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.group == group)

    @property
    def groups(self) -> int:
        return len(self.group_edges) + 1

    @property
    def dated(self) -> bool:
        return sum(1 for c in self.columns if c.role == "value" and c.date is not None) >= 2


@dataclass(frozen=True, slots=True)
class _Span:
    role: Role
    x0: float
    x1: float
    label: str
    date: dt.date | None = None


def _phrases(
    words: Sequence[Word], order: DateOrder | None, extra: Mapping[str, Role] | None = None
) -> tuple[list[_Span], int]:
    """Greedy longest match of header phrases (and dates) over a line's words: spans, and words unmatched."""
    vocab = vocabulary()
    spans: list[_Span] = []
    unmatched = 0
    i = 0
    while i < len(words):
        found = None
        for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            chunk = words[i : i + size]
            label = " ".join(w.text for w in chunk)
            key = normalise(label)
            role = (extra or {}).get(key) or vocab.phrases.get(key) or vocab.qualifiers.get(key)
            if role is not None:
                found = (size, _Span(role, chunk[0].x0, chunk[-1].x1, label))
                break
            if size <= 3 and _DATE_TOKEN.search(label):
                date = parse_date(label, order)
                if date is not None:
                    found = (size, _Span("value", chunk[0].x0, chunk[-1].x1, label, date))
                    break
        halves = _camel_halves(words[i], vocab, extra) if found is None else None
        if halves is not None:
            spans.extend(halves)
            i += 1
            continue
        if found is None:
            # an unknown header word still heads a column: its words must not be read as a neighbour's
            word = words[i]
            spans.append(_Span("ignore", word.x0, word.x1, word.text))
            unmatched += 1
            i += 1
            continue
        size, span = found
        spans.append(span)
        i += size
    return spans, unmatched


_CAMEL = regex.compile(r"^(\p{Lu}\p{Ll}+)(\p{Lu}\p{Ll}+)$")


def _camel_halves(word: Word, vocab: Vocabulary, extra: Mapping[str, Role] | None) -> tuple[_Span, _Span] | None:
    """Two header labels printed with no space between them ('UnitsReference')."""
    match = _CAMEL.match(word.text)
    if match is None:
        return None
    roles = [(extra or {}).get(normalise(part)) or vocab.phrases.get(normalise(part)) for part in match.groups()]
    if roles[0] is None or roles[1] is None:
        return None
    cut = word.x0 + (word.x1 - word.x0) * len(match.group(1)) / len(word.text)
    return (
        _Span(roles[0], word.x0, cut, match.group(1)),
        _Span(roles[1], cut, word.x1, match.group(2)),
    )


def _is_header(spans: Sequence[_Span], unmatched: int, words: int) -> bool:
    roles = [s.role for s in spans if s.role != "ignore"]
    dates = sum(1 for s in spans if s.date is not None)
    kinds = set(roles)
    if unmatched > 0.3 * words:
        return False
    return dates >= 2 or ("value" in kinds and bool(kinds & {"name", "unit", "range"}))


def _short_cell_header(line: Line, spans: Sequence[_Span]) -> bool:
    """A line of four or more short cells that names a name and a value column is a header even when many of
    its labels are unknown ('Kode | Analyse | Resultat | Enhed | Referenceinterval')."""
    roles = {s.role for s in spans}
    return len(line.cells) >= 4 and all(len(c.words) <= 3 for c in line.cells) and {"name", "value"} <= roles


def _roles_from_cells(spans: list[_Span], lines: Sequence[Line], index: int) -> list[_Span]:
    """A column whose label is unknown takes the unit or the range role when most of its cells below are
    units or ranges (and the header has no such column yet)."""
    known = vocabulary().phrases
    result = list(spans)
    for position, span in enumerate(spans):
        if span.role != "ignore" or known.get(normalise(span.label)) == "ignore":
            continue
        left = (spans[position - 1].x1 + span.x0) / 2 if position > 0 else float("-inf")
        right = (span.x1 + spans[position + 1].x0) / 2 if position + 1 < len(spans) else float("inf")
        cells = [
            " ".join(w.text for w in other.words if left <= (w.x0 + w.x1) / 2 < right)
            for other in lines[index + 1 : index + 12]
        ]
        cells = [c for c in cells if c]
        if len(cells) < 3:
            continue
        roles = {r.role for r in result}
        if "unit" not in roles and sum(1 for c in cells if normalise_unit(c) is not None) >= 0.6 * len(cells):
            result[position] = _Span("unit", span.x0, span.x1, span.label)
        elif "range" not in roles and sum(1 for c in cells if _is_range(c)) >= 0.6 * len(cells):
            result[position] = _Span("range", span.x0, span.x1, span.label)
    return result


def _is_range(text: str) -> bool:
    return looks_like_range(text) and parse_range(text) is not None


def _merge_qualifiers(spans: list[_Span], above: Sequence[_Span]) -> list[_Span]:
    """Apply a qualifier ('Previous', 'Current') or a date printed above or below a column to that column."""
    merged = []
    for span in spans:
        for extra in above:
            if extra.x1 < span.x0 - 2 or extra.x0 > span.x1 + 2:
                continue
            if extra.role == "previous" and span.role == "value":
                span = _Span("previous", span.x0, span.x1, f"{extra.label} {span.label}", span.date)
            elif extra.date is not None and span.role in ("value", "previous") and span.date is None:
                span = _Span(span.role, span.x0, span.x1, f"{span.label} {extra.label}", extra.date)
        merged.append(span)
    return merged


def _dated_previous(spans: list[_Span]) -> list[_Span]:
    """Dates that label earlier results are not result columns of their own.

    'Antériorité du 12/09/2024', 'Previous (12/11/2024)': a date after a previous-result phrase (with only
    small words between) belongs to that column. A single dated column beside an undated result column is
    an earlier result too; only two or more dated columns make a cumulative report.
    """
    merged: list[_Span] = []
    for span in spans:
        glue = [s for s in reversed(merged) if s.role == "ignore" and len(s.label) <= 4]
        before = merged[len(merged) - len(glue) - 1] if len(merged) > len(glue) else None
        if span.date is not None and before is not None and before.role == "previous" and before.date is None:
            del merged[len(merged) - len(glue) - 1 :]
            span = _Span("previous", before.x0, span.x1, f"{before.label} {span.label}", span.date)
        merged.append(span)
    dated = [s for s in merged if s.role == "value" and s.date is not None]
    undated = [s for s in merged if s.role == "value" and s.date is None]
    if len(dated) == 1 and undated:
        merged = [_Span("previous", s.x0, s.x1, s.label, s.date) if s is dated[0] else s for s in merged]
    return merged


def _columns_below(
    spans: list[_Span], lines: Sequence[Line], index: int, order: DateOrder | None, extra: Mapping[str, Role] | None
) -> list[_Span]:
    """Column labels printed on the next lines of a tall header ('Date | 14/02/25 ...' over
    'Lab No | ... | Units | Reference'): unit, range and flag labels where the header has no column yet."""
    line = lines[index]
    height = line.bottom - line.top
    added = list(spans)
    for other in lines[index + 1 : index + 4]:
        if other.top - line.bottom > 4.5 * height:
            break
        near, _ = _phrases(other.words, order, extra)
        for span in near:
            free = all(span.x1 < s.x0 - 2 or span.x0 > s.x1 + 2 for s in added)
            if span.role in ("unit", "range", "flag") and free:
                added.append(span)
    return added


def find_header(
    lines: Sequence[Line], index: int, order: DateOrder | None, extra: Mapping[str, Role] | None = None
) -> TableHeader | None:
    """The table header starting at lines[index], or None. Looks one line up and down for qualifiers.
    `extra` adds a lab's own header words (from its layout hint)."""
    line = lines[index]
    spans, unmatched = _phrases(line.words, order, extra)
    if not _is_header(spans, unmatched, len(line.words)) and not _short_cell_header(line, spans):
        return None
    height = line.bottom - line.top
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour < len(lines):
            other = lines[neighbour]
            if abs(other.top - line.top) > 2.2 * height:
                continue
            near, missed = _phrases(other.words, order, extra)
            if near and missed <= 0.3 * len(other.words):
                spans = _merge_qualifiers(spans, near)
    spans = _columns_below(spans, lines, index, order, extra)
    spans = _dated_previous(sorted(spans, key=lambda s: s.x0))
    if not any(s.role == "name" for s in spans) and spans[0].role == "ignore":
        # the row-label column of a cumulative table is headed by a word we do not know ('Date', 'Datum')
        spans[0] = _Span("name", spans[0].x0, spans[0].x1, spans[0].label)
    if not any(s.role == "value" for s in spans):
        return None  # a line of dates under 'Previous' columns is part of a header, not one of its own
    spans = _roles_from_cells(spans, lines, index)
    names = [s for s in spans if s.role == "name"]
    # a name column after a value column starts a second table beside the first
    edges = tuple(
        (spans[i - 1].x1 + span.x0) / 2
        for i, span in enumerate(spans)
        if i > 0 and span.role == "name" and any(s.role == "value" for s in spans[:i])
    )
    columns = []
    for span in spans:
        group = sum(1 for edge in edges if span.x0 >= edge)
        columns.append(Column(span.role, span.x0, span.x1, span.label, span.date, group))
    if len(names) > 1 and len(edges) != len(names) - 1:
        return None
    return TableHeader(
        page=line.page, top=line.top, bottom=line.bottom, columns=tuple(columns), group_edges=edges
    )


def _boundaries(columns: Sequence[Column]) -> list[float]:
    return [(left.x1 + right.x0) / 2 for left, right in itertools.pairwise(columns)]


def column_at(header: TableHeader, group: int, x: float) -> int:
    """Index (within the group) of the column whose slot holds x."""
    return sum(1 for edge in _boundaries(header.in_group(group)) if x >= edge)


def assign(line: Line, header: TableHeader, group: int) -> dict[int, list[Word]]:
    """Words of `line` (already cut to one group) keyed by column index within the group.

    A word goes to the column whose slot (between midpoints to its neighbours) holds its centre; words
    that continue a name cell across the boundary stay with the name, since long names overflow.
    """
    columns = header.in_group(group)
    edges = _boundaries(columns)
    result: dict[int, list[Word]] = {}
    for cell in line.cells:
        cell_column: int | None = None
        for word in cell.words:
            centre = (word.x0 + word.x1) / 2
            index = sum(1 for edge in edges if centre >= edge)
            if cell_column is not None and columns[cell_column].role == "name" and _texty(word):
                index = cell_column
            cell_column = index if cell_column is None else cell_column
            result.setdefault(index, []).append(word)
    return _right_aligned_values(result, columns)


def _right_aligned_values(placed: dict[int, list[Word]], columns: Sequence[Column]) -> dict[int, list[Word]]:
    """A value right-aligned under a narrow label can cross the midpoint to the next column; when the value
    column is empty, a number that ends before the next column's label begins is the value (with a flag
    printed right after it)."""
    for index, column in enumerate(columns[:-1]):
        after = columns[index + 1]
        if column.role != "value" or index in placed or after.role in ("value", "previous"):
            continue
        early = [w for w in placed.get(index + 1, []) if w.x1 <= after.x0]
        if early and (early[0].text[:1].isdigit() or early[0].text[:1] in "<>≤≥"):
            placed[index] = early
            rest = [w for w in placed[index + 1] if w not in early]
            if rest:
                placed[index + 1] = rest
            else:
                del placed[index + 1]
    return placed


def _texty(word: Word) -> bool:
    return any(ch.isalpha() for ch in word.text) and not any(ch.isdigit() for ch in word.text[:1])
