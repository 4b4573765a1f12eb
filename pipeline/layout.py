"""Geometry only: words -> lines -> cells. No knowledge of lab tests here.

A line is a set of words whose vertical extents overlap; a cell is a run of words on a line separated from
the next by a gap wider than a word space. Dot leaders ("Glucose ........ 95") and table bars ("|") are
separators, not text.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import regex

from pipeline.models import Cell, Line, PageWords, Word

_LEADER = regex.compile(r"^(?:[.·…_]{2,}|[.·…_ ]{3,}|\|+|¦)$")
_TRAILING_LEADER = regex.compile(r"^(?P<text>.+?)[.·…_]{3,}$")
_LEADING_LEADER = regex.compile(r"^[.·…_]{3,}(?P<text>.+)$")


def median_height(words: Sequence[Word]) -> float:
    """The body text height of a page (robust to headings and superscripts)."""
    heights = [w.height for w in words if w.height > 0]
    return statistics.median(heights) if heights else 10.0


def _strip_leaders(word: Word) -> tuple[Word | None, bool, bool]:
    """Drop dot leaders alone or glued to a word; the bools say whether a cell break falls before/after it."""
    if _LEADER.match(word.text):
        return None, True, True
    for pattern, keep_left in ((_TRAILING_LEADER, True), (_LEADING_LEADER, False)):
        match = pattern.match(word.text)
        if match:
            text = match.group("text")
            width = (word.x1 - word.x0) * len(text) / len(word.text)
            x0, x1 = (word.x0, word.x0 + width) if keep_left else (word.x1 - width, word.x1)
            return Word(text, x0, word.top, x1, word.bottom, word.bold, word.conf), not keep_left, keep_left
    return word, False, False


def _same_line(band_top: float, band_bottom: float, word: Word) -> bool:
    overlap = min(band_bottom, word.bottom) - max(band_top, word.top)
    return overlap >= 0.5 * min(band_bottom - band_top, word.height)


def group_lines(page: PageWords) -> list[Line]:
    """Group a page's words into lines (top to bottom) of cells (left to right)."""
    words = sorted(page.words, key=lambda w: (w.mid_y, w.x0))
    if not words:
        return []
    body = median_height(words)
    rows: list[list[Word]] = []
    band_top = band_bottom = 0.0
    for word in words:
        if rows and _same_line(band_top, band_bottom, word):
            rows[-1].append(word)
            # the band follows the line's body text, not its superscripts
            if word.height >= 0.7 * (band_bottom - band_top):
                band_top = min(band_top, word.top) if word.height < 1.6 * body else band_top
                band_bottom = max(band_bottom, word.bottom) if word.height < 1.6 * body else band_bottom
        else:
            rows.append([word])
            band_top, band_bottom = word.top, word.bottom
    return [line for row in rows if (line := _cells(page.page, row, body)) is not None]


def _gap_limit(left: Word, right: Word, body: float) -> float:
    """A gap wider than this ends a cell: over half the text height, and over 1.3 average characters
    (monospaced fonts have spaces as wide as their letters)."""
    chars = (left.x1 - left.x0 + right.x1 - right.x0) / max(1, len(left.text) + len(right.text))
    return max(0.55 * max(right.height, 0.6 * body), 1.3 * chars)


def _cells(page: int, row: list[Word], body: float) -> Line | None:
    """Split one line's words into cells at wide gaps and at leaders."""
    kept: list[Word] = []
    cells: list[list[Word]] = []
    pending_break = False
    for raw in sorted(row, key=lambda w: w.x0):
        if kept and raw.text == kept[-1].text and abs(raw.x0 - kept[-1].x0) < 1.0:
            continue  # the same word printed twice (fake bold)
        word, break_before, break_after = _strip_leaders(raw)
        pending_break = pending_break or break_before
        if word is None:
            continue
        if cells and (pending_break or word.x0 - cells[-1][-1].x1 > _gap_limit(cells[-1][-1], word, body)):
            cells.append([word])
        elif cells:
            cells[-1].append(word)
        else:
            cells.append([word])
        kept.append(word)
        pending_break = break_after
    if not cells:
        return None
    return Line(page=page, cells=tuple(Cell(tuple(c)) for c in cells), words=tuple(kept))


def split_line(line: Line, boundaries: Sequence[float]) -> list[Line]:
    """Cut a line at x positions (for two tables side by side); empty parts are dropped."""
    parts: list[list[Cell]] = [[] for _ in range(len(boundaries) + 1)]
    for cell in line.cells:
        centre = (cell.x0 + cell.x1) / 2
        index = sum(1 for b in boundaries if centre >= b)
        parts[index].append(cell)
    return [
        Line(page=line.page, cells=tuple(cells), words=tuple(w for c in cells for w in c.words))
        for cells in parts
        if cells
    ]
