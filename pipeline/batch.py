"""`labreport batch IN_DIR --out OUT_DIR`: every supported file below a folder, one outcome each, resumable.

Outputs (OUT_DIR mirrors IN_DIR's subfolders, so inputs with one name in two folders never overwrite each
other; for a flat IN_DIR this is simply OUT_DIR/<input file name>.json):
- ``<rel>.json``: the Document, for success and partial; ``<rel>.error.json``: an ErrorRecord for a failure
  (the reason, the outcome, the failed Document). Writing one removes a stale other.
- ``summary.csv``: one row per input (pseudonymous input id, sha256, status, codes, pages, time, worker,
  memory): no names, no values.
- ``.labreport-batch.jsonl``: the done-markers, one line per finished file (relative path, size, mtime,
  outcome), appended by this process after the worker has stored the document and written its JSON.
Two relative paths that differ only in case (a.pdf, A.pdf) get ``~<hash of the path>`` before the suffix, so a
case-insensitive OUT_DIR cannot merge them either.

Resumability: a file whose done-marker matches (same relative path, and same size and mtime, or else the same
content sha256) and whose JSON is still there is skipped; its outcome is reported as ``skipped`` with the exit
code it had. A run killed at any moment loses nothing: the JSON writes are atomic, the store is idempotent by
sha256, and a file without its marker is simply read again. ``force`` redoes everything; ``retry_failed``
redoes failures; failures that say nothing about the file (a crashed worker, a store error) are always
retried.

Links are not followed out of IN_DIR: a symbolic link whose target lies outside it (or is missing) fails with
that reason, its target untouched. Links to folders are not followed. Names starting with '.' are skipped.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline import filework
from pipeline.errors import ExitCode, LabreportError
from pipeline.executors import make_executor, run_all
from pipeline.filework import FileOutcome, open_store
from pipeline.ingest import SUPPORTED_SUFFIXES
from pipeline.models import Document
from pipeline.progress import Mode, Progress
from pipeline.settings import Settings

log = logging.getLogger(__name__)

STATE_NAME = ".labreport-batch.jsonl"
LOCK_NAME = ".labreport-batch.lock"
SUMMARY_NAME = "summary.csv"
CSV_COLUMNS = (
    "input_id", "sha256", "status", "previous", "exit_code", "error_code",
    "pages", "seconds", "stored", "worker", "peak_rss_mb",
)  # fmt: skip


class BatchError(LabreportError):
    exit_code = ExitCode.USAGE
    code = "batch_usage"


class BatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_dir: Path
    out_dir: Path
    force: bool = False
    retry_failed: bool = False
    progress: Mode = "auto"


class BatchInput(BaseModel):
    """One input found below IN_DIR, with where its JSON goes and why it is refused, if it is."""

    model_config = ConfigDict(extra="forbid")

    path: Path
    rel: str
    output_base: Path
    input_id: str
    refusal: tuple[str, str] | None = None
    """(error code, reason) for inputs that are never read, such as links out of IN_DIR."""

    @property
    def key(self) -> str:
        """The relative path as the done-markers record it (JSON: bytes that are not UTF-8 replaced)."""
        return filework.printable(self.rel)


class BatchTask(BaseModel):
    """What a worker needs to process one input."""

    model_config = ConfigDict(extra="forbid")

    path: str
    output_base: str
    input_id: str
    settings: Settings


class StateEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rel: str
    size: int | None
    mtime_ns: int | None
    outcome: FileOutcome


class BatchSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[FileOutcome]
    seconds: float
    summary_csv: Path
    ignored: int = 0
    """Files below IN_DIR with unsupported suffixes or hidden names, not read."""

    @property
    def exit_code(self) -> ExitCode:
        return max((o.exit_code for o in self.outcomes), default=ExitCode.OK)

    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)


# --------------------------------------------------------------------------------------------------
# Finding the inputs


def _refusal(path: Path, root: Path) -> tuple[str, str] | None:
    if not path.is_symlink():
        return None
    target = path.resolve()
    if not target.exists():
        return "broken_symlink", "a symbolic link whose target does not exist"
    if not target.is_relative_to(root):
        return "symlink_outside", "a symbolic link pointing outside the input folder; it was not followed"
    return None


def discover(in_dir: Path, out_dir: Path) -> tuple[list[BatchInput], int]:
    """Supported files below `in_dir` in a stable order, and how many other files were left alone."""
    root = in_dir.resolve()
    out_root = out_dir.resolve()
    found: list[tuple[Path, str]] = []
    ignored = 0
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (here / d).resolve() != out_root
        )
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                ignored += 1
                continue
            path = here / name
            found.append((path, path.relative_to(root).as_posix()))
    folded = Counter(rel.casefold() for _, rel in found)
    inputs = []
    for path, rel in found:
        out_rel = rel
        if folded[rel.casefold()] > 1:  # differ only in case: keep both on a case-insensitive OUT_DIR
            out_rel = f"{Path(rel).with_suffix('')}~{filework.input_id(rel)[:8]}{Path(rel).suffix}"
        inputs.append(
            BatchInput(
                path=path,
                rel=rel,
                output_base=out_dir / out_rel,
                input_id=filework.input_id(rel),
                refusal=_refusal(path, root),
            )
        )
    return inputs, ignored


def json_path(base: Path) -> Path:
    return base.with_name(base.name + ".json")


def error_path(base: Path) -> Path:
    return base.with_name(base.name + ".error.json")


# --------------------------------------------------------------------------------------------------
# The worker side


def write_outputs(base: Path, outcome: FileOutcome, document: Document | None) -> FileOutcome:
    """The Document (success, partial) or the ErrorRecord (failure) beside `base`; a stale other removed."""
    ok = outcome.status in filework.OK_STATUSES
    target, stale = (json_path(base), error_path(base)) if ok else (error_path(base), json_path(base))
    outcome = outcome.model_copy(update={"output": str(target)})
    try:
        if ok and document is not None:
            filework.write_text(target, document.model_dump_json(indent=2) + "\n")
        else:
            filework.write_json(target, filework.error_record(outcome, document))
        filework.remove(stale)
    except OSError as exc:
        log.warning("file %s: output not written (%s)", filework.short(outcome.sha256), exc.strerror)
        return outcome.model_copy(
            update={
                "status": "failure",
                "exit_code": ExitCode.INTERNAL_ERROR,
                "error_code": "output_error",
                "message": f"{outcome.path}: the JSON could not be written ({exc.strerror})",
                "output": None,
            }
        )
    return outcome


def handle_batch_task(task: BatchTask) -> FileOutcome:
    """In a worker: process_file(), store, write the JSON. Never raises."""
    started = time.perf_counter()
    path = Path(task.path)
    document = filework.process(path, task.settings)
    outcome = filework.store_outcome(
        document, task.settings, name=path.name, input_id=task.input_id, started=started
    )
    outcome = write_outputs(Path(task.output_base), outcome, document)
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


def crashed_batch_task(task: BatchTask, reason: str) -> FileOutcome:
    """In the parent: the failure of a file whose worker died, with its error JSON written."""
    path = Path(task.path)
    outcome = filework.failed_outcome(
        path, name=path.name, input_id=task.input_id, code="worker_crashed", message=reason,
        exit=ExitCode.INTERNAL_ERROR,
    )  # fmt: skip
    return write_outputs(Path(task.output_base), outcome, None)


# --------------------------------------------------------------------------------------------------
# Done-markers


class _State:
    """The append-only done-marker file: the last line for a relative path wins; a torn line is ignored."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / STATE_NAME

    def load(self) -> dict[str, StateEntry]:
        entries: dict[str, StateEntry] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return entries
        for line in text.splitlines():
            try:
                entry = StateEntry.model_validate_json(line)
            except ValidationError:
                continue  # a line cut short by a kill
            entries[entry.rel] = entry
        return entries

    def append(self, entry: StateEntry) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(entry.model_dump_json() + "\n")

    def compact(self, entries: dict[str, StateEntry]) -> None:
        filework.write_text(self.path, "".join(e.model_dump_json() + "\n" for e in entries.values()))


def _stat(path: Path) -> tuple[int | None, int | None]:
    try:
        st = path.stat()
    except OSError:
        return None, None
    return st.st_size, st.st_mtime_ns


def _already_done(item: BatchInput, entry: StateEntry | None, options: BatchOptions) -> FileOutcome | None:
    """The skipped outcome when this input's marker shows it done with unchanged content; else None."""
    if entry is None or options.force:
        return None
    previous = entry.outcome
    if previous.error_code in filework.RETRYABLE_CODES:
        return None
    if options.retry_failed and previous.status == "failure":
        return None
    ok = previous.status in filework.OK_STATUSES
    if not (json_path(item.output_base) if ok else error_path(item.output_base)).exists():
        return None
    if _stat(item.path) != (entry.size, entry.mtime_ns) and (
        previous.sha256 is None or filework.file_sha256(item.path) != previous.sha256
    ):
        return None
    return previous.model_copy(update={"status": "skipped", "previous": previous.status, "seconds": 0.0})


def _refused(item: BatchInput) -> FileOutcome:
    assert item.refusal is not None
    code, reason = item.refusal
    outcome = filework.failed_outcome(
        item.path, name=item.path.name, input_id=item.input_id, code=code, message=reason
    )
    return write_outputs(item.output_base, outcome, None)


def write_summary(path: Path, outcomes: list[FileOutcome]) -> None:
    """The summary CSV: one row per input, with no names and no values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for o in outcomes:
        writer.writerow(
            [
                o.input_id, o.sha256 or "", o.status, o.previous or "", int(o.exit_code), o.error_code or "",
                o.pages, f"{o.seconds:.3f}", o.stored or "", o.worker or "", o.peak_rss_mb or "",
            ]
        )  # fmt: skip
    filework.write_text(path, buffer.getvalue())


# --------------------------------------------------------------------------------------------------
# The run


def run_batch(options: BatchOptions, settings: Settings) -> BatchSummary:
    """Process every supported file below ``options.in_dir``; see the module docstring for the outputs."""
    started = time.perf_counter()
    if not options.in_dir.is_dir():
        raise BatchError(f"{options.in_dir}: not a folder")
    options.out_dir.mkdir(parents=True, exist_ok=True)
    held = filework.try_lock(options.out_dir / LOCK_NAME)
    if held is None:
        raise BatchError(f"{options.out_dir}: another labreport batch is writing into this folder")
    try:
        return _run(options, settings, started)
    finally:
        filework.unlock(held)


def _run(options: BatchOptions, settings: Settings, started: float) -> BatchSummary:
    for stale in options.out_dir.rglob(".tmp-*.part"):  # left by a killed run; we hold OUT_DIR's lock
        filework.remove(stale)
    inputs, ignored = discover(options.in_dir, options.out_dir)
    state = _State(options.out_dir)
    entries = state.load()
    outcomes: dict[str, FileOutcome] = {}
    progress = Progress(len(inputs), mode=options.progress)
    todo: list[BatchInput] = []
    for item in inputs:
        done = _refused(item) if item.refusal else _already_done(item, entries.get(item.key), options)
        if done is None:
            todo.append(item)
            continue
        outcomes[item.rel] = done
        if item.refusal:
            filework.log_outcome(done)
        progress.advance(pages=0, skipped=done.status == "skipped")
    log.info(
        "batch: %d inputs, %d to read, %d already done or refused, %d other files ignored",
        len(inputs), len(todo), len(inputs) - len(todo), ignored,
    )  # fmt: skip

    before = {item.rel: _stat(item.path) for item in todo}  # a file changed while read is read again next run
    # Slowest first (images need OCR; then larger files): a slow file started last would leave the other
    # workers idle at the end of the run (longest-processing-time-first scheduling).
    todo.sort(key=lambda item: (item.path.suffix.lower() == ".pdf", -(before[item.rel][0] or 0)))

    def finish(rel: str, outcome: FileOutcome) -> None:
        outcomes[rel] = outcome
        size, mtime = before[rel]
        entry = StateEntry(rel=filework.printable(rel), size=size, mtime_ns=mtime, outcome=outcome)
        entries[entry.rel] = entry
        state.append(entry)
        filework.log_outcome(outcome)
        progress.advance(pages=outcome.pages)

    if todo:
        each = filework.worker_settings(settings)
        open_store(each)
        filework.preload()
        tasks = (
            BatchTask(path=str(i.path), output_base=str(i.output_base), input_id=i.input_id, settings=each)
            for i in todo
        )
        rel_of = {str(i.path): i.rel for i in todo}
        executor = make_executor(settings, handle_batch_task, crashed_batch_task)
        try:
            for task, outcome in run_all(executor, tasks):
                finish(rel_of[task.path], outcome)
        finally:
            executor.close()
            progress.close()
    else:
        progress.close()
    state.compact(entries)
    ordered = [outcomes[item.rel] for item in inputs if item.rel in outcomes]
    summary_csv = options.out_dir / SUMMARY_NAME
    write_summary(summary_csv, ordered)
    return BatchSummary(
        outcomes=ordered,
        seconds=round(time.perf_counter() - started, 3),
        summary_csv=summary_csv,
        ignored=ignored,
    )
