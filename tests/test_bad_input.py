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


# --------------------------------------------------------------------------------------------------
# Bad images, all in one call (issue 3): generated here, nothing committed


def _images(folder: Path) -> dict[str, Path]:
    """A corrupt PNG, a truncated JPEG, a 1 x 1 image, a 30000 x 30000 PNG (a decompression bomb of ~150 KB),
    a blank page, a scan turned upside down, and a photo of something that is not a lab report."""
    import cv2
    import numpy as np

    from fixtures.badinput import enormous_png
    from fixtures.scans import render_pages

    paths = {
        key: folder / name
        for key, name in {
            "corrupt": "corrupt.png",
            "truncated": "truncated.jpg",
            "tiny": "tiny.png",
            "bomb": "bomb.png",
            "blank": "blank.png",
            "upside-down": "upside_down.png",
            "not-a-report": "holiday_photo.jpg",
        }.items()
    }
    paths["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + b"not an image " * 50)
    paths["truncated"].write_bytes(b"\xff\xd8\xff\xe0" + bytes(50))
    cv2.imwrite(str(paths["tiny"]), np.full((1, 1), 255, np.uint8))
    enormous_png(paths["bomb"])
    cv2.imwrite(str(paths["blank"]), np.full((1650, 1275), 250, np.uint8))
    page = render_pages(ROOT / "fixtures" / "scans" / "au_plain_biochem.light.pdf", 150)[0]
    cv2.imwrite(str(paths["upside-down"]), cv2.rotate(page, cv2.ROTATE_180))
    rows, cols = np.mgrid[0:900, 0:1200]
    photo = np.dstack([(cols / 6).astype(np.uint8), (rows / 5).astype(np.uint8), np.full(rows.shape, 90, np.uint8)])
    cv2.circle(photo, (600, 450), 250, (40, 160, 60), -1)
    cv2.putText(photo, "Sunny beach 2023", (120, 120), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (250, 250, 250), 4)
    photo = cv2.add(photo, np.random.default_rng(7).integers(0, 40, photo.shape, dtype=np.uint8))
    cv2.imwrite(str(paths["not-a-report"]), photo)
    return paths


BAD_IMAGES = {
    # id: (exit code, error code, words the stderr line must hold)
    "corrupt": (4, "corrupt_file", "cannot be read"),
    "truncated": (4, "corrupt_file", "damaged"),
    "tiny": (4, "input_error", "too small"),
    "bomb": (4, "too_large", "refused before decoding"),
    "blank": (3, "no_results", "no lab results were found in this file (page 1: blank page)"),
    "not-a-report": (3, "no_results", "no lab results"),
}


def test_bad_images_in_one_call_fail_cleanly_and_the_rest_is_read(tmp_path: Path) -> None:
    images = _images(tmp_path)
    out = tmp_path / "out"
    files = [str(p) for p in images.values()] + [str(GOOD)]
    result = run("extract", *files, "-o", str(out))
    assert "Traceback" not in result.stderr
    assert result.returncode == 4  # the worst of the batch: an unreadable file
    messages = [line for line in result.stderr.splitlines() if line.startswith("labreport:")]
    for key, (_, error, words) in BAD_IMAGES.items():
        path = images[key]
        line = next(m for m in messages if str(path) in m)
        assert words in line, line
        document = json.loads((out / f"{path.name}.json").read_text())
        assert document["status"] == "failure" and document["results"] == []
        assert error in [issue["code"] for issue in document["issues"] if issue["severity"] == "error"]
    blank = json.loads((out / "blank.png.json").read_text())
    assert any("blank" in issue["message"] for issue in blank["issues"])
    upside = json.loads((out / "upside_down.png.json").read_text())
    assert upside["status"] == "success" and len(upside["results"]) >= 15
    assert upside["extraction"]["pages"][0]["rotation"] == 180
    assert not any(str(images["upside-down"]) in m for m in messages)
    good = json.loads((out / f"{GOOD.name}.json").read_text())
    assert good["status"] == "success" and len(good["results"]) > 10


def test_decompression_bomb_is_refused_without_decoding_it(tmp_path: Path) -> None:
    from fixtures.badinput import enormous_png

    bomb = tmp_path / "bomb.png"
    enormous_png(bomb)
    # VmHWM: this process's peak resident memory (ru_maxrss would carry over the forking pytest worker's)
    code = (
        "import re, sys; from pipeline.cli import main; status = main(sys.argv[1:]); "
        "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "print(f'maxrss_kb {peak}', file=sys.stderr); sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "extract", str(bomb), str(bomb)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 4 and "Traceback" not in result.stderr
    assert f"{bomb}: image has 900,000,000 pixels" in result.stderr
    # refused from the header: decoded, the 30000 x 30000 page would take 900 MB as grey
    assert int(result.stderr.rsplit("maxrss_kb ", 1)[1].split()[0]) < 400_000
