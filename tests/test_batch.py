"""`labreport batch`: one JSON per input, bad inputs explained, resumable, exactly once in the database."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from fixtures.badinput import REPORTS, make_bad_inputs, varied_copy
from pipeline import batch, cli, filework
from pipeline.errors import ExitCode
from pipeline.progress import Progress
from pipeline.store import Store
from tests.stored import stored_reports

ROOT = Path(__file__).resolve().parents[1]


def _run(in_dir: Path, out: Path, db: Path, *extra: str) -> int:
    argv = ["batch", str(in_dir), "--out", str(out), "--db", f"sqlite:///{db}", "--workers", "2"]
    return cli.main([*argv, "--progress", "none", *extra])


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "summary.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copies(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted(REPORTS.glob("*.pdf"))
    made = []
    for i in range(count):
        target = folder / f"report {i:03d}.pdf"
        varied_copy(sources[i % len(sources)], target, str(i))
        made.append(target)
    return made


def test_every_bad_input_is_explained_and_the_run_goes_on(tmp_path: Path) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    made = make_bad_inputs(in_dir, tmp_path / "outside")
    secret = tmp_path / "outside" / "secret.pdf"
    secret_sha = _sha(secret)
    code = _run(in_dir, out, db)
    stored_expected = set()
    for item in made:
        ok, err = out / f"{item.name}.json", out / f"{item.name}.error.json"
        assert ok.exists() != err.exists(), f"{item.name}: exactly one JSON"
        if item.where == "done":
            assert json.loads(ok.read_text())["status"] == "success", item.name
            stored_expected.add(_sha(in_dir / item.name))
        elif item.where == "failed":
            record = json.loads(err.read_text())
            assert record["message"].strip(), item.name
            if item.codes:
                assert record["error_code"] in item.codes, item.name
    assert code == max(int(r["exit_code"]) for r in _rows(out)) == ExitCode.INPUT_ERROR
    assert _sha(secret) == secret_sha, "a link's target is never touched"
    stored = stored_reports(db)
    assert secret_sha not in stored, "a link out of the folder is never read"
    assert stored_expected <= set(stored) and len(stored) == len(set(stored))


def test_summary_has_one_row_per_input_and_no_names(tmp_path: Path) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    inputs = _copies(in_dir, 5)
    (in_dir / "notes.txt").write_text("not a report")
    assert _run(in_dir, out, db) == ExitCode.OK
    rows = _rows(out)
    assert len(rows) == len(inputs)
    assert {r["status"] for r in rows} == {"success"}
    text = (out / "summary.csv").read_text()
    assert not any(path.stem in text for path in inputs), "no file names in the CSV"
    assert {r["sha256"] for r in rows} == {_sha(p) for p in inputs}


def test_a_rerun_skips_what_is_done_and_redoes_what_changed(tmp_path: Path) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    inputs = _copies(in_dir, 6)
    assert _run(in_dir, out, db) == ExitCode.OK
    written = {p: (out / f"{p.name}.json").stat().st_mtime_ns for p in inputs}
    assert _run(in_dir, out, db) == ExitCode.OK
    assert {r["status"] for r in _rows(out)} == {"skipped"}
    assert {r["previous"] for r in _rows(out)} == {"success"}
    assert all((out / f"{p.name}.json").stat().st_mtime_ns == t for p, t in written.items())

    varied_copy(REPORTS / "au_plain_biochem.pdf", inputs[0], "changed")  # new content under the same name
    (out / f"{inputs[1].name}.json").unlink()  # an output lost
    os.utime(inputs[2], ns=(1, 1))  # touched, same content
    assert _run(in_dir, out, db) == ExitCode.OK
    status = {r["input_id"]: r["status"] for r in _rows(out)}
    ids = {p: filework.input_id(p.name) for p in inputs}
    assert status[ids[inputs[0]]] == status[ids[inputs[1]]] == "success"
    assert [status[ids[p]] for p in inputs[2:]] == ["skipped"] * 4
    assert len(stored_reports(db)) == 7, "six files, one of them with new content"

    assert _run(in_dir, out, db, "--force") == ExitCode.OK
    assert {r["status"] for r in _rows(out)} == {"success"}
    assert len(stored_reports(db)) == 7, "forced again: nothing stored twice"


def test_inputs_with_one_name_in_two_folders_keep_both_outputs(tmp_path: Path) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    for sub, source in (("a", "au_plain_biochem.pdf"), ("b/c", "de_labor_befund.pdf")):
        (in_dir / sub).mkdir(parents=True)
        shutil.copy(REPORTS / source, in_dir / sub / "report.pdf")
    varied_copy(REPORTS / "pk_range_first_cbc.pdf", in_dir / "Report.PDF", "upper")
    varied_copy(REPORTS / "uk_previous_fbc_lft.pdf", in_dir / "report.pdf", "lower")
    assert _run(in_dir, out, db) == ExitCode.OK
    docs = {
        path.relative_to(out).as_posix(): json.loads(path.read_text())["source"]["sha256"]
        for path in out.rglob("*.json")
    }
    assert docs["a/report.pdf.json"] == _sha(in_dir / "a" / "report.pdf")
    assert docs["b/c/report.pdf.json"] == _sha(in_dir / "b" / "c" / "report.pdf")
    folded = [name for name in docs if "/" not in name]
    assert len(folded) == 2 and len({n.casefold() for n in folded}) == 2, "case twins stay apart"
    assert {docs[n] for n in folded} == {_sha(in_dir / "Report.PDF"), _sha(in_dir / "report.pdf")}


def test_links_inside_are_read_and_links_outside_refused(tmp_path: Path) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    (original,) = _copies(in_dir, 1)
    os.symlink(original, in_dir / "inside link.pdf")
    os.symlink(tmp_path / "missing.pdf", in_dir / "dangling.pdf")
    assert _run(in_dir, out, db) == ExitCode.INPUT_ERROR
    assert json.loads((out / "inside link.pdf.json").read_text())["status"] == "success"
    assert json.loads((out / "dangling.pdf.error.json").read_text())["error_code"] == "broken_symlink"
    assert len(stored_reports(db)) == 1


_real_handle = batch.handle_batch_task


def _poison(task: batch.BatchTask) -> filework.FileOutcome:
    if Path(task.path).name == "poison.pdf":
        os.kill(os.getpid(), signal.SIGKILL)
    return _real_handle(task)


def test_a_file_that_kills_its_worker_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    inputs = _copies(in_dir, 5)
    shutil.copy(inputs[0], in_dir / "poison.pdf")
    monkeypatch.setattr(batch, "handle_batch_task", _poison)
    assert _run(in_dir, out, db) == ExitCode.INTERNAL_ERROR
    record = json.loads((out / "poison.pdf.error.json").read_text())
    assert record["error_code"] == "worker_crashed"
    assert all((out / f"{p.name}.json").exists() for p in inputs)
    monkeypatch.undo()
    assert _run(in_dir, out, db) == ExitCode.OK, "a crashed worker is retried on the next run"
    assert (out / "poison.pdf.json").exists() and not (out / "poison.pdf.error.json").exists()


def test_a_killed_batch_resumes_and_stores_each_report_once(tmp_path: Path) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    inputs = _copies(in_dir, 60)
    argv = [sys.executable, "-m", "pipeline.cli", "batch", str(in_dir), "--out", str(out)]
    proc = subprocess.Popen(
        [*argv, "--db", f"sqlite:///{db}", "--workers", "2", "--progress", "none"], cwd=ROOT, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while len(list(out.glob("*.json"))) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.3)  # its workers die with it
    for path in out.glob("*.json"):
        json.loads(path.read_text())  # never half a file
    assert _run(in_dir, out, db) == ExitCode.OK
    rows = _rows(out)
    assert len(rows) == len(inputs) and {r["status"] for r in rows} <= {"success", "skipped"}
    assert any(r["status"] == "skipped" for r in rows) and any(r["status"] == "success" for r in rows)
    stored = stored_reports(db)
    assert sorted(stored) == sorted(_sha(p) for p in inputs)
    assert not list(out.glob(".tmp-*")), "temporary files of the killed run are cleaned up"


def test_a_folder_that_is_missing_or_busy_is_a_usage_error(tmp_path: Path) -> None:
    out, db = tmp_path / "out", tmp_path / "lab.sqlite"
    assert _run(tmp_path / "missing", out, db) == ExitCode.USAGE
    _copies(tmp_path / "in", 1)
    out.mkdir()
    held = filework.try_lock(out / batch.LOCK_NAME)
    try:
        assert _run(tmp_path / "in", out, db) == ExitCode.USAGE
    finally:
        assert held is not None
        filework.unlock(held)
    assert _run(tmp_path / "in", out, db) == ExitCode.OK


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "mode"), [(io.StringIO(), "lines"), (_Tty(), "bar")], ids=["pipe", "terminal"])
def test_progress_draws_a_bar_on_a_terminal_and_lines_otherwise(stream: io.StringIO, mode: str) -> None:
    progress = Progress(20, stream=stream)
    assert progress.mode == mode
    for _ in range(19):
        progress.advance(pages=2)
    assert "pages/s" not in stream.getvalue(), "no rate over a fraction of a second"
    progress.started -= 10.0  # as if the run had taken ten seconds
    progress.advance(pages=2)
    progress.close()
    text = stream.getvalue()
    assert "20/20 files, 40 pages, 2.0 files/s, 4.0 pages/s" in text and "ETA 0:00" in text
    if mode == "bar":
        assert "\r[" in text and text.endswith("\n")
    else:
        assert "\r" not in text and 2 <= len(text.splitlines()) <= 11, "about every 10 %"


def test_a_database_error_fails_the_file_and_a_rerun_retries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    inputs = _copies(in_dir, 3)

    def unavailable(self: Store, doc: object) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Store, "add_document", unavailable)
    assert _run(in_dir, out, db) == ExitCode.INTERNAL_ERROR
    assert {r["error_code"] for r in _rows(out)} == {"store_error"}
    assert all(json.loads((out / f"{p.name}.error.json").read_text())["error_code"] == "store_error" for p in inputs)
    monkeypatch.undo()
    assert _run(in_dir, out, db) == ExitCode.OK
    assert {r["status"] for r in _rows(out)} == {"success"} and len(stored_reports(db)) == 3
    assert not list(out.glob("*.error.json")), "the stale error JSON is replaced"


def test_a_name_that_is_not_utf8_is_read_and_reported(tmp_path: Path) -> None:
    """A Latin-1 share: the name's bad bytes become U+FFFD in the JSON; the file is read and skipped next time."""
    in_dir, out, db = tmp_path / "in", tmp_path / "out", tmp_path / "lab.sqlite"
    in_dir.mkdir()
    name = os.fsdecode(b"Befund M\xfcller.pdf")
    varied_copy(REPORTS / "au_plain_biochem.pdf", in_dir / name, "latin-1")
    (in_dir / os.fsdecode(b"leer \xe9.pdf")).write_bytes(b"")
    assert _run(in_dir, out, db) == ExitCode.INPUT_ERROR
    doc = json.loads((out / f"{name}.json").read_text())
    assert doc["source"]["name"] == "Befund M\ufffdller.pdf"
    record = json.loads((out / os.fsdecode(b"leer \xe9.pdf.error.json")).read_text())
    assert record["error_code"] == "empty_file" and "\ufffd" in record["message"]
    assert _run(in_dir, out, db) == ExitCode.INPUT_ERROR
    assert {r["status"] for r in _rows(out)} == {"skipped"}
