"""prepare: text size, deskew, blank pages, flattening, binarisation, ruling removal, photo cropping.

No OCR engine here: each stage is checked on the pixels of synthetic pages.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench import degrade
from pipeline.ocr import geometry as G
from pipeline.ocr import prepare as P
from tests.ocr_helpers import synthetic_page


@pytest.mark.parametrize("dpi", [100, 150, 300], ids=lambda d: f"{d}dpi")
def test_text_height_follows_resolution_and_rescale_brings_it_to_the_target(dpi: int) -> None:
    page, _ = synthetic_page(dpi=dpi, rows=10)
    mask, factor = P.analysis_mask(page.image)
    height = P.estimate_text_height(mask)
    assert height is not None
    height /= factor
    assert height == pytest.approx(27.0 * dpi / 300, rel=0.2)  # 9.5 pt Helvetica
    scaled = height * P.rescale_factor(height, page.image.shape)
    assert P.MIN_TEXT_HEIGHT <= scaled <= P.MAX_TEXT_HEIGHT


@pytest.mark.parametrize("angle", [-3.0, -1.2, 0.7, 3.0, 6.5], ids=lambda a: f"{a:+.1f}deg")
def test_skew_is_estimated_to_a_fraction_of_a_degree(angle: float) -> None:
    page, _ = synthetic_page(dpi=150, rows=14, rulings="none")
    mask, _ = P.analysis_mask(degrade.rotate(page.image, angle))
    assert G.estimate_skew(mask) == pytest.approx(-angle, abs=0.25)


def test_prepare_straightens_a_skewed_page_and_records_each_step() -> None:
    page, _ = synthetic_page(dpi=150, rows=10)
    prepared = P.prepare(degrade.rotate(page.image, 3.0))
    assert prepared.geometry.skew == pytest.approx(-3.0, abs=0.25)
    names = [s.name for s in prepared.steps]
    assert names == ["crop_page", "denoise", "rescale", "deskew", "flatten", "binarise", "remove_rulings"]
    assert all(s.seconds >= 0 for s in prepared.steps)
    assert prepared.geometry.scale == pytest.approx(2.0, rel=0.15)
    mask, _ = P.analysis_mask(prepared.image)
    assert abs(G.estimate_skew(mask)) <= 0.2


@pytest.mark.parametrize(
    "image",
    [
        np.full((1100, 850), 255, np.uint8),
        degrade.noise(np.full((1100, 850), 245, np.uint8), sigma=8, speckle=0.0005),
        degrade.jpeg(degrade.uneven_lighting(np.full((1100, 850), 235, np.uint8), strength=0.5), 30),
    ],
    ids=["white", "noisy-grey", "unevenly-lit"],
)
def test_pages_without_text_are_blank(image: np.ndarray) -> None:
    prepared = P.prepare(image)
    assert prepared.blank and prepared.text_height is None and prepared.reason == "blank page"


def test_a_page_with_text_is_not_blank() -> None:
    page, _ = synthetic_page(dpi=100, rows=3)
    assert not P.prepare(page.image).blank


def test_noise_level_separates_clean_renders_from_scans() -> None:
    page, _ = synthetic_page(dpi=300, rows=10)
    assert P.noise_level(page.image) < P.NOISE_THRESHOLD
    assert P.noise_level(degrade.scan(page.image, skew=0)) > P.NOISE_THRESHOLD


def test_ruling_removal_takes_the_lines_and_leaves_the_characters() -> None:
    grid, _ = synthetic_page(dpi=300, rows=10, rulings="grid")
    bare, _ = synthetic_page(dpi=300, rows=10, rulings="none")
    text = P.ink_mask(bare.image) > 0
    lines = (P.ink_mask(grid.image) > 0) & ~text
    cleaned, removed = P.remove_rulings(grid.image, 27.0)
    assert removed > 0
    left = P.ink_mask(cleaned) > 0
    assert (lines & left).sum() / lines.sum() < 0.05  # rulings gone
    assert (text & left).sum() / text.sum() > 0.97  # characters kept


def test_flatten_evens_out_uneven_light() -> None:
    page, _ = synthetic_page(dpi=150, rows=10)
    dim = degrade.uneven_lighting(degrade.fade(page.image), strength=0.6)
    flat, detail = P.flatten(dim, 14.0)
    assert detail
    paper = flat[P.ink_mask(flat) == 0]
    assert np.percentile(paper, 5) > 200


def test_flatten_turns_white_on_dark_banners_into_dark_on_white() -> None:
    image = np.full((600, 900), 255, np.uint8)
    image[40:160, :] = 30  # a dark banner across the top
    cv2.putText(image, "CITY LAB 0123", (60, 120), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 250, 5)
    cv2.putText(image, "Glucose 104 mg/dL", (60, 400), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 4)
    flat, detail = P.flatten(image, 40.0)
    assert "inverted" in detail
    banner = flat[45:155, 20:880]
    assert np.median(banner) > 200  # the banner became paper
    assert (banner < 100).mean() > 0.03  # and its letters became ink
    assert np.median(flat[300:500]) > 200 and flat[300:500].min() < 60  # normal text unchanged


def test_a_photographed_page_is_found_and_flattened() -> None:
    page, _ = synthetic_page(dpi=100, rows=10)
    photo = degrade.photo(page.image, seed=3)
    quad = G.find_page_quad(photo)
    assert quad is not None
    flat = G.warp_to_quad(photo, quad)
    h, w = page.image.shape
    # without the camera geometry the aspect is only approximate (opposite edges are averaged out)
    assert flat.shape[0] / flat.shape[1] == pytest.approx(h / w, rel=0.15)
    assert flat.shape[0] * flat.shape[1] < photo.shape[0] * photo.shape[1] * 0.8


def test_banners_and_scans_are_not_mistaken_for_a_page_on_a_desk() -> None:
    page, _ = synthetic_page(dpi=100, rows=10)
    banded = page.image.copy()
    banded[:120] = 40
    banded[-90:] = 50  # dark header and footer bands across the full width
    assert G.find_page_quad(banded) is None
    assert G.find_page_quad(page.image) is None


def test_geometry_replays_to_the_same_frame() -> None:
    page, _ = synthetic_page(dpi=100, rows=6)
    tilted = degrade.rotate(page.image, 2.0)
    prepared = P.prepare(tilted, rotation=90)
    replay = G.apply_geometry(tilted, prepared.geometry)
    assert replay.shape == prepared.plain.shape
