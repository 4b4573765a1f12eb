"""Bad input through the real command line: a clear message naming the file and the reason, the right exit
code, no traceback, the source file untouched, and the other files of the same call still processed."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EDGE = ROOT / "fixtures" / "edge"
GOOD = ROOT / "fixtures" / "reports" / "au_plain_biochem.pdf"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("empty.pdf", 4, "empty"),
        ("not_a_pdf.pdf", 4, "not a PDF"),
        ("truncated.pdf", 4, "damaged"),
        ("encrypted_user_password.pdf", 4, "encrypted"),
        ("no_results_letter.pdf", 3, "no lab results"),
    ],
    ids=["empty", "not-a-pdf", "truncated", "encrypted", "no-results"],
)
def test_bad_file_fails_cleanly_and_the_batch_goes_on(tmp_path: Path, name: str, code: int, reason: str) -> None:
    bad = tmp_path / name
    shutil.copy(EDGE / name, bad)
    before = hashlib.sha256(bad.read_bytes()).hexdigest()
    out = tmp_path / "out"
    result = run("extract", str(bad), str(GOOD), "-o", str(out))
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    message = next(line for line in result.stderr.splitlines() if line.startswith("labreport:"))
    assert str(bad) in message and reason in message
    failed = json.loads((out / f"{name}.json").read_text())
    assert failed["status"] == "failure" and failed["issues"][0]["severity"] == "error"
    good = json.loads((out / f"{GOOD.name}.json").read_text())
    assert good["status"] == "success" and len(good["results"]) > 10
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == before


def test_owner_password_only_pdf_is_read() -> None:
    result = run("extract", str(EDGE / "encrypted_owner_only.pdf"))
    assert result.returncode == 0
    assert json.loads(result.stdout)["results"]


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pdf"
    result = run("extract", str(missing))
    assert result.returncode == 4 and f"{missing}: file not found" in result.stderr


def test_schema_is_printed() -> None:
    result = run("schema")
    schema = json.loads(result.stdout)
    assert "results" in schema["properties"] and "LabResult" in schema["$defs"]
