"""Per-lab layout hints: validated at load, applied only to the reports they match."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from pipeline.api import process_file
from pipeline.hints import HintError, load_hints
from pipeline.settings import Settings

HINT = """\
name: Acme Clinical Lab
match: "ACME CLINICAL LAB"
date_order: MDY
test_names:
  ZQX Transaminase: alt
column_headers:
  Measured: value
ignore_lines:
  - "^Footnote"
"""


def report(path: Path, lab: str) -> Path:
    canvas = Canvas(str(path), invariant=True)
    canvas.setFont("Helvetica", 10)
    for y, line in (
        (800, lab),
        (780, "Collected: 03/04/2025"),
        (750, "Test                          Measured        Units        Range"),
        (730, "ZQX Transaminase              41              U/L          7 - 55"),
        (710, "Sodium                        140             mmol/L       136 - 145"),
        (690, "Footnote Potassium 4.1 mmol/L 3.5 - 5.1"),
    ):
        canvas.drawString(40, y, line)
    canvas.save()
    return path


@pytest.fixture
def hints_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "hints"
    folder.mkdir()
    (folder / "acme.yaml").write_text(HINT, encoding="utf-8")
    load_hints.cache_clear()
    return folder


def test_hint_applies_to_its_lab(tmp_path: Path, hints_dir: Path) -> None:
    document = process_file(report(tmp_path / "acme.pdf", "ACME CLINICAL LAB"), Settings(hints_dir=hints_dir))
    assert document.collected_at == "2025-03-04"
    assert [(r.analyte, r.value) for r in document.results] == [("alt", 41.0), ("sodium", 140.0)]


def test_hint_ignored_for_other_labs(tmp_path: Path, hints_dir: Path) -> None:
    document = process_file(report(tmp_path / "other.pdf", "OTHER LAB"), Settings(hints_dir=hints_dir))
    assert document.collected_at == "2025-04-03"  # the SI unit on the page says day first; the hint is not used
    assert ("alt", 41.0) not in [(r.analyte, r.value) for r in document.results]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (HINT + "colour: blue\n", "colour"),
        (HINT.replace('"ACME CLINICAL LAB"', '"ACME (LAB"'), "match"),
        (HINT.replace("alt", "not_an_analyte"), "not_an_analyte"),
        (HINT.replace("Measured: value", "Measured: result"), "column_headers"),
    ],
    ids=["unknown-key", "bad-regex", "unknown-analyte", "unknown-role"],
)
def test_bad_hint_fails_at_load_naming_the_file(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    load_hints.cache_clear()
    with pytest.raises(HintError) as raised:
        load_hints(tmp_path)
    assert "bad.yaml" in str(raised.value) and reason in str(raised.value)
