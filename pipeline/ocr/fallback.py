"""Re-reading a poor page whole with the fallback engine, and merging the two reads.

A page is poor when at least half of its words are read less surely than POOR_PAGE_MEDIAN (a fax, a coarse
scan, a dim photo). The fallback engine then reads the whole page, and each word goes to the surer engine.
A fine page is not re-read here: the fallback's recogniser reads single words again, in the rows that the
parse finds unsure (crossread.py, pipeline.reading.unsure_rows). Words the second engine reads in a script
the page cannot hold (its multilingual model sometimes answers in CJK) are dropped before merging.
"""

from __future__ import annotations

import statistics

from pipeline.ocr.engine import GreyImage, OcrEngine, OcrResult
from pipeline.ocr.merge import Tagged, merge

POOR_PAGE_MEDIAN = 0.85
"""Below this median word confidence the fallback engine re-reads the whole page. Measured with Tesseract on
the scanned fixtures: 0.90-0.96 on mild 300-dpi scans, 0.39-0.79 on faxes and 150-dpi scans. The mean is no
guide: a few words it cannot read (names in another language, a logo) pull a fine page's mean below 0.8,
and re-reading such a page whole doubled its time without changing a value read."""


def _latin(text: str) -> bool:
    """Latin, Greek (micro), digits, punctuation and symbols: what a Western lab report prints."""
    return all(ord(c) < 0x250 or 0x370 <= ord(c) < 0x400 or 0x2000 <= ord(c) < 0x2300 for c in text)


def poor_page(result: OcrResult) -> bool:
    """Whether a read is poor enough for the fallback engine to read the whole page again."""
    return not result.words or statistics.median(w.conf for w in result.words) < POOR_PAGE_MEDIAN


def reread(image: GreyImage, result: OcrResult, fallback: OcrEngine, languages: str) -> tuple[list[Tagged], bool]:
    """The primary words, merged with the `fallback` engine's read of `image` (the prepared grey page the
    primary words' boxes are in) when the page is poor; True when the fallback was used."""
    tagged = [Tagged(w, result.label) for w in result.words]
    if not poor_page(result):
        return tagged, False
    second = fallback.recognise(image, languages=languages)
    found = [Tagged(w, second.label) for w in second.words if _latin(w.text)]
    # on a poor page even Tesseract's confident words are often wrong (a fax): the surer engine wins
    return merge(tagged, found, keep=1.01), True
