"""Lines that make one result together: a name wrapped over two lines, a reference range continued on the
next line, a result printed as a labelled block under its name heading."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import regex

from parsers.knowledge import KnowledgeBase, NameMatch
from pipeline.candidates import (
    RANGE_KINDS,
    VALUE_KINDS,
    Candidate,
    Parsed,
    RowContext,
    first_of,
    flag_of,
    junk_phrases,
    match_name,
)
from pipeline.fields import Field
from pipeline.models import Line, Word

_PAREN = regex.compile(r"\([^)]*\)")
_BLOCK_REACH = 4
"""How many lines a result block spans: its name heading, method lines, the result, the range."""


def _close(above: Line, below: Line) -> bool:
    """Two lines are one logical row when the gap between them is under about one line height."""
    height = max(above.bottom - above.top, below.bottom - below.top, 1.0)
    return 0 <= below.top - above.bottom < 0.9 * height


def _neighbour(items: Sequence[Parsed], index: int, step: int) -> Parsed | None:
    """The nearest line above (step -1) or below (+1) in the same column group."""
    group, line = items[index].group, items[index].line
    other = index + step
    while 0 <= other < len(items):
        if items[other].group == group and items[other].line.top != line.top:
            return items[other]
        other += step
    return None


def _whole(kb: KnowledgeBase, match: NameMatch, words: Sequence[Word]) -> bool:
    """The match names the whole text (its parentheticals aside), not just a part of it such as the
    parenthetical alone ('Volume (MCV)') or one line of a wrapped name ('concentration (MCHC) Red cell')."""
    text = " ".join(w.text for w in words)
    return kb.key(match.matched) in (kb.key(text), kb.key(_PAREN.sub(" ", text)))


def _run(items: Sequence[Parsed], index: int, step: int) -> list[Parsed]:
    """Name-only lines next to items[index] on one side (up to two), nearest first, that continue it."""
    found: list[Parsed] = []
    here = items[index]
    for _ in range(2):
        other = _neighbour(items, items.index(here), step)
        if other is None or other.kind != "name_only":
            break
        pair = (other.line, here.line) if step < 0 else (here.line, other.line)
        if not _close(*pair):
            break
        found.append(other)
        here = other
    return found


def _gap(item: Parsed, other: Parsed) -> float:
    return abs(other.line.top - item.line.top)


def join_wrapped(items: list[Parsed], ctx: RowContext) -> None:
    """Join a name printed over two or three lines with the row that holds its value.

    A row whose name is not wholly known takes the name-only lines above or below (the nearer side first)
    when together they name a known test in full ('Gamma Glutamyl' + 'Transferase', 'Red cell' +
    'distribution width' + '(RDW)'); a row known only by a part of its name ('Volume (MCV)') takes them
    only when they name the same test ('Mean Corpuscular Volume (MCV)'). Panel headings never join, and a
    line in parentheses never starts a join (a method line such as '(Photometry)').
    """
    kb = ctx.kb
    for index, item in enumerate(items):
        if item.kind != "row":
            continue
        for row in item.rows:
            if row.matches and row.matches[0].exact and _whole(kb, row.matches[0], row.name_words):
                continue
            sides = [(step, run) for step in (-1, 1) if (run := _run(items, index, step))]
            sides.sort(key=lambda side: _gap(item, side[1][0]))
            for step, run in sides:
                if run[0].name_words[0].text.startswith("(") or kb.is_panel_heading(
                    " ".join(w.text for w in run[0].name_words)
                ):
                    continue
                joined = _longest_join(run, step, row, ctx)
                if joined is not None:
                    used, words, matches = joined
                    row.name_words, row.matches, row.joined_name = words, matches, True
                    row.words = row.words + tuple(w for other in used for w in other.name_words)
                    for other in used:
                        other.kind = "other"
                    break


def _longest_join(
    run: list[Parsed], step: int, row: Candidate, ctx: RowContext
) -> tuple[list[Parsed], tuple[Word, ...], list[NameMatch]] | None:
    """The longest part of the run that, joined to the row's name, names a known test in full."""
    for count in range(len(run), 0, -1):
        used = run[:count]
        extra = tuple(w for other in (reversed(used) if step < 0 else used) for w in other.name_words)
        words = extra + row.name_words if step < 0 else row.name_words + extra
        matches = match_name(ctx, words)
        if not matches or not matches[0].exact or not _whole(ctx.kb, matches[0], words):
            continue
        if row.matches and {m.analyte.code for m in matches} != {m.analyte.code for m in row.matches}:
            continue
        return used, words, matches
    return None


def join_ranges(items: list[Parsed]) -> None:
    """A reference range continued on the next line(s) belongs to the row above it."""
    last: tuple[Parsed, Candidate] | None = None
    for item in items:
        if item.kind == "row" and item.rows:
            last = (item, item.rows[-1])
        elif item.kind == "range_only" and last is not None and _close(last[0].line, item.line):
            for row in last[0].rows:
                row.range_extra.extend(item.range_fields)
            last = (replace(last[0], line=item.line), last[1])
        elif item.kind not in ("name_only",):
            last = None


def join_blocks(items: list[Parsed], ctx: RowContext) -> None:
    """A labelled result takes its name from the nearest known test name above it and its range from a
    labelled range line below it (with the range's continuation lines)."""
    for index, item in enumerate(items):
        if item.kind != "labelled" or item.label != "value":
            continue
        value = first_of(item.fields, VALUE_KINDS)
        heading = next(
            (
                other
                for other in reversed(items[max(0, index - _BLOCK_REACH) : index])
                if other.kind in ("name_only", "other") and other.name_words and match_name(ctx, other.name_words)
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
                matches=match_name(ctx, heading.name_words),
                value=value,
                unit=first_of(item.fields, ("unit",)),
                range=range_field,
                range_extra=extra,
                flag=flag_of([f for f in item.fields if f is not value]) or (value if value.flag else None),
                words=heading.name_words + item.line.words,
                junk=junk_phrases(item.fields),
            )
        ]
        heading.kind = "other"


def _block_range(items: Sequence[Parsed], index: int) -> tuple[Field | None, list[Field]]:
    """The range of a result block: the first range on a labelled range line just below, and the range
    lines that continue it."""
    for position in range(index + 1, min(len(items), index + _BLOCK_REACH)):
        other = items[position]
        if other.kind == "labelled" and other.label == "range":
            found = first_of(other.fields, RANGE_KINDS)
            extra: list[Field] = []
            for later in items[position + 1 : position + _BLOCK_REACH]:
                if later.kind != "range_only":
                    break
                extra.extend(later.range_fields)
            return found, extra if found is not None else []
        if other.kind in ("row", "name_only") or (other.kind == "labelled" and other.label == "value"):
            break
    return None, []
