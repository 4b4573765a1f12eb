"""timeline.csv: one row per timeline point, with its printed form and provenance (file, page, confidence).

Contract: ``render_csv(interpretation, provenance) -> str`` with the columns of ``COLUMNS``. ``value`` and
``unit`` are in the analyte's canonical unit (what the charts plot); ``value_printed`` and ``unit_printed``
are as the report printed them; ``ref_low``/``ref_high`` are the report's own printed limits converted to
the canonical unit, ``ref_text`` verbatim. Spreadsheet formula injection is neutralised: a text cell that
starts with = + - @ (and is not a number) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io

from pipeline.interpret.models import Interpretation
from pipeline.render.provenance import Provenance

COLUMNS = (
    "patient",
    "analyte",
    "loinc",
    "collected_at",
    "value",
    "unit",
    "value_printed",
    "unit_printed",
    "ref_low",
    "ref_high",
    "ref_text",
    "flag",
    "lab",
    "report_file",
    "page",
    "confidence",
)


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def _safe(text: str | None) -> str:
    """Neutralise spreadsheet formulas in free text; numbers such as '-5' stay as they are."""
    if not text:
        return ""
    if text[0] in "=+-@\t\r":
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def render_csv(interp: Interpretation, prov: Provenance) -> str:
    """The timeline as CSV text (UTF-8, header row, ``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    patient = interp.patient.id or ""
    for t in sorted(interp.timelines, key=lambda t: t.analyte):
        for p in t.points:
            ref = prov.report(p.report_id)
            when = p.collected_at.isoformat()
            if p.collected_time is not None:
                when += "T" + p.collected_time.strftime("%H:%M")
            writer.writerow(
                [
                    _safe(patient),
                    t.analyte,
                    p.loinc or "",
                    when,
                    _num(p.value),
                    t.unit or "",
                    _safe(p.value_text),
                    _safe(p.unit_printed or p.original_unit),
                    _num(p.ref_low),
                    _num(p.ref_high),
                    _safe(p.ref_text),
                    p.flag or "",
                    _safe(p.lab),
                    _safe(ref.file_name if ref else ""),
                    "" if p.page is None else str(p.page),
                    "" if p.confidence is None else f"{p.confidence:.3f}",
                ]
            )
    return out.getvalue()
