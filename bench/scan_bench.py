"""Scanned-fixture benchmark: accuracy per degradation against the digital twins' truth, confidence
calibration, speed against bare Tesseract, and throughput with 1 and 2 workers.

    .venv/bin/python -m bench.scan_bench [--sets must,degraded[,unseen]] [--only NAME,...] [--workers N]
                                         [--skip score,speed,throughput,real,twins] [--pages N] [--keep DIR]

score       generates the scanned sets (fixtures/scans.py) into a temporary folder, extracts every file with
            process_file (default settings, files in parallel: one process per core, OMP_THREAD_LIMIT=1 in
            Tesseract) and prints, per set and degradation kind, F1, recall, precision, field accuracies and
            confident/confident_wrong against the twins' truth; then the calibration over all scans: results
            at >= 0.9 that are wrong (listed), the share of right results that stay >= 0.9, and accuracy per
            confidence band.
speed       on N pages of the 'must' set rendered at 300 dpi to PNG: seconds per page of bare
            `tesseract page.png stdout --psm 6 tsv` (OMP_THREAD_LIMIT=1), of the same Tesseract the pipeline
            runs in-process (tesserocr) on the PNG alone, of the pipeline's OCR stage as in
            bench/ocr_bench.py (eng, no fallback), of the OCR stage with default settings without and with
            cross-reading (crossread.py), and of the whole process_file with default settings and with
            Tesseract alone (--ocr-fallback none); the ratios to bare Tesseract and what cross-reading
            costs. Each page goes through all of them in turn, so load drift is shared.
throughput  pages/min of process_file over the 'must' set with 1 and 2 worker processes (and the 2-worker
            results compared with the 1-worker ones), and of bare Tesseract with 1 and 2 at a time.
real        the two real sample images in /work/shared/real-samples through process_file, scored by its
            score.py (read in place; nothing is copied into the repository).
Figures go to stdout; nothing is written outside the temporary folder (or --keep DIR, which also keeps
the extracted documents in DIR/extracted/). Settings come from the environment as everywhere
(LABREPORT_OCR_FALLBACK=none scores Tesseract alone).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ocr_bench import bare_tesseract, bare_throughput, timed  # noqa: E402
from fixtures.scans import ScanEntry, generate, load_manifest, render_pages, truth_for  # noqa: E402
from fixtures.scoring import Score, canon_loinc, canon_unit, score_document  # noqa: E402
from pipeline.api import process_file  # noqa: E402
from pipeline.models import REVIEW_THRESHOLD, Document, LabResult  # noqa: E402
from pipeline.ocr.engine import fallback_engine  # noqa: E402
from pipeline.ocr.page import ocr_source_page, read_page, source_page  # noqa: E402
from pipeline.ocr.tesseract import TesseractEngine  # noqa: E402
from pipeline.pages import OcrJob, run_job  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

REAL = Path("/work/shared/real-samples")
REAL_IMAGES = ("robertoz_input.png", "zia_clinic_CBC_Report.jpg")
PLAIN = Settings(ocr_languages="eng", ocr_fallback="none", workers=1)
BANDS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001)


# --------------------------------------------------------------------------------------------------
# Extraction and scoring


def extract_one(path: str) -> str:
    """process_file with default settings and one page at a time (files run in parallel instead)."""
    return process_file(Path(path), Settings(workers=1)).model_dump_json()


def extract_all(paths: Sequence[Path], workers: int) -> tuple[list[Document], float]:
    """Every file through process_file, `workers` files at a time; the documents and the wall time."""
    started = time.perf_counter()
    if workers <= 1:
        texts = [extract_one(str(p)) for p in paths]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            texts = list(pool.map(extract_one, map(str, paths)))
    return [Document.model_validate_json(t) for t in texts], time.perf_counter() - started


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def outcomes(truth: dict[str, Any], document: Document) -> list[tuple[LabResult, bool, str]]:
    """Each scored result with whether value, unit and range are right, and what is wrong (as scoring.py
    matches them: annotated LOINCs only, one per LOINC and date; a LOINC the truth lacks is wrong)."""
    annotated = {canon_loinc(c) for c in truth.get("annotated_loincs", [])}
    dated = bool(truth.get("has_history_columns"))
    want = {(canon_loinc(r["loinc"]), r.get("collected_at") if dated else None): r for r in truth["results"]}
    seen: set[tuple[str | None, str | None]] = set()
    out: list[tuple[LabResult, bool, str]] = []
    for result in document.results:
        key = (canon_loinc(result.loinc), result.collected_at if dated else None)
        if key[0] not in annotated:
            if result.loinc is not None:
                out.append((result, False, "not in truth"))
            continue
        if key in seen:
            continue
        seen.add(key)
        expected = want.get(key)
        if expected is None:
            out.append((result, False, "no such result"))
            continue
        wrong = []
        if not _close(result.value, expected.get("value")):
            wrong.append(f"value {result.value_text!r} want {expected.get('value_text')!r}")
        if canon_unit(result.unit) not in (canon_unit(expected.get("unit")), canon_unit(expected.get("unit_printed"))):
            wrong.append(f"unit {result.unit_printed!r} want {expected.get('unit_printed')!r}")
        rng = result.reference_range
        if not (
            _close(rng.low if rng else None, expected.get("low"))
            and _close(rng.high if rng else None, expected.get("high"))
        ):
            wrong.append(f"range {rng.text if rng else None!r} want {expected.get('range_text')!r}")
        out.append((result, not wrong, "; ".join(wrong)))
    return out


@dataclass(slots=True)
class Tally:
    score: Score = field(default_factory=Score)
    files: int = 0
    pages: int = 0
    failed: int = 0
    right: int = 0
    right_confident: int = 0

    def line(self, label: str) -> str:
        s = self.score
        keep = self.right_confident / self.right if self.right else 0.0
        return (
            f"{label:24} {self.files:4} {self.pages:5} {s.f1:6.3f} {s.recall:6.3f} {s.precision:6.3f} "
            f"{s.accuracy('value'):6.3f} {s.accuracy('unit'):6.3f} {s.accuracy('range'):6.3f} "
            f"{s.accuracy('flag'):6.3f} {s.confident:5} {s.confident_wrong:5} {keep:6.1%} {self.failed:4}"
        )


HEADER = (
    f"{'set/kind':24} {'files':>4} {'pages':>5} {'F1':>6} {'recall':>6} {'prec':>6} {'value':>6} {'unit':>6} "
    f"{'range':>6} {'flag':>6} {'conf':>5} {'c_bad':>5} {'right>=0.9':>6} {'fail':>4}"
)


def bench_score(folder: Path, entries: list[ScanEntry], workers: int) -> list[Document]:
    print(f"== score: {len(entries)} scanned files, {workers} worker process(es), default settings")
    documents, seconds = extract_all([folder / e.file for e in entries], workers)
    (folder / "extracted").mkdir(exist_ok=True)
    for entry, document in zip(entries, documents, strict=True):
        (folder / "extracted" / f"{entry.file}.json").write_text(document.model_dump_json(), encoding="utf-8")
    pages = sum(d.source.pages or 0 for d in documents)
    print(f"extracted in {seconds:.0f} s: {pages} pages, {60 * pages / seconds:.0f} pages/min")
    tallies: dict[str, Tally] = defaultdict(Tally)
    bands: list[list[int]] = [[0, 0] for _ in BANDS[:-1]]
    confident_wrong: list[str] = []
    for entry, document in zip(entries, documents, strict=True):
        truth = truth_for(entry, folder)
        score = score_document(truth, document)
        judged = outcomes(truth, document)
        for key in (f"{entry.set}/{entry.kind}", f"{entry.set}/all", "all"):
            tally = tallies[key]
            tally.score.add(score)
            tally.files += 1
            tally.pages += document.source.pages or 0
            tally.failed += document.status == "failure"
            tally.right += sum(ok for _, ok, _ in judged)
            tally.right_confident += sum(ok and r.confidence >= REVIEW_THRESHOLD for r, ok, _ in judged)
        for result, ok, why in judged:
            band = next(i for i in range(len(BANDS) - 1) if result.confidence < BANDS[i + 1])
            bands[band][0] += 1
            bands[band][1] += int(ok)
            if result.confidence >= REVIEW_THRESHOLD and not ok:
                confident_wrong.append(
                    f"{entry.file}: {result.name} {result.value_text!r} conf {result.confidence:.3f}: {why}"
                    f" | {'; '.join(result.notes)[:120]}"
                )
    print(HEADER)
    for key in sorted(tallies, key=lambda k: (k == "all", k.split("/")[0], k.endswith("/all"), k)):
        print(tallies[key].line(key))
    print(f"-- calibration over all {sum(n for n, _ in bands)} scored results (right = value, unit and range right)")
    for (low, high), (n, good) in zip(itertools.pairwise(BANDS), bands, strict=True):
        print(f"   confidence {low:.2f}-{min(high, 1.0):.2f}: {n:5} results, {good / n if n else 0:6.1%} right")
    print(f"   wrong at >= {REVIEW_THRESHOLD}: {len(confident_wrong)}")
    for line in confident_wrong:
        print("   confident but wrong:", line)
    return documents


def bench_twins(entries: Iterable[ScanEntry], folder: Path) -> None:
    """The digital twins themselves, per set, for reference: scans are measured against the same truth."""
    seen: dict[tuple[str, str], ScanEntry] = {}
    for entry in entries:
        seen.setdefault((entry.set, entry.twin), entry)
    totals: dict[str, Score] = defaultdict(Score)
    for (set_name, twin), entry in seen.items():
        truth = (folder / entry.truth).resolve()
        pdf = truth.parent.parent / "reports" / twin
        totals[set_name].add(score_document(json.loads(truth.read_text()), process_file(pdf, Settings())))
    for set_name, total in totals.items():
        twins = sum(1 for key in seen if key[0] == set_name)
        print(f"== digital twins of '{set_name}' ({twins}): {total.summary()}")


# --------------------------------------------------------------------------------------------------
# Speed and throughput


def page_images(folder: Path, entries: list[ScanEntry], limit: int) -> list[Path]:
    """The must set's pages rendered at 300 dpi (what the pipeline OCRs) as PNG files."""
    out: list[Path] = []
    for entry in entries:
        for number, image in enumerate(render_pages(folder / entry.file, 300), start=1):
            path = folder / "pages" / f"{Path(entry.file).stem}-{number}.png"
            path.parent.mkdir(exist_ok=True)
            cv2.imwrite(str(path), image)
            out.append(path)
            if len(out) >= limit:
                return out
    return out


def _engine_alone(path: str) -> int:
    """Tesseract in this process on the page PNG as it is (eng): the engine the pipeline runs, alone."""
    return len(TesseractEngine().recognise(cv2.imread(path, cv2.IMREAD_GRAYSCALE), languages="eng").words)


def _ocr_plain(path: str) -> int:
    return len(ocr_source_page(path, 0, "image", PLAIN).words)


def _ocr_default(path: str) -> int:
    """The OCR stage as process_file runs it (the pool's own job): only rows a draft parse finds unsure are
    cross-read."""
    return len(run_job(OcrJob(path, 0, "image", "bench", Settings(workers=1))).words)


def _ocr_every_number(path: str) -> int:
    """The OCR stage cross-reading every number and unit of the page, unsure row or not (what focus saves)."""
    return len(ocr_source_page(path, 0, "image", Settings(workers=1)).words)


def _ocr_no_crossread(path: str) -> int:
    """The OCR stage with default settings but no second reading of numbers and units (what it costs)."""
    settings = Settings(workers=1)
    page = source_page(path, 0, "image", settings)
    return len(read_page(page, settings=settings, fallback=fallback_engine(settings), checker=None).words.words)


def _whole(path: str) -> int:
    return len(process_file(Path(path), Settings(workers=1)).results)


def _whole_plain(path: str) -> int:
    """process_file with Tesseract alone: no second engine, numbers checked against their glyphs only."""
    return len(process_file(Path(path), Settings(ocr_fallback="none", workers=1)).results)


ALONE = "Tesseract in this process alone (tesserocr, eng)"
WHOLE = "process_file, default settings"


def bench_speed(paths: list[Path]) -> None:
    """Each page through bare Tesseract and every pipeline variant in turn (interleaved, so that a change
    in the machine's load during the run weighs on all of them alike)."""
    print(f"== speed: {len(paths)} pages of the must set at 300 dpi (PNG), one process, OMP_THREAD_LIMIT=1")
    process_file(paths[0], Settings(workers=1))  # load models and knowledge outside the timing
    variants: dict[str, Callable[[str], int]] = {
        ALONE: _engine_alone,
        "OCR stage, eng, no fallback (as ocr_bench)": _ocr_plain,
        "OCR stage, default settings, no cross-reading": _ocr_no_crossread,
        "OCR stage, default settings": _ocr_default,
        "OCR stage, every number and unit cross-read": _ocr_every_number,
        WHOLE: _whole,
        "process_file, --ocr-fallback none": _whole_plain,
    }
    bare: list[float] = []
    rows: dict[str, list[float]] = {label: [] for label in variants}
    for path in paths:
        bare.append(timed(functools.partial(bare_tesseract, path, False), repeat=1))
        for label, fn in variants.items():
            rows[label].append(timed(functools.partial(fn, str(path)), 1))
    print(f"bare `tesseract page.png stdout --psm 6 tsv`: {statistics.mean(bare):.2f} s/page")
    for label, times in rows.items():
        ratio = sum(times) / sum(bare)
        print(
            f"{label}: {statistics.mean(times):.2f} s/page, ratio to bare {ratio:.2f} "
            f"(within 15%: {'yes' if ratio <= 1.15 else 'NO'})"
        )
    alone = sum(rows[ALONE])
    print(f"process_file, default settings, to Tesseract in this process alone: {sum(rows[WHOLE]) / alone:.2f}")
    cross = sum(rows["OCR stage, default settings"]) - sum(rows["OCR stage, default settings, no cross-reading"])
    print(f"cross-reading costs {cross / len(paths):.2f} s/page ({cross / sum(bare):.0%} of bare Tesseract)")


def bench_throughput(folder: Path, entries: list[ScanEntry], pages: list[Path]) -> None:
    paths = [folder / e.file for e in entries]
    print(f"== throughput: {len(paths)} files of the must set, process_file, files in parallel")
    runs = {}
    for workers in (1, 2):
        documents, seconds = extract_all(paths, workers)
        count = sum(d.source.pages or 0 for d in documents)
        runs[workers] = documents
        print(
            f"process_file, {workers} worker(s): {60 * count / seconds:.0f} pages/min ({count} pages, {seconds:.0f} s)"
        )
    same = all(
        [r.model_dump() for r in a.results] == [r.model_dump() for r in b.results]
        for a, b in zip(runs[1], runs[2], strict=True)
    )
    print(f"1-worker and 2-worker results identical: {'yes' if same else 'NO'}")
    for workers, threads in ((1, False), (2, False), (2, True)):
        ppm = bare_throughput(pages, workers, threads)
        label = "threads on" if threads else "OMP_THREAD_LIMIT=1"
        print(f"bare tesseract on {len(pages)} page PNGs, {workers} at a time, {label}: {ppm:.0f} pages/min")


# --------------------------------------------------------------------------------------------------
# Real samples


def bench_real(folder: Path) -> None:
    print("== real sample images through process_file, scored by real-samples/score.py")
    out, truth = folder / "real-out", folder / "real-truth"
    out.mkdir(exist_ok=True)
    truth.mkdir(exist_ok=True)
    for name in REAL_IMAGES:
        source = REAL / name
        if not source.exists():
            print(f"{name}: missing")
            return
        document = process_file(source, Settings())
        (out / f"{name}.json").write_text(document.model_dump_json(), encoding="utf-8")
        link = truth / f"{name}.truth.json"
        link.unlink(missing_ok=True)
        link.symlink_to(REAL / f"{name}.truth.json")
        conf = [r.confidence for r in document.results]
        print(f"{name}: {len(conf)} results, {sum(c >= REVIEW_THRESHOLD for c in conf)} at >= 0.9")
    scored = subprocess.run(
        [sys.executable, str(REAL / "score.py"), str(out), "--truth", str(truth)], capture_output=True, text=True
    )
    print(scored.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="must,degraded", help="must, degraded, unseen (comma-separated)")
    parser.add_argument("--only", default="", help="only twins whose name contains one of these")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip", default="", help="score, speed, throughput, real, twins (comma-separated)")
    parser.add_argument("--pages", type=int, default=8, help="pages for the speed comparison")
    parser.add_argument("--keep", type=Path, help="write the scans here and keep them")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    folder = args.keep or Path(tempfile.mkdtemp(prefix="labreport-scan-bench-"))
    try:
        started = time.perf_counter()
        sets = [s for s in args.sets.split(",") if s]
        if (folder / "manifest.json").exists():
            entries = [e for e in load_manifest(folder) if e.set in sets]
        else:
            only = [o for o in args.only.split(",") if o]
            entries = generate(folder, sets, only, workers=args.workers)
        print(f"== {len(entries)} scanned files in {folder} ({time.perf_counter() - started:.0f} s)")
        if "twins" not in skip:
            bench_twins(entries, folder)
        if "score" not in skip:
            bench_score(folder, entries, args.workers)
        must = [e for e in entries if e.set == "must"]
        pages = page_images(folder, must, args.pages) if must and not {"speed", "throughput"} <= skip else []
        if pages and "speed" not in skip:
            bench_speed(pages)
        if must and "throughput" not in skip:
            bench_throughput(folder, must, pages)
        if "real" not in skip:
            bench_real(folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
