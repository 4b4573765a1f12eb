"""Turn a page's lines into candidate result rows, using column headers when there are any.

Two ways to read a line, one rule for both: a row is a test name followed by a value, with optional unit,
range and flag, and nothing unexplained. Under a column header (table mode) each word's column says what it
is: previous-result columns are never read as results, a range may come before the result, and cumulative
reports give each dated column its own collection date. Without a header (free mode) the row's fields are
read in order by their shape, and the name must be a known test, so that sentences with numbers in them
(interpretation notes, addresses, footers) are not mistaken for results.

Lines also combine: a name wrapped over two lines, a reference range continued on the next line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from parsers.knowledge import Analyte, KnowledgeBase, NameMatch
from parsers.types import DateOrder
from parsers.units import closest_unit
from pipeline.columns import Column, Role, TableHeader, assign, column_at, find_header, normalise, vocabulary
from pipeline.fields import Field, FieldContext, cached_flag, segment
from pipeline.hints import LabHint
from pipeline.layout import split_line
from pipeline.models import Line, Word

_VALUE_KINDS = ("number", "qualitative", "bound")
_RANGE_KINDS = ("range", "bound", "norange")
_ABNORMAL_MARKS = frozenset("¬!†‡▲▼")
_FILLER = frozenset({"serum", "plasma", "blood", "whole", "urine", ":", "-", "=", "–", "—"})
_MAX_NAME_WORDS = 9
_DASHES = frozenset({"-", "–", "—"})


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
class _Parsed:
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


def _first(fields: Sequence[Field], kinds: Sequence[str]) -> Field | None:
    return next((f for f in fields if f.kind in kinds), None)


def _flag_of(fields: Sequence[Field]) -> Field | None:
    """A printed flag: a flag word, a flag fused to a value, or an abnormal mark such as '¬'."""
    for f in fields:
        if f.kind == "flag" or (f.kind in _VALUE_KINDS and f.flag is not None):
            return f
        if f.kind == "mark" and f.text[:1] in _ABNORMAL_MARKS:
            return f
    return None


def _match(ctx: RowContext, words: Sequence[Word]) -> list[NameMatch]:
    """The analytes a printed name denotes: the lab's hint first, then the knowledge base."""
    text = " ".join(w.text for w in words).strip(" :")
    if not text or not any(ch.isalpha() for ch in text):
        return []
    hinted = ctx.hint_names.get(ctx.kb.key(text)) if ctx.hint_names else None
    if hinted is not None:
        return [NameMatch(hinted, text, True, 1.0, text)]
    return ctx.kb.match(text, ocr=ctx.fields.ocr)


def _damaged_unit(fields: Sequence[Field], matches: Sequence[NameMatch], junk: list[str]) -> Field | None:
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


def _unknown_test(
    name: Sequence[Word], value: Field, unit: Field | None, range_field: Field | None, junk: Sequence[str]
) -> bool:
    """A row whose name the knowledge base does not know is still reported (as an unknown test) when it has
    the full shape of a result: a name, a plain number, a unit or a range, and nothing unexplained."""
    return (
        _looks_like_name(name)
        and value.kind == "number"
        and (unit is not None or range_field is not None)
        and not junk
    )


def _looks_like_name(words: Sequence[Word]) -> bool:
    """A plausible name for an unknown test: short, starts with a letter, not a sentence or a label."""
    if not words or len(words) > 6:
        return False
    text = " ".join(w.text for w in words)
    return text[0].isalpha() and not text.rstrip().endswith((":", ".")) and text.count(",") <= 1


# ------------------------------------------------------------------------------------------------ table


def _table_line(line: Line, header: TableHeader, group: int, ctx: RowContext) -> _Parsed:
    columns = header.in_group(group)
    placed = assign(line, header, group)
    column_of = {id(word): index for index, words in placed.items() for word in words}
    name_words = [w for index in sorted(placed) if columns[index].role == "name" for w in placed[index]]
    by_role: dict[str, list[Field]] = {}
    by_column: dict[int, list[Field]] = {}
    values: list[tuple[Field, dt.date | None, int]] = []
    junk: list[str] = []
    for run in _runs(line, columns, column_of):
        for found in segment(run, ctx.fields):
            # each field belongs to the column of its first word
            first = found.words[0]
            index = column_of.get(id(first), column_at(header, group, (first.x0 + first.x1) / 2))
            column = columns[index]
            if column.role == "value" and found.kind in _VALUE_KINDS and all(i != index for *_, i in values):
                values.append((found, column.date, index))
            by_role.setdefault(column.role, []).append(found)
            by_column.setdefault(index, []).append(found)

    junk.extend(_junk([f for fields in by_column.values() for f in fields]))
    # a number that overflowed into the name column is the value when the value column is empty
    while not values and name_words and segment(name_words[-1:], ctx.fields)[0].kind == "number":
        values.append((segment(name_words[-1:], ctx.fields)[0], None, -1))
        name_words.pop()
    name = tuple(name_words)
    if not values:
        range_fields = [f for f in by_role.get("range", []) if f.kind in _RANGE_KINDS]
        if not name and range_fields:
            return _Parsed(line, "range_only", range_fields=range_fields, group=group)
        if name and not by_role:
            return _Parsed(line, "name_only", name_words=name, group=group)
        return _Parsed(line, "other", group=group)
    everything = [f for fields in by_role.values() for f in fields]
    value_fields = by_role.get("value", [])
    unit = _first(by_role.get("unit", []), ("unit",)) or _first(everything, ("unit",))
    range_field = _range_from(by_role.get("range", [])) or _first(
        [f for f in everything if f not in value_fields], ("range",)
    )
    flag = _flag_of(by_role.get("flag", [])) or _flag_of(value_fields) or _flag_of(by_role.get("range", []))
    matches = _match(ctx, name)
    if unit is None and matches and ctx.fields.ocr:
        unit = _damaged_unit(everything, matches, junk)
    if not matches and not _unknown_test(name, values[0][0], unit, range_field, junk):
        return _Parsed(line, "other", name_words=name, group=group)
    rows = [
        Candidate(
            page=line.page,
            mode="table",
            name_words=name,
            matches=matches,
            value=value,
            unit=unit,
            range=range_field,
            flag=flag if not header.dated else _flag_of(by_column.get(index, [value])),
            words=line.words,
            collected_at=date,
            junk=junk,
            extra_numbers=_unexplained_numbers(by_role, len(values)),
        )
        for value, date, index in values
    ]
    return _Parsed(line, "row", rows=rows, name_words=name, group=group)


def _unexplained_numbers(by_role: dict[str, list[Field]], values: int) -> int:
    """Numbers the row does not account for: more in the value column(s) than values read, or loose numbers
    in the unit, range or flag columns (a range OCR garbled into '13.5 5 - - 17.5' is not a range)."""
    in_values = sum(1 for f in by_role.get("value", []) if f.kind in _VALUE_KINDS) - values
    elsewhere = sum(1 for role in ("unit", "range", "flag") for f in by_role.get(role, []) if f.kind == "number")
    return in_values + elsewhere


def _runs(line: Line, columns: Sequence[Column], column_of: dict[int, int]) -> list[list[Word]]:
    """Runs of words, left to right, to read as fields: the words of one column, and a cell that overflows
    into the next column ('mL/min/1,73 m²' under Units and Range) stays whole; but a new cell in another
    column starts a new run ('70 - 99' | '108' is a range, then a value). Columns that are not read
    (name, previous results, method) end a run."""
    cell_of = {id(word): index for index, cell in enumerate(line.cells) for word in cell.words}
    runs: list[list[Word]] = [[]]
    last: tuple[int, int] | None = None
    for word in sorted(line.words, key=lambda w: w.x0):
        index = column_of.get(id(word))
        if index is None:
            continue
        if columns[index].role not in ("value", "unit", "range", "flag"):
            if runs[-1]:
                runs.append([])
            last = None
            continue
        cell = cell_of.get(id(word), -1)
        if last is not None and index != last[0] and cell != last[1] and runs[-1]:
            runs.append([])
        runs[-1].append(word)
        last = (index, cell)
    return [run for run in runs if run]


def _range_from(fields: Sequence[Field]) -> Field | None:
    """The range in a range column: an interval, a one-sided bound, 'Not Estab.', or a text ('Negative')."""
    found = _first(fields, _RANGE_KINDS)
    if found is not None:
        return found
    return _first(fields, ("qualitative",))


# ------------------------------------------------------------------------------------------------ free


def _dashes_in_names(fields: list[Field]) -> list[Field]:
    """A dash between words belongs to a name ('Haemoglobin A1c level - IFCC standardised'), not a range."""
    return [
        Field("text", f.words)
        if f.kind == "norange" and f.text in _DASHES and 0 < i < len(fields) - 1 and fields[i + 1].kind == "text"
        else f
        for i, f in enumerate(fields)
    ]


def _free_line(line: Line, ctx: RowContext) -> _Parsed:
    fields = _dashes_in_names(segment(line.words, ctx.fields))
    starts = [i for i, f in enumerate(fields) if f.kind in _VALUE_KINDS or f.kind in _RANGE_KINDS]
    if not starts:
        words = line.words
        if all(f.kind in ("text", "mark", "unit", "flag") for f in fields) and len(words) <= _MAX_NAME_WORDS:
            return _Parsed(line, "name_only", name_words=tuple(words))
        return _Parsed(line, "other")
    if starts[0] == 0:
        ranges = [f for f in fields if f.kind in _RANGE_KINDS]
        if ranges and all(f.kind in _RANGE_KINDS or f.kind in ("mark", "unit") for f in fields):
            return _Parsed(line, "range_only", range_fields=ranges)
    rows: list[Candidate] = []
    name_end = starts[0]
    cursor = 0
    while cursor < len(fields):
        name_fields = fields[cursor:name_end]
        rest_end = _next_name(fields, name_end, ctx)
        row = _free_row(line, name_fields, fields[name_end:rest_end], ctx)
        if row is not None:
            rows.append(row)
        cursor = rest_end
        name_end = next(
            (
                i
                for i in range(cursor, len(fields))
                if fields[i].kind in _VALUE_KINDS or fields[i].kind in _RANGE_KINDS
            ),
            len(fields),
        )
    if not rows:
        name_words = tuple(w for f in fields[: starts[0]] for w in f.words)
        return _Parsed(line, "other", name_words=name_words)
    return _Parsed(line, "row", rows=rows)


def _junk(fields: Sequence[Field]) -> list[str]:
    """Text on a row that no field explains, as phrases of consecutive words; filler words and a phrase in
    parentheses (a method or a note: '(calc)', '(CKD EPI)') are not junk."""
    phrases: list[list[str]] = [[]]
    for found in fields:
        if found.kind == "text":
            phrases[-1].append(found.text)
        elif phrases[-1]:
            phrases.append([])
    texts = (" ".join(words) for words in phrases if words)
    return [t for t in texts if t.casefold() not in _FILLER and not (t.startswith("(") and t.endswith(")"))]


def _remark(line: Line, rest: Sequence[Field], *, complete: bool) -> tuple[list[Field], Field | None]:
    """A trailing phrase in a cell of its own after a complete result (value, unit and range) is a remark,
    not part of the row ('Above high reference limit', a lab code); it is the flag when it reads as one."""
    fields = list(rest)
    tail = len(fields)
    while tail > 0 and fields[tail - 1].kind in ("text", "flag", "mark"):
        tail -= 1
    if not complete or tail == len(fields) or tail == 0:
        return fields, None
    cell_of = {id(word): index for index, cell in enumerate(line.cells) for word in cell.words}
    if cell_of.get(id(fields[tail].words[0])) == cell_of.get(id(fields[tail - 1].words[-1])):
        return fields, None
    words = tuple(w for f in fields[tail:] for w in f.words)
    flag = cached_flag(" ".join(w.text for w in words))
    return fields[:tail], Field("flag", words, flag=flag) if flag is not None else None


def _next_name(fields: Sequence[Field], start: int, ctx: RowContext) -> int:
    """Where a second test begins on the same line (two tests side by side), or the end of the line."""
    for i in range(start, len(fields)):
        if fields[i].kind != "text":
            continue
        stop = i
        while stop < len(fields) and fields[stop].kind in ("text", "mark"):
            stop += 1
        words = [w for f in fields[i:stop] for w in f.words]
        later = any(f.kind in _VALUE_KINDS for f in fields[stop:])
        if later and _match(ctx, words):
            return i
    return len(fields)


def _free_row(
    line: Line, name_fields: Sequence[Field], rest: Sequence[Field], ctx: RowContext
) -> Candidate | None:
    name_words = tuple(w for f in name_fields for w in f.words)
    if not name_words or len(name_words) > _MAX_NAME_WORDS:
        return None
    matches = _match(ctx, name_words)
    unit_in_name: Field | None = None
    if not matches and name_fields and name_fields[-1].kind == "unit":
        unit_in_name = name_fields[-1]
        name_words = tuple(w for f in name_fields[:-1] for w in f.words)
        matches = _match(ctx, name_words)
    numbers = [f for f in rest if f.kind == "number"]
    bounds = [f for f in rest if f.kind == "bound"]
    ranges = [f for f in rest if f.kind in ("range", "norange")]
    qualitative = [f for f in rest if f.kind == "qualitative"]
    value: Field | None
    range_field: Field | None
    if numbers:
        value = numbers[0]
        range_field = ranges[0] if ranges else (bounds[0] if bounds else None)
    elif bounds and (ranges or len(bounds) > 1):
        value, range_field = bounds[0], ranges[0] if ranges else bounds[1]
    elif qualitative and matches:
        value, range_field = qualitative[0], ranges[0] if ranges else None
    else:
        return None
    unit = _first(rest, ("unit",)) or unit_in_name
    rest, remark = _remark(line, rest, complete=unit is not None and range_field is not None)
    junk = _junk(rest)
    if unit is None and matches and ctx.fields.ocr:
        unit = _damaged_unit(rest, matches, junk)
    if not matches and not _unknown_test(name_words, value, unit, range_field, junk):
        return None
    if matches and junk:
        return None
    extra = (
        len(numbers) - 1 + max(0, len(bounds) - (0 if numbers else 1) - (1 if range_field in bounds else 0))
    )
    return Candidate(
        page=line.page,
        mode="free",
        name_words=name_words,
        matches=matches,
        value=value,
        unit=unit,
        range=range_field,
        flag=_flag_of([f for f in rest if f is not range_field]) or remark,
        words=tuple(w for f in (*name_fields, *rest) for w in f.words),
        junk=junk,
        extra_numbers=max(0, extra),
    )


# ------------------------------------------------------------------------------------------------ page


def _close(above: Line, below: Line) -> bool:
    """Two lines are one logical row when the gap between them is under about one line height."""
    height = max(above.bottom - above.top, below.bottom - below.top, 1.0)
    return 0 <= below.top - above.bottom < 0.9 * height


def _neighbour(items: Sequence[_Parsed], index: int, step: int) -> _Parsed | None:
    """The nearest line above (step -1) or below (+1) in the same column group."""
    group, line = items[index].group, items[index].line
    other = index + step
    while 0 <= other < len(items):
        if items[other].group == group and items[other].line.top != line.top:
            return items[other]
        other += step
    return None


def _whole(kb: KnowledgeBase, match: NameMatch, words: Sequence[Word]) -> bool:
    """The match names the whole text, not just a part of it such as its parenthetical ('Volume (MCV)')."""
    return kb.key(match.matched) == kb.key(" ".join(w.text for w in words))


def _join_wrapped(items: list[_Parsed], ctx: RowContext) -> None:
    """Join a name printed over two lines with the row that holds its value.

    A row whose name is unknown takes the name-only line above or below when together they name a known
    test ('Gamma Glutamyl' + 'Transferase'); a row known only by a part of its name ('Volume (MCV)') takes it
    when together they name the same test in full ('Mean Corpuscular Volume (MCV)'). Panel headings and
    method lines in parentheses are never part of a name.
    """
    kb = ctx.kb
    for index, item in enumerate(items):
        if item.kind != "row":
            continue
        for row in item.rows:
            if row.matches and row.matches[0].exact and _whole(kb, row.matches[0], row.name_words):
                continue
            for step in (-1, 1):
                other = _neighbour(items, index, step)
                if other is None or other.kind != "name_only" or other.name_words[0].text.startswith("("):
                    continue
                pair = (other.line, item.line) if step < 0 else (item.line, other.line)
                heading = " ".join(w.text for w in other.name_words)
                if not _close(*pair) or kb.is_panel_heading(heading):
                    continue
                words = other.name_words + row.name_words if step < 0 else row.name_words + other.name_words
                matches = _match(ctx, words)
                if not matches or not matches[0].exact or (row.matches and not _whole(kb, matches[0], words)):
                    continue
                if row.matches and {m.analyte.code for m in matches} != {m.analyte.code for m in row.matches}:
                    continue
                row.name_words, row.matches, row.joined_name = words, matches, True
                row.words = row.words + other.name_words
                other.kind = "other"
                break


def _join_ranges(items: list[_Parsed]) -> None:
    """A reference range continued on the next line(s) belongs to the row above it."""
    last: tuple[_Parsed, Candidate] | None = None
    for item in items:
        if item.kind == "row" and item.rows:
            last = (item, item.rows[-1])
        elif item.kind == "range_only" and last is not None and _close(last[0].line, item.line):
            for row in last[0].rows:
                row.range_extra.extend(item.range_fields)
            last = (replace(last[0], line=item.line), last[1])
        elif item.kind not in ("name_only",):
            last = None


_LABEL_ROLES = ("value", "range", "previous", "method", "ignore")
_MAX_LABEL_WORDS = 5
_BLOCK_REACH = 4
"""How many lines a result block spans: its name heading, method lines, the result, the range."""


def _labelled(line: Line, ctx: RowContext) -> _Parsed | None:
    """A line that starts with a label and a colon naming what follows: 'Resultado: 112 mg/dL',
    'Valor de referência: 70 a 99 mg/dL', 'Material: Soro' (results printed as blocks, not rows)."""
    words = line.words
    for size in range(1, min(_MAX_LABEL_WORDS, len(words) - 1) + 1):
        label = " ".join(w.text for w in words[:size])
        follows = words[size].text
        if not (label.endswith(":") or follows.startswith(":")):
            continue
        role = ctx.hint_headers.get(normalise(label)) or vocabulary().phrases.get(normalise(label))
        if role not in _LABEL_ROLES:
            return None
        rest = [w for w in words[size:] if w.text != ":"]
        if rest and rest[0].text.startswith(":"):
            rest[0] = replace(rest[0], text=rest[0].text[1:])
        return _Parsed(line, "labelled", label=role, fields=segment([w for w in rest if w.text], ctx.fields))
    return None


def _join_blocks(items: list[_Parsed], ctx: RowContext) -> None:
    """A labelled result takes its name from the nearest known test name above it and its range from a
    labelled range line below it (with the range's continuation lines)."""
    for index, item in enumerate(items):
        if item.kind != "labelled" or item.label != "value":
            continue
        value = _first(item.fields, _VALUE_KINDS)
        heading = next(
            (
                other
                for other in reversed(items[max(0, index - _BLOCK_REACH) : index])
                if other.kind in ("name_only", "other") and other.name_words and _match(ctx, other.name_words)
            ),
            None,
        )
        if value is None or heading is None:
            continue
        range_field, extra = _block_range(items, index)
        item.kind = "row"
        item.rows = [
            Candidate(
                page=item.line.page,
                mode="free",
                name_words=heading.name_words,
                matches=_match(ctx, heading.name_words),
                value=value,
                unit=_first(item.fields, ("unit",)),
                range=range_field,
                range_extra=extra,
                flag=_flag_of([f for f in item.fields if f is not value]) or (value if value.flag else None),
                words=heading.name_words + item.line.words,
                junk=_junk(item.fields),
            )
        ]
        heading.kind = "other"


def _block_range(items: Sequence[_Parsed], index: int) -> tuple[Field | None, list[Field]]:
    """The range of a result block: the first range on a labelled range line just below, and the range
    lines that continue it."""
    for position in range(index + 1, min(len(items), index + _BLOCK_REACH)):
        other = items[position]
        if other.kind == "labelled" and other.label == "range":
            found = _first(other.fields, _RANGE_KINDS)
            extra: list[Field] = []
            for later in items[position + 1 : position + _BLOCK_REACH]:
                if later.kind != "range_only":
                    break
                extra.extend(later.range_fields)
            return found, extra if found is not None else []
        if other.kind in ("row", "name_only") or (other.kind == "labelled" and other.label == "value"):
            break
    return None, []


def find_rows(
    lines: Sequence[Line], header: TableHeader | None, ctx: RowContext
) -> tuple[list[Candidate], TableHeader | None]:
    """Candidate rows of one page, and the table header in force at its end (carried to the next page)."""
    items: list[_Parsed] = []
    for index, line in enumerate(lines):
        if ctx.hint is not None and ctx.hint.ignored(line.text):
            items.append(_Parsed(line, "other"))
            continue
        found = find_header(lines, index, ctx.date_order, ctx.hint_headers)
        if found is not None:
            header = found
            items.append(_Parsed(line, "header"))
            continue
        if header is None:
            items.append(_labelled(line, ctx) or _free_line(line, ctx))
            continue
        parts = split_line(line, header.group_edges) if header.groups > 1 else [line]
        for part in parts:
            group = sum(1 for edge in header.group_edges if part.x0 >= edge)
            items.append(_table_line(part, header, group, ctx))
    _join_wrapped(items, ctx)
    _join_blocks(items, ctx)
    _join_ranges(items)
    candidates = [row for item in items if item.kind == "row" for row in item.rows]
    return candidates, header
