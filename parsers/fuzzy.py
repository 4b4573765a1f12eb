"""Near-miss lookup of OCR'd names: a symmetric-delete (SymSpell) index and the edit distance it is checked with.

Contract: `FuzzyIndex(keys).near(query)` returns every key of 6+ characters within one (or two, for keys of
12+ characters) Damerau-Levenshtein edits of `query` (optimal string alignment: a transposition counts as
one edit), with the distance, never an exact match (distance 0) and never a key whose digits, '%' or '#'
differ from the query's (T3 vs T4). Keys and queries are already-normalised name keys; the caller scores
the readings. Pure and dependency-free apart from numpy, which is imported only when an index is built.
"""

from __future__ import annotations

from collections.abc import Iterable


def deletes(word: str, depth: int) -> set[str]:
    """All strings reachable from `word` by deleting up to `depth` characters (SymSpell index keys)."""
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def osa(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment (Damerau-Levenshtein) distance, or limit + 1 once it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, before[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        before, prev = prev, cur
    return prev[-1]


def _marks(key: str) -> str:
    """Digits and % / # of a key, which a fuzzy match must leave unchanged (T3 vs T4)."""
    return "".join(sorted(ch for ch in key if ch.isdigit() or ch in "%#"))


def _limit(key: str) -> int:
    """Edits allowed from a key: two for long keys (12+ characters), else one."""
    return 2 if len(key) >= 12 else 1


class FuzzyIndex:
    """Symmetric-delete (SymSpell) index over alias keys of 6+ characters, stored as sorted hash arrays.

    Deletion strings are kept only as their hashes (int64, with int32 owners): ~3 MB instead of ~45 MB of
    strings. A hash collision only adds a candidate, which the OSA check then rejects."""

    def __init__(self, keys: Iterable[str]) -> None:
        import numpy as np  # lazy: only OCR mode builds this index

        self._keys = [k for k in keys if len(k) >= 6]
        self._longest = max(map(len, self._keys), default=0)
        hashes: list[int] = []
        owners: list[int] = []
        for i, key in enumerate(self._keys):
            dels = deletes(key, _limit(key))
            hashes.extend(map(hash, dels))
            owners.extend([i] * len(dels))
        order = np.argsort(np.array(hashes, dtype=np.int64), kind="stable")
        self._hashes = np.array(hashes, dtype=np.int64)[order]
        self._owners = np.array(owners, dtype=np.int32)[order]

    def near(self, query: str) -> list[tuple[str, int]]:
        """Alias keys within their edit limit of `query` (distance >= 1), with the distance."""
        import numpy as np

        if not 5 <= len(query) <= self._longest + 2:
            return []
        probes = np.fromiter((hash(d) for d in deletes(query, 2 if len(query) >= 10 else 1)), dtype=np.int64)
        lo = np.searchsorted(self._hashes, probes, side="left")
        hi = np.searchsorted(self._hashes, probes, side="right")
        candidates = {int(i) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a
                      for i in self._owners[a:b]}
        marks = _marks(query)
        out = []
        for key in (self._keys[i] for i in candidates):
            dist = osa(query, key, _limit(key))
            if 0 < dist <= _limit(key) and _marks(key) == marks:
                out.append((key, dist))
        return out
