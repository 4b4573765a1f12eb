"""Optional per-lab layout hints: small validated YAML files, never the main path.

The generic parser reads labs it has never seen; a hint only settles what a lab's reports leave open or
names the lab prints in its own way. A hint applies to a report when its `match` pattern is found in the
text of the report's first page. Validated at load: unknown keys fail, patterns compile, every analyte
code exists in the knowledge base, every column role is known.

Example (hints/lal-pathlabs.yaml):

    name: Dr Lal PathLabs
    match: "Dr Lal PathLabs|LPL-"
    date_order: DMY          # DMY, MDY or YMD: how this lab writes numeric dates
    number_style: dot        # dot or comma: its decimal separator
    test_names:              # printed test name -> analyte code (parsers/knowledge/analytes.yaml)
      GGTP: ggt
    column_headers:          # printed column header -> role (name, value, unit, range, flag, previous...)
      Bio. Ref. Interval: range
    ignore_lines:            # lines that are never results (regular expressions)
      - "^Interpretation"
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from parsers.knowledge import Analyte, KnowledgeBase, load_knowledge
from parsers.types import DateOrder, NumberStyle
from pipeline.columns import Role, normalise
from pipeline.errors import LabreportError


class HintError(LabreportError):
    code = "bad_hint"


def _compiled(pattern: str) -> str:
    """The pattern, if it is a valid regular expression (pydantic then names the field that holds it)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from exc
    return pattern


class LabHint(BaseModel):
    """One lab's hints, as written in its YAML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    match: str
    date_order: Literal["DMY", "MDY", "YMD"] | None = None
    number_style: Literal["dot", "comma"] | None = None
    test_names: dict[str, str] = {}
    column_headers: dict[str, Role] = {}
    ignore_lines: tuple[str, ...] = ()

    @field_validator("match")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        return _compiled(pattern)

    @field_validator("ignore_lines")
    @classmethod
    def _all_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_compiled(pattern) for pattern in patterns)

    @property
    def order(self) -> DateOrder | None:
        return DateOrder(self.date_order) if self.date_order else None

    @property
    def style(self) -> NumberStyle | None:
        return {"dot": NumberStyle.DOT, "comma": NumberStyle.COMMA}.get(self.number_style or "")

    def applies_to(self, text: str) -> bool:
        return re.search(self.match, text) is not None

    def ignored(self, line: str) -> bool:
        return any(re.search(pattern, line) for pattern in self.ignore_lines)

    def names(self, kb: KnowledgeBase) -> dict[str, Analyte]:
        """Printed names (as lookup keys) -> analytes."""
        return {kb.key(printed): kb.get(code) for printed, code in self.test_names.items()}

    def headers(self) -> dict[str, Role]:
        return {normalise(printed): role for printed, role in self.column_headers.items()}


@functools.cache
def load_hints(folder: Path) -> tuple[LabHint, ...]:
    """Every *.yaml hint in `folder`, validated; a bad file stops the load with its name and the reason."""
    kb = load_knowledge()
    codes = {analyte.code for analyte in kb.analytes}
    hints = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            hint = LabHint.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise HintError(f"invalid layout hint: {exc}", path=str(path)) from exc
        unknown = sorted(set(hint.test_names.values()) - codes)
        if unknown:
            raise HintError(f"unknown analyte codes {unknown} (see analytes.yaml)", path=str(path))
        hints.append(hint)
    return tuple(hints)


def select_hint(hints: Sequence[LabHint], first_page_text: str) -> LabHint | None:
    """The first hint whose pattern appears on the report's first page."""
    return next((hint for hint in hints if hint.applies_to(first_page_text)), None)
