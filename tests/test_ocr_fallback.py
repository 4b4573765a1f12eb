"""When the fallback engine re-reads a page whole: by the median word confidence, not the mean."""

from __future__ import annotations

import numpy as np

from pipeline.ocr.engine import GreyImage, OcrResult, OcrWord
from pipeline.ocr.fallback import POOR_PAGE_MEDIAN, poor_page, reread
from pipeline.ocr.recorded import RecordedEngine


def read(*confs: float) -> OcrResult:
    words = tuple(OcrWord(f"w{i}", 10.0 * i, 0, 10.0 * i + 8, 10, conf) for i, conf in enumerate(confs))
    return OcrResult("tesseract", "5.3.0", "eng", 100, 100, words)


def test_a_fine_page_with_a_few_unreadable_words_is_not_poor() -> None:
    fine = read(0.96, 0.95, 0.93, 0.92, 0.91, 0.2, 0.1, 0.3)  # mean 0.66: names in another language, a logo
    assert (fine.mean_conf or 0.0) < 0.7 and not poor_page(fine)


def test_a_page_read_unsurely_for_the_most_part_is_poor() -> None:
    assert poor_page(read(0.99, 0.98, 0.6, 0.7, 0.5))
    assert poor_page(read())  # nothing read at all
    assert not poor_page(read(POOR_PAGE_MEDIAN, POOR_PAGE_MEDIAN, 0.1))


class Refuses(RecordedEngine):
    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        raise AssertionError("a fine page must not be re-read")


def test_a_fine_page_is_not_re_read() -> None:
    page = np.full((100, 100), 255, np.uint8)
    fine = read(0.96, 0.95, 0.2)
    tagged, used = reread(page, fine, Refuses([]), "eng")
    assert not used and [t.word for t in tagged] == list(fine.words)
