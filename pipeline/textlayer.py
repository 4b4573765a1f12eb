"""Read a PDF's text layer page by page with pdfplumber, and judge whether each page's text is usable.

Pages are streamed: one page's characters are in memory at a time. A page whose text layer is missing or
garbage is returned with method 'none' and the reason, so the orchestrator can OCR it; it is never
silently empty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pdfplumber
import regex
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.pdf import PDF
from pdfplumber.utils.exceptions import PdfminerException

from pipeline.errors import CorruptFileError, EncryptedFileError
from pipeline.models import PageWords, Word

log = logging.getLogger(__name__)

_BOLD_MARKERS = ("bold", "black", "heavy", "semibold", "demibold", ",b")
_CID = regex.compile(r"\(cid:\d+\)")
_ALPHA_TOKEN = regex.compile(r"^\p{L}{3,}$")
_VOWELS = frozenset("aeiouyàáâãäåèéêëìíîïòóôõöùúûüæøœ")
_CONSONANT_RUN = regex.compile(r"[^aeiouyàáâãäåèéêëìíîïòóôõöùúûüæøœ\W\d_]{5,}", regex.IGNORECASE)


_SOUP = regex.compile(r"[@~#&$§|\\{}^`]")
_RUNS = regex.compile(r"\p{L}+|\d+|[^\p{L}\d]+")


def _odd(token: str) -> bool:
    """Symbol soup: several rare symbols, or letters, digits and symbols alternating many times
    ('Ø^73éÅ6%ÅZw^~3w'); units ('x10^3/uL') and codes ('HbA1c') are not."""
    return len(_SOUP.findall(token)) >= 2 or (len(token) > 8 and len(_RUNS.findall(token)) > 6)


@contextmanager
def open_pdf(path: Path) -> Iterator[PDF]:
    """Open a PDF for reading, mapping pdfminer's failures to clear input errors."""
    try:
        pdf = pdfplumber.open(path)
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise EncryptedFileError(
                "the PDF is encrypted and needs a password to open; save an unprotected copy", path=str(path)
            ) from exc
        raise CorruptFileError(
            f"the PDF is damaged and cannot be parsed ({type(cause).__name__}: {cause})", path=str(path)
        ) from exc
    try:
        yield pdf
    finally:
        pdf.close()


def is_bold(fontname: str) -> bool:
    """Whether a PDF font name names a bold face ('Arial,Bold', 'Helvetica-Bold', 'ABCDEF+Inter-SemiBold')."""
    lowered = fontname.lower()
    return any(marker in lowered for marker in _BOLD_MARKERS)


def page_words(page: Any) -> tuple[Word, ...]:
    """The words of one pdfplumber page, in reading order within lines, with bold taken from the font name."""
    raw = page.extract_words(extra_attrs=["fontname", "size"], keep_blank_chars=False, use_text_flow=False)
    return tuple(
        Word(
            text=w["text"],
            x0=float(w["x0"]),
            top=float(w["top"]),
            x1=float(w["x1"]),
            bottom=float(w["bottom"]),
            bold=is_bold(w["fontname"]),
        )
        for w in raw
        if w["text"].strip()
    )


def image_coverage(page: Any) -> float:
    """Fraction of the page area covered by its largest image (1.0 for a full-page scan)."""
    area = float(page.width * page.height) or 1.0
    best = 0.0
    for image in page.images:
        width = max(0.0, min(float(image["x1"]), float(page.width)) - max(float(image["x0"]), 0.0))
        height = max(0.0, min(float(image["bottom"]), float(page.height)) - max(float(image["top"]), 0.0))
        best = max(best, width * height / area)
    return best


def assess_text_layer(words: Sequence[Word], coverage: float) -> str | None:
    """None when the text layer is usable, else the reason it is not (the page then needs OCR).

    Garbage text layers (fonts without a Unicode map, shifted encodings, invisible random text over a
    scan) are recognised by the shape of their words: real text in any Latin-script language has vowels
    and few long consonant runs; '(cid:NN)' codes mean the font has no Unicode map at all.
    """
    if not words:
        return "no text layer" if coverage < 0.5 else "scanned page (image without text)"
    text = " ".join(w.text for w in words)
    if len(_CID.findall(text)) * 4 > len(words):
        return "text layer has no Unicode mapping (cid codes)"
    alpha = [w.text for w in words if _ALPHA_TOKEN.match(w.text)]
    if coverage >= 0.5 and len(words) < 15:
        return "scanned page with only a few words of text"
    if len(words) >= 12:
        odd = sum(1 for w in words if _odd(w.text))
        if odd > 0.3 * len(words):
            return f"text layer looks like garbage ({odd} of {len(words)} words are symbol soup)"
    if len(alpha) >= 12:
        odd = sum(1 for token in alpha if not (_VOWELS & set(token.lower())) or _CONSONANT_RUN.search(token))
        if odd / len(alpha) > 0.45:
            return f"text layer looks like garbage ({odd} of {len(alpha)} words are unpronounceable)"
    printable = sum(ch.isprintable() and ch != "\ufffd" for ch in text)
    if printable < 0.9 * len(text):
        return "text layer holds unprintable characters"
    return None


def _sideways(page: Any) -> str | None:
    """Text printed sideways on an upright page (a landscape table turned without /Rotate) breaks into one
    reversed letter per word; such a page is read by OCR, which turns it upright."""
    chars = page.chars
    if len(chars) < 20:
        return None
    upright = sum(1 for c in chars if c.get("upright", True))
    return "text runs sideways on the page" if upright < 0.5 * len(chars) else None


def read_pages(pdf: PDF) -> Iterator[tuple[PageWords, Any]]:
    """Yield each page's text-layer words (method 'text', or 'none' with the reason) and the page itself.

    The caller must not keep the page: its cache is cleared as soon as the next page is requested.
    """
    for index, page in enumerate(pdf.pages):
        number = index + 1
        try:
            words = page_words(page)
            coverage = image_coverage(page)
        except Exception as exc:  # pdfminer raises many kinds on a broken content stream
            log.warning("page %d: text layer unreadable (%s)", number, type(exc).__name__)
            words, coverage = (), 1.0
            reason: str | None = f"text layer unreadable ({type(exc).__name__})"
        else:
            reason = _sideways(page) or assess_text_layer(words, coverage)
        usable = reason is None
        yield (
            PageWords(
                page=number,
                width=float(page.width),
                height=float(page.height),
                unit="pt",
                method="text" if usable else "none",
                words=words if usable else (),
                reason=reason,
            ),
            page,
        )
        page.close()
