"""What a worker does with one file, for `batch` and `watch` alike, and the small file-system tools both use.

Contract:
- ``process(path, settings)`` is the same ``process_file()`` that `extract` calls, so one set of golden tests
  covers all three commands; it never raises.
- ``store_outcome(doc, settings, ...)`` stores success and partial documents (a failed document has no
  results and no patient to attach) and returns the file's ``FileOutcome``; ``Store.add_document`` is
  idempotent by the file's sha256, so running a file again after a crash never stores it twice. A store error
  becomes the file's failure (``store_error``), never an exception.
- ``write_json``/``write_text`` are atomic (temporary file in the same folder, fsync, ``os.replace``): a run
  killed at any moment leaves either the old file or the new one, never half of one.
- ``try_lock`` takes an advisory ``flock``; lock descriptors are closed in forked children, so a worker
  process never keeps its parent's lock alive after the parent died.

Logs carry short content ids (8 hex of the sha256) and counts; file names appear at DEBUG only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import resource
import socket
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_serializer
from sqlalchemy.engine import make_url

from pipeline.api import exit_code, failure_message, process_file
from pipeline.errors import ExitCode, LabreportError
from pipeline.models import Document, Status
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger(__name__)

OK_STATUSES: frozenset[Status] = frozenset({"success", "partial"})
RETRYABLE_CODES = frozenset({"worker_crashed", "store_error", "output_error", "executor_error"})
"""Failures that say nothing about the file itself: a rerun tries these files again."""


class FileOutcome(BaseModel):
    """What became of one input file: the one typed result per file that batch and watch return."""

    model_config = ConfigDict(extra="forbid")

    path: str
    """Where the input is now (batch: where it was read; watch: its place in done/ or failed/)."""
    name: str
    """The input's own file name (may hold a patient's name: never logged above DEBUG, never in the CSV)."""
    input_id: str
    """A short pseudonymous id of this input (batch: hash of its relative path; watch: its claim token)."""
    sha256: str | None = None
    status: Status
    exit_code: ExitCode = ExitCode.OK
    pages: int = 0
    seconds: float = 0.0
    error_code: str | None = None
    message: str | None = None
    output: str | None = None
    """The JSON written for this file: the Document, or the ErrorRecord of a failure."""
    stored: Literal["added", "duplicate"] | None = None
    patient_key: str | None = None
    previous: Status | None = None
    """For a skipped file: the status the earlier run gave it."""
    worker: str | None = None
    peak_rss_mb: float | None = None
    """Peak resident memory of the worker process that read the file, so far."""

    @field_serializer("path", "name", "message", "output")
    def _printable(self, value: str | None) -> str | None:
        return None if value is None else printable(value)


class ErrorRecord(BaseModel):
    """The `<name>.error.json` of a failed file: why, and the failed Document when there is one."""

    model_config = ConfigDict(extra="forbid")

    error_code: str
    message: str
    outcome: FileOutcome
    document: Document | None = None

    @field_serializer("message")
    def _printable(self, value: str) -> str:
        return printable(value)


# --------------------------------------------------------------------------------------------------
# Ids, settings and caches


def printable(text: str) -> str:
    """A file name that is not valid UTF-8 (a Latin-1 share, say) made writable as JSON: bad bytes become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def short(sha256: str | None) -> str:
    """The 8-hex id used in logs for a file's content."""
    return (sha256 or "-" * 8)[:8]


def input_id(key: str) -> str:
    """A stable pseudonymous id for an input key such as its relative path (names may hold PHI)."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def file_sha256(path: Path) -> str | None:
    """The sha256 of a regular file's bytes, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def absolute_database_url(url: str) -> str:
    """A relative SQLite path made absolute, so workers with another working folder use the same file."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return url
    if Path(database).is_absolute():
        return url
    return parsed.set(database=str(Path(database).expanduser().resolve())).render_as_string(
        hide_password=False
    )


def worker_settings(settings: Settings) -> Settings:
    """Settings for one file among several running at once: one process per core in total (workers=1)."""
    return settings.model_copy(
        update={"workers": 1, "database_url": absolute_database_url(settings.database_url)}
    )


_STORES: dict[str, Store] = {}


def _forget_stores() -> None:
    """In a forked child: never reuse the parent's database connections."""
    _STORES.clear()


os.register_at_fork(after_in_child=_forget_stores)


def store_for(settings: Settings) -> Store:
    """This process's store for the settings' database, opened once and reused for every file."""
    store = _STORES.get(settings.database_url)
    if store is None:
        store = _STORES[settings.database_url] = Store.from_settings(settings)
    return store


class DatabaseError(LabreportError):
    exit_code = ExitCode.USAGE
    code = "database_unavailable"


def open_store(settings: Settings) -> None:
    """Open the database once before the workers start: creates the schema, and fails early and clearly."""
    try:
        Store.from_settings(settings).close()
    except Exception as exc:  # any driver error: say which kind, without the URL (it may hold a password)
        first = (str(exc).splitlines() or [""])[0][:200]
        raise DatabaseError(f"cannot open the database ({type(exc).__name__}: {first})") from exc


def preload() -> None:
    """Build the cached knowledge base before workers fork, so each worker starts warm and shares it."""
    from parsers.knowledge import load_knowledge

    load_knowledge()


def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------------------------------
# One file


def process(path: Path, settings: Settings) -> Document:
    """The same extraction as `labreport extract`; the sha256 is filled in when extraction stopped early."""
    doc = process_file(path, settings)
    if doc.source.sha256 is None and path.is_file() and not path.is_symlink():
        sha = file_sha256(path)
        doc = doc.model_copy(update={"source": doc.source.model_copy(update={"sha256": sha})})
    if printable(str(path)) != str(path):
        doc = relocated(doc, path, path.name)
    return doc


def relocated(doc: Document, path: Path, name: str) -> Document:
    """The document with its source (and the messages naming it) at the file's final place, under its own name."""
    old, new = doc.source.path, printable(str(path))
    issues = [
        i.model_copy(update={"message": printable(i.message.replace(old, new).replace(printable(old), new))})
        for i in doc.issues
    ]
    source = doc.source.model_copy(update={"path": new, "name": printable(name)})
    return doc.model_copy(update={"source": source, "issues": issues})


def store_outcome(
    doc: Document, settings: Settings, *, name: str, input_id: str, started: float
) -> FileOutcome:
    """Store a readable document (idempotent by sha256) and describe what became of the file."""
    outcome = FileOutcome(
        path=doc.source.path,
        name=name,
        input_id=input_id,
        sha256=doc.source.sha256,
        status=doc.status,
        exit_code=exit_code(doc),
        pages=doc.source.pages or len(doc.extraction.pages),
        worker=worker_label(),
    )
    if doc.status == "failure":
        errors = [issue.code for issue in doc.issues if issue.severity == "error"]
        outcome.error_code = errors[0] if errors else "failure"
        outcome.message = failure_message(doc)
    else:
        try:
            added = store_for(settings).add_document(doc)
        except Exception as exc:  # a database problem fails this file, not the run; the rerun retries it
            log.warning("file %s: could not be stored (%s)", short(doc.source.sha256), type(exc).__name__)
            log.debug("store error for %s", name, exc_info=True)
            outcome.status = "failure"
            outcome.exit_code = ExitCode.INTERNAL_ERROR
            outcome.error_code = "store_error"
            outcome.message = (
                f"{doc.source.path}: read, but not stored in the database ({type(exc).__name__})"
            )
        else:
            outcome.stored = added.status
            outcome.patient_key = added.patient_key
    outcome.seconds = round(time.perf_counter() - started, 3)
    outcome.peak_rss_mb = peak_rss_mb()
    return outcome


def failed_outcome(
    path: Path, *, name: str, input_id: str, code: str, message: str, exit: ExitCode = ExitCode.INPUT_ERROR
) -> FileOutcome:
    """The outcome of a file that was never (or not fully) read: a refused link, a crashed worker."""
    sha = file_sha256(path) if path.is_file() and not path.is_symlink() else None
    return FileOutcome(
        path=str(path),
        name=name,
        input_id=input_id,
        sha256=sha,
        status="failure",
        exit_code=exit,
        error_code=code,
        message=f"{path}: {message}",
    )


def error_record(outcome: FileOutcome, document: Document | None) -> ErrorRecord:
    return ErrorRecord(
        error_code=outcome.error_code or "failure",
        message=outcome.message or f"{outcome.path}: failed",
        outcome=outcome,
        document=document,
    )


def log_outcome(outcome: FileOutcome) -> None:
    """One INFO line per file with its content id, never its name."""
    log.info(
        "file %s: %s%s, %d pages, %.2f s",
        short(outcome.sha256),
        outcome.status,
        f" ({outcome.error_code})" if outcome.error_code else "",
        outcome.pages,
        outcome.seconds,
    )
    log.debug("file %s is %s", short(outcome.sha256), outcome.name)


# --------------------------------------------------------------------------------------------------
# File-system tools


def write_json(path: Path, model: BaseModel) -> None:
    """Write a model as JSON atomically: a reader (or a crash) never sees half a file."""
    write_text(path, model.model_dump_json(indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove(path: Path) -> None:
    """Delete one of our own output files if it is there."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


_LOCK_FDS: set[int] = set()


def _close_lock_fds() -> None:
    for fd in _LOCK_FDS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _LOCK_FDS.clear()


os.register_at_fork(after_in_child=_close_lock_fds)


def try_lock(path: Path, *, create: bool = True) -> int | None:
    """An exclusive flock on `path` without waiting: the descriptor, or None when another holder has it."""
    flags = os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    _LOCK_FDS.add(fd)
    return fd


def lock(path: Path) -> int:
    """An exclusive flock on `path`, waiting for it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _LOCK_FDS.add(fd)
    return fd


def unlock(fd: int) -> None:
    _LOCK_FDS.discard(fd)
    os.close(fd)
