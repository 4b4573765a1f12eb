"""Progress of a run on stderr: a redrawn bar when stderr is a terminal, plain lines when it is not.

Shows files done of total, pages, files/s, pages/s and the ETA. Never writes to stdout (results go there)
and never shows names or values: counts only. No dependency (tqdm would do, but this is 80 lines).
"""

from __future__ import annotations

import sys
import time
from typing import Literal, TextIO

Mode = Literal["auto", "bar", "lines", "none"]

_BAR_WIDTH = 24
_REDRAW_SECONDS = 0.1
_LINE_SECONDS = 30.0


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """Counts finished files and pages; draws at most 10 times a second (bar) or every 10 % / 30 s (lines)."""

    def __init__(
        self, total: int, *, mode: Mode = "auto", stream: TextIO | None = None, label: str = "batch"
    ) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "lines"
        self.mode = mode
        self.total = total
        self.label = label
        self.files = 0
        self.pages = 0
        self.processed = 0
        """Files actually read this run (skipped files count as done but not towards the rate)."""
        self.skipped = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._last_step = -1

    def advance(self, *, pages: int, skipped: bool = False) -> None:
        self.files += 1
        self.pages += pages
        if skipped:
            self.skipped += 1
        else:
            self.processed += 1
        now = time.monotonic()
        if self.mode == "bar" and (now - self._last_draw >= _REDRAW_SECONDS or self.files == self.total):
            self._last_draw = now
            self.stream.write("\r" + self.text(now) + "\x1b[K")
            self.stream.flush()
        elif self.mode == "lines" and (self.processed or self.files == self.total):
            step = self.files * 10 // max(self.total, 1)
            if step != self._last_step or now - self._last_draw >= _LINE_SECONDS:
                self._last_step = step
                self._last_draw = now
                self.stream.write(f"labreport {self.label}: {self.text(now)}\n")
                self.stream.flush()

    def text(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        steady = elapsed >= 1.0  # rates over a fraction of a second say nothing
        rate = self.processed / elapsed if steady else 0.0
        page_rate = self.pages / elapsed if steady else 0.0
        left = self.total - self.files
        eta = _clock(left / rate) if rate > 0 and left else "-" if left else "0:00"
        bar = ""
        if self.mode == "bar":
            filled = _BAR_WIDTH * self.files // max(self.total, 1)
            bar = "[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "] "
        rates = f"{rate:.1f} files/s, {page_rate:.1f} pages/s" if steady else "rate -"
        return (
            f"{bar}{self.files}/{self.total} files"
            f"{f' ({self.skipped} already done)' if self.skipped else ''}, {self.pages} pages, "
            f"{rates}, elapsed {_clock(elapsed)}, ETA {eta}"
        )

    def close(self) -> None:
        if self.mode == "bar" and self.files:
            self.stream.write("\n")
            self.stream.flush()
