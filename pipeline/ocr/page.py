"""OCR of one page: prepare the image, read it, settle orientation and language, re-read what was poor.

Contract: `ocr_page(PageImage) -> PageWords` with method 'ocr', the engine label(s) and version(s), the
rotation applied and the page's mean confidence; boxes are in the page's own unit (PDF points for PDF
pages, pixels for image files) in the upright, deskewed (and, for photos, perspective-corrected) page
frame whose size is PageWords.width/height. `read_page()` returns the same plus diagnostics (which engine
read each word, preparation steps, geometry). `ocr_source_page()` is the picklable entry point for a
process pool: it opens or renders the page inside the worker, so no image crosses processes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pipeline.models import PageWords, Word
from pipeline.ocr.crossread import crossread, inside
from pipeline.ocr.engine import (
    Box,
    GreyImage,
    LineReader,
    OcrEngine,
    OcrFailedError,
    OcrResult,
    OcrWord,
    default_engine,
    fallback_engine,
    line_reader,
    mean_conf,
    tiebreak_reader,
)
from pipeline.ocr.fallback import reread
from pipeline.ocr.geometry import Geometry, apply_geometry, resize
from pipeline.ocr.glyphs import LABEL as GLYPH_LABEL
from pipeline.ocr.glyphs import review
from pipeline.ocr.languages import guess_language, resolve
from pipeline.ocr.merge import Tagged
from pipeline.ocr.prepare import Prepared, PrepareOptions, Step, low_fidelity, prepare
from pipeline.ocr.raster import PageImage, open_image_page, render_pdf_page
from pipeline.ocr.tesseract import Orientation, TesseractEngine
from pipeline.settings import Settings

log = logging.getLogger(__name__)

Orienter = Callable[[GreyImage], Orientation | None]
Focus = Callable[[PageWords], Sequence[Box]]
"""Given a draft of a page (its words glyph-checked), the boxes of the rows whose numbers are worth reading
twice (pipeline.reading.unsure_rows)."""

POOR_PAGE_CONF = 0.60
"""Below this a page may be sideways or upside down: ask OSD (which costs as much as a read)."""
OSD_MIN_CONF = 0.3
"""Tesseract OSD confidence needed to try a turned read (which is kept only if it reads better)."""
RETRY_CONF = 0.70
"""Below this the page is read again with the other binarisation choice; the surer read is kept
(binarising rescued noisy scans and faxes but hurt blurred photos: bench/ocr_bench.py)."""
MIN_WORD_HEIGHT = 0.35
"""Words with letters or digits shorter than this share of the text height are specks read as text."""
MAX_OSD_PIXELS = 9_000_000
"""Larger pages are shrunk before orientation detection, whose time grows with the pixels."""
LOW_FIDELITY_CONF = 0.7
"""Numbers on a page too coarse to keep decimal points (prepare.low_fidelity) are never read surer than this,
so their results go to review."""
_RULE_RESIDUE = re.compile(r"^[|¦_]+$")


@dataclass(frozen=True, slots=True)
class OcrPage:
    """The words of one OCR'd page and how they were obtained."""

    words: PageWords
    word_engines: tuple[str, ...]
    """Engine label for each word of words.words (same order): Tesseract's or the fallback's."""
    languages: str
    geometry: Geometry
    steps: tuple[Step, ...]
    seconds: float


def tesseract_orientation(image: GreyImage) -> Orientation | None:
    """Tesseract OSD on `image`; None when Tesseract is missing or cannot tell."""
    engine = TesseractEngine()
    return engine.orientation(image) if engine.available() else None


def _toggled(options: PrepareOptions, prepared: Prepared) -> PrepareOptions | None:
    """The other binarisation choice for a second try on a poor page (None when binarising is off)."""
    if not options.binarise:
        return None
    if any(s.name == "binarise" and s.applied for s in prepared.steps):
        return replace(options, binarise=False)
    return replace(options, force_binarise=True)


def _shrink(image: GreyImage, max_pixels: int) -> GreyImage:
    """A copy of at most max_pixels pixels (the image itself when already small enough)."""
    if image.size <= max_pixels:
        return image
    return resize(image, (max_pixels / image.size) ** 0.5)


def _read(engine: OcrEngine, prepared: Prepared, languages: str, *, optional: bool = False) -> OcrResult:
    """One engine pass over a prepared page, without ruling fragments and specks (which would otherwise
    drag the confidence that every later decision is taken on). An optional pass (a second opinion)
    that fails or times out counts as an empty read instead of failing the page."""
    try:
        result = engine.recognise(prepared.image, languages=languages)
    except OcrFailedError as exc:
        if not optional:
            raise
        log.warning("an optional OCR pass failed and was skipped: %s", exc.message)
        return OcrResult(engine.name, engine.version, languages, 0, 0, ())
    min_height = MIN_WORD_HEIGHT * (prepared.text_height or 0.0) * prepared.geometry.scale
    words = tuple(w for w in result.words if _keep(w, min_height))
    return replace(result, words=words)


def _better(new: OcrResult, old: OcrResult, margin: float = 0.0) -> bool:
    return (new.mean_conf or 0.0) > (old.mean_conf or 0.0) + margin


def _keep(word: OcrWord, min_height: float) -> bool:
    """False for leftover ruling fragments and for letters or digits too short to be text (specks)."""
    if _RULE_RESIDUE.match(word.text):
        return False
    return word.bottom - word.top >= min_height or not any(c.isalnum() for c in word.text)


def _capped(item: Tagged, cap: float) -> Tagged:
    """The word with its confidence capped when it holds a digit."""
    word = item.word
    if word.conf <= cap or not any(c.isdigit() for c in word.text):
        return item
    return Tagged(replace(word, conf=cap), item.engine)


def _to_page(tagged: list[Tagged], factor: float) -> tuple[tuple[Word, ...], tuple[str, ...]]:
    """Scale words from prepared pixels to page units."""
    words = tuple(
        Word(
            t.word.text,
            t.word.x0 / factor,
            t.word.top / factor,
            t.word.x1 / factor,
            t.word.bottom / factor,
            conf=round(t.word.conf, 4),
            engine=t.engine,
        )
        for t in tagged
    )
    return words, tuple(t.engine for t in tagged)


def _unsure_rows(focus: Focus, image: PageImage, prepared: Prepared, tagged: list[Tagged], label: str) -> list[Box]:
    """The rows `focus` finds unsure on a draft of the page made of `tagged`, in prepared pixels."""
    factor = prepared.geometry.scale * image.scale
    words, _ = _to_page(tagged, factor)
    width, height = _frame_size(image, prepared)
    draft = PageWords(image.page, width, height, image.unit, "ocr", words, engine=label)
    return [(x0 * factor, top * factor, x1 * factor, bottom * factor) for x0, top, x1, bottom in focus(draft)]


def _frame_size(image: PageImage, prepared: Prepared) -> tuple[float, float]:
    """Size of the page frame the boxes are in: the source page (turned), or the cropped photo's page."""
    geometry = prepared.geometry
    if geometry.quad is None:
        turned = geometry.rotation in (90, 270)
        return (image.height, image.width) if turned else (image.width, image.height)
    factor = geometry.scale * image.scale
    return prepared.image.shape[1] / factor, prepared.image.shape[0] / factor


def _orient(
    image: PageImage,
    options: PrepareOptions | None,
    prepared: Prepared,
    result: OcrResult,
    primary: OcrEngine,
    languages: str,
    orient: Orienter,
) -> tuple[Prepared, OcrResult, Step]:
    """Try the turn OSD suggests (and, for a page whose lines run down it, the other turns); a turned
    read replaces the current one only when it is surer."""
    started = time.perf_counter()
    turn = orient(_shrink(prepared.image, MAX_OSD_PIXELS))
    candidates = [turn.rotate] if turn is not None and turn.confidence >= OSD_MIN_CONF else []
    if prepared.sideways:
        candidates += [r for r in (90, 270, 0) if r not in candidates]
    for rotation in candidates:
        if rotation == prepared.geometry.rotation and result.words:
            continue
        turned = (
            prepared if rotation == prepared.geometry.rotation else prepare(image.image, options, rotation=rotation)
        )
        again = _read(primary, turned, languages, optional=bool(result.words))
        if _better(again, result) or not result.words:
            prepared, result = turned, again
        if (result.mean_conf or 0.0) >= POOR_PAGE_CONF:
            break
    detail = f"OSD {turn.rotate} deg, confidence {turn.confidence:.1f}" if turn else "OSD: cannot tell"
    if prepared.sideways:
        detail += "; lines run down the page"
    return (
        prepared,
        result,
        Step("orientation", prepared.geometry.rotation != 0, time.perf_counter() - started, detail),
    )


def read_page(
    image: PageImage,
    *,
    settings: Settings,
    engine: OcrEngine | None = None,
    fallback: OcrEngine | None = None,
    orientation: Orienter | None = None,
    reason: str | None = None,
    options: PrepareOptions | None = None,
    checker: LineReader | None = None,
    tiebreak: LineReader | None = None,
    focus: Focus | None = None,
) -> OcrPage:
    """OCR one page; engine/fallback default to those the settings name (settings.ocr_fallback='none'
    turns the fallback off), orientation to Tesseract OSD. A poor page is read whole by the fallback too
    (fallback.py). Numbers and units are then checked: cross-read by `checker`, with disputes settled by
    `tiebreak` (crossread.py), or, without a checker, against their glyphs (glyphs.py). With `focus`, a
    draft of the page is parsed first and only the rows it finds unsure are cross-read; the glyph check
    covers the rest. checker and tiebreak default to the settings' fallback recogniser and to Tesseract
    when no engines are given (a caller that brings its own engines brings its own readers). `reason`
    (why the page is OCR'd) is kept."""
    started = time.perf_counter()
    primary = engine or default_engine(settings)
    second = fallback if fallback is not None else fallback_engine(settings)
    reader = checker if checker is not None or fallback is not None else line_reader(settings)
    third = tiebreak if tiebreak is not None or engine is not None or reader is None else tiebreak_reader()
    orient = orientation or tesseract_orientation
    prepared = prepare(image.image, options)
    if prepared.blank:
        log.info("page %d: %s", image.page, prepared.reason)
        empty = PageWords(image.page, image.width, image.height, image.unit, "none", (), reason=prepared.reason)
        return OcrPage(empty, (), "", prepared.geometry, prepared.steps, time.perf_counter() - started)

    auto = settings.ocr_languages == "auto"
    languages = "eng" if auto else resolve(settings.ocr_languages)
    if prepared.sideways:  # skip a read that would be wasted: settle orientation first
        result = OcrResult(primary.name, primary.version, languages, 0, 0, ())
    else:
        result = _read(primary, prepared, languages)
    steps = list(prepared.steps)
    if prepared.sideways or (result.mean_conf or 0.0) < POOR_PAGE_CONF:
        prepared, result, step = _orient(image, options, prepared, result, primary, languages, orient)
        steps = [*prepared.steps, step]

    alternative = _toggled(options or PrepareOptions(), prepared)
    if alternative is not None and (result.mean_conf or 0.0) < RETRY_CONF:
        t0 = time.perf_counter()
        other = prepare(image.image, alternative, rotation=prepared.geometry.rotation)
        again = _read(primary, other, languages, optional=True)
        kept = _better(again, result)
        detail = f"{'binarised' if alternative.force_binarise else 'grey'}: {again.mean_conf or 0:.2f}"
        if kept:
            prepared, result = other, again
            steps = [*other.steps, *(s for s in steps if s.name == "orientation")]
        steps.append(Step("retry", kept, time.perf_counter() - t0, detail))

    if auto:
        guessed = guess_language(w.text for w in result.words)
        steps.append(Step("language", False, 0.0, f"page reads as {guessed or 'eng'}; read with eng data"))

    tagged = [Tagged(w, result.label) for w in result.words]
    labels = [result.label]
    if second is not None:
        t0 = time.perf_counter()
        tagged, used = reread(prepared.plain, result, second, languages)
        steps.append(Step("fallback", used, time.perf_counter() - t0, second.name if used else ""))
        if used:
            labels.append(f"{second.name} {second.version}")
    if reader is not None:
        rows = None
        if focus is not None:
            t0 = time.perf_counter()
            reviewed, checked = review(prepared.plain, tagged, result.label)
            rows = _unsure_rows(focus, image, prepared, reviewed, result.label)
            tagged = [t if inside(t.word, rows) else r for t, r in zip(tagged, reviewed, strict=True)]
            steps.append(Step("focus", True, time.perf_counter() - t0, f"{len(rows)} unsure rows; {checked.detail}"))
        t0 = time.perf_counter()
        tagged, cross = crossread(prepared.plain, tagged, result.label, reader, third, rows=rows)
        steps.append(Step("crossread", cross.checked > 0, time.perf_counter() - t0, cross.detail))
        if cross.confirmed + cross.corrected and reader.label not in labels:
            labels.append(reader.label)
    else:
        t0 = time.perf_counter()
        tagged, checked = review(prepared.plain, tagged, result.label)
        steps.append(Step("glyphs", checked.restored > 0, time.perf_counter() - t0, checked.detail))
    if any(GLYPH_LABEL in t.engine for t in tagged):
        labels.append(GLYPH_LABEL)
    poor = low_fidelity(image.image, prepared.text_height)
    if poor is not None:
        tagged = [_capped(t, LOW_FIDELITY_CONF) for t in tagged]
        steps.append(Step("fidelity", True, 0.0, f"{poor}: numbers read at most {LOW_FIDELITY_CONF}"))

    factor = prepared.geometry.scale * image.scale
    words, engines = _to_page(tagged, factor)
    conf = mean_conf([t.word for t in tagged])
    named = {part for label in engines for part in label.split(" + ")}
    labels = [label for label in labels if label in named] or labels[:1]
    width, height = _frame_size(image, prepared)
    page = PageWords(
        image.page,
        width,
        height,
        image.unit,
        "ocr",
        words,
        engine=" + ".join(labels),
        reason=reason if words else (reason or "no text recognised"),
        rotation=prepared.geometry.rotation,
        ocr_confidence=round(conf, 4) if conf is not None else None,
    )
    seconds = time.perf_counter() - started
    log.info(
        "page %d: %d words by OCR, confidence %.2f, rotation %d, %.2f s",
        image.page,
        len(words),
        conf or 0.0,
        page.rotation,
        seconds,
    )
    for step in steps:
        log.debug(
            "page %d: %s %s (%s) %.3f s",
            image.page,
            step.name,
            "applied" if step.applied else "skipped",
            step.detail,
            step.seconds,
        )
    return OcrPage(page, engines, languages, prepared.geometry, tuple(steps), seconds)


def ocr_page(
    image: PageImage,
    *,
    settings: Settings,
    engine: OcrEngine | None = None,
    fallback: OcrEngine | None = None,
    reason: str | None = None,
    focus: Focus | None = None,
) -> PageWords:
    """OCR one page image into PageWords (see read_page for the details)."""
    return read_page(image, settings=settings, engine=engine, fallback=fallback, reason=reason, focus=focus).words


def source_page(path: str, index: int, kind: Literal["pdf", "image"], settings: Settings) -> PageImage:
    """Page `index` (0-based) of a file as a PageImage: a PDF page rendered at settings.ocr_dpi, or an
    image frame opened within settings' limits."""
    if kind == "pdf":
        return render_pdf_page(Path(path), index, settings.ocr_dpi, max_pixels=settings.max_image_pixels)
    return open_image_page(Path(path), index, settings)


def ocr_source_page(
    path: str,
    index: int,
    kind: Literal["pdf", "image"],
    settings: Settings,
    reason: str | None = None,
    focus: Focus | None = None,
) -> PageWords:
    """Render or open page `index` (0-based) of a file and OCR it; picklable, for a process pool."""
    return ocr_page(source_page(path, index, kind, settings), settings=settings, reason=reason, focus=focus)


def read_source_page(
    path: str, index: int, kind: Literal["pdf", "image"], settings: Settings, reason: str | None = None
) -> OcrPage:
    """As ocr_source_page, with the diagnostics (engine per word, geometry for recognise_region)."""
    return read_page(source_page(path, index, kind, settings), settings=settings, reason=reason)


def recognise_region(
    image: PageImage,
    box: tuple[float, float, float, float],
    *,
    geometry: Geometry,
    engine: OcrEngine,
    languages: str = "eng",
) -> tuple[Word, ...]:
    """Re-read one region (x0, top, x1, bottom in page units, the frame of an OcrPage with `geometry`)."""
    frame = apply_geometry(image.image, geometry)
    factor = geometry.scale * image.scale
    x0, top, x1, bottom = (v * factor for v in box)
    pad = 0.3 * (bottom - top)
    left, upper = max(0, int(x0 - pad)), max(0, int(top - pad))
    crop = frame[upper : int(bottom + pad) + 1, left : int(x1 + pad) + 1]
    if crop.size == 0:
        return ()
    result = engine.recognise(crop, languages=languages)
    return tuple(
        Word(
            w.text,
            (w.x0 + left) / factor,
            (w.top + upper) / factor,
            (w.x1 + left) / factor,
            (w.bottom + upper) / factor,
            conf=round(w.conf, 4),
        )
        for w in result.words
    )
