"""The OCR engine seam: one small Protocol, the words an engine returns, and the engines to use by default.

An engine turns a grey page image (numpy uint8, white paper) into words with pixel boxes in that image and
confidences in 0..1. It knows nothing about PDF points, preparation or fallbacks: `pipeline.ocr.page`
does that. Built-in engines: Tesseract (`tesseract.py`, the default), RapidOCR (`rapidocr.py`, the
fallback) and a recorded engine (`recorded.py`) that replays saved output for fast tests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from pipeline.errors import LabreportError
from pipeline.settings import Settings

log = logging.getLogger(__name__)

GreyImage = npt.NDArray[np.uint8]
"""A 2-D uint8 image, 0 = black ink, 255 = white paper."""
Box = tuple[float, float, float, float]
"""x0, top, x1, bottom."""


class OcrFailedError(LabreportError):
    """The OCR engine ran but failed (crashed, timed out, wrote unreadable output)."""

    code = "ocr_failed"


@dataclass(frozen=True, slots=True)
class OcrWord:
    """One recognised word with its box in pixels of the image the engine was given."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float
    """Recognition confidence in 0..1."""
    line: tuple[int, int, int] = (0, 0, 0)
    """(block, paragraph, line) as the engine grouped the word; (0, 0, 0) when it does not say."""


@dataclass(frozen=True, slots=True)
class OcrResult:
    """Everything one engine call returned for one image."""

    engine: str
    version: str
    languages: str
    width: int
    height: int
    words: tuple[OcrWord, ...]
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """Engine name and version as recorded in the output, e.g. 'tesseract 5.3.0'."""
        return f"{self.engine} {self.version}"

    @property
    def mean_conf(self) -> float | None:
        """Mean word confidence weighted by word length; None when nothing was read."""
        return mean_conf(self.words)


def mean_conf(words: tuple[OcrWord, ...] | list[OcrWord]) -> float | None:
    """Confidence of a set of words, weighted by characters so that stray one-letter specks count little."""
    total = sum(len(w.text) for w in words)
    if not total:
        return None
    return sum(w.conf * len(w.text) for w in words) / total


def split_words(text: str, x0: float, x1: float) -> list[tuple[str, float, float]]:
    """Split a box read as several words into (word, x0, x1), placing each in proportion to its characters."""
    pieces = text.split()
    if len(pieces) <= 1:
        return [(text, x0, x1)] if text else []
    per_char = (x1 - x0) / max(1, len(text))
    out: list[tuple[str, float, float]] = []
    cursor = 0
    for piece in pieces:
        start = text.index(piece, cursor)
        cursor = start + len(piece)
        out.append((piece, x0 + start * per_char, x0 + cursor * per_char))
    return out


def word_box(image: GreyImage, word: OcrWord) -> GreyImage:
    """The pixels of the word's box on `image`, with a 2-px margin (clipped to the image)."""
    height, width = image.shape
    top, bottom = max(0, int(word.top) - 2), min(height, int(word.bottom) + 3)
    left, right = max(0, int(word.x0) - 2), min(width, int(word.x1) + 3)
    return image[top:bottom, left:right]


class OcrEngine(Protocol):
    """What labreport needs from an OCR engine."""

    @property
    def name(self) -> str:
        """Short engine name, e.g. 'tesseract'."""
        ...

    @property
    def version(self) -> str:
        """Engine version, e.g. '5.3.0'; recorded in every OCR'd page."""
        ...

    def available(self) -> bool:
        """True when the engine can run here (binary or package installed)."""
        ...

    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        """Read the words of one grey image; `languages` is a Tesseract-style list such as 'eng+ita'."""
        ...


class LineReader(Protocol):
    """A second engine's recogniser for single-line crops (no layout analysis): what cross-reading needs."""

    @property
    def label(self) -> str:
        """Engine name and version, e.g. 'rapidocr 3.10.0'."""
        ...

    def read_lines(self, images: Sequence[GreyImage]) -> list[tuple[str, float]]:
        """The text and confidence (0..1) of each image, read as one line of text."""
        ...


def default_engine(settings: Settings) -> OcrEngine:
    """The primary engine (Tesseract); its absence is reported when it is first used."""
    from pipeline.ocr.tesseract import TesseractEngine

    del settings  # one primary engine today; the argument keeps the call sites stable
    return TesseractEngine()


def fallback_engine(settings: Settings) -> OcrEngine | None:
    """The second engine that re-reads poor pages, or None when switched off or not installed."""
    if settings.ocr_fallback == "none":
        return None
    from pipeline.ocr.rapidocr import RapidOcrEngine

    engine = RapidOcrEngine()
    if not engine.available():
        log.info("OCR fallback rapidocr is not installed; poor pages are not re-read")
        return None
    return engine


def line_reader(settings: Settings) -> LineReader | None:
    """The recogniser that cross-reads numbers and units: the fallback engine's, when it is on and installed."""
    if settings.ocr_fallback == "none":
        return None
    from pipeline.ocr.rapidocr import RapidOcrEngine

    engine = RapidOcrEngine()
    return engine if engine.available() else None


def tiebreak_reader() -> LineReader | None:
    """The reader that settles disputed words: Tesseract on the words alone, when installed."""
    from pipeline.ocr.tesseract import TesseractEngine

    engine = TesseractEngine()
    return engine if engine.available() else None
