"""Read a line under a column header (table mode): each word's column says what it is.

Previous-result columns are never read as results, a range may come before the result, and cumulative
reports give each dated column its own collection date.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import replace

from pipeline.candidates import (
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
from pipeline.columns import Column, TableHeader, assign, column_at
from pipeline.fields import Field, segment
from pipeline.models import Line, Word


def read_table_line(line: Line, header: TableHeader, group: int, ctx: RowContext) -> Parsed:
    columns = header.in_group(group)
    placed = assign(line, header, group)
    column_of = {id(word): index for index, words in placed.items() for word in words}
    name_words = [w for index in sorted(placed) if columns[index].role == "name" for w in placed[index]]
    by_role: dict[str, list[Field]] = {}
    by_column: dict[int, list[Field]] = {}
    ordered: list[Field] = []
    values: list[tuple[Field, dt.date | None, int]] = []
    junk: list[str] = []
    for run in _runs(line, columns, column_of):
        for found in segment(run, ctx.fields):
            # each field belongs to the column of its first word
            first = found.words[0]
            index = column_of.get(id(first), column_at(header, group, (first.x0 + first.x1) / 2))
            column = columns[index]
            if column.role == "value" and found.kind in VALUE_KINDS and all(i != index for *_, i in values):
                values.append((found, column.date, index))
            by_role.setdefault(column.role, []).append(found)
            by_column.setdefault(index, []).append(found)
            ordered.append(found)

    junk.extend(junk_phrases([f for fields in by_column.values() for f in fields]))
    # a number that overflowed into the name column is the value when the value column is empty
    while not values and name_words and segment(name_words[-1:], ctx.fields)[0].kind == "number":
        values.append((segment(name_words[-1:], ctx.fields)[0], None, -1))
        name_words.pop()
    name = tuple(name_words)
    if not values:
        range_fields = [f for f in by_role.get("range", []) if f.kind in RANGE_KINDS]
        if not name and range_fields:
            return Parsed(line, "range_only", range_fields=range_fields, group=group)
        if name and not by_role:
            return Parsed(line, "name_only", name_words=name, group=group)
        return Parsed(line, "other", group=group)
    everything = [f for fields in by_role.values() for f in fields]
    value_fields = by_role.get("value", [])
    unit = first_of(by_role.get("unit", []), ("unit",)) or first_of(everything, ("unit",))
    range_field = _range_from(by_role.get("range", [])) or first_of(
        [f for f in everything if f not in value_fields], ("range",)
    )
    flag = flag_of(by_role.get("flag", [])) or flag_of(value_fields) or flag_of(by_role.get("range", []))
    matches = match_name(ctx, name)
    if unit is None and matches and ctx.fields.ocr:
        unit = damaged_unit(everything, matches, junk)
    if not matches and not unknown_test(name, values[0][0], unit, range_field, junk):
        return Parsed(line, "other", name_words=name, group=group)
    rows = [
        Candidate(
            page=line.page,
            mode="table",
            name_words=name,
            matches=matches,
            value=value,
            unit=unit,
            range=range_field,
            flag=flag if not header.dated else flag_of(by_column.get(index, [value])),
            words=line.words,
            collected_at=date,
            junk=junk,
            extra_numbers=_unexplained_numbers(by_role, len(values)),
        )
        for value, date, index in values
    ]
    if len(rows) == 1 and len({m.analyte.code for m in matches}) == 2:
        rows = _percent_and_count(rows[0], ordered, ctx)
    return Parsed(line, "row", rows=rows, name_words=name, group=group)


def _percent_and_count(row: Candidate, fields: Sequence[Field], ctx: RowContext) -> list[Candidate]:
    """'Neutrófilos  62 %  4.216 /mm³': a differential printed as percentage and count on one row is two
    results, each named by the unit after its number; the range goes to the one whose unit it shares."""
    pairs = [
        (number, unit)
        for number, unit in itertools.pairwise(fields)
        if number.kind in VALUE_KINDS and unit.kind == "unit" and unit.unit is not None
    ]
    readings = [(ctx.kb.resolve(row.matches, unit.unit.ucum), number, unit) for number, unit in pairs if unit.unit]
    found = [(match, number, unit) for match, number, unit in readings if match is not None]
    if len(found) != 2 or found[0][0].analyte.code == found[1][0].analyte.code:
        return [row]
    results = []
    for match, number, unit in found:
        shares_range = row.range is not None and unit is row.unit
        results.append(
            replace(
                row,
                matches=[match],
                value=number,
                unit=unit,
                range=row.range if shares_range else None,
                range_extra=list(row.range_extra) if shares_range else [],
                flag=number if number.flag is not None else (row.flag if shares_range else None),
                extra_numbers=max(0, row.extra_numbers - 1),
            )
        )
    return results


def _unexplained_numbers(by_role: dict[str, list[Field]], values: int) -> int:
    """Numbers the row does not account for: more in the value column(s) than values read, or loose numbers
    in the unit, range or flag columns (a range OCR garbled into '13.5 5 - - 17.5' is not a range)."""
    in_values = sum(1 for f in by_role.get("value", []) if f.kind in VALUE_KINDS) - values
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
    found = first_of(fields, RANGE_KINDS)
    if found is not None:
        return found
    return first_of(fields, ("qualitative",))
