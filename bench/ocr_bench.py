"""OCR benchmark: speed against bare Tesseract, throughput per worker count, and what each stage buys.

    .venv/bin/python -m bench.ocr_bench [--only speed,prep,psm,lang,engines,real] [--pages N]

speed    seconds per scanned page through the pipeline (open + prepare + OCR, English, no fallback) and
         its ratio to `tesseract page.png stdout --psm 6 tsv` on the same PNG files; pages/min with 1 and
         2 workers (OMP_THREAD_LIMIT=1) and bare Tesseract with its own threads on; our in-process call vs
         the binary and pytesseract. Pages: fixtures/reports/*.pdf rendered at 300 dpi and degraded like an office
         scan (bench/degrade.scan), or synthetic pages when the fixtures are absent.
prep     numbers/flags/words read on degraded synthetic pages with each preparation stage switched off.
psm      page segmentation modes 3/4/6/11 on tables: numbers read and rows kept whole with their flags.
lang     English data (what 'auto' reads with) against the page's own language on synthetic pages in five languages.
engines  RapidOCR against Tesseract on one page (seconds, numbers read).
real     the two real sample images in /work/shared/real-samples: truth values found among the words.
Figures go to stdout; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from itertools import groupby
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import degrade  # noqa: E402
from bench.synthetic import RowTruth, expected_tokens, make_report_pdf  # noqa: E402
from pipeline.ocr.page import ocr_source_page, read_page  # noqa: E402
from pipeline.ocr.prepare import PrepareOptions, prepare  # noqa: E402
from pipeline.ocr.rapidocr import RapidOcrEngine  # noqa: E402
from pipeline.ocr.raster import PageImage, open_image_page, render_pdf_page  # noqa: E402
from pipeline.ocr.tesseract import TesseractEngine  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

REAL = Path("/work/shared/real-samples")
PLAIN = Settings(ocr_languages="eng", ocr_fallback="none")


def recall(texts: Iterable[str], expected: Iterable[str]) -> float:
    """Share of expected tokens among the OCR words (multiset; '4-11.3' also counts as '4' and '11.3')."""
    pool: dict[str, int] = {}
    for text in texts:
        for part in {text, *text.replace("–", "-").split("-")}:
            if part:
                pool[part] = pool.get(part, 0) + 1
    wanted = [t for t in expected if t]
    hits = 0
    for token in wanted:
        if pool.get(token, 0) > 0:
            pool[token] -= 1
            hits += 1
    return hits / len(wanted) if wanted else 1.0


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --------------------------------------------------------------------------------------------------
# Page sets


def scanned_pages(folder: Path, limit: int) -> list[tuple[Path, list[str]]]:
    """Degraded 300-dpi PNG scans of the fixture reports, each with the numbers of its text layer."""
    import pdfplumber

    reports = sorted((ROOT / "fixtures" / "reports").glob("*.pdf"))
    out: list[tuple[Path, list[str]]] = []
    for pdf in reports:
        with pdfplumber.open(pdf) as doc:
            for index, page in enumerate(doc.pages):
                numbers = [w["text"] for w in page.extract_words() if any(c.isdigit() for c in w["text"])]
                image = degrade.scan(render_pdf_page(pdf, index, 300).image, seed=index, skew=0.5)
                path = folder / f"{pdf.stem}-{index + 1}.png"
                cv2.imwrite(str(path), image)
                out.append((path, numbers))
                if len(out) >= limit:
                    return out
    if not out:  # no fixtures yet: synthetic pages
        for seed in range(limit):
            rows = make_report_pdf(folder / f"s{seed}.pdf", seed=seed, rulings=("grid", "rows", "none")[seed % 3])
            image = degrade.scan(render_pdf_page(folder / f"s{seed}.pdf", 0, 300).image, seed=seed, skew=0.5)
            path = folder / f"s{seed}.png"
            cv2.imwrite(str(path), image)
            out.append((path, expected_tokens(rows)["numbers"]))
    return out


def bare_tesseract(path: Path, threads: bool) -> None:
    env = dict(os.environ)
    env.pop("OMP_THREAD_LIMIT", None)
    if not threads:
        env["OMP_THREAD_LIMIT"] = "1"
    subprocess.run(["tesseract", str(path), "stdout", "--psm", "6", "tsv"], capture_output=True, env=env, check=True)


def pipeline_page(path: str) -> int:
    return len(ocr_source_page(path, 0, "image", PLAIN).words)


def pipeline_throughput(paths: list[Path], workers: int) -> float:
    """Pages per minute through ocr_source_page with `workers` processes."""
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(pipeline_page, map(str, paths)))
    return 60.0 * len(paths) / (time.perf_counter() - started)


def bare_throughput(paths: list[Path], workers: int, threads: bool) -> float:
    """Pages per minute of the bare tesseract binary, `workers` at a time."""

    def run(path: Path) -> None:
        bare_tesseract(path, threads)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, paths))
    return 60.0 * len(paths) / (time.perf_counter() - started)


def bench_speed(tmp: Path, pages: int) -> None:
    print(f"== speed: {pages} scanned pages (300 dpi, degraded), {os.cpu_count()} cores")
    scans = scanned_pages(tmp, pages)
    paths = [p for p, _ in scans]
    bare = [timed(functools.partial(bare_tesseract, p, False)) for p in paths]
    ours = [timed(functools.partial(pipeline_page, str(p))) for p in paths]
    read = [recall((w.text for w in ocr_source_page(str(p), 0, "image", PLAIN).words), nums) for p, nums in scans]
    ratio = sum(ours) / sum(bare)
    print(f"bare tesseract --psm 6 tsv (OMP_THREAD_LIMIT=1): {statistics.mean(bare):.2f} s/page")
    print(f"pipeline (open + prepare + OCR, eng, no fallback): {statistics.mean(ours):.2f} s/page")
    print(
        f"ratio pipeline / bare: {ratio:.3f}  (per page: {min(o / b for o, b in zip(ours, bare, strict=True)):.2f}"
        f"-{max(o / b for o, b in zip(ours, bare, strict=True)):.2f})"
    )
    print(f"pipeline overhead within 15% of bare tesseract: {'yes' if ratio <= 1.15 else 'NO'}")
    print(f"numbers of the text layer read back: {statistics.mean(read):.1%} (worst page {min(read):.1%})")
    for workers in (1, 2):
        ppm = pipeline_throughput(paths, workers)
        print(f"pipeline, {workers} worker(s), OMP_THREAD_LIMIT=1: {ppm:.0f} pages/min")
    for workers, threads in ((1, False), (2, False), (1, True), (2, True)):
        ppm = bare_throughput(paths, workers, threads)
        label = "threads on" if threads else "OMP_THREAD_LIMIT=1"
        print(f"bare tesseract, {workers} worker(s), {label}: {ppm:.0f} pages/min")
    bench_call_overhead(paths[0])


def bench_call_overhead(path: Path) -> None:
    import pytesseract
    from PIL import Image

    image = prepare(open_image_page(path, 0, Settings()).image).image
    bmp = path.with_suffix(".bmp")
    cv2.imwrite(str(bmp), image)
    pil = Image.fromarray(image)
    os.environ["OMP_THREAD_LIMIT"] = "1"  # pytesseract passes our environment on to tesseract
    binary = ["tesseract", str(bmp), "stdout", "--psm", "6", "-c", "tessedit_do_invert=0", "tsv"]
    engine = TesseractEngine()
    engine.recognise(image, languages="eng")  # the model loads once per process, outside the timing
    cases = {
        "in-process libtesseract (ours: tesserocr on the pixels)": lambda: engine.recognise(image, languages="eng"),
        "tesseract binary on the same pixels as a BMP": lambda: subprocess.run(binary, capture_output=True),
        "pytesseract.image_to_data(path to BMP)": lambda: pytesseract.image_to_data(str(bmp), config="--psm 6"),
        "pytesseract.image_to_data(PIL image)": lambda: pytesseract.image_to_data(pil, config="--psm 6"),
    }
    for label, fn in cases.items():
        print(f"{label}: {timed(fn):.2f} s")


# --------------------------------------------------------------------------------------------------
# Preparation stages, page segmentation, languages, engines


def score(texts: list[str], rows: list[RowTruth]) -> str:
    exp = expected_tokens(rows)
    return " ".join(f"{k}={recall(texts, exp[k]):.0%}" for k in ("numbers", "flags", "words"))


def bench_prep(tmp: Path) -> None:
    print("== preparation stages on degraded synthetic pages (grid table, 22 rows); one stage off at a time")
    rows = make_report_pdf(tmp / "prep.pdf", seed=3, rulings="grid")
    clean = render_pdf_page(tmp / "prep.pdf", 0, 300).image
    pages = {
        "scan 300dpi": degrade.scan(clean, seed=1),
        "scan 150dpi": degrade.scan(degrade.downsample(clean, 0.5), seed=1),
        "3 deg skew": degrade.rotate(clean, 3.0),
        "uneven light": degrade.uneven_lighting(degrade.fade(clean), strength=0.6),
        "phone photo": degrade.photo(degrade.downsample(clean, 0.5), seed=1),
        "fax": degrade.fax(clean),
    }
    variants = {"all stages": PrepareOptions()} | {
        f"no {name}": PrepareOptions(**{name: False})
        for name in ("crop_page", "rescale", "deskew", "normalise", "binarise", "remove_rulings")
    }
    for label, image in pages.items():
        page = PageImage(1, image, 1.0, "px")
        raw = TesseractEngine().recognise(image, languages="eng")
        print(f"-- {label}: raw tesseract {score([w.text for w in raw.words], rows)}")
        for name, options in variants.items():
            result = read_page(page, settings=PLAIN, options=options)
            costs = " ".join(f"{s.name}{'+' if s.applied else '-'}{s.seconds * 1000:.0f}ms" for s in result.steps)
            print(
                f"   {name:18s} {score([w.text for w in result.words.words], rows)} "
                f"conf={result.words.ocr_confidence or 0:.2f}  [{costs}]"
            )


def bench_psm(tmp: Path) -> None:
    print("== page segmentation modes on tables (prepared pages): numbers read / flagged rows kept whole")
    for rulings in ("grid", "rows", "none"):
        rows = make_report_pdf(tmp / f"psm-{rulings}.pdf", seed=11, rulings=rulings)
        image = prepare(render_pdf_page(tmp / f"psm-{rulings}.pdf", 0, 300).image).image
        out = []
        for psm in (3, 4, 6, 11):
            result = TesseractEngine(psm=psm).recognise(image, languages="eng")
            lines = [[w.text for w in g] for _, g in groupby(result.words, key=lambda w: w.line)]
            flagged = [r for r in rows if r.flag]
            whole = sum(any(r.value in ln and r.flag in ln for ln in lines) for r in flagged) / len(flagged)
            out.append(
                f"psm{psm}: {recall([w.text for w in result.words], expected_tokens(rows)['numbers']):.0%}"
                f"/{whole:.0%} {result.seconds:.2f}s"
            )
        print(f"{rulings:5s} " + "  ".join(out))


def bench_lang(tmp: Path) -> None:
    print("== languages: English data (ocr_languages auto) vs the page's own language data (named)")
    for lang in ("ita", "spa", "por", "fra", "deu"):
        rows = make_report_pdf(tmp / f"lang-{lang}.pdf", lang=lang, seed=5, rulings="rows")
        page = render_pdf_page(tmp / f"lang-{lang}.pdf", 0, 300)
        out = []
        for label, settings in (
            ("auto (eng)", Settings(ocr_fallback="none")),
            (f"{lang}+eng", Settings(ocr_languages=lang, ocr_fallback="none")),
        ):
            started = time.perf_counter()
            result = read_page(page, settings=settings)
            seconds = time.perf_counter() - started
            out.append(f"{label}: {score([w.text for w in result.words.words], rows)} {seconds:.2f}s")
        print(f"{lang}  " + " | ".join(out))


def bench_engines(tmp: Path) -> None:
    print("== engines on one prepared 300-dpi page (synthetic, grid) and a fax")
    rows = make_report_pdf(tmp / "eng.pdf", seed=3, rulings="grid")
    clean = render_pdf_page(tmp / "eng.pdf", 0, 300).image
    rapid = RapidOcrEngine()
    rapid.recognise(clean[:200], languages="eng")  # load the model outside the timing
    for label, image in (("clean", clean), ("fax", degrade.fax(clean))):
        prepared = prepare(image)
        for engine, source in ((TesseractEngine(), prepared.image), (rapid, prepared.plain)):
            started = time.perf_counter()
            result = engine.recognise(source, languages="eng")
            seconds = time.perf_counter() - started
            print(f"{label:5s} {engine.name:9s} {seconds:.2f}s {score([w.text for w in result.words], rows)}")
        page = read_page(PageImage(1, image, 1.0, "px"), settings=Settings(ocr_languages="eng"))
        print(
            f"{label:5s} pipeline with fallback: {page.seconds:.2f}s "
            f"{score([w.text for w in page.words.words], rows)} engine={page.words.engine}"
        )


def bench_real() -> None:
    print("== real sample images: truth values found among the OCR words (values, range ends, units)")
    for name in ("robertoz_input.png", "zia_clinic_CBC_Report.jpg"):
        path = REAL / name
        if not path.exists():
            print(f"{name}: missing")
            continue
        truth = json.loads(path.with_name(name + ".truth.json").read_text(encoding="utf-8"))
        page = open_image_page(path, 0, Settings())
        for label, settings in (("eng, no fallback", PLAIN), ("defaults", Settings())):
            result = read_page(page, settings=settings)
            texts = [w.text for w in result.words.words]
            values = [r["value_text"] for r in truth["results"]]
            ends = [e.strip() for r in truth["results"] for e in r["range_text"].split(" - ")]
            units = [r["unit_printed"] for r in truth["results"]]
            missing = [v for v in values + ends if recall(texts, [v]) < 1]
            print(
                f"{name} [{label}] {result.seconds:.2f}s conf={result.words.ocr_confidence}: values "
                f"{recall(texts, values):.0%}, range ends {recall(texts, ends):.0%}, units as printed "
                f"{recall(texts, units):.0%}; missing {missing}; languages {result.languages}; "
                f"engine {result.words.engine}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="speed,prep,psm,lang,engines,real")
    parser.add_argument("--pages", type=int, default=8)
    args = parser.parse_args()
    sections = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="labreport-ocr-bench-") as tmp:
        folder = Path(tmp)
        if "speed" in sections:
            bench_speed(folder, args.pages)
        if "prep" in sections:
            bench_prep(folder)
        if "psm" in sections:
            bench_psm(folder)
        if "lang" in sections:
            bench_lang(folder)
        if "engines" in sections:
            bench_engines(folder)
        if "real" in sections:
            bench_real()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
