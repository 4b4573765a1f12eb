"""Cross-reading: words that carry a number or a unit are read a second time, on their own, by a second engine's
line recogniser, and the two readings are compared (so are short words read unsurely). In the pipeline only
the words in rows that the parse finds unsure are read again (pipeline.reading.unsure_rows); everywhere
else the glyph check (glyphs.py) is the check. A plain number that Tesseract read surely (SURE_CONF) and
whose glyphs confirm the reading (as many digits, the decimal mark where it was read, the closed loops each
digit has) is not read again: those checks catch the slips below.

Why: on mild office scans Tesseract misreads a few printed numbers with confidences that do not warn (a
decimal point dropped, '4.1' read '41' at 0.86; a 1 read as a 4 at 0.90), and a confidence cannot promise
what it cannot see. PP-OCR's recogniser (RapidOCR), another design trained on other data, rarely makes the
same mistake on the same glyphs (bench/scan_bench.py). Per word:
- the same text: confirmed; its confidence becomes that of two independent readings agreeing,
  1 - (1 - a)(1 - b), and both engines are named on it;
- the same but for the kind of decimal separator (the recogniser often reads ',' as '.'): left as read;
- different: a third reading (Tesseract again, on the word alone and enlarged, where its page-level slip
  rarely recurs) decides when it agrees with one of the two; otherwise the surer reading is kept. The word
  is named after the engine whose reading is kept and its confidence is capped: at DOUBT_CONF, so that no
  result built on it is claimed right without review, or at TWO_OF_THREE_CONF when two readings of three
  agree;
- a second reading below MIN_SECOND_CONF (a crop it cannot make out) says nothing either way.
Each crop is the word's own box from the prepared grey page with white around it, so no neighbour leaks in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2

from pipeline.ocr.engine import Box, GreyImage, LineReader, OcrWord, split_words, word_box
from pipeline.ocr.geometry import grey
from pipeline.ocr.glyphs import SURE_CONF, confirmed
from pipeline.ocr.merge import Tagged

log = logging.getLogger(__name__)

DOUBT_CONF = 0.5
"""Confidence of a word the two engines read differently: low enough that its result goes to review."""
TWO_OF_THREE_CONF = 0.8
"""Confidence of a disputed word that a third reading settled (two readings of three agree): a result with
no other doubt then stays at or above 0.9. Measured on the scanned fixtures (bench/scan_bench.py): all 318
results whose only doubt was such a word were right."""
MIN_SECOND_CONF = 0.5
"""A second reading less sure than this is no evidence for or against the first."""
MAX_CHARS = 24
"""Longer words are sentences run together or identifiers, not values or units."""
MAX_SHORT, UNSURE_CONF, MAX_UNSURE = 14, 0.9, 8
"""Words without digits are read twice when unit-like and at most MAX_SHORT characters long, or when read with
less than UNSURE_CONF, at most MAX_UNSURE characters long and on a line that holds a number (where a unit or
flag printed without a mark sits; elsewhere such a word cannot change a result)."""
_UNIT_MARKS = frozenset("/%^µμ")
_DASHES = str.maketrans({"–": "-", "—": "-", "−": "-", "μ": "µ"})
_SEPARATORS = re.compile(r"[.,]")
_NOT_A_RESULT = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{2,4}|\d{1,2}:\d{2}|\d{7}")
"""Dates, times and long identifiers (phone numbers, patient and sample ids) are not results: not read twice."""


@dataclass(frozen=True, slots=True)
class CrossStats:
    """What cross-reading did on one page."""

    checked: int = 0
    confirmed: int = 0
    corrected: int = 0
    doubted: int = 0
    voted: int = 0
    trusted: int = 0
    """Plain numbers read surely whose glyphs confirmed them: not read twice."""

    @property
    def detail(self) -> str:
        return (
            f"{self.checked} read twice: {self.confirmed} confirmed, {self.corrected} corrected, "
            f"{self.doubted} doubted ({self.voted} read a third time); {self.trusted} confirmed by their glyphs"
        )


def wanted(word: OcrWord, *, numbered: bool = True) -> bool:
    """Whether a word is worth a second reading: it holds a digit (but is no date, time or identifier), or it
    is short and looks like a unit, or it was read unsurely on a line with a number (`numbered`): a unit such
    as 'U/L' read 'UA' at 0.71."""
    text = word.text
    if not text or len(text) > MAX_CHARS or _NOT_A_RESULT.search(text):
        return False
    if any(c.isdigit() for c in text):
        return True
    if any(c in _UNIT_MARKS for c in text):
        return len(text) <= MAX_SHORT
    return numbered and len(text) <= MAX_UNSURE and word.conf < UNSURE_CONF and any(c.isalpha() for c in text)


def inside(word: OcrWord, boxes: Sequence[Box]) -> bool:
    """Whether the centre of the word's box lies in one of `boxes`."""
    x, y = (word.x0 + word.x1) / 2, (word.top + word.bottom) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def normal(text: str) -> str:
    """The reading as compared: without spaces, one kind of dash and one micro sign."""
    return "".join(text.split()).translate(_DASHES)


def same_but_separator(a: str, b: str) -> bool:
    """Equal once '.' and ',' count as one character (which of the two a recogniser prints is unreliable)."""
    return _SEPARATORS.sub(".", a) == _SEPARATORS.sub(".", b)


def crop_word(image: GreyImage, word: OcrWord) -> GreyImage:
    """The word's box (2 px margin) from `image`, framed in white a third of its height wide."""
    crop = word_box(image, word)
    pad = int(0.3 * (word.bottom - word.top)) + 2
    framed = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return grey(framed)


def _pieces(text: str, word: OcrWord, conf: float) -> list[OcrWord]:
    """A reading with spaces as separate words in the word's box, each placed in proportion to its characters."""
    return [
        OcrWord(part, x0, word.top, x1, word.bottom, conf, word.line)
        for part, x0, x1 in split_words(text.strip(), word.x0, word.x1)
    ]


def crossread(
    image: GreyImage,
    tagged: Sequence[Tagged],
    primary: str,
    reader: LineReader,
    third: LineReader | None = None,
    *,
    rows: Sequence[Box] | None = None,
) -> tuple[list[Tagged], CrossStats]:
    """Read the `primary` engine's number and unit words of a page again with `reader` on `image` (the
    prepared grey page their boxes are in) and settle each word as the module docstring says; where the
    two disagree, `third` (if any) reads those words once more and two readings out of three decide.
    With `rows` (boxes on `image`), only the words inside one of them are read again."""
    numbered = {t.word.line for t in tagged if any(c.isdigit() for c in t.word.text)}
    candidates = [
        i
        for i, t in enumerate(tagged)
        if t.engine == primary
        and wanted(t.word, numbered=t.word.line in numbered)
        and (rows is None or inside(t.word, rows))
    ]
    chosen = [i for i in candidates if not _sure(image, tagged[i].word)]
    trusted = len(candidates) - len(chosen)
    if not chosen:
        return list(tagged), CrossStats(trusted=trusted)
    crops = {i: crop_word(image, tagged[i].word) for i in chosen}
    second = dict(zip(chosen, reader.read_lines([crops[i] for i in chosen]), strict=True))
    verdicts = {i: _verdict(tagged[i].word.text, *second[i]) for i in chosen}
    disputed = [i for i in chosen if verdicts[i] == "differ"]
    votes = (
        dict(zip(disputed, third.read_lines([crops[i] for i in disputed]), strict=True)) if third and disputed else {}
    )
    both = f"{primary} + {reader.label}"
    out: list[Tagged] = []
    counts = {"confirmed": 0, "corrected": 0, "doubted": 0}
    for index, item in enumerate(tagged):
        verdict = verdicts.get(index)
        word = item.word
        if verdict is None or verdict == "no verdict":
            out.append(item)
            continue
        text, conf = second[index]
        if verdict == "same":
            counts["confirmed"] += 1
            out.append(Tagged(replace(word, conf=1.0 - (1.0 - word.conf) * (1.0 - conf)), both))
            continue
        vote = normal(votes[index][0]) if index in votes else None
        if vote == normal(text) or (vote != normal(word.text) and conf > word.conf):
            counts["corrected"] += 1
            sure = TWO_OF_THREE_CONF if vote == normal(text) else DOUBT_CONF
            out += [Tagged(w, reader.label) for w in _pieces(text, word, min(conf, sure))]
        else:
            counts["doubted"] += 1
            sure = TWO_OF_THREE_CONF if vote == normal(word.text) else DOUBT_CONF
            out.append(Tagged(replace(word, conf=min(word.conf, sure)), item.engine))
    stats = CrossStats(len(chosen), counts["confirmed"], counts["corrected"], counts["doubted"], len(votes), trusted)
    log.debug("cross-read: %s", stats.detail)
    return out, stats


def _sure(image: GreyImage, word: OcrWord) -> bool:
    """A plain number read surely whose glyphs confirm the reading."""
    return word.conf >= SURE_CONF and confirmed(image, word)


def _verdict(first: str, text: str, conf: float) -> str:
    """'same', 'differ', or 'no verdict' (an unsure second reading, or one that differs only in the kind of
    decimal separator)."""
    mine, theirs = normal(first), normal(text)
    if not theirs or conf < MIN_SECOND_CONF or (mine != theirs and same_but_separator(mine, theirs)):
        return "no verdict"
    return "same" if mine == theirs else "differ"
