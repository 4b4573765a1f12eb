"""RapidOCR, the fallback engine: PP-OCR models run by onnxruntime, shipped inside the `rapidocr` wheel.

It reads text lines; we ask it for word boxes (`return_word_box`) and return one OcrWord per word, with
the text line as the word's line. Its own 0/180 classifier is off: orientation is settled before OCR, and
the classifier flipped short cells such as 'g/dL' into '7p/8'. Several times slower than Tesseract on a
page, so it only re-reads what Tesseract read poorly. The model is loaded once per process, on first use.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import cv2
import numpy as np

from pipeline.errors import MissingDependencyError
from pipeline.ocr.engine import GreyImage, OcrFailedError, OcrResult, OcrWord, split_words

log = logging.getLogger(__name__)

_DOT_DASH = re.compile(r"(?<=\d)\s?·\s?(?=\d)")

WORK_SIDE = 1400
"""Pages are shrunk to this longest side before reading: PP-OCR reads 10-px text well, and its time grows
with the pixels (measured on a 300-dpi page: 1.9 s at 1400 px, 2.4-3.0 s at 2000, 9-11 s at 3500)."""


LINE_MIN_WIDTH = 96
LINE_BATCH = 8
"""Single-line crops per recogniser call: measured 0.6 s for 73 value crops of a page (at 320 px and 6 per
call: 1.9 s); larger batches pad more crops to the widest."""


@functools.cache
def _model(threads: int) -> Any:
    """The RapidOCR pipeline with models from the wheel (no download), loaded once per process."""
    from rapidocr import RapidOCR

    params = {
        "Global.log_level": "error",
        "Global.use_cls": False,
        "Global.max_side_len": 2 * WORK_SIDE,
        # detect at the size we hand over: its default ("min" side to 736) blew a 70-px line crop up 10x
        "Det.limit_type": "max",
        "Det.limit_side_len": WORK_SIDE,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    return RapidOCR(params=params)


@functools.cache
def _recogniser(threads: int) -> Any:
    """RapidOCR with only its recogniser (no detection), for single-line crops; loaded once per process.
    Crops are padded to LINE_MIN_WIDTH instead of the default 320 px: a 3-digit value needs about 100."""
    from rapidocr import RapidOCR

    params = {
        "Global.log_level": "error",
        "Global.use_det": False,
        "Global.use_cls": False,
        "Rec.rec_img_shape": [3, 48, LINE_MIN_WIDTH],
        "Rec.rec_batch_num": LINE_BATCH,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    return RapidOCR(params=params)


def _box(points: Any) -> tuple[float, float, float, float]:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


class RapidOcrEngine:
    """PP-OCR through the rapidocr package; one thread by default (pages already run one per core)."""

    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads

    @property
    def name(self) -> str:
        return "rapidocr"

    @property
    def version(self) -> str:
        try:
            return version("rapidocr")
        except PackageNotFoundError:
            return "unknown"

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime"))

    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        """Read `image`; `languages` is recorded but not used (the multilingual model reads Latin scripts)."""
        if not self.available():
            raise MissingDependencyError(
                "the OCR fallback needs the rapidocr and onnxruntime packages "
                "(pip install 'labreport[rapidocr]') or --ocr-fallback none"
            )
        started = time.perf_counter()
        factor = min(1.0, WORK_SIDE / max(image.shape))
        small = image if factor >= 1.0 else cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        bgr = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
        try:
            output = _model(self.threads)(bgr, return_word_box=True)
        except Exception as exc:  # onnxruntime and rapidocr raise many unrelated types
            raise OcrFailedError(f"RapidOCR failed: {type(exc).__name__}: {exc}") from exc
        words: list[OcrWord] = []
        texts = output.txts or ()
        for index, line_text in enumerate(texts):
            parts = output.word_results[index] if index < len(output.word_results) else ()
            parts = tuple(p for p in parts if p and p[2] is not None and str(p[0]).strip())
            if not parts:  # no word boxes: keep the line as one word
                x0, top, x1, bottom = _box(output.boxes[index])
                parts = ((line_text, float(output.scores[index]), [[x0, top], [x1, bottom]]),)
            for text, score, points in parts:
                x0, top, x1, bottom = (v / factor for v in _box(points))
                # the multilingual model reads some hyphens between numbers as a middle dot
                clean = _DOT_DASH.sub("-", str(text).strip())
                for piece, left, right in split_words(clean, x0, x1):
                    words.append(
                        OcrWord(
                            piece,
                            *_tighten(image, (left, top, right, bottom)),
                            conf=float(np.clip(score, 0.0, 1.0)),
                            line=(1, 1, index + 1),
                        )
                    )
        return OcrResult(
            self.name,
            self.version,
            languages,
            image.shape[1],
            image.shape[0],
            tuple(words),
            seconds=time.perf_counter() - started,
        )

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def read_lines(self, images: Sequence[GreyImage]) -> list[tuple[str, float]]:
        """Read each image as one text line with the recogniser alone (cross-reading words)."""
        if not images:
            return []
        if not self.available():
            raise MissingDependencyError("cross-reading needs the rapidocr and onnxruntime packages")
        try:
            output = _recogniser(self.threads).recognize_txt([cv2.cvtColor(i, cv2.COLOR_GRAY2BGR) for i in images])
        except Exception as exc:  # onnxruntime and rapidocr raise many unrelated types
            raise OcrFailedError(f"RapidOCR failed: {type(exc).__name__}: {exc}") from exc
        texts, scores = output.txts or (), output.scores or ()
        return [
            (_DOT_DASH.sub("-", str(text).strip()), float(np.clip(score, 0.0, 1.0)))
            for text, score in zip(texts, scores, strict=True)
        ]


def _tighten(image: GreyImage, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Shrink a detector box (PP-OCR pads boxes by about half a line) to the ink inside it, like
    Tesseract's word boxes, so that both engines' boxes mean the same thing downstream."""
    x0, top, x1, bottom = (round(v) for v in box)
    x0, top = max(0, x0), max(0, top)
    crop = image[top : max(top + 1, bottom), x0 : max(x0 + 1, x1)]
    if crop.size == 0:
        return box
    ink = crop < min(160, int(crop.min()) + 0.6 * (int(crop.max()) - int(crop.min())))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return box
    return float(x0 + cols[0]), float(top + rows[0]), float(x0 + cols[-1] + 1), float(top + rows[-1] + 1)
