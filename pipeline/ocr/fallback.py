"""Re-reading what the primary engine read poorly with the fallback engine, and merging the two reads.

A page whose mean confidence is poor is re-read whole, and there each word goes to the surer engine;
otherwise only its poor regions are re-read: lines whose
mean confidence is poor (logos, stamps) and single poor words with letters or digits in them (a unit
with a broken glyph). Regions are cropped from the prepared grey page, so the second engine's boxes
land in the same frame. Words the second engine saw only partly (cut by the crop) or in a script the
page cannot hold (its multilingual model sometimes answers in CJK) are discarded before merging.
"""

from __future__ import annotations

from itertools import groupby

from pipeline.ocr.engine import GreyImage, OcrEngine, OcrResult, OcrWord, mean_conf
from pipeline.ocr.merge import KEEP_CONF, Box, Tagged, merge

FALLBACK_PAGE_CONF = 0.80
"""Below this mean confidence the fallback engine re-reads the whole page."""
POOR_LINE_CONF = 0.60
"""Lines below this mean confidence are re-read when the page as a whole is fine."""
POOR_WORD_CONF = 0.50
"""Words below this confidence (with two or more letters or digits) are re-read on their own."""
MAX_REGIONS = 40
"""More poor regions than this and the whole page is re-read instead (crops take 0.01-0.2 s each, a page
 about 2 s)."""


def _alnum(text: str) -> int:
    return sum(c.isalnum() for c in text)


def _latin(text: str) -> bool:
    """Latin, Greek (micro), digits, punctuation and symbols: what a Western lab report prints."""
    return all(ord(c) < 0x250 or 0x370 <= ord(c) < 0x400 or 0x2000 <= ord(c) < 0x2300 for c in text)


def _padded(words: list[OcrWord], shape: tuple[int, ...], side: float) -> Box:
    """The box around `words`, padded by 0.4 of its height above and below and `side` heights left/right."""
    top, bottom = min(w.top for w in words), max(w.bottom for w in words)
    pad = 0.4 * (bottom - top)
    x0 = max(0.0, min(w.x0 for w in words) - side * (bottom - top))
    x1 = min(float(shape[1]), max(w.x1 for w in words) + side * (bottom - top))
    return (x0, max(0.0, top - pad), x1, min(float(shape[0]), bottom + pad))


def poor_regions(words: tuple[OcrWord, ...], shape: tuple[int, ...]) -> list[Box]:
    """Padded boxes of poor lines, and of poor words on otherwise good lines."""
    boxes: list[Box] = []
    for _, group in groupby(words, key=lambda w: w.line):
        line = list(group)
        if _alnum("".join(w.text for w in line)) < 2:
            continue
        if (mean_conf(line) or 0.0) < POOR_LINE_CONF:
            boxes.append(_padded(line, shape, 0.8))
            continue
        boxes += [_padded([w], shape, 1.0) for w in line if w.conf < POOR_WORD_CONF and _alnum(w.text) >= 2]
    return boxes


def _whole(word: OcrWord, width: int, height: int) -> bool:
    """False for a word that touches the crop's edge: the crop cut it, so it was only partly seen."""
    return word.x0 > 1 and word.top > 1 and word.x1 < width - 2 and word.bottom < height - 2


def _crop_words(image: GreyImage, box: Box, engine: OcrEngine, languages: str) -> tuple[str, list[OcrWord]]:
    x0, top, x1, bottom = (int(v) for v in box)
    crop = image[top : bottom + 1, x0 : x1 + 1]
    result = engine.recognise(crop, languages=languages)
    kept = [
        OcrWord(w.text, w.x0 + x0, w.top + top, w.x1 + x0, w.bottom + top, w.conf, w.line)
        for w in result.words
        if _whole(w, crop.shape[1], crop.shape[0]) and _latin(w.text)
    ]
    return result.label, kept


def reread(image: GreyImage, result: OcrResult, fallback: OcrEngine, languages: str) -> tuple[list[Tagged], bool]:
    """The primary words with poor pages or regions re-read by `fallback` on `image` (the prepared grey
    page the primary words' boxes are in); True when the fallback was used."""
    tagged = [Tagged(w, result.label) for w in result.words]
    regions: list[Box] | None = None
    if result.words and (result.mean_conf or 0.0) >= FALLBACK_PAGE_CONF:
        regions = poor_regions(result.words, image.shape)
        if not regions:
            return tagged, False
    if regions is None or len(regions) > MAX_REGIONS:
        second = fallback.recognise(image, languages=languages)
        found = [Tagged(w, second.label) for w in second.words if _latin(w.text)]
        # on a poor page even Tesseract's confident words are often wrong (a fax): the surer engine wins
        return merge(tagged, found, regions, keep=1.01 if regions is None else KEEP_CONF), True
    found = []
    for box in regions:
        label, words = _crop_words(image, box, fallback, languages)
        found += [Tagged(w, label) for w in words]
    return merge(tagged, found, regions), True
