"""The bounded soak (bench/soak.py) in a shorter form: behind `-m slow`, not in the default run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import soak

pytestmark = pytest.mark.slow


def test_bursts_and_two_sigkills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    report = soak.run(soak.Config(files=150, bursts=5, period=3.0, kills=2, work_dir=tmp_path))
    assert report.failures == []
    assert len(report.kills) == 2
    assert report.done + report.failed == report.dropped == 150
    assert 0 < report.stored <= report.done
