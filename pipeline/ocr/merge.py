"""Merging a second engine's words into the first engine's, word by word, keeping each word's engine.

Both word lists are in the same pixel frame. A confident primary word stays; a poor one is replaced by the
second engine's overlapping words when they are more confident; a poor primary word with nothing of the
second engine's under it is dropped as noise; and words only the second engine saw (text Tesseract skipped,
e.g. on coloured cells) are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.ocr.engine import OcrWord

KEEP_CONF = 0.80
"""A primary word at least this confident is kept whatever the second engine says."""
NOISE_CONF = 0.40
"""A primary word below this with no second-engine word under it is taken for noise (logo, speck)."""
ADD_CONF = 0.50
"""Second-engine words the primary engine missed are added from this confidence up."""


@dataclass(frozen=True, slots=True)
class Tagged:
    """A word and the engine label that read it."""

    word: OcrWord
    engine: str


def _overlap(a: OcrWord, b: OcrWord) -> float:
    """Intersection over the smaller box: 1.0 when one word lies inside the other."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a.x1 - a.x0) * (a.bottom - a.top), (b.x1 - b.x0) * (b.bottom - b.top))
    return (w * h) / smaller if smaller > 0 else 0.0


def merge(primary: list[Tagged], secondary: list[Tagged], *, keep: float = KEEP_CONF) -> list[Tagged]:
    """Combine two engines' words of one page; reading order is kept. Primary words at least `keep`
    confident stay whatever the second engine read there."""
    under = [[i for i, s in enumerate(secondary) if _overlap(p.word, s.word) >= 0.3] for p in primary]
    used: set[int] = set()
    for item, below in zip(primary, under, strict=True):
        if item.word.conf >= keep:
            used.update(below)  # claimed first, so that no noise word nearby can take them
    out: list[Tagged] = []
    replacing: set[int] = set()
    for item, below in zip(primary, under, strict=True):
        if item.word.conf >= keep:
            out.append(item)
            continue
        fresh = [i for i in below if i not in used]
        if fresh and sum(secondary[i].word.conf for i in fresh) / len(fresh) > item.word.conf:
            used.update(fresh)
            replacing.update(fresh)
            out.extend(secondary[i] for i in fresh)
        elif below and not fresh and replacing.issuperset(below):
            continue  # part of a second-engine word already put in its place ('46', '-', '62' -> '46-62')
        elif fresh or item.word.conf >= NOISE_CONF:
            used.update(fresh)
            out.append(item)
    for i, item in enumerate(secondary):
        if i in used or item.word.conf < ADD_CONF:
            continue
        if not any(_overlap(item.word, kept.word) >= 0.3 for kept in out):
            out.append(item)
    return out
