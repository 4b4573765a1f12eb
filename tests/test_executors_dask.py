"""The Dask executor against a real cluster on loopback: a `dask scheduler` and two `dask worker` processes.

The cluster is started once for the module (a few seconds). A batch runs through ``--executor dask
--scheduler tcp://127.0.0.1:PORT``; a file that kills every worker that tries it fails alone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from pipeline.errors import ExitCode
from pipeline.executors import DASK_WORKER_DIED, DaskExecutor, ExecutorError, run_all
from pipeline.filework import FileOutcome
from tests.stored import stored_reports
from tests.test_executors import Job, crashed, work

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "fixtures" / "reports"
BIN = Path(sys.executable).parent


def _wait_for_workers(address: str, count: int) -> None:
    import distributed

    dask: Any = distributed  # untyped library
    with dask.Client(address, timeout="20s") as client:
        client.wait_for_workers(count, timeout=60)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """tcp://127.0.0.1:PORT of a scheduler with two single-threaded workers (separate processes)."""
    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        # two deaths are enough to call a file a killer; one task per worker so no innocent file shares its fate
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
    }
    common = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sched = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", info],
        **common,  # type: ignore[call-overload]
    )
    procs = [sched]
    try:
        deadline = time.monotonic() + 30
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [BIN / "dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--memory-limit", "0"],
                **common,  # type: ignore[call-overload]
            )
        )  # fmt: skip
        _wait_for_workers(address, 2)
        yield address
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in reversed(procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_batch_through_dask_stores_each_report_once(scheduler: str, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    sources = sorted(REPORTS.glob("*.pdf"))[:8]
    for source in sources:
        shutil.copy(source, inbox / source.name)
    shutil.copy(sources[0], inbox / "same content again.pdf")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n")
    out, db = tmp_path / "out", tmp_path / "lab.sqlite"
    argv = ["batch", str(inbox), "--out", str(out), "--scheduler", scheduler, "--db", f"sqlite:///{db}"]
    code = cli.main([*argv, "--progress", "none"])
    assert code == ExitCode.INPUT_ERROR
    rows = list((out / "summary.csv").read_text().splitlines())[1:]
    assert len(rows) == len(sources) + 2
    for source in sources:
        doc = json.loads((out / f"{source.name}.json").read_text())
        assert doc["status"] == "success"
    assert json.loads((out / "broken.pdf.error.json").read_text())["error_code"] == "corrupt_file"
    stored = stored_reports(db)
    assert len(stored) == len(set(stored)) == len(sources), "the copy with the same bytes is stored once"
    workers = {row.split(",")[9] for row in rows if row.split(",")[2] == "success"}
    assert len(workers) == 2, "both Dask workers took files"
    assert cli.main([*argv, "--progress", "none"]) == code, "a rerun skips everything and says the same"
    assert len(stored_reports(db)) == len(sources)


def test_a_file_that_kills_its_dask_worker_fails_alone(scheduler: str) -> None:
    executor = DaskExecutor(work, crashed, scheduler=scheduler, workers=2)
    try:
        jobs = [Job(name="poison", action="die"), *(Job(name=f"ok{i}") for i in range(4))]
        outcomes: dict[str, FileOutcome] = {job.name: outcome for job, outcome in run_all(executor, jobs)}
    finally:
        executor.close()
    assert sorted(outcomes) == sorted(j.name for j in jobs)
    assert outcomes["poison"].status == "failure"
    assert outcomes["poison"].error_code == "worker_crashed"
    assert outcomes["poison"].message == DASK_WORKER_DIED
    assert all(outcomes[f"ok{i}"].status == "success" for i in range(4))
    _wait_for_workers(scheduler, 2)  # the nannies restarted the killed workers


def test_an_unreachable_scheduler_is_a_usage_error() -> None:
    with pytest.raises(ExecutorError) as caught:
        DaskExecutor(work, crashed, scheduler="tcp://127.0.0.1:9", workers=1, timeout=1.0)
    assert caught.value.exit_code == ExitCode.USAGE
