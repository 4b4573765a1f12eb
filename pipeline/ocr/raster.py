"""Page images for OCR: PDF pages rendered grey with pypdfium2; PNG/JPEG/TIFF/BMP/WebP pages opened safely.

Contract: every function returns `PageImage`s holding a grey uint8 array and the scale from image pixels
back to page units (dpi/72 for PDF pages in points, 1.0 for image files in pixels). Image sizes are checked
from the file header BEFORE any pixel is decoded (decompression bombs, 1x1 images), TIFF frames are read
one at a time, and every failure is one of the pipeline.errors input errors naming the file.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    InputError,
    TooLargeError,
    UnsupportedTypeError,
)
from pipeline.ocr.engine import GreyImage
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pypdfium2 import PdfPage

log = logging.getLogger(__name__)

IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP")
MIN_SCAN_DPI = 50
"""A scanned page image of lower resolution than this is rendered at the requested dpi anyway."""
MIN_SIDE = 16
"""Images narrower or shorter than this cannot hold a line of text."""
_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"RIFF")


@dataclass(frozen=True, slots=True)
class PageImage:
    """One page as a grey image, and how its pixels relate to the page's own units."""

    page: int
    """1-based page (or TIFF frame) number in the source file."""
    image: GreyImage
    scale: float
    """Image pixels per page unit: dpi/72 for PDF pages (unit pt), 1.0 for image files (unit px)."""
    unit: Literal["pt", "px"]
    source: str = ""
    """The file as given, for error messages."""
    size: tuple[float, float] | None = None
    """Exact (width, height) in page units when known (PDF points); else the image size / scale."""

    @property
    def width(self) -> float:
        return self.size[0] if self.size else float(self.image.shape[1]) / self.scale

    @property
    def height(self) -> float:
        return self.size[1] if self.size else float(self.image.shape[0]) / self.scale


# --------------------------------------------------------------------------------------------------
# PDF pages


def scan_dpi(page: PdfPage) -> float | None:
    """The resolution of a page that is one scanned image covering (almost) all of it, else None."""
    import pypdfium2.raw as pdfium_c

    width_pt, height_pt = page.get_size()
    images = [obj for obj in page.get_objects(max_depth=1) if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
    if len(images) != 1:
        return None
    left, bottom, right, top = images[0].get_bounds()
    if (right - left) * (top - bottom) < 0.9 * width_pt * height_pt:
        return None
    px_w, px_h = images[0].get_px_size()
    across, down = px_w * 72.0 / (right - left), px_h * 72.0 / (top - bottom)
    if abs(across - down) > 0.1 * max(across, down):
        across, down = px_h * 72.0 / (right - left), px_w * 72.0 / (top - bottom)  # a turned image
        if abs(across - down) > 0.1 * max(across, down):
            return None
    return float(across + down) / 2.0


def render_pdf_page(pdf_path: Path, index: int, dpi: int, *, max_pixels: int | None = None) -> PageImage:
    """Render page `index` (0-based) of a PDF grey at `dpi` (lowered if it would exceed max_pixels). A page
    that is one scanned image is rendered at the scan's own resolution when that is lower: resampling a
    200-dpi scan to 300 dpi blurred it (Tesseract's confidence 0.79 instead of 0.88, bench/scan_bench.py);
    preparation enlarges small text itself."""
    import pypdfium2 as pdfium

    name = str(pdf_path)  # errors name the file as the user gave it, like ingest's
    try:
        pdf = pdfium.PdfDocument(str(pdf_path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise EncryptedFileError("the PDF is encrypted", path=name) from exc
        raise CorruptFileError(f"PDF could not be opened: {exc}", path=name) from exc
    try:
        if not 0 <= index < len(pdf):
            raise InputError(f"the PDF has no page {index + 1}", path=name)
        page = pdf[index]
        width_pt, height_pt = page.get_size()
        native = scan_dpi(page)
        scale = min(dpi, native) / 72.0 if native is not None and native >= MIN_SCAN_DPI else dpi / 72.0
        pixels = width_pt * height_pt * scale * scale
        if max_pixels and pixels > max_pixels:
            scale *= 0.995 * (max_pixels / pixels) ** 0.5  # margin for pdfium's rounding up
            log.info(
                "page %d: rendered at %.0f dpi instead of %d to stay under max_image_pixels",
                index + 1,
                scale * 72,
                dpi,
            )
        elif scale * 72 < dpi - 0.5:
            log.debug("page %d: a scanned image, rendered at its own %.0f dpi", index + 1, scale * 72)
        bitmap = page.render(scale=scale, grayscale=True)
        array = bitmap.to_numpy()
        grey = np.ascontiguousarray(array.reshape(array.shape[0], array.shape[1]), dtype=np.uint8)
    finally:
        pdf.close()
    return PageImage(index + 1, grey, scale, "pt", name, (float(width_pt), float(height_pt)))


# --------------------------------------------------------------------------------------------------
# Image files


@contextmanager
def _open(path: Path, settings: Settings) -> Iterator[Image.Image]:
    """Open an image lazily (header only) with our limits in place; input errors name the file."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=name) from exc
    if not head:
        raise EmptyFileError("the file is empty", path=name)
    # Pillow refuses at twice MAX_IMAGE_PIXELS on its own; our exact check is in _check_size().
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=IMAGE_FORMATS)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise TooLargeError(
            f"image has {count}, more than max_image_pixels ({settings.max_image_pixels:,}); refused before decoding",
            path=name,
        ) from exc
    except UnidentifiedImageError as exc:
        if head.startswith(_MAGIC):
            raise CorruptFileError("the image header is damaged and cannot be read", path=name) from exc
        raise UnsupportedTypeError(f"not a supported image ({', '.join(IMAGE_FORMATS)})", path=name) from exc
    except OSError as exc:
        raise CorruptFileError(f"the image cannot be read: {exc}", path=name) from exc
    try:
        yield image
    finally:
        image.close()


def _check_size(image: Image.Image, settings: Settings, name: str, frame: int) -> None:
    """Refuse frames that are too large to decode safely or too small to hold text, from the header."""
    width, height = image.size
    where = f"page {frame}: " if frame > 1 else ""
    if width * height > settings.max_image_pixels:
        raise TooLargeError(
            f"{where}image is {width} x {height} = {width * height:,} pixels, more than "
            f"max_image_pixels ({settings.max_image_pixels:,}); refused before decoding",
            path=name,
        )
    if min(width, height) < MIN_SIDE:
        raise InputError(f"{where}image too small to hold text ({width} x {height} pixels)", path=name)


def _to_grey(image: Image.Image) -> GreyImage:
    """Decode the current frame to grey: transparency onto white, EXIF rotation applied, 16-bit scaled."""
    if image.format == "JPEG":
        image.draft("L", image.size)  # decode straight to grey: a third of the memory of RGB
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        top = float(values.max()) or 1.0
        return np.asarray(values * (255.0 / top), dtype=np.uint8)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        image = white
    return np.asarray(image.convert("L"), dtype=np.uint8)


def _load_frame(image: Image.Image, settings: Settings, name: str, frame: int) -> PageImage:
    """Check, decode and convert the current frame into a PageImage (pixel units)."""
    _check_size(image, settings, name, frame)
    try:
        grey = _to_grey(image)
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow reports truncated/broken data this way
        raise CorruptFileError(f"page {frame}: the image data is damaged ({exc})", path=name) from exc
    return PageImage(frame, np.ascontiguousarray(grey), 1.0, "px", name)


def _seek(image: Image.Image, index: int) -> bool:
    """Move to frame `index`; False past the last frame (single-frame formats have only frame 0)."""
    try:
        image.seek(index)
    except EOFError:
        return False
    return True


def count_image_pages(path: Path, settings: Settings) -> int:
    """Number of pages (frames) in an image file, read from headers only."""
    with _open(path, settings) as image:
        count = 0
        while count < settings.max_pages + 1 and _seek(image, count):
            count += 1
        return count


def open_image_page(path: Path, index: int, settings: Settings) -> PageImage:
    """Decode one page (0-based frame `index`) of an image file; what a pool worker calls."""
    name = str(path)
    with _open(path, settings) as image:
        if not _seek(image, index):
            raise InputError(f"the image has no page {index + 1}", path=name)
        return _load_frame(image, settings, name, index + 1)


def open_image_pages(path: Path, settings: Settings) -> Iterator[PageImage]:
    """Yield the pages of a PNG/JPEG/TIFF/BMP/WebP file one at a time (multi-page TIFF frames lazily)."""
    name = str(path)
    with _open(path, settings) as image:
        index = 0
        while True:
            try:
                if not _seek(image, index):
                    return
            except OSError as exc:
                raise CorruptFileError(f"page {index + 1} cannot be read", path=name) from exc
            if index >= settings.max_pages:
                raise TooLargeError(f"the image has more than max_pages ({settings.max_pages}) pages", path=name)
            yield _load_frame(image, settings, name, index + 1)
            index += 1
