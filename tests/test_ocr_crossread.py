"""Cross-reading numbers and units with a second recogniser, and the preparation fixes that scanned fixtures
asked for (dot leaders, one long word copied onto several short ones). Fast: a fake line reader."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from pipeline.ocr import prepare as P
from pipeline.ocr.crossread import DOUBT_CONF, TWO_OF_THREE_CONF, crossread, same_but_separator, wanted
from pipeline.ocr.engine import GreyImage, OcrWord
from pipeline.ocr.merge import Tagged

TESS = "tesseract 5.3.0"


class FakeReader:
    """Answers each crop with the next canned reading and remembers how many crops it was given."""

    label = "fake 1.0"

    def __init__(self, readings: Sequence[tuple[str, float]]) -> None:
        self.readings = list(readings)
        self.crops: list[GreyImage] = []

    def read_lines(self, images: Sequence[GreyImage]) -> list[tuple[str, float]]:
        self.crops += list(images)
        return [self.readings.pop(0) for _ in images]


def word(text: str, x0: float, conf: float) -> OcrWord:
    return OcrWord(text, x0, 100, x0 + 20 * len(text), 130, conf, (1, 1, 1))


PAGE = np.full((300, 800), 255, np.uint8)


@pytest.mark.parametrize(
    ("text", "conf", "expected"),
    [
        ("41", 0.99, True),
        ("mg/dL", 0.99, True),
        ("UA", 0.71, True),
        ("Sodium", 0.97, False),
        ("-", 0.3, False),
        ("Hemoglbin", 0.6, False),
    ],
    ids=["number", "unit", "unsure-short", "sure-name", "punctuation", "unsure-long"],
)
def test_numbers_units_and_unsure_short_words_are_read_twice(text: str, conf: float, expected: bool) -> None:
    assert wanted(word(text, 0, conf)) is expected


def test_an_unsure_word_is_read_twice_only_on_a_line_with_a_number() -> None:
    assert not wanted(word("UA", 0, 0.71), numbered=False)
    assert wanted(word("mg/dL", 0, 0.99), numbered=False)
    reader = FakeReader([("U/L", 0.97)])
    lines = [OcrWord("UA", 0, 100, 40, 130, 0.71, (1, 1, 1)), OcrWord("UA", 0, 200, 40, 230, 0.71, (1, 1, 2))]
    lines.append(OcrWord("35", 60, 100, 100, 130, 0.99, (1, 1, 1)))
    reader.readings.append(("35", 0.99))
    out, stats = crossread(PAGE, [Tagged(w, TESS) for w in lines], TESS, reader)
    assert stats.checked == 2 and [t.word.text for t in out] == ["U/L", "UA", "35"]


def test_agreement_confirms_disagreement_corrects_or_doubts() -> None:
    words = [word("Urea", 0, 0.96), word("41", 100, 0.86), word("4.0", 200, 0.9), word("145", 300, 0.97)]
    reader = FakeReader([("4.1", 1.0), ("1.0", 0.8), ("145", 0.99)])
    out, stats = crossread(PAGE, [Tagged(w, TESS) for w in words], TESS, reader)
    assert len(reader.crops) == 3  # the name is not read again
    assert [(t.word.text, t.engine) for t in out] == [
        ("Urea", TESS),
        ("4.1", "fake 1.0"),  # the surer second reading wins, but only for review
        ("4.0", TESS),  # the first reading was surer: kept, doubted
        ("145", f"{TESS} + fake 1.0"),
    ]
    assert out[1].word.conf == DOUBT_CONF and out[2].word.conf == DOUBT_CONF
    assert out[3].word.conf == pytest.approx(1 - 0.03 * 0.01)
    assert (stats.confirmed, stats.corrected, stats.doubted) == (1, 1, 1)


def test_an_unsure_second_reading_or_another_separator_changes_nothing() -> None:
    words = [word("58,2", 0, 0.97), word("12.5", 200, 0.8)]
    out, _ = crossread(PAGE, [Tagged(w, TESS) for w in words], TESS, FakeReader([("58.2", 0.94), ("", 0.0)]))
    assert [t.word for t in out] == words
    assert same_but_separator("58,2", "58.2") and not same_but_separator("41", "4.1")


def test_a_corrected_reading_with_spaces_becomes_words_in_its_box() -> None:
    tess = word("40a5,6", 100, 0.7)
    out, _ = crossread(PAGE, [Tagged(tess, TESS)], TESS, FakeReader([("4,0 a 5,6", 0.99)]))
    assert [t.word.text for t in out] == ["4,0", "a", "5,6"]
    assert out[0].word.x0 == tess.x0 and out[-1].word.x1 == pytest.approx(tess.x1)


def test_the_crop_is_the_word_alone_framed_in_white() -> None:
    page = PAGE.copy()
    page[100:130, 95:300] = 0  # ink under and beside the word
    reader = FakeReader([("41", 0.9)])
    crossread(page, [Tagged(word("41", 100, 0.9), TESS)], TESS, reader)
    crop = reader.crops[0]
    assert crop[0].min() == 255 and crop[:, 0].min() == 255 and crop.min() == 0


def test_dot_leaders_are_removed_and_decimal_points_kept() -> None:
    page = np.full((120, 900), 255, np.uint8)
    cv2.putText(page, "SODIUM", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    for x in range(200, 560, 24):
        cv2.rectangle(page, (x, 54), (x + 5, 59), 0, -1)
    cv2.putText(page, "4.4", (600, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    cleaned, removed = P.remove_rulings(page, 22.0)
    assert removed > 0
    assert cleaned[50:62, 195:565].min() == 255  # the leader is gone
    assert (cleaned[30:65, 590:700] == page[30:65, 590:700]).all()  # '4.4' untouched
    assert (cleaned[30:65, 5:150] == page[30:65, 5:150]).all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15/02/2025", False),
        ("2025-02-15", False),
        ("08:43", False),
        ("00417760", False),
        ("NG-40718826", False),
        ("0.40-4.50", True),
        ("4.5-10", True),
        ("2,12,000", True),
    ],
)
def test_dates_times_and_identifiers_are_not_read_twice_but_ranges_are(text: str, expected: bool) -> None:
    assert wanted(word(text, 0, 0.99)) is expected


def test_a_third_reading_settles_a_dispute_two_to_one() -> None:
    words = [word("41", 0, 0.86), word("g/L", 100, 0.8), word("97", 200, 0.76)]
    second = FakeReader([("4.1", 1.0), ("gL", 0.95), ("07", 0.99)])
    third = FakeReader([("4.1", 0.9), ("g/L", 0.9), ("37", 0.8)])
    out, stats = crossread(PAGE, [Tagged(w, TESS) for w in words], TESS, second, third)
    assert len(third.crops) == 3  # only the disputed words are read a third time
    assert [t.word.text for t in out] == ["4.1", "g/L", "07"]  # no majority for 97/07: the surer one
    assert [t.word.conf for t in out] == [TWO_OF_THREE_CONF, TWO_OF_THREE_CONF, DOUBT_CONF]
    assert (stats.corrected, stats.doubted, stats.voted) == (2, 1, 3)


def test_with_rows_only_the_words_inside_them_are_read_again() -> None:
    inside = OcrWord("41", 100, 100, 140, 130, 0.86, (1, 1, 1))
    outside = OcrWord("97", 100, 200, 140, 230, 0.76, (1, 1, 2))
    reader = FakeReader([("41", 0.99)])
    out, stats = crossread(PAGE, [Tagged(inside, TESS), Tagged(outside, TESS)], TESS, reader, rows=[(0, 90, 800, 140)])
    assert len(reader.crops) == 1 and stats.checked == 1
    assert out[0].engine == f"{TESS} + fake 1.0" and out[0].word.conf > 0.99
    assert out[1] == Tagged(outside, TESS)  # untouched: the glyph check is its check
