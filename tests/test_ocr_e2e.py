"""End to end with the real engines: turned, skewed, noisy, ruled, photographed and bad pages.

Each test runs Tesseract (or RapidOCR) on a small synthetic page and asserts what must be read.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from bench import degrade
from pipeline.errors import CorruptFileError, InputError, TooLargeError
from pipeline.ocr.page import ocr_source_page, read_page, recognise_region
from pipeline.ocr.prepare import PrepareOptions
from pipeline.ocr.rapidocr import RapidOcrEngine
from pipeline.ocr.tesseract import TesseractEngine
from pipeline.settings import Settings
from tests.ocr_helpers import grey_page, numbers, recall, synthetic_page
from tests.test_ocr_raster import png_header_only

pytestmark = pytest.mark.e2e
ENG_ONLY = Settings(ocr_languages="eng", ocr_fallback="none")


def texts(page_words: object) -> list[str]:
    from pipeline.models import PageWords

    assert isinstance(page_words, PageWords)
    return [w.text for w in page_words.words]


@pytest.mark.parametrize("turn", [90, 180, 270], ids=lambda t: f"turned-{t}")
def test_a_turned_page_is_turned_back_and_read(turn: int) -> None:
    page, truth = synthetic_page(dpi=150, rows=8, rulings="rows")
    turned = np.ascontiguousarray(np.rot90(page.image, turn // 90))  # counter-clockwise
    result = read_page(grey_page(turned), settings=ENG_ONLY)
    assert result.words.rotation == turn
    assert recall(texts(result.words), numbers(truth)) >= 0.9


def test_an_upside_down_noisy_scan_is_read() -> None:
    page, truth = synthetic_page(dpi=200, rows=8, rulings="rows", seed=3)
    scan = degrade.scan(np.ascontiguousarray(page.image[::-1, ::-1]), skew=0.6, seed=2)
    result = read_page(grey_page(scan), settings=ENG_ONLY)
    assert result.words.rotation == 180
    assert recall(texts(result.words), numbers(truth)) >= 0.85


def test_a_three_degree_skew_is_corrected_and_read() -> None:
    page, truth = synthetic_page(dpi=150, rows=10)
    result = read_page(grey_page(degrade.rotate(page.image, 3.0)), settings=ENG_ONLY)
    assert result.geometry.skew == pytest.approx(-3.0, abs=0.25)
    assert recall(texts(result.words), numbers(truth)) >= 0.9
    # rows come out level: a row's value sits at the height of its name, 200 px to the left
    level = 0
    for row in truth:
        value = [w for w in result.words.words if w.text == row.value]
        name = [w for w in result.words.words if w.text == row.name.split()[0]]
        if value and name:
            assert min(abs(v.top - n.top) for v in value for n in name) < 4
            level += 1
    assert level >= len(truth) // 2


def test_a_noisy_jpeg_scan_still_reads_its_numbers() -> None:
    page, truth = synthetic_page(dpi=200, rows=10)
    scan = degrade.jpeg(degrade.noise(degrade.blur(page.image, 1.0), sigma=18, speckle=0.004, seed=5), 25)
    result = read_page(grey_page(scan), settings=ENG_ONLY)
    assert any(s.name == "binarise" and s.applied for s in result.steps)
    assert recall(texts(result.words), numbers(truth)) >= 0.85


def test_removing_rulings_keeps_the_digits_readable() -> None:
    page, truth = synthetic_page(dpi=150, rows=10, rulings="grid", seed=6)
    with_removal = read_page(page, settings=ENG_ONLY)
    without = read_page(page, settings=ENG_ONLY, options=PrepareOptions(remove_rulings=False))
    assert recall(texts(with_removal.words), numbers(truth)) >= 0.9
    assert recall(texts(with_removal.words), numbers(truth)) > recall(texts(without.words), numbers(truth))


def test_a_photographed_page_is_cropped_and_read() -> None:
    page, truth = synthetic_page(dpi=150, rows=8, rulings="rows", seed=8)
    result = read_page(grey_page(degrade.photo(page.image, seed=1)), settings=ENG_ONLY)
    assert result.geometry.quad is not None
    assert recall(texts(result.words), numbers(truth)) >= 0.85


def test_a_blank_scan_is_a_blank_page(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.fromarray(degrade.noise(np.full((1650, 1275), 240, np.uint8), sigma=6, seed=1)).save(path)
    words = ocr_source_page(str(path), 0, "image", ENG_ONLY)
    assert (words.method, words.reason, words.words) == ("none", "blank page", ())


def _scene(seed: int) -> np.ndarray:
    """Something photographed that is not a document: smooth blobs, a dark disc."""
    rng = np.random.default_rng(seed)
    blurred = cv2.GaussianBlur(rng.integers(0, 255, (900, 1200), dtype=np.uint8), (0, 0), 25).astype(np.float32)
    scene = np.asarray(
        20 + 215 * (blurred - blurred.min()) / max(1.0, float(blurred.max() - blurred.min())), dtype=np.uint8
    )
    cv2.circle(scene, (600, 450), 180, 30, -1)
    return np.asarray(scene, dtype=np.uint8)


def test_a_photo_of_something_else_has_no_readable_text(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    Image.fromarray(_scene(4)).save(path, quality=80)
    words = ocr_source_page(str(path), 0, "image", ENG_ONLY)
    assert (words.method, words.reason, words.words) == ("none", "no readable text", ())


def test_a_photo_of_another_kind_of_document_is_read_as_it_is(tmp_path: Path) -> None:
    letter = np.full((1400, 1000), 250, np.uint8)
    lines = [
        "Dear neighbour,",
        "the garden party moves",
        "to Sunday afternoon.",
        "Bring a chair and a cake.",
        "Thank you and see you soon",
    ]
    for i, line in enumerate(lines):
        cv2.putText(letter, line, (80, 200 + 110 * i), cv2.FONT_HERSHEY_DUPLEX, 1.5, 20, 3)
    path = tmp_path / "letter.jpg"
    Image.fromarray(degrade.photo(letter, seed=2)).save(path, quality=85)
    words = ocr_source_page(str(path), 0, "image", ENG_ONLY)
    assert words.method == "ocr"
    assert recall(texts(words), ["garden", "party", "Sunday", "afternoon", "chair", "cake", "Thank"]) >= 0.7
    assert not [w for w in words.words if w.conf >= 0.8 and any(c.isdigit() for c in w.text)]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: png_header_only(p, 30000, 30000), TooLargeError, "900,000,000 pixels"),
        (lambda p: Image.new("L", (1, 1), 255).save(p), InputError, "too small to hold text"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), CorruptFileError, "header is damaged"),
    ],
    ids=["bomb-30000x30000", "1x1", "corrupt"],
)
def test_bad_images_fail_before_ocr_with_a_clear_message(tmp_path: Path, make, error, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(error, match=message):
        ocr_source_page(str(path), 0, "image", ENG_ONLY)


def test_an_image_only_pdf_page_is_read_with_boxes_in_points(tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    page, truth = synthetic_page(dpi=200, rows=8, rulings="rows", seed=12)
    scan = degrade.scan(page.image, skew=0, seed=3)
    path = tmp_path / "scanned.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawImage(ImageReader(Image.fromarray(scan)), 0, 0, width=A4[0], height=A4[1])
    canvas.save()
    words = ocr_source_page(str(path), 0, "pdf", Settings(ocr_languages="eng", ocr_fallback="none", ocr_dpi=200))
    assert (words.unit, words.method) == ("pt", "ocr")
    assert (words.width, words.height) == pytest.approx(A4, abs=0.5)
    assert recall(texts(words), numbers(truth)) >= 0.85
    placed = [r for r in truth if any(w.text == r.value and abs(w.top - r.top) < 3 for w in words.words)]
    assert len(placed) >= len(truth) - 1


def test_a_multipage_fax_tiff_page_is_read(tmp_path: Path) -> None:
    page, truth = synthetic_page(dpi=200, rows=8, rulings="rows", seed=9)
    fax = degrade.fax(page.image, dpi=200)
    path = tmp_path / "fax.tif"
    degrade.save_tiff([np.full_like(fax, 255), fax], path)
    words = ocr_source_page(str(path), 1, "image", Settings(ocr_languages="eng"))
    assert words.page == 2 and words.unit == "px"
    assert recall((w.text for w in words.words), numbers(truth)) >= 0.6


def test_rapidocr_rereads_a_region_in_page_units() -> None:
    page, truth = synthetic_page(dpi=150, rows=6, rulings="none", seed=10)
    row = truth[0]
    box = (40.0, row.top - 4, 560.0, row.bottom + 4)
    words = recognise_region(page, box, geometry=read_page(page, settings=ENG_ONLY).geometry, engine=RapidOcrEngine())
    value = [w for w in words if w.text == row.value]
    assert value, [w.text for w in words]
    assert value[0].x0 == pytest.approx(250.0, abs=6.0) and value[0].top == pytest.approx(row.top, abs=4.0)


def test_tesseract_reads_what_it_is_given_single_threaded() -> None:
    page, truth = synthetic_page(dpi=150, rows=4, rulings="none", seed=11)
    result = TesseractEngine().recognise(page.image, languages="eng")
    assert result.engine == "tesseract" and result.seconds > 0
    assert recall((w.text for w in result.words), numbers(truth)) >= 0.9
