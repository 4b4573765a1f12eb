"""Tesseract, the built-in OCR engine: libtesseract run in this process through tesserocr, TSV parsed into
words.

Tesseract runs in-process (the tesserocr binding, whose wheel bundles libtesseract 5.5) on the grey page's
own pixels. On the 23 must-set pages at 300 dpi (bench/scan_bench.py) it reads a page in 0.69 s where
`tesseract page.png stdout --psm 6 tsv` takes 1.04 s, and a sheet of cross-read words in 0.02 s instead of
0.10 s, most of which was starting the binary and loading its model. pytesseract runs the binary too, and
given a PIL image it PNG-encodes the page first. Each thread keeps its loaded models for later pages.
The wheel's libtesseract is built without OpenMP, so each page runs on one thread, as pages already run
one per core (with Tesseract's own threads on, two cores did 7-17 pages/min instead of 96).
Page segmentation mode 6 keeps table rows whole with their H/L flags (as do 3 and 4 once rulings are
removed; 11 splits every row). Tesseract's check of every line for inverted text is off (25% of its time
on a clean page); preparation inverts banners. The language data comes from the system (Debian's
tesseract-ocr-* packages) or TESSDATA_PREFIX.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.errors import MissingDependencyError
from pipeline.ocr.engine import GreyImage, OcrFailedError, OcrResult, OcrWord

_TSV_FIELDS = 12
LINE_ZOOM = 2.0
"""Single-line crops are read enlarged: a word cut out of a page reads better at twice its size."""


@dataclass(frozen=True, slots=True)
class Orientation:
    """Tesseract's orientation and script detection (OSD) for one page."""

    rotate: int
    """Degrees to turn the image clockwise so that its text is upright: 0, 90, 180 or 270."""
    confidence: float
    script: str | None = None


TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
"""The header line of Tesseract's TSV output (the library's text omits it; the binary prints it)."""

TESSDATA_PLACES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)
"""Where the system keeps Tesseract's language data, looked at in order after $TESSDATA_PREFIX."""

_QUIET = {"debug_file": "/dev/null"}
"""Tesseract's warnings ('Estimating resolution as ...') went to the binary's stderr; in-process they would
go to ours."""


def tessdata() -> Path | None:
    """The directory of Tesseract's language data: $TESSDATA_PREFIX, else the first system place with data."""
    places = [os.environ["TESSDATA_PREFIX"]] if os.environ.get("TESSDATA_PREFIX") else list(TESSDATA_PLACES)
    return next((Path(p) for p in places if any(Path(p).glob("*.traineddata"))), None)


def _binding() -> Any | None:
    """The tesserocr module, or None when it is not installed."""
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


@functools.cache
def _version() -> str:
    """The version of the libtesseract the binding runs, e.g. '5.5.4'."""
    binding = _binding()
    match = re.search(r"tesseract\s+v?(\d+(?:\.\d+)*)", binding.tesseract_version() if binding else "")
    return match.group(1) if match else "unknown"


_loaded = threading.local()
"""Per thread: loaded Tesseract models by (data path, languages, page segmentation mode, invert); a model
is not safe to share between threads."""

_MODELS_KEPT = 4
"""Models kept loaded per thread; each holds its language data (10-30 MB) and takes 0.1-0.15 s to load."""


def _model(data: Path, languages: str, psm: int, invert: bool) -> Any:
    """A loaded model for `languages`, kept for this thread's later pages."""
    binding = _binding()
    assert binding is not None  # checked by _require
    models: dict[tuple[Path, str, int, bool], Any] = _loaded.__dict__.setdefault("models", {})
    key = (data, languages, psm, invert)
    if key not in models:
        if len(models) >= _MODELS_KEPT:
            models.pop(next(iter(models))).End()
        variables = dict(_QUIET, tessedit_do_invert="1" if invert else "0")
        models[key] = binding.PyTessBaseAPI(path=f"{data}/", lang=languages, psm=psm, variables=variables)
    return models[key]


def parse_tsv(text: str) -> tuple[int, int, tuple[OcrWord, ...]]:
    """Parse Tesseract TSV output into (page width, page height, words in reading order)."""
    width = height = 0
    words: list[OcrWord] = []
    for row in text.splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) < _TSV_FIELDS - 1:
            continue
        level, _page, block, par, line, _word, left, top, w, h = (int(f) for f in fields[:10])
        if level == 1:
            width, height = w, h
            continue
        word = fields[11].strip() if len(fields) >= _TSV_FIELDS else ""
        conf = float(fields[10])
        if level != 5 or not word or conf < 0:
            continue
        words.append(
            OcrWord(
                word,
                float(left),
                float(top),
                float(left + w),
                float(top + h),
                conf=min(1.0, conf / 100.0),
                line=(block, par, line),
            )
        )
    return width, height, tuple(words)


class TesseractEngine:
    """Runs libtesseract in this process on the grey image's own pixels."""

    def __init__(self, *, psm: int = 6, timeout: float = 120.0, invert: bool = False) -> None:
        self.psm = psm
        self.timeout = timeout
        self.invert = invert
        """Let Tesseract also try every line inverted (white on dark); preparation inverts dark
        regions itself, which is 25% cheaper than Tesseract's per-line check."""

    @property
    def name(self) -> str:
        return "tesseract"

    @property
    def version(self) -> str:
        self._require()
        return _version()

    def available(self) -> bool:
        return _binding() is not None and tessdata() is not None

    def _require(self, languages: str | None = None) -> Path:
        """The language data directory; raises MissingDependencyError naming what to install when the
        binding, the data or one of `languages` is missing."""
        if _binding() is None:
            raise MissingDependencyError(
                "the OCR engine Tesseract was not found: the tesserocr package is not installed "
                "(run scripts/bootstrap.sh, or pip install tesserocr) or run with --ocr never"
            )
        data = tessdata()
        if data is None:
            where = os.environ.get("TESSDATA_PREFIX") or ", ".join(TESSDATA_PLACES)
            raise MissingDependencyError(
                f"Tesseract language data was not found in {where}; install it "
                "(e.g. apt install tesseract-ocr-eng) or set TESSDATA_PREFIX"
            )
        missing = [
            lang for lang in (languages or "").split("+") if lang and not (data / f"{lang}.traineddata").is_file()
        ]
        if missing:
            raise MissingDependencyError(
                f"Tesseract language data not installed: {', '.join(missing)} "
                f"(e.g. apt install {' '.join('tesseract-ocr-' + m for m in missing)})"
            )
        return data

    def _set_image(self, model: Any, image: GreyImage) -> None:
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        model.SetImageBytes(pixels.tobytes(), pixels.shape[1], pixels.shape[0], 1, pixels.shape[1])

    def tsv(self, image: GreyImage, *, languages: str) -> str:
        """Raw TSV output for `image`, header included (what the recorded engine replays)."""
        model = _model(self._require(languages), languages, self.psm, self.invert)
        self._set_image(model, image)
        if not model.Recognize(timeout=int(self.timeout * 1000)):
            raise OcrFailedError(f"Tesseract could not read one page (or took longer than {self.timeout:.0f} s)")
        return TSV_HEADER + "\n" + str(model.GetTSVText(0))

    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        """Read the words of `image` with boxes in its pixels and confidences in 0..1."""
        started = time.perf_counter()
        text = self.tsv(image, languages=languages)
        width, height, words = parse_tsv(text)
        if (width, height) != (image.shape[1], image.shape[0]):
            raise OcrFailedError("Tesseract reported a page size that differs from the image it was given")
        return OcrResult(
            self.name, self.version, languages, width, height, words, seconds=time.perf_counter() - started
        )

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def read_lines(self, images: Sequence[GreyImage]) -> list[tuple[str, float]]:
        """Read each image as one line of text, all in one Tesseract run: the images, enlarged LINE_ZOOM
        times, are stacked one under the other with white between them, and each recognised word goes to
        the image its centre falls in."""
        if not images:
            return []
        zoomed = [cv2.resize(i, None, fx=LINE_ZOOM, fy=LINE_ZOOM, interpolation=cv2.INTER_CUBIC) for i in images]
        gap = max(z.shape[0] for z in zoomed) // 2
        width = max(z.shape[1] for z in zoomed) + 2 * gap
        spans: list[tuple[int, int]] = []
        rows: list[GreyImage] = [np.full((gap, width), 255, np.uint8)]
        top = gap
        for z in zoomed:
            row = np.full((z.shape[0], width), 255, np.uint8)
            row[:, gap : gap + z.shape[1]] = z
            rows += [row, np.full((gap, width), 255, np.uint8)]
            spans.append((top, top + z.shape[0]))
            top += z.shape[0] + gap
        sheet = np.ascontiguousarray(np.vstack(rows))
        result = self.recognise(sheet, languages="eng")
        found: list[list[OcrWord]] = [[] for _ in images]
        for word in result.words:
            middle = (word.top + word.bottom) / 2
            index = next((i for i, (a, b) in enumerate(spans) if a <= middle < b), None)
            if index is not None:
                found[index].append(word)
        return [(" ".join(w.text for w in words), min((w.conf for w in words), default=0.0)) for words in found]

    def orientation(self, image: GreyImage) -> Orientation | None:
        """Orientation of the text on `image` by Tesseract OSD; None when there is too little text."""
        model = _model(self._require("osd"), "osd", 0, False)
        self._set_image(model, image)
        found = model.DetectOrientationScript()
        if not found:
            return None
        # Tesseract reports how far the text is turned; we keep the clockwise turn that puts it upright
        rotate = (360 - int(found["orient_deg"])) % 360
        return Orientation(rotate, float(found["orient_conf"]), found.get("script_name") or None)
