"""Image preparation before OCR: each stage a small function on a grey uint8 image, timed and recorded.

Order (`prepare()`): crop a photographed page to its border and correct perspective; measure the text
height (and whether its lines run down the page); stop on a blank page or one without readable text;
denoise a noisy page at its own resolution; enlarge small text; deskew; flatten the background (uneven
light, coloured cells, white-on-dark banners inverted, desk around a photo blanked); binarise a noisy
page; remove table rulings. Estimates run on a downscaled copy, so preparation costs about a tenth of a
Tesseract pass. Turning by 90/180/270 is applied first when asked (`rotation`): `page.py` asks Tesseract
OSD only for sideways or poorly read pages, since OSD costs as much as a read. The geometry stages
define the page frame that OCR boxes are reported in (`Geometry`, replayable by `apply_geometry`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.ocr.engine import GreyImage
from pipeline.ocr.geometry import (
    Geometry,
    Quad,
    downscale,
    estimate_skew,
    find_page_quad,
    grey,
    resize,
    rotate_quarter,
    rotate_small,
    warp_to_quad,
)

log = logging.getLogger(__name__)

TARGET_TEXT_HEIGHT = 24.0
"""Median glyph height (between x-height and capital height) small text is enlarged to, in pixels."""
MIN_TEXT_HEIGHT, MAX_TEXT_HEIGHT = 18.0, 70.0
"""Text within these heights is read as it is; outside them the page is rescaled to the target.
Measured on synthetic reports: 100-dpi text (9 px) went from 83% to 100% of numbers read when enlarged;
at 150-200 dpi (14-19 px) enlarging changed nothing on clean pages, moved noisy scans by -7..+3 points
and a fax by -11..+4, and cost 30-100% more Tesseract time; on the fixture reports at 300 dpi (20-21 px)
it cost 30-60% more time for -10..+5 points. The 17-px ZIA sample needs it for '4 - 11.3'."""
MAX_UPSCALE = 4.0
MAX_PREPARED_PIXELS = 40_000_000
SKEW_MIN_DEGREES = 0.3
"""Skews below this are left alone: Tesseract copes, and a rotation resamples the whole page."""
ANALYSIS_SIDE = 1700
"""Longest side of the downscaled copy the estimates are made on."""
NOISE_THRESHOLD = 1.5
"""Mean absolute deviation of background pixels from their 3x3 median (at the source resolution) above
which the page is denoised (3x3 median, before any upscaling) and binarised (Otsu)."""
LEADER_DOT, LEADER_RUN = 0.5, 4
"""Marks at most LEADER_DOT text heights wide and tall, LEADER_RUN or more in a row, are dot leaders."""
UNLIT = 80
"""Background darker than this, without light text on it, is not paper (desk, scanner border)."""
BLANK_INK = 0.005
"""Share of dark pixels under which a page without text-like marks counts as blank (specks, a punch hole)."""
BILEVEL_SHARE, LOW_FIDELITY_TEXT = 0.99, 10.0
"""A page with at least BILEVEL_SHARE pure black or white pixels is 1-bit; its text needs LOW_FIDELITY_TEXT
pixels of real (not repeated) resolution for a decimal point to survive."""
MIN_READABLE_HEIGHT = 7.0
"""Marks smaller than this (source pixels) are specks or texture, not text anyone can read."""


@dataclass(frozen=True, slots=True)
class Step:
    """What one preparation stage did to a page, and what it cost."""

    name: str
    applied: bool
    seconds: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PrepareOptions:
    """Which stages may run; each still decides from the page whether it is needed."""

    crop_page: bool = True
    rescale: bool = True
    deskew: bool = True
    normalise: bool = True
    binarise: bool = True
    remove_rulings: bool = True
    force_binarise: bool = False
    """Denoise and binarise even a page that does not look noisy (the second try on a poor read)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A page ready for OCR, and the geometry that maps its pixels to the source image."""

    image: GreyImage
    """What the primary engine reads: flattened, binarised when noisy, rulings removed."""
    plain: GreyImage
    """Same geometry without binarisation or ruling removal: for OSD and the fallback engine."""
    geometry: Geometry
    text_height: float | None
    """Median glyph height in source pixels; None when no text-like marks were found."""
    blank: bool
    reason: str | None
    """Why a blank page holds nothing to read: 'blank page' or 'no readable text'."""
    sideways: bool
    """The text lines run down the page: it is turned 90 or 270 degrees."""
    steps: tuple[Step, ...]


def _timed(steps: list[Step], name: str, fn: Callable[[], tuple[bool, str]]) -> None:
    started = time.perf_counter()
    applied, detail = fn()
    steps.append(Step(name, applied, time.perf_counter() - started, detail))


def ink_mask(image: GreyImage) -> GreyImage:
    """Dark marks as 255 on 0: Otsu, but never within the paper's own noise (a blank page has no ink)."""
    otsu, _ = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    paper = float(np.median(image[::4, ::4]))
    spread = float(np.median(np.abs(image[::4, ::4].astype(np.int16) - paper)))
    limit = min(otsu, paper - max(40.0, 9.0 * spread))
    _, mask = cv2.threshold(image, limit, 255, cv2.THRESH_BINARY_INV)
    return grey(mask)


def analysis_mask(image: GreyImage) -> tuple[GreyImage, float]:
    """Ink mask of a downscaled, roughly flattened copy (so that uneven light does not hide the text)."""
    small, factor = downscale(image, ANALYSIS_SIDE)
    coarse = cv2.resize(small, None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA)
    bg = cv2.resize(cv2.medianBlur(coarse, 5), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(small, np.maximum(bg, 1).astype(np.uint8), scale=255)
    return ink_mask(grey(flat)), factor


# --------------------------------------------------------------------------------------------------
# Text size and resolution


def _in_runs(boxes: np.ndarray, shape: tuple[int, ...], gap: float) -> np.ndarray:
    """Which boxes (x, y, w, h rows) sit in a horizontal run of at least three: letters of words."""
    canvas = np.zeros(shape[:2], np.uint8)
    for x, y, w, h in boxes:
        cv2.rectangle(canvas, (int(x), int(y + h / 4)), (int(x + w - 1), int(y + 3 * h / 4)), 255, -1)
    joined = cv2.dilate(canvas, np.ones((1, max(1, int(gap))), np.uint8))
    _, labels = cv2.connectedComponents(joined, connectivity=4)
    rows, cols = boxes[:, 1] + boxes[:, 3] // 2, boxes[:, 0] + boxes[:, 2] // 2
    centre = labels[rows.astype(int), cols.astype(int)]
    members = np.bincount(centre, minlength=int(centre.max()) + 1)
    return np.asarray(members[centre] >= 3, dtype=np.bool_)


def measure_text(mask: GreyImage) -> tuple[float | None, bool]:
    """Median height of glyph-like marks that stand in runs of three or more (letters of words), in mask
    pixels, and whether those runs go down the page (a page turned sideways). The height is None when
    fewer than three marks stand in runs, so that texture, specks and photos do not pass for text."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 4:
        return None, False
    w, h, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    small, large = np.minimum(w, h), np.maximum(w, h)
    glyph = (large >= 5) & (large <= min(mask.shape) / 8) & (small * 8 >= large) & (area * 10 >= w * h)
    if glyph.sum() < 3:
        return None, False
    boxes = stats[1:, :4][glyph]
    across = _in_runs(boxes, mask.shape, 0.6 * float(np.median(boxes[:, 3])))
    down = _in_runs(boxes[:, [1, 0, 3, 2]], mask.shape[::-1], 0.6 * float(np.median(boxes[:, 2])))
    sideways = int(down.sum()) > 2 * int(across.sum())
    runs, size = (down, boxes[:, 2]) if sideways else (across, boxes[:, 3])
    if runs.sum() < 3:
        return None, False
    return float(np.median(size[runs])), sideways


def estimate_text_height(mask: GreyImage) -> float | None:
    """Median glyph height of the text on an ink mask (see measure_text)."""
    return measure_text(mask)[0]


def rescale_factor(text_height: float | None, shape: tuple[int, ...]) -> float:
    """How much to scale a page so its text is TARGET_TEXT_HEIGHT tall (1.0 when already comfortable)."""
    if text_height is None or MIN_TEXT_HEIGHT <= text_height <= MAX_TEXT_HEIGHT:
        return 1.0
    factor = min(MAX_UPSCALE, TARGET_TEXT_HEIGHT / text_height)
    limit = (MAX_PREPARED_PIXELS / (shape[0] * shape[1])) ** 0.5
    return float(min(factor, limit))


# --------------------------------------------------------------------------------------------------
# Background, contrast, binarisation, rulings


def background(image: GreyImage, text_height: float) -> GreyImage:
    """Paper colour on a small copy (one pixel per half text height): a 7x7 median, about 3 text heights."""
    step = max(1.0, text_height / 2.0)
    small = cv2.resize(image, None, fx=1 / step, fy=1 / step, interpolation=cv2.INTER_AREA)
    return grey(cv2.medianBlur(small, 7))


def light_on_dark(image: GreyImage, small_bg: GreyImage) -> npt.NDArray[np.bool_]:
    """Cells of the background grid that hold light text on a dark ground (banners), not dimly lit paper."""
    dark = small_bg < 100
    if not dark.any():
        return dark
    grid = (small_bg.shape[1], small_bg.shape[0])
    mid = cv2.resize(image, (grid[0] * 4, grid[1] * 4), interpolation=cv2.INTER_AREA)
    bright = cv2.resize(cv2.dilate(mid, np.ones((5, 5), np.uint8)), grid, interpolation=cv2.INTER_AREA)
    light_text = bright.astype(np.int16) > small_bg.astype(np.int16) + 60
    # a banner is a region: keep dark cells near light-text cells
    near = cv2.dilate(light_text.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    return np.asarray(dark & near, dtype=np.bool_)


def flatten(image: GreyImage, text_height: float) -> tuple[GreyImage, str]:
    """Divide by the local paper colour (uneven light, coloured cells); invert white-on-dark regions first;
    blank out dark regions that are not paper (a desk around a photographed page, a scanner's black
    border), where the division would only magnify noise into thousands of specks."""
    small = background(image, text_height)
    lo, hi = np.percentile(small, (5, 98))
    inverted = light_on_dark(image, small)
    unlit = (small < UNLIT) & ~inverted
    if not inverted.any() and hi - lo < 40 and lo > 170:
        return image, ""
    size = (image.shape[1], image.shape[0])
    detail = f"background {lo:.0f}-{hi:.0f}"
    if inverted.any():
        small = np.where(inverted, 255 - small, small).astype(np.uint8)
        dark = cv2.resize(inverted.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        image = np.where(dark, 255 - image, image).astype(np.uint8)
        detail += f", {inverted.mean():.1%} inverted"
    bg = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(image, np.maximum(bg, 1).astype(np.uint8), scale=255)
    if unlit.any():
        out[cv2.resize(unlit.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0] = 255
        detail += f", {unlit.mean():.1%} not paper"
    return grey(out), detail


def noise_level(image: GreyImage) -> float:
    """Mean |pixel - 3x3 median| over light (background) pixels of a central crop: 0 for clean renders."""
    h, w = image.shape
    crop = image[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    smooth = cv2.medianBlur(crop, 3)
    light = smooth > 160
    if not light.any():
        return 0.0
    return float(np.abs(crop.astype(np.int16) - smooth.astype(np.int16))[light].mean())


def denoise(image: GreyImage) -> GreyImage:
    """3x3 median at the source resolution: removes specks and JPEG ringing before any upscaling."""
    return grey(cv2.medianBlur(image, 3))


def otsu(image: GreyImage) -> GreyImage:
    """Global Otsu threshold (after flattening, one threshold fits the whole page)."""
    _, out = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return grey(out)


def ruling_mask(mask: GreyImage, text_height: float) -> GreyImage:
    """Long horizontal and vertical strokes (table rulings) in an ink mask, slightly widened."""
    horizontal = max(40, int(4 * text_height))
    vertical = max(20, int(1.8 * text_height))
    h_lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (horizontal, 1)))
    v_lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, vertical)))
    lines = cv2.bitwise_or(h_lines, v_lines)
    return grey(cv2.dilate(lines, np.ones((3, 3), np.uint8)))


def leader_dots(mask: GreyImage, text_height: float) -> GreyImage:
    """Dot leaders ('SODIUM ........ 137'): four or more dot-sized marks in a row, each within 1.2 text heights
    of the next. Tesseract read them as '0c', 'eee' or 'es' between a test's name and its value, which
    broke the row; a decimal point or an ellipsis never makes such a run. Only the dots' own boxes are
    drawn and painted (a whole-page lookup of every mark's label cost twice as much)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    size = LEADER_DOT * text_height
    dot = (w <= size) & (h <= size) & (w * 3 >= h) & (h * 3 >= w) & (area * 2 >= w * h)
    dot[0] = False
    out = np.zeros_like(mask)
    if int(dot.sum()) < LEADER_RUN:
        return grey(out)
    dots = np.zeros_like(mask)
    for i in np.flatnonzero(dot):
        dots[y[i] : y[i] + h[i], x[i] : x[i] + w[i]] = 255
    joined = cv2.dilate(dots, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(1.2 * text_height)), 1)))
    _, runs = cv2.connectedComponents(joined, connectivity=8)
    run_of = runs[y + h // 2, x + w // 2]  # each mark's run
    in_run = np.bincount(run_of[dot], minlength=int(runs.max()) + 1)
    for i in np.flatnonzero(dot & (in_run[run_of] >= LEADER_RUN)):
        box = (slice(y[i], y[i] + h[i]), slice(x[i], x[i] + w[i]))
        out[box][labels[box] == i] = 255
    return grey(out)


def remove_rulings(image: GreyImage, text_height: float) -> tuple[GreyImage, int]:
    """Paint table rulings and dot leaders white lest they merge into the characters they touch or be read
    as letters; returns pixels painted."""
    mask = ink_mask(image)
    lines = cv2.bitwise_or(ruling_mask(mask, text_height), leader_dots(mask, text_height))
    removed = int(np.count_nonzero(lines))
    if not removed:
        return image, 0
    return grey(cv2.max(image, lines)), removed


def low_fidelity(image: GreyImage, text_height: float | None) -> str | None:
    """Why numbers on this page cannot be trusted however surely they are read, or None. A 1-bit page whose
    text has fewer than LOW_FIDELITY_TEXT pixels of real resolution (a standard fax: 98 lines per inch,
    often stored with every row doubled) loses decimal points without a trace: both engines then agree on
    '31' for 3.1 (bench/scan_bench.py: 5% of the fax results claimed at >= 0.9 were wrong)."""
    if text_height is None:
        return None
    sample = image[::3, ::3]
    if float(np.mean((sample == 0) | (sample == 255))) < BILEVEL_SHARE:
        return None
    inked = np.asarray((image < 128).any(axis=1), dtype=np.bool_)
    repeated = np.asarray(np.all(image[1:] == image[:-1], axis=1), dtype=np.bool_) & inked[1:]
    doubled = float(repeated.sum()) / max(1, int(inked[1:].sum()))
    effective = text_height * (1.0 - doubled)
    if effective >= LOW_FIDELITY_TEXT:
        return None
    return f"1-bit page with text {effective:.0f} px tall at its real resolution"


def emptiness(mask: GreyImage) -> str:
    """Why a page without glyph-like marks has nothing to read: almost no ink, or ink that is not text."""
    ink = float(np.count_nonzero(mask)) / mask.size
    return "blank page" if ink < BLANK_INK else "no readable text"


# --------------------------------------------------------------------------------------------------
# The sequence


def prepare(image: GreyImage, options: PrepareOptions | None = None, *, rotation: int = 0) -> Prepared:
    """Run the preparation stages on one page image turned `rotation` degrees clockwise first."""
    opts = options or PrepareOptions()
    steps: list[Step] = []
    page = rotate_quarter(image, rotation) if rotation else image
    quad: Quad | None = None
    if opts.crop_page:

        def crop() -> tuple[bool, str]:
            nonlocal page, quad
            quad = find_page_quad(page)
            if quad is None:
                return False, ""
            page = warp_to_quad(page, quad)
            return True, f"page {page.shape[1]}x{page.shape[0]} px"

        _timed(steps, "crop_page", crop)

    small_mask, factor = analysis_mask(page)
    measured, sideways = measure_text(small_mask)
    text_height = measured / factor if measured is not None else None
    if text_height is None:
        reason = emptiness(small_mask)
        steps.append(Step("blank", True, 0.0, reason))
        return Prepared(page, page, Geometry(rotation, quad), None, True, reason, False, tuple(steps))
    if text_height is not None and text_height < MIN_READABLE_HEIGHT:
        steps.append(Step("blank", True, 0.0, f"marks {text_height:.1f} px tall"))
        empty = Geometry(rotation, quad)
        return Prepared(page, page, empty, text_height, True, "no readable text", False, tuple(steps))

    noisy = False
    if opts.binarise:

        def do_denoise() -> tuple[bool, str]:
            nonlocal page, noisy
            level = noise_level(page)
            noisy = level >= NOISE_THRESHOLD or opts.force_binarise
            if noisy:
                page = denoise(page)
            return noisy, f"noise {level:.1f}"

        _timed(steps, "denoise", do_denoise)

    scale = 1.0
    if opts.rescale:

        def do_rescale() -> tuple[bool, str]:
            nonlocal page, scale
            scale = rescale_factor(text_height, page.shape)
            if scale == 1.0:
                return False, f"text {text_height or 0:.0f} px"
            page = resize(page, scale)
            return True, f"text {text_height or 0:.0f} px, x{scale:.2f}"

        _timed(steps, "rescale", do_rescale)
    height = (text_height or TARGET_TEXT_HEIGHT / scale) * scale

    skew = 0.0
    if opts.deskew:

        def do_deskew() -> tuple[bool, str]:
            nonlocal page, skew
            angle = estimate_skew(small_mask)
            if abs(angle) < SKEW_MIN_DEGREES:
                return False, f"{angle:+.2f} deg"
            page, skew = rotate_small(page, angle), angle
            return True, f"{angle:+.2f} deg"

        _timed(steps, "deskew", do_deskew)

    if opts.normalise:

        def do_flatten() -> tuple[bool, str]:
            nonlocal page
            page, detail = flatten(page, height)
            return bool(detail), detail

        _timed(steps, "flatten", do_flatten)
    plain = page

    if opts.binarise:

        def do_binarise() -> tuple[bool, str]:
            nonlocal page
            if not noisy:
                return False, ""
            page = otsu(page)
            return True, "Otsu"

        _timed(steps, "binarise", do_binarise)

    if opts.remove_rulings:

        def do_rulings() -> tuple[bool, str]:
            nonlocal page
            page, removed = remove_rulings(page, height)
            return removed > 0, f"{removed} px" if removed else ""

        _timed(steps, "remove_rulings", do_rulings)

    geometry = Geometry(rotation, quad, scale, skew)
    return Prepared(page, plain, geometry, text_height, False, None, sideways, tuple(steps))
