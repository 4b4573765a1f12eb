"""`labreport watch INBOX --out OUT_DIR`: read every file dropped into a folder, exactly once, crash or not.

A file is taken once it is complete, claimed by one atomic rename into ``OUT_DIR/processing/``, read by the
same ``process_file()`` as `extract` in a worker process, stored (idempotent by sha256), and moved by one
rename to ``OUT_DIR/done/`` (with ``OUT_DIR/results/<name>.json``) or ``OUT_DIR/failed/`` (with
``<name>.error.json`` giving the reason). ``inbox`` holds the file-moving rules and the guarantees.

File events come from watchdog (inotify) with watchdog's PollingObserver as the fallback (``poll``, or
automatically when inotify is unavailable); either way the inbox is rescanned every ``interval`` seconds, so a
lost event only delays a file. ``once`` processes what is there (waiting up to ``once_wait`` seconds for
files still being written) and returns. Symbolic links and other non-regular files are never followed: they
are moved to failed/ with the reason, their targets untouched. With ``report_dir`` the patient's report is
refreshed after each stored file (before the file is moved, so a crash cannot skip it).
"""

from __future__ import annotations

import logging
import stat
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline import filework
from pipeline.errors import ExitCode
from pipeline.executors import Executor, make_executor
from pipeline.filework import FileOutcome
from pipeline.inbox import Claim, Inbox, Stability, destination, finish, open_for_writing, scan, sidecar
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_BUSY_POLL = 0.2
_STOP_POLL = 0.5


class WatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inbox: Path
    out_dir: Path
    once: bool = False
    poll: bool = False
    settle: float = Field(default=2.0, gt=0)
    """Seconds a file's size and mtime must stay unchanged before it is taken."""
    interval: float = Field(default=2.0, gt=0)
    """Seconds between polls and full rescans."""
    once_wait: float = Field(default=60.0, ge=0)
    """With ``once``: how long to wait for files still being written before leaving them in the inbox."""
    max_attempts: int = Field(default=3, ge=1)
    """A file interrupted this many times (watcher or worker killed while reading it) is failed."""
    report_dir: Path | None = None


class WatchTask(BaseModel):
    """What a worker needs to finish one claimed file."""

    model_config = ConfigDict(extra="forbid")

    claim: str
    name: str
    out_dir: str
    settings: Settings
    report_dir: str | None = None


class WatchSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[FileOutcome]
    left_in_inbox: int = 0
    """Files still being written when a ``once`` run gave up waiting for them."""
    seconds: float

    @property
    def exit_code(self) -> ExitCode:
        return max((o.exit_code for o in self.outcomes), default=ExitCode.OK)


# --------------------------------------------------------------------------------------------------
# The worker side


def _refresh_report(task: WatchTask, outcome: FileOutcome) -> None:
    """Rewrite the patient's report; a failure here is logged, never the file's failure."""
    from pipeline.render.report import report_for_patient

    if task.report_dir is None or outcome.patient_key is None:
        return
    try:
        report_for_patient(
            filework.store_for(task.settings),
            outcome.patient_key,
            Path(task.report_dir) / outcome.patient_key,
        )
    except Exception as exc:  # the file is stored; the next file of this patient refreshes the report again
        log.warning("file %s: report not refreshed (%s)", filework.short(outcome.sha256), type(exc).__name__)
        log.debug("report refresh failed", exc_info=True)


def handle_claim(task: WatchTask) -> FileOutcome:
    """In a worker: read, store, refresh the report, move to done/ or failed/; never raises."""
    started = time.perf_counter()
    claim, out = Path(task.claim), Path(task.out_dir)
    document = filework.process(claim, task.settings)
    dest = destination(claim, out, ok=document.status in filework.OK_STATUSES)
    document = filework.relocated(document, dest, task.name)
    outcome = filework.store_outcome(
        document, task.settings, name=task.name, input_id=claim.parent.name, started=started
    )
    ok = outcome.status in filework.OK_STATUSES
    if not ok and dest.parent.name == "done":  # read but not stored: failed/, with the reason
        stored_at, dest = dest, destination(claim, out, ok=False)
        document = filework.relocated(document, dest, task.name)
        outcome.message = (outcome.message or "").replace(str(stored_at), str(dest))
    outcome = outcome.model_copy(update={"path": str(dest), "output": str(sidecar(dest))})
    if ok:
        _refresh_report(task, outcome)
        payload = document.model_dump_json(indent=2) + "\n"
    else:
        payload = filework.error_record(outcome, document).model_dump_json(indent=2) + "\n"
    if not finish(claim, dest, payload):
        return outcome.model_copy(update={"status": "skipped", "error_code": "claim_lost", "output": None})
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


def fail_unread(claim: Claim, out_dir: Path, code: str, reason: str, exit: ExitCode) -> FileOutcome:
    """Move a claimed file that is never read (a link, a crashing file) to failed/ with the reason."""
    dest = destination(claim.file, out_dir, ok=False)
    outcome = filework.failed_outcome(
        claim.file, name=claim.name, input_id=claim.token, code=code, message=reason, exit=exit
    )
    outcome = outcome.model_copy(
        update={"path": str(dest), "message": f"{dest}: {reason}", "output": str(sidecar(dest))}
    )
    finish(claim.file, dest, filework.error_record(outcome, None).model_dump_json(indent=2) + "\n")
    return outcome


def crashed_claim(task: WatchTask, reason: str) -> FileOutcome:
    """In the watcher: the file whose worker died goes to failed/ with the reason."""
    claim = Claim(file=Path(task.claim), name=task.name)
    return fail_unread(claim, Path(task.out_dir), "worker_crashed", reason, ExitCode.INTERNAL_ERROR)


# --------------------------------------------------------------------------------------------------
# The watcher


def _link_reason(path: Path, inbox: Path) -> str:
    if path.is_symlink():
        target = path.resolve()
        where = "inside" if target.is_relative_to(inbox) else "outside"
        return f"a symbolic link pointing {where} the inbox; links are never followed (target not touched)"
    return "not a regular file (a pipe, socket or device); it was not read"


def _start_observer(inbox: Path, wake: threading.Event, poll: bool, interval: float) -> Any:
    """A watchdog observer that sets `wake` on any change; polling when asked or when inotify is missing."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    class _Wake(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            wake.set()

    if not poll:
        observer: Any = Observer()
        try:
            observer.schedule(_Wake(), str(inbox), recursive=True)
            observer.start()
            return observer
        except OSError as exc:
            log.warning(
                "file events are unavailable (%s); polling every %.1f s instead", exc.strerror, interval
            )
    observer = PollingObserver(timeout=interval)
    observer.schedule(_Wake(), str(inbox), recursive=True)
    observer.start()
    return observer


class _Watcher:
    """The loop: look at the inbox, claim what is complete, keep the workers busy, collect outcomes."""

    def __init__(
        self,
        options: WatchOptions,
        inbox: Inbox,
        executor: Executor[WatchTask],
        each: Settings,
        stop: threading.Event,
    ) -> None:
        self.options = options
        self.inbox = inbox
        self.executor = executor
        self.each = each
        self.stop = stop
        self.wake = threading.Event()
        self.stability = Stability(options.settle)
        self.pending: deque[Claim] = deque()
        self.outcomes: list[FileOutcome] = []
        self.waiting = 0
        self.exclude = [options.out_dir]

    def look(self) -> list[tuple[Path, str | None]]:
        """Inbox entries ready to take, with a refusal reason for links and special files."""
        now = time.monotonic()
        ready: list[tuple[Path, str | None]] = []
        quiet: list[Path] = []
        present: set[Path] = set()
        for path, st in scan(self.inbox.inbox, self.exclude):
            present.add(path)
            if not stat.S_ISREG(st.st_mode):
                ready.append((path, _link_reason(path, self.inbox.inbox)))
            elif self.stability.stable(path, st, now):
                quiet.append(path)
        self.stability.keep_only(present)
        busy = open_for_writing(quiet)
        for path in busy:
            self.stability.restart(path, now)
        ready.extend((path, None) for path in quiet if path not in busy)
        self.waiting = len(present) - len(ready)
        return ready

    def dispatch(self, ready: list[tuple[Path, str | None]]) -> None:
        """Start pending claims first (adopted ones), then claim ready inbox files, while workers are free."""
        while self.executor.in_flight < self.executor.capacity:
            if self.pending:
                self.start(self.pending.popleft(), None)
                continue
            if not ready:
                return
            path, refusal = ready.pop(0)
            self.stability.forget(path)
            claim = self.inbox.claim(path)
            if claim is not None:
                self.start(claim, refusal)

    def start(self, claim: Claim, refusal: str | None) -> None:
        out = self.inbox.out_dir
        if refusal is None and claim.file.is_symlink():  # resumed: where it pointed from the inbox is unknown
            refusal = "a symbolic link; links are never followed (target not touched)"
        elif refusal is None and not claim.file.is_file():
            refusal = _link_reason(claim.file, self.inbox.inbox)
        if refusal is not None:
            code = "symlink" if claim.file.is_symlink() else "not_regular_file"
            self.record(fail_unread(claim, out, code, refusal, ExitCode.INPUT_ERROR))
            return
        attempts = self.inbox.attempt(claim)
        if attempts > self.options.max_attempts:
            reason = (
                f"reading this file was interrupted {attempts - 1} times (the watcher or its worker was "
                "killed); it was not tried again"
            )
            self.record(fail_unread(claim, out, "interrupted", reason, ExitCode.INTERNAL_ERROR))
            return
        report_dir = str(self.options.report_dir.resolve()) if self.options.report_dir else None
        task = WatchTask(
            claim=str(claim.file),
            name=claim.name,
            out_dir=str(out),
            settings=self.each,
            report_dir=report_dir,
        )
        self.executor.submit(task)

    def record(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)
        filework.log_outcome(outcome)

    def collect(self, timeout: float | None) -> None:
        for _, outcome in self.executor.wait(timeout):
            self.record(outcome)

    def run(self) -> None:
        """Scan on file events, every ``interval``, and every settle/2 while files are settling."""
        started = last_adopt = next_scan = time.monotonic()
        self.pending.extend(self.inbox.adopt())
        ready: list[tuple[Path, str | None]] = []
        while not self.stop.is_set():
            now = time.monotonic()
            if now - last_adopt >= self.options.interval * 5:
                self.pending.extend(self.inbox.adopt())
                last_adopt = now
            if self.wake.is_set() or now >= next_scan:
                self.wake.clear()
                ready = self.look()
                next_scan = now + (self.options.settle / 2 if self.waiting else self.options.interval)
            self.dispatch(ready)
            if self.executor.in_flight:
                self.collect(_BUSY_POLL)
                continue
            settled = self.waiting == 0 or now - started >= self.options.once_wait
            if self.options.once and not self.pending and not ready and settled:
                return
            self.wake.wait(min(max(0.0, next_scan - time.monotonic()), _STOP_POLL))
        while self.executor.in_flight:  # stopping: let the files in flight finish
            self.collect(None)


def run_watch(options: WatchOptions, settings: Settings, stop: threading.Event | None = None) -> WatchSummary:
    """Watch ``options.inbox`` until `stop` is set (or, with ``once``, until the inbox is done)."""
    started = time.perf_counter()
    inbox = Inbox(options.inbox, options.out_dir)
    try:
        each = filework.worker_settings(settings)
        filework.open_store(each)
        filework.preload()
        executor = make_executor(settings, handle_claim, crashed_claim)
        try:
            executor.start()  # fork the workers before the observer's threads exist
            watcher = _Watcher(options, inbox, executor, each, stop or threading.Event())
            observer = (
                None
                if options.once
                else _start_observer(inbox.inbox, watcher.wake, options.poll, options.interval)
            )
            try:
                watcher.run()
            finally:
                if observer is not None:
                    observer.stop()
                    observer.join()
        finally:
            executor.close()
    finally:
        inbox.close()
    return WatchSummary(
        outcomes=watcher.outcomes,
        left_in_inbox=watcher.waiting,
        seconds=round(time.perf_counter() - started, 3),
    )
