"""Page geometry: photo cropping, scaling, skew, quarter turns, and the record that replays them.

`Geometry` says how a source page image became the upright page frame OCR boxes are reported in; every
function here is one of those transformations on a grey uint8 image (white paper), and
`apply_geometry` replays a recorded sequence so that a region can be re-read in the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.ocr.engine import GreyImage

Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Geometry:
    """How a source page image became the upright page frame that OCR boxes are reported in."""

    rotation: int = 0
    """Degrees the source was turned clockwise first (0, 90, 180, 270)."""
    quad: Quad | None = None
    """Page corners (tl, tr, br, bl) in the turned source, when a photographed page was cropped."""
    scale: float = 1.0
    """Prepared pixels per source pixel."""
    skew: float = 0.0
    """Degrees the page was then rotated counter-clockwise to straighten its lines."""


def grey(array: object) -> GreyImage:
    """A contiguous uint8 copy (or view) of an OpenCV or numpy result."""
    return np.ascontiguousarray(np.asarray(array, dtype=np.uint8))


def downscale(image: GreyImage, longest: int) -> tuple[GreyImage, float]:
    """A copy whose longest side is at most `longest`, and the factor applied."""
    factor = min(1.0, longest / max(image.shape))
    if factor >= 1.0:
        return image, 1.0
    return grey(cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)), factor


def resize(image: GreyImage, factor: float) -> GreyImage:
    """Scale by `factor`: cubic when enlarging (keeps stroke edges), area-averaging when shrinking."""
    interpolation = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return grey(cv2.resize(image, None, fx=factor, fy=factor, interpolation=interpolation))


# --------------------------------------------------------------------------------------------------
# Photos: find the page and flatten its perspective


def find_page_quad(image: GreyImage) -> Quad | None:
    """Corners (tl, tr, br, bl, source pixels) of a bright page on a darker background, when visible."""
    small, factor = downscale(image, 800)
    blurred = cv2.GaussianBlur(small, (7, 7), 0)
    _, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area, total = cv2.contourArea(contour), small.shape[0] * small.shape[1]
    if not 0.2 * total < area < 0.97 * total:
        return None
    quad = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
    if len(quad) != 4 or not cv2.isContourConvex(quad):
        return None
    x, y, w, h = cv2.boundingRect(quad)
    gap_x, gap_y = 0.01 * small.shape[1], 0.01 * small.shape[0]
    free = (x > gap_x, y > gap_y, x + w < small.shape[1] - gap_x, y + h < small.shape[0] - gap_y)
    if sum(free) < 3:
        return None  # a light band between dark banners, not a page lying on a desk
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, quad.reshape(4, 2), 255)
    if float(small[inside == 0].mean()) > float(small[inside > 0].mean()) - 40:
        return None  # not a page on a desk: a table border or a frame on a white page
    pts = quad.reshape(4, 2).astype(np.float64) / factor
    by_sum, by_diff = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    tl, tr, br, bl = (pts[i] for i in (by_sum.argmin(), by_diff.argmin(), by_sum.argmax(), by_diff.argmax()))
    return ((tl[0], tl[1]), (tr[0], tr[1]), (br[0], br[1]), (bl[0], bl[1]))


def warp_to_quad(image: GreyImage, quad: Quad) -> GreyImage:
    """Map the page quadrilateral onto an upright rectangle of about the same size."""
    tl, tr, br, bl = (np.array(p, dtype=np.float32) for p in quad)
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], dtype=np.float32), target)
    return grey(cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255))


# --------------------------------------------------------------------------------------------------
# Skew


def _profile_score(mask: GreyImage, angle: float) -> float:
    h, w = mask.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    rows = rotated.sum(axis=1, dtype=np.float64)
    return float(np.sum(np.diff(rows) ** 2))


def estimate_skew(mask: GreyImage, *, limit: float = 10.0) -> float:
    """Skew of text lines in degrees (counter-clockwise to straighten) by projection-profile search."""
    coarse, _ = downscale(mask, 600)
    best = max(np.arange(-limit, limit + 0.01, 1.0), key=lambda a: _profile_score(coarse, float(a)))
    fine_mask, _ = downscale(mask, 1200)
    fine = np.arange(best - 0.9, best + 0.91, 0.1)
    return round(float(max(fine, key=lambda a: _profile_score(fine_mask, float(a)))), 2)


def rotate_small(image: GreyImage, degrees: float) -> GreyImage:
    """Rotate counter-clockwise by a small angle about the centre, on white, keeping the canvas size."""
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return grey(cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255))


def rotate_quarter(image: GreyImage, clockwise: int) -> GreyImage:
    """Rotate by 0/90/180/270 degrees clockwise (lossless)."""
    return np.ascontiguousarray(np.rot90(image, -(clockwise // 90) % 4))


def apply_geometry(image: GreyImage, geometry: Geometry) -> GreyImage:
    """Replay a page's geometry on its source image (to re-read a region in the frame its boxes are in)."""
    page = rotate_quarter(image, geometry.rotation)
    if geometry.quad is not None:
        page = warp_to_quad(page, geometry.quad)
    if geometry.scale != 1.0:
        page = resize(page, geometry.scale)
    if geometry.skew:
        page = rotate_small(page, geometry.skew)
    return page
