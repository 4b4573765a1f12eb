"""Golden snapshots of extraction output: stable fields only, regenerated on purpose with LABREPORT_REGEN_GOLDEN=1."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline.models import Document

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "fixtures" / "golden"
REGENERATE = os.environ.get("LABREPORT_REGEN_GOLDEN") == "1"


def snapshot(document: Document) -> dict[str, Any]:
    """The document without what changes from run to run or machine to machine (timings, absolute paths)."""
    data = document.model_dump(mode="json")
    data["extraction"]["seconds"] = None
    data["source"]["path"] = data["source"]["name"]
    for issue in data["issues"]:
        issue["message"] = issue["message"].replace(document.source.path, document.source.name)
    return data


def check_golden(document: Document, name: str) -> None:
    """Compare with fixtures/golden/<name>.json; a missing golden fails unless regenerating."""
    path = GOLDEN / f"{name}.json"
    current = snapshot(document)
    if REGENERATE:
        path.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.name}: run with LABREPORT_REGEN_GOLDEN=1 and review the diff"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert current == expected, f"{name}: output differs from its golden file (LABREPORT_REGEN_GOLDEN=1 to accept)"
