"""report.html: one self-contained page (inline CSS, inline SVG; no script, no font, no network request).

Contract: ``render_html(interpretation, provenance, extra_caveats) -> str``. The Jinja2 environment
autoescapes everything; only chart SVG, built and escaped in ``charts``, is inserted as Markup. The page
leads with the findings in two voices (plain language for the patient, detail for the clinician), then
when to seek care, the trend charts, scores with their inputs, every value in a table, caveats, what to
discuss, the sources (file, lab, dates, hash) and the disclaimer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline.interpret.models import Interpretation
from pipeline.render.provenance import Provenance
from pipeline.render.view import build_view

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment: autoescaping on for every template, undefined names are errors."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "css"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(interp: Interpretation, prov: Provenance, extra_caveats: Sequence[str] = ()) -> str:
    """The report page as one HTML string."""
    view = build_view(interp, prov, extra_caveats)
    return environment().get_template("report.html.j2").render(v=view)
