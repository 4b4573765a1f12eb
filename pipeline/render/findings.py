"""findings.json: the findings as a plain list, in exactly the shape the issue fixes.

Contract: ``findings_payload(interpretation)`` returns a list of
``{code, severity, title, detail, analytes, evidence: [{analyte, value, unit, collected_at}], sources}``
(severity is info, warning or urgent; analytes are canonical codes; collected_at an ISO date), ordered
urgent first. ``render_findings`` serialises it. The model ``FindingOut`` pins the shape (extra keys fail).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from pipeline.interpret.models import Interpretation

_ORDER = {"urgent": 0, "warning": 1, "info": 2}


class EvidenceOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    analyte: str
    value: float | None
    unit: str | None
    collected_at: str


class FindingOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    severity: Literal["info", "warning", "urgent"]
    title: str
    detail: str
    analytes: list[str]
    evidence: list[EvidenceOut]
    sources: list[str]


FINDINGS_ADAPTER = TypeAdapter(list[FindingOut])


def findings_payload(interp: Interpretation) -> list[FindingOut]:
    """The findings, urgent first, reduced to the published shape."""
    return [
        FindingOut(
            code=f.code,
            severity=f.severity,
            title=f.title,
            detail=f.detail,
            analytes=list(f.analytes),
            evidence=[
                EvidenceOut(
                    analyte=e.analyte, value=e.value, unit=e.unit, collected_at=e.collected_at.isoformat()
                )
                for e in f.evidence
            ],
            sources=list(f.sources),
        )
        for f in sorted(interp.findings, key=lambda f: _ORDER[f.severity])
    ]


def render_findings(interp: Interpretation) -> str:
    """findings.json text: a JSON list, 2-space indented, UTF-8 characters kept."""
    data = FINDINGS_ADAPTER.dump_python(findings_payload(interp), mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
