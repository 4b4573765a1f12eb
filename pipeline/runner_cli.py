"""Command-line wiring of `labreport batch` and `labreport watch` (cli.py adds them to its parser).

``add_batch_parser(commands)`` and ``add_watch_parser(commands)`` add the subcommands; each sets
``run(args, settings) -> exit code`` like the other subcommands; the options that are settings (--workers,
--executor, --scheduler, --db and the OCR options) reach it through cli.settings_from. Messages and
progress go to stderr; stdout gets only the summary CSV path (batch).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TypeAlias

from pydantic import ValidationError

from pipeline.errors import ExitCode, LabreportError
from pipeline.filework import FileOutcome
from pipeline.settings import Settings

log = logging.getLogger("labreport")

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    parser.add_argument("--workers", type=_positive, metavar="N", help="worker processes (default: one per core)")
    parser.add_argument("--executor", choices=["process", "dask"], help="local process pool (default) or Dask")
    parser.add_argument("--scheduler", metavar="URL", help="Dask scheduler, e.g. tcp://HOST:8786 (implies dask)")
    parser.add_argument("--db", help="database URL (default sqlite:///labreport.sqlite)")
    add_ocr_options(parser)


def add_ocr_options(parser: argparse.ArgumentParser) -> None:
    """The OCR settings as options (extract, batch and watch share them)."""
    parser.add_argument("--ocr", choices=["auto", "always", "never"], help="when to OCR pages (default auto)")
    parser.add_argument("--ocr-languages", help="Tesseract languages such as eng+spa (default auto)")
    parser.add_argument(
        "--ocr-fallback",
        choices=["rapidocr", "none"],
        help="second engine for poor pages and for reading numbers twice (default rapidocr); none: Tesseract alone, "
        "about a sixth faster on mild scans, more results to review",
    )


def _counts(outcomes: Sequence[FileOutcome]) -> str:
    order = ("success", "partial", "failure", "skipped")
    found = {s: sum(1 for o in outcomes if o.status == s) for s in order}
    return ", ".join(f"{n} {s}" for s, n in found.items() if n) or "none"


# --------------------------------------------------------------------------------------------------
# batch


def _batch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.batch import BatchOptions, run_batch

    try:
        options = BatchOptions(
            in_dir=args.in_dir,
            out_dir=args.out,
            force=args.force,
            retry_failed=args.retry_failed,
            progress=args.progress,
        )
        summary = run_batch(options, settings)
    except ValidationError as exc:
        print(f"labreport: invalid option: {exc.errors()[0]['msg']}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except LabreportError as exc:
        print(f"labreport: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("labreport: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    pages = sum(o.pages for o in summary.outcomes if o.status != "skipped")
    print(
        f"labreport batch: {len(summary.outcomes)} files ({_counts(summary.outcomes)}), {pages} pages read "
        f"in {summary.seconds:.1f} s; exit code {int(summary.exit_code)}",
        file=sys.stderr,
    )
    if summary.ignored:
        print(f"labreport batch: {summary.ignored} other files (unsupported or hidden) left alone", file=sys.stderr)
    print(summary.summary_csv)
    return int(summary.exit_code)


def add_batch_parser(commands: Subcommands) -> None:
    """`labreport batch IN_DIR --out OUT_DIR`: every supported file below IN_DIR, resumable."""
    parser = commands.add_parser("batch", help="process every supported file below a folder (resumable)")
    parser.add_argument("in_dir", type=Path, metavar="IN_DIR")
    _add_common(parser)
    parser.add_argument("--force", action="store_true", help="process again files already done")
    parser.add_argument("--retry-failed", action="store_true", help="process again files that failed")
    parser.add_argument(
        "--progress", choices=["auto", "bar", "lines", "none"], default="auto", help="progress on stderr"
    )
    parser.set_defaults(run=_batch)


# --------------------------------------------------------------------------------------------------
# watch


def _stop_on_signals(stop: threading.Event) -> None:
    """First SIGTERM/SIGINT: finish the files in flight and exit; a second one exits at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("stopping after the files in flight (signal %d); send it again to stop now", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.watch import WatchOptions, run_watch

    try:
        options = WatchOptions(
            inbox=args.inbox,
            out_dir=args.out,
            once=args.once,
            poll=args.poll,
            settle=args.settle,
            interval=args.interval,
            once_wait=args.once_wait,
            max_attempts=args.max_attempts,
            report_dir=args.report_dir,
        )
    except ValidationError as exc:
        print(f"labreport: invalid option: {exc.errors()[0]['msg']}", file=sys.stderr)
        return int(ExitCode.USAGE)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        _stop_on_signals(stop)
    try:
        summary = run_watch(options, settings, stop)
    except LabreportError as exc:
        print(f"labreport: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("labreport: stopped; files in processing/ are resumed by the next watcher", file=sys.stderr)
        return 130
    done = sum(1 for o in summary.outcomes if o.status in ("success", "partial"))
    print(
        f"labreport watch: {len(summary.outcomes)} files ({done} done, "
        f"{len(summary.outcomes) - done} failed) in {summary.seconds:.1f} s",
        file=sys.stderr,
    )
    if summary.left_in_inbox:
        print(f"labreport watch: {summary.left_in_inbox} files still being written were left", file=sys.stderr)
    return int(summary.exit_code) if options.once else int(ExitCode.OK)


def add_watch_parser(commands: Subcommands) -> None:
    """`labreport watch INBOX --out OUT_DIR`: process files dropped into a folder, exactly once."""
    parser = commands.add_parser("watch", help="process files dropped into a folder (exactly once)")
    parser.add_argument("inbox", type=Path, metavar="INBOX")
    _add_common(parser)
    parser.add_argument("--once", action="store_true", help="process what is in the inbox, then exit")
    parser.add_argument("--poll", action="store_true", help="poll instead of file events (network shares)")
    parser.add_argument(
        "--settle", type=float, default=2.0, metavar="S", help="seconds unchanged before a file is taken"
    )
    parser.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between polls and rescans")
    parser.add_argument(
        "--once-wait", type=float, default=60.0, metavar="S", help="with --once: wait this long for files being written"
    )
    parser.add_argument("--max-attempts", type=int, default=3, metavar="N", help="fail a file interrupted N times")
    parser.add_argument("--report-dir", type=Path, metavar="DIR", help="refresh DIR/<patient>/ after each file")
    parser.set_defaults(run=_watch)
