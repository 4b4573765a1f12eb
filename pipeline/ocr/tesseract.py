"""Tesseract, the built-in OCR engine: the binary run on an uncompressed temp file, TSV parsed into words.

We call the `tesseract` binary ourselves on an uncompressed BMP. pytesseract given a file path costs the
same (0.68 vs 0.72 s on a 300-dpi page, bench/ocr_bench.py), but it can only pass OMP_THREAD_LIMIT=1 by
changing this process's environment and it hides stderr; given a PIL image it PNG-encodes the page first
(+0.06-0.08 s here, 0.5-0.7 s measured elsewhere). OMP_THREAD_LIMIT=1 matters: with Tesseract's own
threads on, two cores did 7-17 pages/min instead of 96. Page segmentation mode 6 keeps table rows whole
with their H/L flags (as do 3 and 4 once rulings are removed; 11 splits every row). Tesseract's check of
every line for inverted text is off (25% of its time on a clean page); preparation inverts banners.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import MissingDependencyError
from pipeline.ocr.engine import GreyImage, OcrFailedError, OcrResult, OcrWord

log = logging.getLogger(__name__)

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


@functools.cache
def _version(binary: str) -> str:
    """The version of the tesseract binary, from `tesseract --version` (run once per process)."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.search(r"tesseract\s+v?(\d+(?:\.\d+)*)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


@functools.cache
def _installed_languages(binary: str) -> frozenset[str]:
    """Language data files Tesseract can load, from `tesseract --list-langs` (run once per process)."""
    out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    lines = (out.stdout + out.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("List of"))


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


def parse_osd(text: str) -> Orientation | None:
    """Parse `tesseract --psm 0` output; None when Tesseract could not tell (too few characters)."""
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    if not rotate or not conf:
        return None
    script = re.search(r"Script:\s*(\S+)", text)
    return Orientation(int(rotate.group(1)) % 360, float(conf.group(1)), script.group(1) if script else None)


class TesseractEngine:
    """Runs the tesseract binary, single-threaded, on an uncompressed temporary image file."""

    def __init__(
        self, *, psm: int = 6, binary: str = "tesseract", timeout: float = 120.0, invert: bool = False
    ) -> None:
        self.psm = psm
        self.binary = binary
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
        return _version(self.binary)

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def _require(self, languages: str | None = None) -> None:
        """Raise MissingDependencyError naming what to install when the binary or a language is missing."""
        if not self.available():
            raise MissingDependencyError(
                f"the OCR engine '{self.binary}' was not found on PATH; install Tesseract 5 "
                "(e.g. apt install tesseract-ocr) or run with --ocr never"
            )
        if languages:
            missing = [lang for lang in languages.split("+") if lang not in _installed_languages(self.binary)]
            if missing:
                raise MissingDependencyError(
                    f"Tesseract language data not installed: {', '.join(missing)} "
                    f"(e.g. apt install {' '.join('tesseract-ocr-' + m for m in missing)})"
                )

    def _run(self, image: GreyImage, args: list[str]) -> str:
        """Write `image` as an uncompressed BMP and run tesseract on it; returns stdout."""
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        with tempfile.TemporaryDirectory(prefix="labreport-ocr-") as tmp:
            path = Path(tmp) / "page.bmp"
            if not cv2.imwrite(str(path), image):
                raise OcrFailedError("could not write the page image for Tesseract")
            try:
                out = subprocess.run(
                    [self.binary, str(path), "stdout", *args],
                    capture_output=True,
                    env=env,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise OcrFailedError(f"Tesseract took longer than {self.timeout:.0f} s on one page") from exc
        if out.returncode != 0:
            tail = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise OcrFailedError(f"Tesseract failed with exit code {out.returncode}: {' '.join(tail)}")
        log.debug("tesseract stderr: %s", out.stderr.decode("utf-8", "replace").strip())
        return out.stdout.decode("utf-8", "replace")

    def tsv(self, image: GreyImage, *, languages: str) -> str:
        """Raw TSV output for `image` (what the recorded engine replays)."""
        self._require(languages)
        args = ["--psm", str(self.psm), "-l", languages]
        if not self.invert:
            args += ["-c", "tessedit_do_invert=0"]
        return self._run(image, [*args, "tsv"])

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
        self._require("osd")
        try:
            return parse_osd(self._run(image, ["--psm", "0", "-l", "osd"]))
        except OcrFailedError as exc:
            # OSD exits non-zero on pages with too few characters; that means "cannot tell", not failure.
            log.debug("OSD gave no answer: %s", exc)
            return None
