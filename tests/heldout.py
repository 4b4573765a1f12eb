"""What the held-out batches' tests share (tests/test_holdout.py, tests/test_holdout2.py): strict-xfail marks,
the checked-in-equals-generated check, truth and cached scores per report, and the extraction bars."""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from fixtures.scoring import Score, score_document
from pipeline.api import process_file
from pipeline.settings import Settings

RECALL_BAR = 0.95


def marked(names: list[str], failing: dict[str, str]) -> list[Any]:
    """One pytest param per report; a report in `failing` is a strict xfail whose reason is its mechanism."""
    return [
        pytest.param(name, id=name, marks=pytest.mark.xfail(strict=True, reason=failing[name]))
        if name in failing
        else pytest.param(name, id=name)
        for name in names
    ]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for sub in ("reports", "truth")
        for path in sorted((folder / sub).glob("*"))
        if path.is_file()
    }


def check_checked_in(
    root: Path, build: Callable[[Path], object], tmp: Path, regen_variable: str, test_file: str
) -> None:
    """The batch in `root` is exactly what `build` writes now; `regen_variable`=1 rewrites it on purpose."""
    build(tmp)
    if os.environ.get(regen_variable) == "1":
        for sub in ("reports", "truth"):
            shutil.rmtree(root / sub, ignore_errors=True)
            shutil.copytree(tmp / sub, root / sub)
    want, have = _files(tmp), _files(root)
    assert sorted(have) == sorted(want), f"run {regen_variable}=1 pytest {test_file}"
    assert [name for name in want if have[name] != want[name]] == []


def truth(root: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "truth" / f"{name}.pdf.truth.json").read_text(encoding="utf-8"))
    return data


@functools.cache
def score(root: Path, name: str) -> Score:
    """Extract one held-out report end to end (a page whose text layer is unusable is OCR'd) and score it."""
    document = process_file(root / "reports" / f"{name}.pdf", Settings(workers=1))
    return score_document(truth(root, name), document)


def assert_document_bars(found: Score) -> None:
    """Per document: nothing predicted that the truth lacks, every value right, no confident error."""
    assert found.confident_wrong == 0, found.wrong[:5]
    assert found.precision == 1.0, found.summary()
    assert found.accuracy("value") == 1.0, found.summary()


def assert_overall_recall(root: Path, names: list[str]) -> None:
    total = Score()
    for name in names:
        total.add(score(root, name))
    assert total.recall >= RECALL_BAR, total.summary()


def assert_truth_printed(root: Path, name: str) -> None:
    """Every truth value and the first word of its name are in the PDF text of the page the truth claims
    (pages whose text runs sideways are checked for existing instead: only landscape_sideways has them)."""
    claimed = truth(root, name)
    with pdfplumber.open(root / "reports" / f"{name}.pdf") as pdf:
        texts: list[str | None] = []
        for page in pdf.pages:
            chars = page.chars
            sideways = bool(chars) and sum(1 for c in chars if not c["upright"]) > 0.5 * len(chars)
            texts.append(None if sideways else page.extract_text() or "")
    if any(text is None for text in texts):
        assert claimed["layout"] == "landscape_sideways", name
    assert claimed["results"], name
    for result in claimed["results"]:
        text = texts[result["page"] - 1]
        if text is None:
            continue
        assert result["value_text"] in text, result["name"]
        assert result["name"].split()[0] in text, result["name"]
