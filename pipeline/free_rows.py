"""Read a line without a column header (free mode): its fields in order by their shape.

The name must be a known test, so that sentences with numbers in them (interpretation notes, addresses,
footers) are not mistaken for results. Also lines that say what they hold with a label ('Resultado: 112').
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.candidates import (
    MAX_NAME_WORDS,
    RANGE_KINDS,
    VALUE_KINDS,
    Candidate,
    Parsed,
    RowContext,
    damaged_unit,
    first_of,
    flag_of,
    junk_phrases,
    match_name,
    unknown_test,
)
from pipeline.columns import normalise, vocabulary
from pipeline.fields import Field, cached_flag, segment
from pipeline.models import Line

_DASHES = frozenset({"-", "–", "—"})


_LABEL_ROLES = ("value", "range", "previous", "method", "ignore")


_MAX_LABEL_WORDS = 5


def _names_read_as_fields(fields: list[Field], ctx: RowContext) -> list[Field]:
    """Words that read as something else but name a test: a dash inside a name ('Haemoglobin A1c level -
    IFCC standardised'); a test whose name is also a unit or a 'not available' mark ('INR', 'NA' for
    sodium) where a value follows it."""
    result = []
    for i, f in enumerate(fields):
        following = fields[i + 1].kind if i + 1 < len(fields) else None
        dash_in_name = f.kind == "norange" and f.text in _DASHES and i > 0 and following == "text"
        test_name = f.kind in ("unit", "norange") and following in VALUE_KINDS and _names_test(f, i, fields, ctx)
        result.append(Field("text", f.words) if dash_in_name or test_name else f)
    return result


def _names_test(found: Field, index: int, fields: Sequence[Field], ctx: RowContext) -> bool:
    """A unit-like or mark-like word that is exactly a test's name, at the start of the line or right after
    a complete result (where a second test begins)."""
    starts = index == 0 or fields[index - 1].kind in ("range", "bound", "flag", "mark")
    return starts and any(m.exact for m in match_name(ctx, found.words))


def read_free_line(line: Line, ctx: RowContext) -> Parsed:
    fields = _names_read_as_fields(segment(line.words, ctx.fields), ctx)
    starts = [i for i, f in enumerate(fields) if f.kind in VALUE_KINDS or f.kind in RANGE_KINDS]
    if not starts:
        words = line.words
        if all(f.kind in ("text", "mark", "unit", "flag") for f in fields) and len(words) <= MAX_NAME_WORDS:
            return Parsed(line, "name_only", name_words=tuple(words))
        return Parsed(line, "other")
    if starts[0] == 0:
        ranges = [f for f in fields if f.kind in RANGE_KINDS]
        if ranges and all(f.kind in RANGE_KINDS or f.kind in ("mark", "unit") for f in fields):
            return Parsed(line, "range_only", range_fields=ranges)
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
            (i for i in range(cursor, len(fields)) if fields[i].kind in VALUE_KINDS or fields[i].kind in RANGE_KINDS),
            len(fields),
        )
    if not rows:
        name_words = tuple(w for f in fields[: starts[0]] for w in f.words)
        return Parsed(line, "other", name_words=name_words)
    return Parsed(line, "row", rows=rows)


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
        later = any(f.kind in VALUE_KINDS for f in fields[stop:])
        if later and match_name(ctx, words):
            return i
    return len(fields)


def _free_row(line: Line, name_fields: Sequence[Field], rest: Sequence[Field], ctx: RowContext) -> Candidate | None:
    name_words = tuple(w for f in name_fields for w in f.words)
    if not name_words or len(name_words) > MAX_NAME_WORDS:
        return None
    matches = match_name(ctx, name_words)
    unit_in_name: Field | None = None
    if not matches and name_fields and name_fields[-1].kind == "unit":
        unit_in_name = name_fields[-1]
        name_words = tuple(w for f in name_fields[:-1] for w in f.words)
        matches = match_name(ctx, name_words)
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
    unit = first_of(rest, ("unit",)) or unit_in_name
    rest, remark = _remark(line, rest, complete=unit is not None and range_field is not None)
    junk = junk_phrases(rest)
    if unit is None and matches and ctx.fields.ocr:
        unit = damaged_unit(rest, matches, junk)
    if not matches and not unknown_test(name_words, value, unit, range_field, junk):
        return None
    if matches and junk:
        return None
    extra = len(numbers) - 1 + max(0, len(bounds) - (0 if numbers else 1) - (1 if range_field in bounds else 0))
    return Candidate(
        page=line.page,
        mode="free",
        name_words=name_words,
        matches=matches,
        value=value,
        unit=unit,
        range=range_field,
        flag=flag_of([f for f in rest if f is not range_field]) or remark,
        words=tuple(w for f in (*name_fields, *rest) for w in f.words),
        junk=junk,
        extra_numbers=max(0, extra),
    )


def read_labelled(line: Line, ctx: RowContext) -> Parsed | None:
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
        return Parsed(line, "labelled", label=role, fields=segment([w for w in rest if w.text], ctx.fields))
    return None
