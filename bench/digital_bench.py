"""Speed and memory of the digital (text-layer) path.

    python -m bench.digital_bench [--pages 200] [--big 500]

1. A batch of about 200 digital pages (the fixture reports, repeated): median milliseconds per page end to
   end (open, words, rows, validation, document), pages per second, and peak memory of the process.
2. One PDF of 100 and one of 500 generated pages: peak memory while each is extracted, so that flat memory
   (streaming page by page) shows as two similar figures.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from pipeline.api import process_file
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    """Current resident memory of this process in MB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """Samples resident memory every few milliseconds in a thread; `peak` is the highest seen."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.005)

    def __enter__(self) -> PeakSampler:
        self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def batch(pages_wanted: int, settings: Settings) -> None:
    reports = sorted((ROOT / "fixtures" / "reports").glob("*.pdf"))
    process_file(reports[0], settings)  # warm imports and caches
    per_page: list[float] = []
    pages = 0
    started = time.perf_counter()
    with PeakSampler() as sampler:
        while pages < pages_wanted:
            for report in reports:
                document = process_file(report, settings)
                count = max(1, document.source.pages)
                per_page.extend([1000 * document.extraction.seconds / count] * count)
                pages += count
                if pages >= pages_wanted:
                    break
    elapsed = time.perf_counter() - started
    print(f"batch: {pages} digital pages in {elapsed:.2f} s")
    print(f"  median {statistics.median(per_page):.1f} ms/page, {pages / elapsed:.1f} pages/s")
    print(f"  peak memory {sampler.peak:.0f} MB (process maxrss {maxrss_mb():.0f} MB)")


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_pdf(path: Path, pages: int) -> None:
    """A long report: every page a header block and a table of 30 results (reportlab, deterministic)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4, invariant=True)
    tests = [("ALT", "U/L", "7 - 55"), ("AST", "U/L", "8 - 48"), ("Glucose", "mg/dL", "70 - 99"),
             ("Sodium", "mmol/L", "136 - 145"), ("Hemoglobin", "g/dL", "13.0 - 17.0")]  # fmt: skip
    for number in range(pages):
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawString(40, 800, "Benchmark Laboratory    Patient: TEST, BENCH    Collected: 03/02/2025")
        canvas.drawString(40, 770, "Test")
        canvas.drawString(220, 770, "Result")
        canvas.drawString(300, 770, "Units")
        canvas.drawString(380, 770, "Reference Range")
        canvas.setFont("Helvetica", 10)
        for row in range(30):
            name, unit, ref = tests[row % len(tests)]
            y = 750 - row * 20
            canvas.drawString(40, y, name)
            canvas.drawString(220, y, f"{(row * 7 + number) % 90 + 10}")
            canvas.drawString(300, y, unit)
            canvas.drawString(380, y, ref)
        canvas.drawString(40, 40, f"Page {number + 1} of {pages}")
        canvas.showPage()
    canvas.save()


def flat_memory(sizes: list[int], settings: Settings) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"long_{size}.pdf"
            big_pdf(path, size)
            before = rss_mb()
            started = time.perf_counter()
            with PeakSampler() as sampler:
                document = process_file(path, settings)
            elapsed = time.perf_counter() - started
            print(
                f"{size}-page PDF: {elapsed:.1f} s ({1000 * elapsed / size:.1f} ms/page), "
                f"{len(document.results)} results, memory before {before:.0f} MB, peak {sampler.peak:.0f} MB "
                f"(+{sampler.peak - before:.0f} MB)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--big", type=int, default=500)
    args = parser.parse_args()
    settings = Settings(ocr="never", workers=1)
    batch(args.pages, settings)
    flat_memory([100, args.big], settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
