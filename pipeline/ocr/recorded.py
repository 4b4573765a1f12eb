"""A recorded OCR engine: replays saved engine output so that tests run without Tesseract, in milliseconds.

Recordings are files, replayed in order, one per `recognise` call: `.tsv` is raw Tesseract TSV (exactly
what `tesseract ... tsv` printed), `.json` is any engine's OcrResult. `Recorder` wraps a real engine and
saves each call's output in that form; `record()` saves one call. When the image handed to the recorded
engine is not the size it was recorded at (a different renderer), boxes are scaled to the new size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from pipeline.ocr.engine import GreyImage, OcrEngine, OcrFailedError, OcrResult, OcrWord
from pipeline.ocr.tesseract import TesseractEngine, parse_tsv

log = logging.getLogger(__name__)


def load_recording(path: Path, *, name: str = "tesseract", version: str = "recorded") -> OcrResult:
    """Read one recording: Tesseract TSV (engine `name`/`version` as given) or OcrResult JSON."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix == ".tsv":
        width, height, words = parse_tsv(text)
        return OcrResult(name, version, "", width, height, words)
    data = json.loads(text)
    words = tuple(
        OcrWord(w["text"], w["x0"], w["top"], w["x1"], w["bottom"], w["conf"], tuple(w["line"])) for w in data["words"]
    )
    return OcrResult(data["engine"], data["version"], data["languages"], data["width"], data["height"], words)


def save_result(result: OcrResult, path: Path) -> None:
    """Write an OcrResult as JSON (for engines other than Tesseract, or hand-made cases)."""
    data = {
        "engine": result.engine,
        "version": result.version,
        "languages": result.languages,
        "width": result.width,
        "height": result.height,
        "words": [asdict(w) for w in result.words],
    }
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _fit(result: OcrResult, width: int, height: int) -> tuple[OcrWord, ...]:
    """Scale recorded boxes to an image of another size."""
    if (result.width, result.height) == (width, height) or not result.width or not result.height:
        return result.words
    fx, fy = width / result.width, height / result.height
    return tuple(OcrWord(w.text, w.x0 * fx, w.top * fy, w.x1 * fx, w.bottom * fy, w.conf, w.line) for w in result.words)


class RecordedEngine:
    """Replays recordings in order, one per call, as engine `name` `version` (whatever the files say);
    `calls` keeps the (image size, languages) of each call."""

    def __init__(
        self,
        recordings: Sequence[Path],
        *,
        name: str = "tesseract",
        version: str = "recorded",
        cycle: bool = False,
    ) -> None:
        self._results = [load_recording(p, name=name, version=version) for p in recordings]
        self._name = name
        self._version = version
        self.cycle = cycle
        self.calls: list[tuple[tuple[int, int], str]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    def available(self) -> bool:
        return True

    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        """The next recording, with boxes fitted to `image`; fails clearly when none is left."""
        index = len(self.calls)
        self.calls.append(((image.shape[1], image.shape[0]), languages))
        if self.cycle and self._results:
            index %= len(self._results)
        if index >= len(self._results):
            raise OcrFailedError(f"recorded engine: call {index + 1} but only {len(self._results)} recordings")
        saved = self._results[index]
        width, height = image.shape[1], image.shape[0]
        return OcrResult(self.name, self.version, languages, width, height, _fit(saved, width, height))


def record(engine: OcrEngine, image: GreyImage, dest: Path, *, languages: str = "eng") -> OcrResult:
    """Run `engine` on `image` once and save its output to `dest` (.tsv needs the Tesseract engine)."""
    if Path(dest).suffix == ".tsv":
        if not isinstance(engine, TesseractEngine):
            raise ValueError("TSV recordings come from the Tesseract engine; use a .json path")
        text = engine.tsv(image, languages=languages)
        Path(dest).write_text(text, encoding="utf-8")
        width, height, words = parse_tsv(text)
        return OcrResult(engine.name, engine.version, languages, width, height, words)
    result = engine.recognise(image, languages=languages)
    save_result(result, dest)
    return result


class Recorder:
    """Wraps a real engine and saves every call's output as `<stem>-<n>.tsv|json` in `directory`."""

    def __init__(self, inner: OcrEngine, directory: Path, stem: str) -> None:
        self.inner = inner
        self.directory = Path(directory)
        self.stem = stem
        self.paths: list[Path] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> str:
        return self.inner.version

    def available(self) -> bool:
        return self.inner.available()

    def recognise(self, image: GreyImage, *, languages: str) -> OcrResult:
        suffix = ".tsv" if isinstance(self.inner, TesseractEngine) else ".json"
        path = self.directory / f"{self.stem}-{len(self.paths) + 1}{suffix}"
        self.paths.append(path)
        log.debug("recording OCR output to %s", path.name)
        return record(self.inner, image, path, languages=languages)
