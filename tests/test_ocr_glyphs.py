"""The glyph check of a number's reading (pipeline/ocr/glyphs.py), on numbers rendered in a real typeface."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import reportlab
from PIL import Image, ImageDraw, ImageFont

from pipeline.ocr.engine import GreyImage, OcrWord
from pipeline.ocr.glyphs import (
    LABEL,
    SLIP_CONF,
    UNVERIFIED_CONF,
    confirmed,
    disagreement,
    glyphs,
    restored,
    review,
    slip,
)
from pipeline.ocr.merge import Tagged

TESS = "tesseract 5.3.0"
FONT = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"


def rendered(printed: str, size: int = 34) -> tuple[GreyImage, OcrWord]:
    """`printed` in Vera on white (digits about 25 px tall, as at 300 dpi), and a word box tight around it."""
    canvas = Image.new("L", (40 + size * len(printed), 2 * size), 255)
    ImageDraw.Draw(canvas).text((20, size // 3), printed, font=ImageFont.truetype(str(FONT), size), fill=0)
    image = np.asarray(canvas, dtype=np.uint8)
    rows, cols = np.flatnonzero((image < 128).any(axis=1)), np.flatnonzero((image < 128).any(axis=0))
    box = OcrWord(printed, float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1), 0.95)
    return image, box


def reading(word: OcrWord, text: str) -> OcrWord:
    return OcrWord(text, word.x0, word.top, word.x1, word.bottom, word.conf)


@pytest.mark.parametrize("printed", ["4.1", "37,5", "0.08", "1234", "96", "14.3"])
def test_a_right_reading_is_confirmed(printed: str) -> None:
    image, word = rendered(printed)
    assert confirmed(image, word), disagreement(printed, glyphs(image, word))


@pytest.mark.parametrize(
    ("printed", "read", "why"),
    [
        ("4.1", "41", "1 decimal mark(s) seen, 0 read"),
        ("375", "37.5", "0 decimal mark(s) seen, 1 read"),
        ("11,6", "1,6", "3 glyphs seen, 2 digits read"),
        ("131", "134", "a '4' with 0 closed loop(s)"),
        ("3.8", "3.3", "a '3' with 2 closed loop(s)"),
        ("60", "80", "a '8' with 1 closed loop(s)"),
    ],
    ids=["dropped-point", "invented-point", "dropped-digit", "1-as-4", "8-as-3", "6-as-8"],
)
def test_a_slip_that_changes_the_glyphs_is_caught(printed: str, read: str, why: str) -> None:
    image, word = rendered(printed)
    assert disagreement(read, glyphs(image, word)) == why
    assert not confirmed(image, reading(word, read))


def test_only_plain_numbers_with_legible_ink_are_confirmed() -> None:
    image, word = rendered("<5.0")
    assert disagreement("<5.0", glyphs(image, word)) == "not a plain number"
    blank = np.full((60, 200), 255, np.uint8)
    assert glyphs(blank, word) is None
    assert disagreement("5.0", None) == "no legible ink"


def test_touching_digits_are_not_confirmed() -> None:
    image, word = rendered("88")
    squeezed = image.copy()
    middle = int((word.x0 + word.x1) / 2)
    squeezed[int(word.top) : int(word.bottom), middle - 3 : middle + 3] = 0  # ink bridging the two
    assert not confirmed(squeezed, word)


def test_a_dropped_decimal_mark_is_put_back_where_the_pixels_show_it() -> None:
    image, word = rendered("37.5")
    assert restored("375", glyphs(image, word), ".") == "37.5"
    assert restored("375", glyphs(image, word), ",") == "37,5"
    assert restored("345", glyphs(image, word), ".") is None  # a digit with other loops: not only the mark
    plain, other = rendered("375")
    assert restored("375", glyphs(plain, other), ".") is None


def test_without_a_second_reader_slips_go_to_review() -> None:
    image, word = rendered("4.1")
    page = np.full((image.shape[0], image.shape[1] * 3), 255, np.uint8)
    page[:, : image.shape[1]] = image
    page[:, 2 * image.shape[1] :] = image  # the same '4.1' again, further right
    shift = 2.0 * image.shape[1]
    right = OcrWord("4.1", word.x0 + shift, word.top, word.x1 + shift, word.bottom, 0.96)
    tagged = [Tagged(reading(word, "41"), TESS), Tagged(right, TESS), Tagged(reading(right, "4.1"), "other 1.0")]
    out, done = review(page, tagged, TESS)
    assert (out[0].word.text, out[0].word.conf, out[0].engine) == ("4.1", SLIP_CONF, f"{TESS} + {LABEL}")
    assert out[1] == tagged[1]  # confirmed by its glyphs: untouched
    assert out[2] == tagged[2]  # another engine's word is not this check's business
    assert (done.restored, done.doubted) == (1, 0)


def test_a_slip_that_cannot_be_mended_is_doubted_not_changed() -> None:
    image, word = rendered("131")
    out, done = review(image, [Tagged(reading(word, "134"), TESS)], TESS)
    assert (out[0].word.text, out[0].word.conf) == ("134", SLIP_CONF)
    assert (done.restored, done.doubted) == (0, 1)
    assert not slip("88", None) and not slip("<5", glyphs(image, word))


def test_a_mark_put_back_follows_the_pages_decimal_comma() -> None:
    image, word = rendered("4.1")
    others = [Tagged(OcrWord(text, 0, 0, 1, 1, 0.99), "other 1.0") for text in ("12,5", "3,7", "0,86")]
    out, done = review(image, [Tagged(reading(word, "41"), TESS), *others], TESS)
    assert (out[0].word.text, done.restored) == ("4,1", 1)


@pytest.mark.parametrize(
    ("printed", "read", "conf", "kept"),
    [
        ("4.0-5.6", "4.0-56", 0.89, False),  # a range: its glyphs are not counted, and it was read unsurely
        ("4.0-5.6", "4.0-56", 0.95, True),  # read surely: kept as read
        ("(>1.0)", "(>4.0)", 0.87, False),
        ("131", "131", 0.85, True),  # unsure, but its glyphs confirm it
        ("6.4", "6.4", 0.60, True),  # already below the cap
    ],
)
def test_unsure_words_with_digits_that_the_glyphs_cannot_confirm_go_to_review(
    printed: str, read: str, conf: float, kept: bool
) -> None:
    image, word = rendered(printed)
    item = Tagged(replace(reading(word, read), conf=conf), TESS)
    out, done = review(image, [item], TESS)
    assert out[0].word.text == read
    assert out[0].word.conf == (conf if kept else UNVERIFIED_CONF)
    assert done.unverified == (0 if kept else 1)
