"""The held-out layouts (fixtures/holdout): generated deterministically, truth consistent with the PDFs, and
extracted end to end against the same bars as the development fixtures.

Bars (from the project brief): per document precision 1.0, value accuracy 1.0 and no confident error;
recall >= 0.95 over the whole set. Recall >= 0.95 is also checked per document so that a layout the
pipeline reads nothing from shows up on its own. A document that fails today is a strict xfail whose
reason is the diagnosed mechanism: it turns into an error (XPASS) as soon as the mechanism is fixed, and
the mark is then removed. Set LABREPORT_REGEN_HOLDOUT=1 to rewrite the checked-in PDFs and truth files.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from fixtures.holdout import HOLDOUT_LAYOUTS, build_holdout, holdout_fixtures
from fixtures.scoring import Score, score_document
from pipeline.api import process_file
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "holdout"
NAMES = [spec.name for spec, _ in holdout_fixtures()]
RECALL_BAR = 0.95

BARS_FAIL: dict[str, str] = {}
RECALL_FAIL: dict[str, str] = {}
def _marked(names: list[str], failing: dict[str, str]) -> list[Any]:
    return [
        pytest.param(name, id=name, marks=pytest.mark.xfail(strict=True, reason=failing[name]))
        if name in failing
        else pytest.param(name, id=name)
        for name in names
    ]


def _truth(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "truth" / f"{name}.pdf.truth.json").read_text(encoding="utf-8"))
    return data


@functools.cache
def _score(name: str) -> Score:
    """Extract one held-out report and score it (a page whose text layer is unusable is OCR'd)."""
    document = process_file(ROOT / "reports" / f"{name}.pdf", Settings(workers=1))
    return score_document(_truth(name), document)


# ---- generation ---------------------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for sub in ("reports", "truth")
        for path in sorted((folder / sub).glob("*"))
        if path.is_file()
    }


def test_checked_in_holdout_equals_generator_output(tmp_path: Path) -> None:
    """Generation is deterministic and the repo holds exactly what it makes (regenerate on purpose)."""
    build_holdout(tmp_path)
    if os.environ.get("LABREPORT_REGEN_HOLDOUT") == "1":
        for sub in ("reports", "truth"):
            shutil.rmtree(ROOT / sub, ignore_errors=True)
            shutil.copytree(tmp_path / sub, ROOT / sub)
    want, have = _files(tmp_path), _files(ROOT)
    assert sorted(have) == sorted(want), "run LABREPORT_REGEN_HOLDOUT=1 pytest tests/test_holdout.py"
    assert [name for name in want if have[name] != want[name]] == []


def test_every_layout_is_used_and_separate_from_the_development_set() -> None:
    from fixtures.generator import LAYOUTS

    used = {layout for _, layout in holdout_fixtures()}
    assert used == set(HOLDOUT_LAYOUTS)
    assert not used & set(LAYOUTS), "a held-out layout id must not be a development layout"
    assert len(used) >= 10


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_truth_values_are_printed_on_their_page(name: str) -> None:
    """Every truth value and name is in the PDF text of the page it claims (pages whose text runs sideways
    are checked for existing instead: only the sideways layout has them)."""
    truth = _truth(name)
    with pdfplumber.open(ROOT / "reports" / f"{name}.pdf") as pdf:
        texts: list[str | None] = []
        for page in pdf.pages:
            chars = page.chars
            sideways = bool(chars) and sum(1 for c in chars if not c["upright"]) > 0.5 * len(chars)
            texts.append(None if sideways else page.extract_text() or "")
    if any(text is None for text in texts):
        assert truth["layout"] == "landscape_sideways"
    for result in truth["results"]:
        text = texts[result["page"] - 1]
        if text is None:
            continue
        assert result["value_text"] in text, result["name"]
        assert result["name"].split()[0] in text, result["name"]


# ---- extraction bars ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", _marked(NAMES, BARS_FAIL))
def test_holdout_document_bars(name: str) -> None:
    """Per document: nothing predicted that the truth lacks, every value right, no confident error."""
    score = _score(name)
    assert score.confident_wrong == 0, score.wrong[:5]
    assert score.precision == 1.0, score.summary()
    assert score.accuracy("value") == 1.0, score.summary()


@pytest.mark.parametrize("name", _marked(NAMES, RECALL_FAIL))
def test_holdout_document_recall(name: str) -> None:
    score = _score(name)
    assert score.recall >= RECALL_BAR, score.summary()


def test_holdout_overall_recall() -> None:
    total = Score()
    for name in NAMES:
        total.add(_score(name))
    assert total.recall >= RECALL_BAR, total.summary()
