"""Every fixture layout, extracted end to end and compared with the truth its generator wrote and its golden file."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.scoring import load_truth, score_document
from pipeline.api import process_file
from pipeline.settings import Settings
from tests.golden import check_golden

ROOT = Path(__file__).resolve().parent.parent
REPORTS = sorted((ROOT / "fixtures" / "reports").glob("*.pdf"))


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(ocr="never")


@pytest.mark.parametrize("report", REPORTS, ids=[p.stem for p in REPORTS])
def test_fixture_matches_truth_and_golden(report: Path, settings: Settings) -> None:
    document = process_file(report, settings)
    truth = load_truth(ROOT / "fixtures" / "truth" / f"{report.name}.truth.json")
    score = score_document(truth, document)
    assert score.confident_wrong == 0, score.wrong
    assert score.recall == 1.0 and score.precision == 1.0, score.summary()
    assert score.accuracy("value") == 1.0 and score.accuracy("range") == 1.0, score.summary()
    assert score.accuracy("unit") == 1.0 and score.accuracy("flag") == 1.0, score.summary()
    assert document.patient.sex == truth["patient"].get("sex")
    assert document.collected_at == truth["collected_at"]
    check_golden(document, report.name)
