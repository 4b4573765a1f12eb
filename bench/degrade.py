"""Make clean page images look scanned, faxed or photographed, for OCR tests and benchmarks.

Every function takes and returns a grey uint8 image (numpy, white paper = 255) and is deterministic for
a given seed. `scan()` combines the usual scanner defects; `fax()` and `photo()` model the two harder
inputs; `save_tiff()` writes a multi-page fax-style TIFF. Used by tests/test_ocr_*.py and
bench/ocr_bench.py, and meant for the fixture engineer's scanned versions of fixtures/reports/*.pdf.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

Grey = npt.NDArray[np.uint8]


def rotate(image: Grey, degrees: float) -> Grey:
    """Rotate counter-clockwise by any angle on a white background, growing the canvas to keep corners."""
    if degrees % 90 == 0:
        return np.ascontiguousarray(np.rot90(image, int(degrees // 90) % 4))
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    out = cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=255)
    return np.asarray(out, dtype=np.uint8)


def blur(image: Grey, sigma: float = 1.0) -> Grey:
    """Gaussian blur: an out-of-focus scanner or a cheap lens."""
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def noise(image: Grey, *, sigma: float = 12.0, speckle: float = 0.002, seed: int = 0) -> Grey:
    """Gaussian sensor noise plus salt-and-pepper specks (fraction `speckle` of pixels)."""
    rng = np.random.default_rng(seed)
    out = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    specks = rng.random(image.shape)
    out[specks < speckle / 2] = 0
    out[specks > 1 - speckle / 2] = 255
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg(image: Grey, quality: int = 30) -> Grey:
    """Round-trip through JPEG at `quality`: block artefacts and ringing around glyphs."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def fade(image: Grey, *, ink: int = 90, paper: int = 225) -> Grey:
    """Low contrast: black ink becomes grey `ink`, white paper becomes grey `paper`."""
    scaled = ink + image.astype(np.float32) * ((paper - ink) / 255.0)
    return scaled.astype(np.uint8)


def uneven_lighting(image: Grey, *, strength: float = 0.55, seed: int = 0) -> Grey:
    """Multiply by a smooth light field that darkens one corner: a phone photo under a desk lamp."""
    rng = np.random.default_rng(seed)
    h, w = image.shape
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.sqrt(((yy - cy) / h) ** 2 + ((xx - cx) / w) ** 2)
    field = 1.0 - strength * (dist / float(dist.max()))
    return np.asarray(np.clip(image.astype(np.float32) * field, 0, 255), dtype=np.uint8)


def downsample(image: Grey, fx: float, fy: float | None = None) -> Grey:
    """Resample by (fx, fy), e.g. 0.5 for 150 dpi from 300, or anisotropic for fax resolutions."""
    out = cv2.resize(image, None, fx=fx, fy=fy if fy is not None else fx, interpolation=cv2.INTER_AREA)
    return np.asarray(out, dtype=np.uint8)


def scan(image: Grey, *, skew: float = 0.8, seed: int = 0, quality: int = 40) -> Grey:
    """A mildly degraded office scan: slight skew, blur, faded contrast, noise and JPEG compression."""
    out = rotate(image, skew) if skew else image
    out = blur(out, 0.8)
    out = fade(out, ink=60, paper=235)
    out = noise(out, sigma=10.0, speckle=0.001, seed=seed)
    return jpeg(out, quality)


def fax(image: Grey, *, dpi: int = 300, seed: int = 0) -> Grey:
    """A standard-resolution fax (204 x 98 dpi, 1 bit, line noise), resampled back to square pixels."""
    low = downsample(image, 204 / dpi, 98 / dpi)
    rng = np.random.default_rng(seed)
    bits = np.where(low.astype(np.int16) + rng.normal(0, 25, low.shape) < 150, 0, 255).astype(np.uint8)
    dropped = rng.random(bits.shape[0]) < 0.01
    bits[dropped, :] = 255
    return np.asarray(
        cv2.resize(bits, (bits.shape[1], int(bits.shape[0] * 204 / 98)), interpolation=cv2.INTER_NEAREST),
        dtype=np.uint8,
    )


def photo(image: Grey, *, seed: int = 0, background: int = 70, tilt: float = 0.08) -> Grey:
    """A phone photo of the page: perspective on a dark desk, uneven light, slight blur and noise."""
    rng = np.random.default_rng(seed)
    h, w = image.shape
    margin = int(0.12 * max(h, w))
    out_w, out_h = w + 2 * margin, h + 2 * margin
    jitter = tilt * min(h, w)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    dst = np.array(
        [[margin, margin], [margin + w, margin], [margin + w, margin + h], [margin, margin + h]],
        dtype=np.float32,
    )
    dst += rng.uniform(-jitter, jitter, dst.shape).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=background)
    flat: Grey = np.asarray(out, dtype=np.uint8)
    out = uneven_lighting(flat, strength=0.45, seed=seed)
    out = blur(out, 1.0)
    return noise(out, sigma=6.0, speckle=0.0, seed=seed)


def save_tiff(pages: list[Grey], path: Path, *, bilevel: bool = True) -> None:
    """Write pages as one multi-page TIFF: CCITT G4 1-bit like a fax server, or uncompressed grey."""
    images = [Image.fromarray(p).convert("1") if bilevel else Image.fromarray(p) for p in pages]
    compression = "group4" if bilevel else "raw"
    images[0].save(path, save_all=True, append_images=images[1:], compression=compression, dpi=(204, 196))
