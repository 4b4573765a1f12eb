"""The executor seam: run one function per file on a local process pool (the default) or a Dask cluster.

Contract:
- ``make_executor(settings, fn, crashed)`` returns an ``Executor``. ``submit(task)`` starts one file;
  ``wait(timeout)`` returns the ``(task, outcome)`` pairs finished since the last call. Every submitted task
  comes back exactly once. ``run_all`` drives an executor over an iterable of tasks, ``capacity`` in flight.
- A worker that dies (killed, out of memory, a crash in a native library) costs only the file it was reading:
  ``crashed(task, reason)`` makes that file's failed outcome and the run goes on.
- ``fn`` and its task cross a process boundary: a top-level function and a picklable (pydantic) task.

Process pool (``executor='process'``): on Linux the workers are forked, so they inherit the parent's imports
and warmed caches (the stdlib pool starts in hundredths of a second). Each worker ignores SIGINT (the parent
decides when to stop) and dies with its parent (PR_SET_PDEATHSIG), so a watcher killed with SIGKILL leaves no
worker behind. When the pool breaks, every file in flight is run again alone in a fresh pool: the one that
kills its worker again is failed, the others complete normally.

Dask (``executor='dask'``): ``settings.scheduler`` names a running scheduler (tcp://host:8786); without it a
LocalCluster of ``settings.workers`` single-threaded worker processes is started on 127.0.0.1. Workers must
see the same files and database as the client (a shared file system; PostgreSQL, or SQLite on one host). The
scheduler reruns a task whose worker died on another worker (``distributed.scheduler.allowed-failures``, 3 by
default) before giving up with KilledWorker, which becomes that file's failure.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, Generic, Protocol, TypeVar

from pipeline.errors import ExitCode, LabreportError
from pipeline.filework import FileOutcome
from pipeline.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[T], FileOutcome]
Crashed = Callable[[T, str], FileOutcome]

WORKER_DIED = (
    "the worker process died while reading this file (killed, out of memory, or a crash in a native "
    "library); it died again when the file was retried alone"
)
DASK_WORKER_DIED = "every Dask worker that tried to read this file died (killed, out of memory, or a crash)"
_PR_SET_PDEATHSIG = 1


class ExecutorError(LabreportError):
    """The executor itself cannot run (no Dask installed, scheduler unreachable)."""

    exit_code = ExitCode.USAGE
    code = "executor_unavailable"


class Executor(Protocol[T]):
    """Runs one function per file somewhere else and hands back one outcome per file."""

    @property
    def capacity(self) -> int: ...

    @property
    def in_flight(self) -> int: ...

    def start(self) -> None: ...

    def submit(self, task: T) -> None: ...

    def wait(self, timeout: float | None) -> list[tuple[T, FileOutcome]]: ...

    def close(self) -> None: ...


def make_executor(settings: Settings, fn: Work[T], crashed: Crashed[T]) -> Executor[T]:
    """The executor the settings ask for (LABREPORT_EXECUTOR, LABREPORT_SCHEDULER, LABREPORT_WORKERS)."""
    if settings.executor == "dask":
        return DaskExecutor(fn, crashed, scheduler=settings.scheduler, workers=settings.workers)
    return ProcessExecutor(fn, crashed, workers=settings.workers)


def run_all(executor: Executor[T], tasks: Iterable[T]) -> Iterator[tuple[T, FileOutcome]]:
    """Every task through the executor, at most ``capacity`` in flight; yields pairs as they finish."""
    pending = iter(tasks)
    exhausted = False
    while True:
        while not exhausted and executor.in_flight < executor.capacity:
            try:
                executor.submit(next(pending))
            except StopIteration:
                exhausted = True
        if executor.in_flight == 0:
            return
        yield from executor.wait(None)


# --------------------------------------------------------------------------------------------------
# Local process pool


def _context() -> BaseContext:
    """fork on Linux (fast start, shared warm caches); the platform default elsewhere."""
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the process that forked it dies."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _ready(_: int) -> int:
    return os.getpid()


class ProcessExecutor(Generic[T]):
    """A stdlib process pool in which a crashing file fails alone."""

    def __init__(self, fn: Work[T], crashed: Crashed[T], *, workers: int) -> None:
        self._fn = fn
        self._crashed = crashed
        self._workers = workers
        self._pool = self._new_pool()
        self._futures: dict[cf.Future[FileOutcome], T] = {}
        self.startup_seconds = 0.0

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=_context(),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    @property
    def capacity(self) -> int:
        """Twice the workers: the next file is already queued when a worker finishes one."""
        return 2 * self._workers

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def start(self) -> None:
        """Start the worker processes now, before the caller starts threads (fork copies only the caller)."""
        started = time.perf_counter()
        list(self._pool.map(_ready, range(self._workers)))
        self.startup_seconds = time.perf_counter() - started

    def submit(self, task: T) -> None:
        try:
            future = self._pool.submit(self._fn, task)
        except BrokenProcessPool:  # broke since the last wait(): its futures are failing too; start afresh
            self._restart()
            future = self._pool.submit(self._fn, task)
        self._futures[future] = task

    def wait(self, timeout: float | None) -> list[tuple[T, FileOutcome]]:
        if not self._futures:
            return []
        done, _ = cf.wait(self._futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
            done, _ = cf.wait(self._futures)  # a broken pool fails all its futures at once
        finished: list[tuple[T, FileOutcome]] = []
        suspects: list[T] = []
        for future in done:
            task = self._futures.pop(future)
            exc = future.exception()
            if exc is None:
                finished.append((task, future.result()))
            elif isinstance(exc, BrokenProcessPool):
                suspects.append(task)
            else:  # fn never raises by contract; a pickling error or a bug still fails this file only
                log.debug("worker raised", exc_info=exc)
                finished.append((task, self._crashed(task, f"the worker raised {type(exc).__name__}")))
        if suspects:
            log.warning("a worker process died; retrying its %d possible files one at a time", len(suspects))
            self._restart()
            finished.extend(self._isolate(suspects))
        return finished

    def _isolate(self, suspects: list[T]) -> list[tuple[T, FileOutcome]]:
        """Run each suspect alone: the one that kills its worker again is the culprit."""
        finished: list[tuple[T, FileOutcome]] = []
        for task in suspects:
            try:
                finished.append((task, self._pool.submit(self._fn, task).result()))
            except BrokenProcessPool:
                log.warning("a file killed its worker process again; it is failed and the run goes on")
                finished.append((task, self._crashed(task, WORKER_DIED)))
                self._restart()
            except Exception as exc:  # as in wait(): fails this file only
                finished.append((task, self._crashed(task, f"the worker raised {type(exc).__name__}")))
        return finished

    def _restart(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()


# --------------------------------------------------------------------------------------------------
# Dask distributed


class DaskExecutor(Generic[T]):
    """Files sent to a Dask distributed cluster (an existing scheduler, or a LocalCluster)."""

    def __init__(
        self, fn: Work[T], crashed: Crashed[T], *, scheduler: str | None, workers: int, timeout: float = 20.0
    ) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise ExecutorError("the Dask executor needs dask[distributed] (labreport[dask])") from exc
        self._dask: Any = distributed  # untyped library: kept behind Any
        self._fn = fn
        self._crashed = crashed
        self._cluster: Any = None
        self._client: Any = None
        self._futures: dict[Any, T] = {}
        started = time.perf_counter()
        try:
            if scheduler is None:
                self._cluster = self._dask.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
                client = self._dask.Client(self._cluster)
            else:
                client = self._dask.Client(scheduler, timeout=f"{timeout}s")
            self._client = client
            client.wait_for_workers(1, timeout=3 * timeout)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = scheduler or "a local cluster"
            raise ExecutorError(f"cannot use the Dask scheduler at {where}: {exc}") from exc
        threads = int(sum(client.nthreads().values()))
        self._capacity: int = 2 * max(threads, 1)
        self.startup_seconds = time.perf_counter() - started
        log.info("Dask executor: %d worker threads, ready in %.2f s", threads, self.startup_seconds)

    @property
    def capacity(self) -> int:
        return self._capacity

    def start(self) -> None:
        """The cluster is up once the constructor returns."""

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def submit(self, task: T) -> None:
        assert self._client is not None
        future = self._client.submit(self._fn, task, pure=False, key=f"labreport-file-{uuid.uuid4().hex}")
        self._futures[future] = task

    def wait(self, timeout: float | None) -> list[tuple[T, FileOutcome]]:
        if not self._futures:
            return []
        try:
            done, _ = self._dask.wait(list(self._futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        finished: list[tuple[T, FileOutcome]] = []
        for future in done:
            task = self._futures.pop(future)
            finished.append((task, self._outcome(future, task)))
            future.release()
        return finished

    def _outcome(self, future: Any, task: T) -> FileOutcome:
        if future.status == "finished":
            outcome = future.result()
            if isinstance(outcome, FileOutcome):
                return outcome
            return self._crashed(task, f"the Dask task returned {type(outcome).__name__}")
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, self._dask.KilledWorker):
                log.warning("a file killed every Dask worker that tried it; it is failed and the run goes on")
                return self._crashed(task, DASK_WORKER_DIED)
            return self._crashed(task, f"the Dask task failed ({type(exc).__name__})")
        return self._crashed(task, f"the Dask cluster lost the task ({future.status})")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a half-started or already lost cluster
                if self._futures:
                    client.cancel(list(self._futures))
                client.close()
        self._futures.clear()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
