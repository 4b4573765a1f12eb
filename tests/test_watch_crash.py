"""`labreport watch` under crashes: killed at each dangerous point, SIGKILLed mid-run, two watchers at once.

After every scenario the same invariant holds: each input is in done/ or failed/ exactly once with its
JSON, processing/ is empty, and the database holds each readable report exactly once.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fixtures.badinput import REPORTS, varied_copy
from pipeline import cli, filework
from pipeline.errors import ExitCode
from pipeline.inbox import CLAIM_INFO, ClaimInfo, Inbox, destination, scan, sidecar
from pipeline.settings import Settings
from pipeline.watch import WatchOptions, run_watch
from tests.stored import stored_reports

ROOT = Path(__file__).resolve().parents[1]


def _drop(inbox: Path, count: int, *, broken: int = 0) -> dict[str, str]:
    """`count` distinct reports and `broken` corrupt files; returns name -> sha256."""
    sources = sorted(REPORTS.glob("*.pdf"))
    made = {}
    for i in range(count):
        varied_copy(sources[i % len(sources)], inbox / f"r{i:03d}.pdf", f"{i}")
    for i in range(broken):
        (inbox / f"broken{i}.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog" + bytes([i]))
    for path in inbox.iterdir():
        made[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return made


def _once(inbox: Path, out: Path, db: Path, *extra: str) -> int:
    argv = ["watch", str(inbox), "--out", str(out), "--db", f"sqlite:///{db}", "--once", "--workers", "2"]
    return cli.main([*argv, "--settle", "0.2", "--interval", "0.2", *extra])


def _check(dropped: dict[str, str], inbox: Path, out: Path, db: Path) -> None:
    """Every input exactly once in done/ or failed/ with its JSON, nothing left, each report stored once."""
    assert [p for p in inbox.iterdir()] == []
    assert [p for p in (out / "processing").rglob("*") if p.is_file()] == []
    done = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / "done").iterdir()}
    failed = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (out / "failed").iterdir()
        if not p.name.endswith(".error.json") and not p.name.startswith(".")  # a killed write's hidden temp
    }
    assert sorted([*done.values(), *failed.values()]) == sorted(dropped.values()), "each input exactly once"
    for name, sha in done.items():
        assert json.loads((out / "results" / f"{name}.json").read_text())["source"]["sha256"] == sha
    for name in failed:
        assert json.loads((out / "failed" / f"{name}.error.json").read_text())["message"]
    stored = stored_reports(db)
    assert sorted(stored) == sorted(done.values()), "the database holds each report exactly once"


# --------------------------------------------------------------------------------------------------
# A watcher killed at each point of the sequence a worker runs


def _die_at(point: str, inbox: Path, out: Path, db: Path) -> None:
    """In a forked child: claim every file and run the steps up to `point`, then vanish (as if SIGKILLed)."""
    box = Inbox(inbox, out)
    settings = filework.worker_settings(Settings(database_url=f"sqlite:///{db}"))
    for path, _ in list(scan(box.inbox)):
        claim = box.claim(path)
        assert claim is not None
        if point == "claimed":
            continue
        if point == "claim-info-torn":  # killed while rewriting .claim.json: its temporary file stays
            (claim.file.parent / ".tmp-killed.part").write_text('{"name": ')
            continue
        box.attempt(claim)
        doc = filework.process(claim.file, settings)
        dest = destination(claim.file, box.out_dir, ok=doc.status in filework.OK_STATUSES)
        doc = filework.relocated(doc, dest, claim.name)
        outcome = filework.store_outcome(doc, settings, name=claim.name, input_id=claim.token, started=0.0)
        if point == "stored":
            continue
        ok = outcome.status in filework.OK_STATUSES
        filework.write_json(sidecar(dest), doc if ok else filework.error_record(outcome, doc))
        if point == "json-written":
            continue
        os.rename(claim.file, dest)
    os._exit(0)


@pytest.mark.parametrize("point", ["claimed", "claim-info-torn", "stored", "json-written", "moved"])
def test_a_watcher_killed_at_any_point_loses_and_duplicates_nothing(tmp_path: Path, point: str) -> None:
    inbox, out, db = tmp_path / "inbox", tmp_path / "out", tmp_path / "lab.sqlite"
    inbox.mkdir()
    dropped = _drop(inbox, 5, broken=1)
    child = multiprocessing.get_context("fork").Process(target=_die_at, args=(point, inbox, out, db))
    child.start()
    child.join()
    assert child.exitcode == 0
    left = [p for p in (out / "processing").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(left) == (0 if point == "moved" else 6), "the dead watcher left its claims behind"
    resumed = ExitCode.OK if point == "moved" else ExitCode.INPUT_ERROR  # the broken file fails when read
    assert _once(inbox, out, db) == resumed
    _check(dropped, inbox, out, db)


def test_a_file_interrupted_too_often_is_failed_with_that_reason(tmp_path: Path) -> None:
    inbox, out, db = tmp_path / "inbox", tmp_path / "out", tmp_path / "lab.sqlite"
    inbox.mkdir()
    folder = out / "processing" / "wdead" / "0001-aaaaaa"
    folder.mkdir(parents=True)
    varied_copy(REPORTS / "au_plain_biochem.pdf", folder / "killer.pdf", "x")
    info = ClaimInfo(name="killer.pdf", claimed_at="2024-01-01T00:00:00+00:00", attempts=3)
    (folder / CLAIM_INFO).write_text(info.model_dump_json())
    assert _once(inbox, out, db) == ExitCode.INTERNAL_ERROR
    record = json.loads((out / "failed" / "killer.pdf.error.json").read_text())
    assert record["error_code"] == "interrupted" and "3 times" in record["message"]
    assert stored_reports(db) == []


def test_a_live_watcher_adopts_the_claims_of_a_dead_one(tmp_path: Path) -> None:
    inbox, out, db = tmp_path / "inbox", tmp_path / "out", tmp_path / "lab.sqlite"
    inbox.mkdir()
    stop = threading.Event()
    options = WatchOptions(inbox=inbox, out_dir=out, settle=0.2, interval=0.2)
    settings = Settings(database_url=f"sqlite:///{db}", workers=1)
    thread = threading.Thread(target=run_watch, args=(options, settings, stop), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        dropped = _drop(inbox, 2)
        dead = multiprocessing.get_context("fork").Process(target=_die_at, args=("claimed", inbox, out, db))
        dead.start()
        dead.join()
        deadline = time.monotonic() + 10
        while len(list((out / "done").iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=20)
    _check(dropped, inbox, out, db)


# --------------------------------------------------------------------------------------------------
# Real processes: SIGKILL mid-run, and two watchers on one inbox


def _watcher(inbox: Path, out: Path, db: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "pipeline.cli", "--log-level", "INFO", "watch", str(inbox), "--out", str(out)]
    argv += ["--db", f"sqlite:///{db}", "--settle", "0.2", "--interval", "0.2", *extra]
    return subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def test_sigkill_mid_run_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    inbox, out, db = tmp_path / "inbox", tmp_path / "out", tmp_path / "lab.sqlite"
    inbox.mkdir()
    dropped = _drop(inbox, 40, broken=2)
    proc = _watcher(inbox, out, db, "--workers", "2")
    deadline = time.monotonic() + 60
    while len(list((out / "done").glob("*"))) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.communicate()
    assert len(dropped) > len(list((out / "done").glob("*"))) >= 8, "killed mid-run"
    assert _once(inbox, out, db) in (ExitCode.OK, ExitCode.INPUT_ERROR)  # whether the broken files were left
    _check(dropped, inbox, out, db)


def test_two_watchers_on_one_inbox_never_take_the_same_file(tmp_path: Path) -> None:
    inbox, out, db = tmp_path / "inbox", tmp_path / "out", tmp_path / "lab.sqlite"
    inbox.mkdir()
    dropped = _drop(inbox, 40)
    procs = [_watcher(inbox, out, db, "--once", "--workers", "1") for _ in range(2)]
    logs = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    taken = [set(re.findall(r"file ([0-9a-f]{8}): success", log)) for log in logs]
    assert all(taken), "both watchers took files"
    assert not taken[0] & taken[1], "no file was read by both"
    assert taken[0] | taken[1] == {sha[:8] for sha in dropped.values()}
    _check(dropped, inbox, out, db)
