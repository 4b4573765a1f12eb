"""Benchmark: one patient with 50 reports and 2,000 results -> SQLite store -> `report` (target < 2 s).

Prints seconds (stdout) for: storing the 50 documents; the report in this process (store read, interpret,
render, write); and the report from a cold process (interpreter start and imports included, as
`labreport report --patient ID -o DIR` would pay). Not part of the test run.

    .venv/bin/python bench/report_bench.py [--reports 50] [--per-report 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.render.report import report_for_patient  # noqa: E402
from pipeline.store import Store  # noqa: E402
from tests.report_factory import bench_series  # noqa: E402

COLD = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {root!r})
from pipeline.render.report import report_for_patient
from pipeline.store import Store
with Store({url!r}) as store:
    report_for_patient(store, {key!r}, {out!r})
print(time.perf_counter() - t)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--per-report", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    docs = bench_series(args.reports, args.per_report)
    results = sum(len(d.results) for d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        started = time.perf_counter()
        with Store(url) as store:
            key = [store.add_document(d) for d in docs][-1].patient_key
        ingest = time.perf_counter() - started
        warm: list[float] = []
        with Store(url) as store:
            for i in range(args.repeat):
                started = time.perf_counter()
                report_for_patient(store, key, Path(tmp) / f"warm{i}")
                warm.append(time.perf_counter() - started)
        cold: list[float] = []
        for i in range(args.repeat):
            code = COLD.format(root=str(ROOT), url=url, key=key, out=f"{tmp}/cold{i}")
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            cold.append(time.perf_counter() - started)
            inner = float(done.stdout.strip().splitlines()[-1])
        size = sum(f.stat().st_size for f in (Path(tmp) / "warm0").iterdir())
    print(f"patient: {len(docs)} reports, {results} results")
    print(f"store the documents:   {ingest:.3f} s")
    runs = ", ".join(f"{w:.3f}" for w in warm)
    print(f"report, warm process:  median {statistics.median(warm):.3f} s  (runs {runs})")
    print(f"report, cold process:  median {statistics.median(cold):.3f} s  (last {inner:.3f} s in-process)")
    print(f"outputs: {size / 1e6:.2f} MB; target < 2 s: {'PASS' if max(cold) < 2.0 else 'FAIL'}")


if __name__ == "__main__":
    main()
