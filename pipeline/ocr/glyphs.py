"""The glyphs of a number, counted from its pixels: a check of a reading that needs no second OCR.

Tesseract's slips on printed numbers change what the ink shows: a decimal point dropped ('4.1' read '41'),
a digit dropped or doubled ('11,6' read '1,6'), one digit for another with a different number of closed
loops ('131' read '134', '3' read '8'). Cut into its connected marks, a number shows how many glyphs it has,
whether a dot or comma sits low between two of them, and how many holes each glyph has. A reading that
agrees on all three cannot have made those slips; one that disagrees, or whose marks cannot be told apart
(touching digits, ink too faint), is not confirmed. What it cannot see: a digit read as another with as
many loops and as wide ('7' for '1' in some fonts), so a confirmation is one check among others, never the
only one (crossread.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import cv2
import numpy as np

from parsers.types import NumberStyle
from parsers.values import detect_number_style
from pipeline.ocr.engine import GreyImage, OcrWord, word_box
from pipeline.ocr.merge import Tagged

PLAIN_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
"""The readings checked: digits with at most one decimal separator (no sign, flag, unit or range)."""
HOLES = {"0": 1, "1": 0, "2": 0, "3": 0, "4": 1, "5": 0, "6": 1, "7": 0, "8": 2, "9": 1}
"""Closed loops of each digit in the typefaces labs print with. A '4' drawn open (a few typefaces) or a loop
filled by blur is not confirmed, which only means a second reading."""
TALL, MARK_SIZE, MARK_LOW = 0.5, (0.45, 0.6), 0.6
"""A glyph is at least TALL of the tallest mark; a decimal mark is at most MARK_SIZE (width, height) of it
and centred in the lowest (1 - MARK_LOW) of the glyphs' height, between two glyphs."""
MIN_MARK, MIN_HOLE = 0.01, 0.004
"""Smallest decimal mark and smallest hole, as shares of the tallest mark's height squared."""
MIN_CONTRAST = 60
LABEL = "glyph check"
"""Named beside the engine on a number whose decimal mark the glyphs put back."""
SLIP_CONF = 0.5
"""Without a second reader, a number whose glyphs show a slip is never surer than this: its result goes to
review (bench/scan_bench.py with --ocr-fallback none: 11 of 13 wrong values were dropped decimal marks)."""
SURE_CONF = 0.9
"""A reading at least this sure is one the glyph check may vouch for. With a second reader, a plain number read
this surely and confirmed by its glyphs is not read a second time (crossread.py; measured on the scanned
fixtures with bench/scan_bench.py: the same results right and claimed as when every number is read twice)."""
UNVERIFIED_CONF = 0.7
"""Without a second reader, a word with digits that was read below SURE_CONF and that its glyphs cannot confirm
(a range, a number with a bracket or sign, touching digits) is never surer than this, so its result goes to
review (bench/scan_bench.py, degraded sets: ranges read '4.0-56' and '(> 4.0)' at 0.87-0.89 were claimed
without it)."""
_SEPARATOR = re.compile(r"(?<=\d)[.,](?=\d)")


@dataclass(frozen=True, slots=True)
class Glyphs:
    """What the pixels of one word show."""

    count: int
    """Glyph-sized marks, left to right."""
    marks: tuple[int, ...]
    """Dot- or comma-sized marks low between two glyphs, each as the number of glyphs left of it."""
    holes: tuple[int, ...]
    """Closed loops of each glyph, left to right."""

    @property
    def separators(self) -> int:
        return len(self.marks)


def glyphs(image: GreyImage, word: OcrWord) -> Glyphs | None:
    """The marks inside the word's box (2 px margin) on `image`; None when the box holds no legible ink."""
    crop = word_box(image, word)
    if crop.size == 0 or int(crop.max()) - int(crop.min()) < MIN_CONTRAST:
        return None
    _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 2:
        return None
    tallest = int(stats[1:, cv2.CC_STAT_HEIGHT].max())
    order = sorted(range(1, count), key=lambda i: int(stats[i, cv2.CC_STAT_LEFT]))
    tall = [i for i in order if stats[i, cv2.CC_STAT_HEIGHT] >= TALL * tallest]
    upper = min(int(stats[i, cv2.CC_STAT_TOP]) for i in tall)
    base = max(int(stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT]) for i in tall)
    lefts = [int(stats[i, cv2.CC_STAT_LEFT]) for i in tall]
    rights = [int(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH]) for i in tall]
    marks: list[int] = []
    for i in order:
        x, y, w, h, area = (int(v) for v in stats[i])
        small = w <= MARK_SIZE[0] * tallest and h <= MARK_SIZE[1] * tallest and area >= MIN_MARK * tallest**2
        low = y + h / 2 >= upper + MARK_LOW * (base - upper)
        middle = x + w / 2
        between = min(rights) <= middle + 1 and max(lefts) >= middle - 1
        if i not in tall and small and low and between:
            marks.append(sum(r <= middle + 1 for r in rights))
    holes = tuple(_holes(labels, stats, i, tallest) for i in tall)
    return Glyphs(len(tall), tuple(marks), holes)


def _holes(labels: np.ndarray, stats: np.ndarray, index: int, tallest: int) -> int:
    """Closed loops in one mark: inner contours of at least MIN_HOLE of the tallest height squared."""
    x, y, w, h = (int(v) for v in stats[index, :4])
    mask = np.where(labels[y : y + h, x : x + w] == index, 255, 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    return sum(
        1
        for contour, link in zip(contours, hierarchy[0], strict=True)
        if link[3] >= 0 and cv2.contourArea(contour) >= MIN_HOLE * tallest**2
    )


def disagreement(text: str, seen: Glyphs | None) -> str | None:
    """Why the pixels do not confirm the reading `text` of a plain number, or None when they do."""
    if not PLAIN_NUMBER.match(text):
        return "not a plain number"
    if seen is None:
        return "no legible ink"
    read = len(_SEPARATOR.findall(text))
    if seen.separators != read:
        return f"{seen.separators} decimal mark(s) seen, {read} read"
    digits = [c for c in text if c.isdigit()]
    if seen.count != len(digits):
        return f"{seen.count} glyphs seen, {len(digits)} digits read"
    for digit, loops in zip(digits, seen.holes, strict=True):
        if loops != HOLES[digit]:
            return f"a '{digit}' with {loops} closed loop(s)"
    return None


def restored(text: str, seen: Glyphs | None, separator: str) -> str | None:
    """The reading with the decimal mark the pixels show put back, when that mark is all it lacks (digits and
    loops agree): '41' with a dot seen between its glyphs becomes '4.1'. None otherwise."""
    if seen is None or not text.isdigit() or seen.separators != 1:
        return None
    cut = seen.marks[0]
    fixed = text[:cut] + separator + text[cut:]
    return fixed if 0 < cut < len(text) and disagreement(fixed, seen) is None else None


def confirmed(image: GreyImage, word: OcrWord) -> bool:
    """Whether the word is a plain number whose glyphs agree with its reading."""
    return PLAIN_NUMBER.match(word.text) is not None and disagreement(word.text, glyphs(image, word)) is None


def slip(text: str, seen: Glyphs | None) -> bool:
    """Whether the pixels show that the reading of a plain number is wrong (not merely unconfirmed): a decimal
    mark or a glyph more or fewer, or a digit with other loops. Touching glyphs and faint ink show nothing."""
    if not PLAIN_NUMBER.match(text) or seen is None:
        return False
    digits = sum(c.isdigit() for c in text)
    if seen.separators != len(_SEPARATOR.findall(text)) or seen.count > digits:
        return True
    return seen.count == digits and disagreement(text, seen) is not None


@dataclass(frozen=True, slots=True)
class Review:
    """What the glyph check did on one page without a second reader."""

    restored: int = 0
    doubted: int = 0
    unverified: int = 0

    @property
    def detail(self) -> str:
        return (
            f"{self.restored} decimal marks put back, {self.doubted} numbers doubted, "
            f"{self.unverified} unsure words with digits left unconfirmed"
        )


def review(image: GreyImage, tagged: list[Tagged], primary: str) -> tuple[list[Tagged], Review]:
    """Check the plain numbers `primary` read against their glyphs on `image`, for pages no second reader
    checks: a decimal mark that is all a reading lacks is put back, other slips cap the word at SLIP_CONF;
    either way the result goes to review. Unsure words with digits that the glyphs do not confirm are capped
    at UNVERIFIED_CONF. Only `primary`'s words are checked: the fallback's word boxes are cut from its line
    boxes in proportion to the characters, too loose to count glyphs in (checking them too cost 26 of 335
    claimed results on the mild scans and put a comma into a '236'). Returns the words and what was done."""
    style = detect_number_style(t.word.text for t in tagged)
    separator = NumberStyle.COMMA.value if style is NumberStyle.COMMA else NumberStyle.DOT.value
    out: list[Tagged] = []
    fixed = doubted = unsure = 0
    for item in tagged:
        word = item.word
        if item.engine != primary or not any(c.isdigit() for c in word.text):
            out.append(item)
            continue
        seen = glyphs(image, word) if PLAIN_NUMBER.match(word.text) else None
        if not slip(word.text, seen):
            if UNVERIFIED_CONF < word.conf < SURE_CONF and disagreement(word.text, seen) is not None:
                unsure += 1
                item = Tagged(replace(word, conf=UNVERIFIED_CONF), item.engine)
            out.append(item)
            continue
        mended = restored(word.text, seen, separator)
        conf = min(word.conf, SLIP_CONF)
        if mended is not None:
            fixed += 1
            out.append(Tagged(replace(word, text=mended, conf=conf), f"{primary} + {LABEL}"))
        else:
            doubted += 1
            out.append(Tagged(replace(word, conf=conf), item.engine))
    return out, Review(fixed, doubted, unsure)
