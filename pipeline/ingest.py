"""Identify an input file before anything reads it: type by content (not name), size limits, content hash.

Nothing here modifies or moves the file. Every refusal is an InputError naming the file and the reason.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from pipeline.errors import EmptyFileError, InputError, TooLargeError, UnsupportedTypeError
from pipeline.models import Source
from pipeline.settings import Settings

log = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
IMAGE_TYPES = frozenset({PNG, JPEG, TIFF})
SUPPORTED_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
)


def sniff_media_type(head: bytes) -> str | None:
    """Media type from the first bytes; a PDF header may sit anywhere in the first 1024 bytes (ISO 32000)."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if b"%PDF-" in head[:1024]:
        return PDF
    return None


def _describe(head: bytes) -> str:
    """A short human description of what a non-supported file seems to be."""
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "an XML or markup file"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (or an Office document)"
    if head.startswith(b"GIF8"):
        return "a GIF image (not supported: convert it to PNG)"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image (not supported: convert it to PNG)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of an unknown type"
    return "plain text"


def identify(path: Path, settings: Settings) -> Source:
    """Check that `path` is a readable, supported, non-empty file within limits and describe it."""
    if not path.exists():
        raise InputError("file not found", path=str(path))
    if not path.is_file():
        raise InputError("not a regular file", path=str(path))
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError("the file is empty (0 bytes)", path=str(path))
    if size > settings.max_file_bytes:
        raise TooLargeError(
            f"the file is {size} bytes, above the limit of {settings.max_file_bytes} bytes", path=str(path)
        )
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
            digest.update(head)
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", path=str(path)) from exc
    media_type = sniff_media_type(head)
    if media_type is None:
        named = f"named {path.suffix} but " if path.suffix else ""
        raise UnsupportedTypeError(
            f"{named}not a PDF or a PNG/JPEG/TIFF image: it looks like {_describe(head)}", path=str(path)
        )
    log.debug("identified %s as %s (%d bytes)", path.name, media_type, size)
    return Source(
        path=str(path), name=path.name, sha256=digest.hexdigest(), size_bytes=size, media_type=media_type
    )
