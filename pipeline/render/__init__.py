"""Renderers: one patient's Interpretation and source documents -> report.html, findings.json,
timeline.csv and bundle.json in one folder.

Contract: ``write_report(interpretation, documents, out_dir, extra_caveats=()) -> ReportPaths``. The
documents are the patient's extracted Documents (``Store.documents(key)``, or the Documents extracted
straight from files); they name the source file of every report (each value carries its own printed
name, unit, lab and page in the interpretation) and are the FHIR DiagnosticReports. Report ids in the
interpretation must be the source files' sha256 (what the store hands the engine). Files are written
atomically (temporary name, then rename) so a reader never sees a half-written report, and readable by
their owner only (0600): they hold health data. ``extra_caveats`` carries notes the caller knows and the
engine does not (e.g. an uncertain patient match from the store).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.interpret.models import Interpretation
from pipeline.models import Document
from pipeline.render.csv import render_csv
from pipeline.render.fhir import render_bundle
from pipeline.render.findings import render_findings
from pipeline.render.html import render_html
from pipeline.render.provenance import Provenance

log = logging.getLogger(__name__)


class ReportPaths(BaseModel):
    """Where ``write_report`` put each output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out_dir: Path
    html: Path
    findings: Path
    timeline: Path
    bundle: Path


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(
    interpretation: Interpretation,
    documents: Sequence[Document],
    out_dir: Path | str,
    extra_caveats: Sequence[str] = (),
) -> ReportPaths:
    """Write the four outputs for one patient into ``out_dir`` (created if needed)."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prov = Provenance(documents)
    paths = ReportPaths(
        out_dir=out,
        html=out / "report.html",
        findings=out / "findings.json",
        timeline=out / "timeline.csv",
        bundle=out / "bundle.json",
    )
    _write_atomic(paths.findings, render_findings(interpretation))
    _write_atomic(paths.timeline, render_csv(interpretation, prov))
    _write_atomic(paths.bundle, render_bundle(interpretation, prov))
    _write_atomic(paths.html, render_html(interpretation, prov, extra_caveats))
    log.info(
        "report written: %d reports, %d timelines, %d findings in %.2f s",
        len(prov.reports),
        len(interpretation.timelines),
        len(interpretation.findings),
        time.perf_counter() - started,
    )
    return paths


__all__ = ["ReportPaths", "write_report"]
