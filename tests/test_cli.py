"""The command line's process-wide behaviour: a closed stdout ends it quietly, and SIGPIPE stays ignored."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from pipeline import cli


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(16), "the schema starts"
    proc.stdout.close()  # like `| head -c 16`
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in errors


def test_the_command_leaves_sigpipe_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    """With SIGPIPE at its default, a worker process that dies kills the batch through the pipe it read."""
    assert cli.main(["schema"]) == 0
    assert capsys.readouterr().out.startswith("{")
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN


def test_options_that_are_settings_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABREPORT_WORKERS", "3")
    args = cli.build_parser().parse_args(["batch", "in", "--out", "out", "--scheduler", "tcp://127.0.0.1:8786"])
    settings = cli.settings_from(args)
    assert settings.workers == 3, "the environment stays where no option is given"
    assert (settings.scheduler, settings.executor) == ("tcp://127.0.0.1:8786", "dask"), "a scheduler implies Dask"
    args = cli.build_parser().parse_args(["batch", "in", "--out", "out", "--workers", "1", "--db", "sqlite:///x.db"])
    settings = cli.settings_from(args)
    assert (settings.workers, settings.database_url, settings.executor) == (1, "sqlite:///x.db", "process")


COMMANDS = [["extract", "a.pdf"], ["batch", "in", "--out", "out"], ["watch", "in", "--out", "out"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_ocr_options_reach_the_settings(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABREPORT_OCR_FALLBACK", "none")
    settings = cli.settings_from(cli.build_parser().parse_args(command))
    assert (settings.ocr_fallback, settings.ocr_languages) == ("none", "auto")
    options = ["--ocr-fallback", "rapidocr", "--ocr-languages", "deu", "--ocr", "always"]
    settings = cli.settings_from(cli.build_parser().parse_args([*command, *options]))
    assert (settings.ocr_fallback, settings.ocr_languages, settings.ocr) == ("rapidocr", "deu", "always")
