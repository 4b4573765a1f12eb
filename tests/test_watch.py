"""`labreport watch`: complete files only, done/ or failed/ with a reason, names never collide, events and polling."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from fixtures.badinput import REPORTS, SlowWriter, make_bad_inputs, make_partial_names, varied_copy
from pipeline import cli, filework, watch
from pipeline.errors import ExitCode
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.watch import WatchOptions, run_watch
from tests.stored import stored_reports


def _once(inbox: Path, out: Path, db: Path, *extra: str) -> int:
    argv = ["watch", str(inbox), "--out", str(out), "--db", f"sqlite:///{db}", "--once", "--workers", "2"]
    return cli.main([*argv, "--settle", "0.2", "--interval", "0.2", *extra])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(out: Path) -> list[Path]:
    return [p for p in (out / "processing").rglob("*") if p.is_file()]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox, tmp_path / "out", tmp_path / "lab.sqlite"


def test_bad_inputs_end_in_done_or_failed_with_a_reason(dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    inbox, out, db = dirs
    made = make_bad_inputs(inbox, tmp_path / "outside")
    partial = make_partial_names(inbox)
    before = {item.name: _sha(inbox / item.name) for item in made if not (inbox / item.name).is_symlink()}
    secret = tmp_path / "outside" / "secret.pdf"
    secret_sha = _sha(secret)
    assert _once(inbox, out, db) == ExitCode.INPUT_ERROR
    for item in made:
        done, failed = out / "done" / item.name, out / "failed" / item.name
        assert os.path.lexists(done) != os.path.lexists(failed), f"{item.name}: in exactly one place"
        if item.where == "done":
            assert json.loads((out / "results" / f"{item.name}.json").read_text())["status"] == "success"
        if item.where == "failed":
            record = json.loads((out / "failed" / f"{item.name}.error.json").read_text())
            assert record["message"].strip() and (not item.codes or record["error_code"] in item.codes), item.name
        moved = done if done.exists() else failed
        if item.name in before:
            assert _sha(moved) == before[item.name], f"{item.name}: the bytes are never modified"
    assert (out / "failed" / "link out.pdf").is_symlink() and _sha(secret) == secret_sha
    assert sorted(p.name for p in inbox.iterdir()) == sorted(partial), "partial names are left alone"
    assert _leftovers(out) == []
    stored = stored_reports(db)
    assert len(stored) == len(set(stored)) == sum(1 for item in made if item.where == "done")


def test_the_same_name_dropped_again_never_overwrites(dirs: tuple[Path, Path, Path]) -> None:
    inbox, out, db = dirs
    (inbox / "sub").mkdir()
    varied_copy(REPORTS / "au_plain_biochem.pdf", inbox / "scan.pdf", "1")
    varied_copy(REPORTS / "de_labor_befund.pdf", inbox / "sub" / "scan.pdf", "2")
    assert _once(inbox, out, db) == ExitCode.OK
    varied_copy(REPORTS / "pk_range_first_cbc.pdf", inbox / "scan.pdf", "3")
    assert _once(inbox, out, db) == ExitCode.OK
    names = sorted(p.name for p in (out / "done").iterdir())
    assert names == ["scan.pdf", "scan~2.pdf", "scan~3.pdf"]
    shas = {json.loads((out / "results" / f"{n}.json").read_text())["source"]["sha256"] for n in names}
    assert shas == {_sha(out / "done" / n) for n in names} and len(shas) == 3
    doc = json.loads((out / "results" / "scan~3.pdf.json").read_text())
    assert doc["source"]["name"] == "scan.pdf" and doc["source"]["path"] == str((out / "done" / "scan~3.pdf").resolve())


def test_a_file_being_written_is_taken_only_when_complete(dirs: tuple[Path, Path, Path]) -> None:
    """The writer pauses longer than the settle time: only the open-for-writing check keeps the file waiting."""
    inbox, out, db = dirs
    data = (REPORTS / "us_reference_lab_cmp_lipids.pdf").read_bytes()
    writer = SlowWriter(inbox / "slow scan.pdf", data, chunks=4, pause=0.6)
    writer.start()
    assert _once(inbox, out, db, "--once-wait", "20") == ExitCode.OK
    writer.join()
    doc = json.loads((out / "results" / "slow scan.pdf.json").read_text())
    assert doc["status"] == "success" and doc["source"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_once_leaves_a_file_still_being_written_for_the_next_run(dirs: tuple[Path, Path, Path]) -> None:
    inbox, out, db = dirs
    data = (REPORTS / "au_plain_biochem.pdf").read_bytes()
    writer = SlowWriter(inbox / "growing.pdf", data, chunks=8, pause=0.4)
    writer.start()
    assert _once(inbox, out, db, "--once-wait", "0.5") == ExitCode.OK
    assert (inbox / "growing.pdf").exists() and not (out / "done" / "growing.pdf").exists()
    writer.join()
    assert _once(inbox, out, db) == ExitCode.OK
    assert _sha(out / "done" / "growing.pdf") == hashlib.sha256(data).hexdigest()


_real_handle = watch.handle_claim


def _poison(task: watch.WatchTask) -> filework.FileOutcome:
    if task.name == "poison.pdf":
        os.kill(os.getpid(), 9)
    return _real_handle(task)


def test_a_file_that_kills_its_worker_goes_to_failed(
    dirs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out, db = dirs
    for i in range(4):
        varied_copy(REPORTS / "au_plain_biochem.pdf", inbox / f"r{i}.pdf", str(i))
    varied_copy(REPORTS / "au_plain_biochem.pdf", inbox / "poison.pdf", "poison")
    monkeypatch.setattr(watch, "handle_claim", _poison)
    assert _once(inbox, out, db) == ExitCode.INTERNAL_ERROR
    assert json.loads((out / "failed" / "poison.pdf.error.json").read_text())["error_code"] == "worker_crashed"
    assert sorted(p.name for p in (out / "done").iterdir()) == [f"r{i}.pdf" for i in range(4)]
    assert _leftovers(out) == []


def test_the_patient_report_is_refreshed(dirs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    inbox, out, db = dirs
    for i, name in enumerate(("series_gallagher_1_us.pdf", "series_gallagher_2_au.pdf")):
        shutil.copy(REPORTS / name, inbox / f"{i}.pdf")
    reports = tmp_path / "reports"
    assert _once(inbox, out, db, "--report-dir", str(reports)) == ExitCode.OK
    pages = list(reports.glob("*/report.html"))
    assert pages, "a report per stored patient"
    assert all(page.stat().st_size > 1000 for page in pages)


def test_out_dir_on_another_file_system_is_refused(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system")
    inbox = Path(tempfile.mkdtemp(dir=shm))
    try:
        code = _once(inbox, tmp_path / "out", tmp_path / "lab.sqlite")
        assert code == ExitCode.USAGE
        assert list(inbox.iterdir()) == [], "the probe is not left behind"
    finally:
        shutil.rmtree(inbox)


# --------------------------------------------------------------------------------------------------
# Continuous mode: watchdog events, polling, and the automatic fallback


@pytest.fixture
def running(dirs: tuple[Path, Path, Path]) -> Iterator[Any]:
    """Start run_watch in a thread with given options; stop it at the end of the test."""
    inbox, out, db = dirs
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(**options: Any) -> None:
        opts = WatchOptions(inbox=inbox, out_dir=out, settle=0.2, **options)
        settings = Settings(database_url=f"sqlite:///{db}", workers=1)
        thread = threading.Thread(target=run_watch, args=(opts, settings, stop), daemon=True)
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        while not list((out / ".labreport" / "watchers").glob("*.lock")) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the observer is scheduled right after the workers start

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
        assert not thread.is_alive()


def _arrives(inbox: Path, out: Path, name: str, within: float) -> float:
    varied_copy(REPORTS / "au_plain_biochem.pdf", inbox / name, name)
    started = time.monotonic()
    while not (out / "done" / name).exists():
        assert time.monotonic() - started < within, f"{name} not processed within {within} s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_file_events_wake_the_watcher(dirs: tuple[Path, Path, Path], running: Any) -> None:
    inbox, out, _ = dirs
    running(interval=30.0)  # no rescan for 30 s: only an event can bring the file in quickly
    assert _arrives(inbox, out, "event.pdf", within=5) < 5


def test_polling_finds_files(dirs: tuple[Path, Path, Path], running: Any) -> None:
    inbox, out, _ = dirs
    running(poll=True, interval=0.3)
    _arrives(inbox, out, "polled.pdf", within=5)


def test_polling_takes_over_when_events_are_unavailable(
    dirs: tuple[Path, Path, Path], running: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import watchdog.observers

    class NoInotify(watchdog.observers.Observer):  # type: ignore[misc,valid-type]
        def schedule(self, *args: Any, **kwargs: Any) -> Any:
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watchdog.observers, "Observer", NoInotify)
    inbox, out, _ = dirs
    with caplog.at_level(logging.WARNING, logger="pipeline.watch"):
        running(interval=0.3)
        _arrives(inbox, out, "fallback.pdf", within=5)
    assert "polling" in caplog.text


def test_a_database_error_sends_the_file_to_failed_with_the_reason(
    dirs: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out, db = dirs
    varied_copy(REPORTS / "au_plain_biochem.pdf", inbox / "a.pdf", "a")

    def unavailable(self: Store, doc: object) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Store, "add_document", unavailable)
    assert _once(inbox, out, db) == ExitCode.INTERNAL_ERROR
    record = json.loads((out / "failed" / "a.pdf.error.json").read_text())
    assert record["error_code"] == "store_error"
    assert record["message"].startswith(str((out / "failed" / "a.pdf").resolve()))
    assert record["document"]["status"] == "success", "the reading itself is kept"
    assert not (out / "done" / "a.pdf").exists() and not (out / "results" / "a.pdf.json").exists()


def test_a_name_that_is_not_utf8_ends_in_done(dirs: tuple[Path, Path, Path]) -> None:
    inbox, out, db = dirs
    name = os.fsdecode(b"Befund M\xfcller.pdf")
    varied_copy(REPORTS / "au_plain_biochem.pdf", inbox / name, "latin-1")
    assert _once(inbox, out, db) == ExitCode.OK
    assert (out / "done" / name).exists()
    assert json.loads((out / "results" / f"{name}.json").read_text())["source"]["name"] == "Befund M\ufffdller.pdf"


# --------------------------------------------------------------------------------------------------
# The documented command lines


def _documented(prefix: str) -> list[list[str]]:
    """Command lines in docs/automation.md that start with `prefix` (a unit's ExecStart, a cron entry)."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "automation.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return [shlex.split(line.removeprefix(prefix).split(">>")[0]) for line in lines]


@pytest.mark.parametrize("prefix", ["ExecStart=", "*/5 * * * *"], ids=["systemd-unit", "cron"])
def test_the_documented_watch_commands_use_real_options(prefix: str) -> None:
    found = _documented(prefix)
    assert found, f"docs/automation.md has no line starting with {prefix!r}"
    for argv in found:
        assert Path(argv[0]).name == "labreport"
        args = cli.build_parser().parse_args(argv[1:])  # an unknown option exits with SystemExit(2)
        assert args.command == "watch" and args.out is not None
        WatchOptions(
            inbox=args.inbox, out_dir=args.out, once=args.once, poll=args.poll, settle=args.settle,
            interval=args.interval, once_wait=args.once_wait, max_attempts=args.max_attempts,
            report_dir=args.report_dir,
        )  # fmt: skip
