"""Build pages of words from plain text for geometry tests: one character is 5 points wide, a line 12 high."""

from __future__ import annotations

from pipeline.models import PageWords, Word

CHAR = 5.0
LINE = 12.0


def page_from_text(text: str, *, page: int = 1, bold: str = "") -> PageWords:
    """Each non-space run of the text becomes a word at its column; words listed in `bold` are bold."""
    words: list[Word] = []
    bold_words = set(bold.split())
    for row, line in enumerate(text.splitlines()):
        column = 0
        for token in line.split(" "):
            if token:
                top = 50 + row * LINE
                words.append(
                    Word(
                        token,
                        column * CHAR,
                        top,
                        (column + len(token)) * CHAR,
                        top + 9,
                        bold=token in bold_words,
                    )
                )
            column += len(token) + 1
    return PageWords(page=page, width=600, height=800, unit="pt", method="text", words=tuple(words))
