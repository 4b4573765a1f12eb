"""raster: PDF pages rendered grey at a known scale; image files opened safely (bombs, 1x1, corrupt, TIFF)."""

from __future__ import annotations

import io
import resource
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.degrade import save_tiff
from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    InputError,
    TooLargeError,
    UnsupportedTypeError,
)
from pipeline.ocr.raster import count_image_pages, open_image_page, open_image_pages, render_pdf_page
from pipeline.settings import Settings
from tests.ocr_helpers import synthetic_pdf

SETTINGS = Settings()


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares width x height grey pixels but holds almost no data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.mark.parametrize("dpi", [72, 150, 300], ids=lambda d: f"{d}dpi")
def test_pdf_pages_render_grey_at_the_asked_resolution(dpi: int) -> None:
    path, _ = synthetic_pdf(rows=4)
    page = render_pdf_page(path, 0, dpi)
    assert page.image.dtype == np.uint8 and page.image.ndim == 2
    assert (page.unit, page.page) == ("pt", 1)
    assert page.scale == pytest.approx(dpi / 72, rel=0.01)
    assert (page.width, page.height) == pytest.approx((595.3, 841.9), abs=0.5)
    assert page.image.min() < 50 and np.median(page.image) > 240  # black text on white paper


def test_a_huge_pdf_page_is_rendered_at_a_lower_resolution() -> None:
    path, _ = synthetic_pdf(rows=4)
    page = render_pdf_page(path, 0, 300, max_pixels=1_000_000)
    assert page.image.size <= 1_000_000
    assert page.width == pytest.approx(595.3, abs=1.0)


def test_bad_pdfs_are_input_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    with pytest.raises(CorruptFileError, match=r"broken\.pdf"):
        render_pdf_page(broken, 0, 150)
    path, _ = synthetic_pdf(rows=4)
    with pytest.raises(InputError, match="no page 3"):
        render_pdf_page(path, 2, 150)


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    png_header_only(bomb, 30000, 30000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TooLargeError, match=r"900,000,000 pixels") as info:
        list(open_image_pages(bomb, SETTINGS))
    assert "bomb.png" in str(info.value)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100


def test_an_image_just_over_the_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    png_header_only(path, 2000, 1000)
    with pytest.raises(TooLargeError, match=r"2000 x 1000 = 2,000,000 pixels"):
        open_image_page(path, 0, Settings(max_image_pixels=1_999_999))


@pytest.mark.parametrize("size", [(1, 1), (5, 400), (400, 10)], ids=["1x1", "5x400", "400x10"])
def test_tiny_images_cannot_hold_text(tmp_path: Path, size: tuple[int, int]) -> None:
    path = tmp_path / "tiny.png"
    Image.new("L", size, 255).save(path)
    with pytest.raises(InputError, match="too small to hold text"):
        list(open_image_pages(path, SETTINGS))


def _truncated_png(path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300), dtype=np.uint8)).save(buf, "PNG")
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _bad_header_png(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDX" + bytes(200))


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (_truncated_png, CorruptFileError),
        (_bad_header_png, CorruptFileError),
        (lambda p: p.write_bytes(b"hello, this is text and not an image at all"), UnsupportedTypeError),
        (lambda p: p.write_bytes(b""), EmptyFileError),
    ],
    ids=["truncated", "bad-header", "text", "empty"],
)
def test_unreadable_images_are_named_input_errors(tmp_path: Path, make, error: type[Exception]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "scan.png"
    make(path)
    with pytest.raises(error, match=r"scan\.png"):
        list(open_image_pages(path, SETTINGS))


def test_multipage_fax_tiff_is_read_frame_by_frame(tmp_path: Path) -> None:
    pages = [np.full((300, 240), 255, np.uint8) for _ in range(3)]
    for i, page in enumerate(pages):
        page[50 + 40 * i : 60 + 40 * i, 20:200] = 0  # a different mark on each page
    path = tmp_path / "fax.tif"
    save_tiff(pages, path)
    assert count_image_pages(path, SETTINGS) == 3
    frames = open_image_pages(path, SETTINGS)
    first = next(frames)  # a generator: one frame decoded at a time
    assert first.page == 1 and first.unit == "px" and first.scale == 1.0
    rest = list(frames)
    assert [p.page for p in rest] == [2, 3]
    second = open_image_page(path, 1, SETTINGS)
    assert np.array_equal(second.image, rest[0].image)
    assert second.image[95, 100] == 0 and second.image[55, 100] == 255
    with pytest.raises(TooLargeError, match="max_pages"):
        list(open_image_pages(path, Settings(max_pages=2)))


def test_transparent_images_go_onto_white_paper(tmp_path: Path) -> None:
    rgba = np.zeros((100, 200, 4), np.uint8)
    rgba[40:60, 20:180] = (0, 0, 0, 255)  # black text on a transparent background (like robertoz_input.png)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    page = open_image_page(path, 0, SETTINGS)
    assert page.image[10, 10] == 255 and page.image[50, 100] == 0


def test_exif_orientation_of_a_phone_photo_is_applied(tmp_path: Path) -> None:
    image = Image.new("L", (300, 100), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    path = tmp_path / "photo.jpg"
    image.save(path, exif=exif)
    page = open_image_page(path, 0, SETTINGS)
    assert page.image.shape == (300, 100)


def test_sixteen_bit_scans_are_scaled_to_eight_bits(tmp_path: Path) -> None:
    values = np.full((64, 64), 65535, np.uint16)
    values[20:40, 10:50] = 0
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    page = open_image_page(path, 0, SETTINGS)
    assert page.image.dtype == np.uint8 and page.image[0, 0] == 255 and page.image[30, 30] == 0
