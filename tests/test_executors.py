"""The executor seam: one outcome per file, a crashing file fails alone, workers die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from pipeline.errors import ExitCode
from pipeline.executors import ProcessExecutor, run_all
from pipeline.filework import FileOutcome

ROOT = Path(__file__).resolve().parents[1]


class Job(BaseModel):
    name: str
    action: str = "ok"
    """ok: return success; die: SIGKILL the worker; raise: raise an exception; sleep: take 0.3 s."""


def work(job: Job) -> FileOutcome:
    if job.action == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if job.action == "raise":
        raise RuntimeError("boom")
    if job.action == "sleep":
        time.sleep(0.3)
    return FileOutcome(path=job.name, name=job.name, input_id=job.name, status="success", worker=str(os.getpid()))


def crashed(job: Job, reason: str) -> FileOutcome:
    return FileOutcome(
        path=job.name,
        name=job.name,
        input_id=job.name,
        status="failure",
        exit_code=ExitCode.INTERNAL_ERROR,
        error_code="worker_crashed",
        message=reason,
    )


def _run(jobs: list[Job], workers: int) -> dict[str, FileOutcome]:
    executor = ProcessExecutor(work, crashed, workers=workers)
    try:
        pairs = list(run_all(executor, jobs))
    finally:
        executor.close()
    names = [job.name for job, _ in pairs]
    assert sorted(names) == sorted(j.name for j in jobs), "every job comes back exactly once"
    return {job.name: outcome for job, outcome in pairs}


def test_every_job_comes_back_once_and_runs_in_several_workers() -> None:
    jobs = [Job(name=f"f{i}", action="sleep") for i in range(8)]
    started = time.perf_counter()
    outcomes = _run(jobs, workers=2)
    elapsed = time.perf_counter() - started
    assert all(o.status == "success" for o in outcomes.values())
    assert len({o.worker for o in outcomes.values()}) == 2
    assert elapsed < 8 * 0.3, "two workers overlap"


@pytest.mark.parametrize(
    ("workers", "poison"),
    [(1, ["f3"]), (2, ["f2"]), (2, ["f1", "f6"])],
    ids=["one-worker", "two-workers", "two-poison-files"],
)
def test_a_file_that_kills_its_worker_fails_alone(workers: int, poison: list[str]) -> None:
    jobs = [Job(name=f"f{i}", action="die" if f"f{i}" in poison else "ok") for i in range(8)]
    outcomes = _run(jobs, workers=workers)
    failed = sorted(name for name, o in outcomes.items() if o.status == "failure")
    assert failed == sorted(poison)
    assert all(outcomes[name].error_code == "worker_crashed" for name in poison)
    assert "died" in (outcomes[poison[0]].message or "")


def test_an_exception_in_the_worker_fails_that_file_only() -> None:
    outcomes = _run([Job(name="a"), Job(name="b", action="raise"), Job(name="c")], workers=2)
    assert [outcomes[n].status for n in "abc"] == ["success", "failure", "success"]
    assert "RuntimeError" in (outcomes["b"].message or "")


def test_run_all_keeps_at_most_capacity_in_flight() -> None:
    executor = ProcessExecutor(work, crashed, workers=2)
    seen: list[int] = []

    def jobs() -> object:
        for i in range(10):
            seen.append(executor.in_flight)
            yield Job(name=f"f{i}")

    try:
        done = list(run_all(executor, jobs()))  # type: ignore[arg-type]
    finally:
        executor.close()
    assert len(done) == 10
    assert max(seen) < executor.capacity


def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    """A parent killed with SIGKILL leaves no worker behind (PR_SET_PDEATHSIG)."""
    script = textwrap.dedent(
        """
        import sys, time
        from tests.test_executors import Job, crashed, work
        from pipeline.executors import ProcessExecutor
        ex = ProcessExecutor(work, crashed, workers=2)
        ex.start()
        for i in range(6):
            ex.submit(Job(name=str(i), action="sleep"))
        pids = set()
        while ex.in_flight:
            pids |= {outcome.worker for _, outcome in ex.wait(None)}
        print(" ".join(sorted(pids)), flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        time.sleep(0.05)
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
