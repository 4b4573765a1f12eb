"""Turn a page's lines into candidate result rows, using column headers when there are any.

Each line is read under the table header in force (pipeline.table_rows), or by its own shape
(pipeline.free_rows); then lines that belong together are joined (pipeline.joins).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.candidates import Candidate, Parsed, RowContext
from pipeline.columns import TableHeader, find_header
from pipeline.free_rows import read_free_line, read_labelled
from pipeline.joins import join_blocks, join_ranges, join_wrapped
from pipeline.layout import split_line
from pipeline.models import Line
from pipeline.table_rows import read_table_line

__all__ = ["Candidate", "RowContext", "find_rows"]


def find_rows(
    lines: Sequence[Line], header: TableHeader | None, ctx: RowContext
) -> tuple[list[Candidate], TableHeader | None]:
    """Candidate rows of one page, and the table header in force at its end (carried to the next page)."""
    items: list[Parsed] = []
    for index, line in enumerate(lines):
        if ctx.hint is not None and ctx.hint.ignored(line.text):
            items.append(Parsed(line, "other"))
            continue
        found = find_header(lines, index, ctx.date_order, ctx.hint_headers)
        if found is not None:
            header = found
            items.append(Parsed(line, "header"))
            continue
        if header is None:
            items.append(read_labelled(line, ctx) or read_free_line(line, ctx))
            continue
        parts = split_line(line, header.group_edges) if header.groups > 1 else [line]
        for part in parts:
            group = sum(1 for edge in header.group_edges if part.x0 >= edge)
            items.append(read_table_line(part, header, group, ctx))
    join_wrapped(items, ctx)
    join_blocks(items, ctx)
    join_ranges(items)
    candidates = [row for item in items if item.kind == "row" for row in item.rows]
    return candidates, header
