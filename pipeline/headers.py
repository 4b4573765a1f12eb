"""Read the report's header fields (patient, dates, lab) from labelled text on a page.

A label ('Dob:', 'Fecha de toma', 'Sesso') is found by longest match against `labels.yaml`; its value is
the rest of its cell, else the next cell on the line, else the words printed under it on the next line
(header blocks laid out as a small table). Values stay raw text here: dates need the whole report's date
order, which the orchestrator decides.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import regex
import yaml

from parsers.dates import parse_date
from parsers.types import DateOrder
from pipeline.columns import normalise
from pipeline.models import Cell, Line, Word

_LABELS = Path(__file__).resolve().parent.parent / "parsers" / "knowledge" / "labels.yaml"
_FIELDS = ("patient_name", "patient_id", "sex", "age", "age_sex", "birth_date", "collected_at", "reported_at")
_MAX_LABEL = 5
_LAB_WORDS = regex.compile(
    r"\b(?:laborato(?:ry|ries|rio|rios|ório|orio|ire|ires)|laboratoriet|laboratorium|labs?|labor|pathology|"
    r"pathlabs?|diagnostics?|diagnóstico|diagnostica|analyses|análisis|analisi|clinical|klinik|klinisk|clinics?|"
    r"clínica|clinique|hospitals?|hôpital|ospedale|krankenhaus|sjukhus|medical cent(?:re|er)|family practice|"
    r"family medicine|blood sciences)\b",
    regex.IGNORECASE,
)
_SURNAME_FIRST = regex.compile(r"^\p{Lu}[\p{Lu}'\- ]+, \p{Lu}[\p{Lu}'\-]+(?: \p{Lu}[\p{Lu}'\-.]*)*$")
"""An unlabelled name printed the way labs print names: 'GALLAGHER, MAUREEN' (upper case, surname first)."""


@functools.cache
def _labels() -> dict[str, str]:
    data = yaml.safe_load(_LABELS.read_text(encoding="utf-8"))
    unknown = set(data) - {*_FIELDS, "ignore", "sex_values", "titles"}
    if unknown:
        raise ValueError(f"{_LABELS}: unknown fields {sorted(unknown)}")
    return {
        normalise(label): name
        for name, labels in data.items()
        if name not in ("sex_values", "titles")
        for label in labels
    }


@dataclass(slots=True)
class HeaderFields:
    """Raw header values as printed; the first value found for a field wins."""

    values: dict[str, str] = field(default_factory=dict)
    lab_name: str | None = None

    def merge(self, other: HeaderFields) -> None:
        for key, value in other.values.items():
            self.values.setdefault(key, value)
        self.lab_name = self.lab_name or other.lab_name


@dataclass(frozen=True, slots=True)
class _Label:
    name: str
    cell: int
    start: int
    stop: int
    x0: float
    x1: float
    closed: bool
    """Followed by a colon or alone in its cell, so the words after it are its value ('PATIENT REPORT' is
    a title, not the label 'patient' with the value 'REPORT')."""


def _split_colons(cell: Cell) -> list[Word]:
    """'Dob:25/02/1990' -> 'Dob:' and '25/02/1990', so that glued labels are found."""
    words: list[Word] = []
    for w in cell.words:
        head, sep, tail = w.text.partition(":")
        if sep and head and tail and not head[-1:].isdigit():
            cut = w.x0 + (w.x1 - w.x0) * (len(head) + 1) / len(w.text)
            words.append(Word(head + ":", w.x0, w.top, cut, w.bottom, w.bold, w.conf))
            words.append(Word(tail, cut, w.top, w.x1, w.bottom, w.bold, w.conf))
        else:
            words.append(w)
    return words


def _find_labels(cells: Sequence[list[Word]]) -> list[_Label]:
    labels = _labels()
    found: list[_Label] = []
    for c, words in enumerate(cells):
        i = 0
        while i < len(words):
            for size in range(min(_MAX_LABEL, len(words) - i), 0, -1):
                key = normalise(" ".join(w.text for w in words[i : i + size]))
                name = labels.get(key)
                if name is not None:
                    after = words[i + size].text if i + size < len(words) else ""
                    closed = words[i + size - 1].text.endswith(":") or after.startswith(":") or not after
                    found.append(_Label(name, c, i, i + size, words[i].x0, words[i + size - 1].x1, closed))
                    i += size
                    break
            else:
                i += 1
    return found


def _clean(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words).strip(" :.-\t")


def _value_after(label: _Label, cells: Sequence[list[Word]], labels: Sequence[_Label]) -> str:
    """Rest of the label's cell up to the next label, else the next cell that is not a label or a colon."""
    same_cell = [lb for lb in labels if lb.cell == label.cell and lb.start > label.start]
    stop = same_cell[0].start if same_cell else len(cells[label.cell])
    text = _clean(cells[label.cell][label.stop : stop])
    if text or same_cell:
        return text
    for c in range(label.cell + 1, len(cells)):
        inner = sorted((lb for lb in labels if lb.cell == c), key=lambda lb: lb.start)
        if inner and inner[0].start == 0 and inner[0].name == label.name:
            # the value repeats its label ('MRN: MRN 00734519')
            stop = inner[1].start if len(inner) > 1 else len(cells[c])
            return _clean(cells[c][inner[0].stop : stop])
        if inner:
            return _clean(cells[c][: inner[0].start])
        text = _clean(cells[c])
        if text:
            return text
    return ""


def _value_below(label: _Label, next_labels: Sequence[_Label], line: Line, below: Line | None) -> str:
    """Words printed under a label on the next line (header blocks laid out as a table of labels over
    values); only when that line holds values, not labels of its own."""
    if below is None or below.top - line.bottom > 1.5 * (line.bottom - line.top):
        return ""
    if _find_labels([_split_colons(cell) for cell in below.cells]):
        return ""
    right = min((lb.x0 for lb in next_labels if lb.x0 > label.x0), default=float("inf"))
    words = [
        w
        for w in below.words
        if label.x0 - 4 <= (w.x0 + w.x1) / 2 < right - 2 or label.x0 - 4 <= w.x0 < right - 2
    ]
    return _clean(words)


def read_header_fields(lines: Sequence[Line]) -> HeaderFields:
    """Labelled header values on one page."""
    fields = HeaderFields()
    for index, line in enumerate(lines):
        cells = [_split_colons(cell) for cell in line.cells]
        labels = _find_labels(cells)
        below = lines[index + 1] if index + 1 < len(lines) else None
        label_words = sum(lb.stop - lb.start for lb in labels)
        dense = label_words >= 0.6 * len(line.words)
        for label in labels:
            if label.name == "ignore" or label.name in fields.values:
                continue
            value = _value_after(label, cells, labels)
            if not label.closed and not _fits(label.name, value):
                value = ""
            if not value and dense:
                value = _value_below(label, labels, line, below)
            if value:
                fields.values[label.name] = value
        if index < 12:
            labelled = {lb.cell for lb in labels}
            for number, cell in enumerate(line.cells):
                if number in labelled or ":" in cell.text:
                    continue
                if (
                    fields.lab_name is None
                    and _LAB_WORDS.search(cell.text)
                    and not any(ch.isdigit() for ch in cell.text)
                ):
                    fields.lab_name = cell.text.strip()
                if "patient_name" not in fields.values and _SURNAME_FIRST.match(cell.text):
                    fields.values["patient_name"] = cell.text.strip()
                _titled(cell, fields)
    return fields


def _fits(field: str, value: str) -> bool:
    """Whether a value found after a label without a colon has the shape of that field ('Né le 04/11/1966'),
    so that titles such as 'PATIENT REPORT' are not read as 'patient: REPORT'."""
    if field in ("birth_date", "collected_at", "reported_at"):
        first = " ".join(value.split()[:3])
        return any(parse_date(first, order) or parse_date(first.split()[0], order) for order in DateOrder)
    if field == "sex":
        return parse_sex(value) is not None
    if field in ("age", "age_sex"):
        return parse_age(value) is not None
    if field == "patient_id":
        return any(ch.isdigit() for ch in value) and len(value.split()) <= 2
    return False


def _titled(cell: Cell, fields: HeaderFields) -> None:
    """'Monsieur MARTIN Philippe': the title gives the sex, the rest the name, when no label gave them."""
    words = cell.text.split()
    sex = _sex_words("titles").get(normalise(words[0])) if len(words) >= 3 else None
    if sex is None or sex == "none":
        return
    fields.values.setdefault("sex", sex)
    fields.values.setdefault("patient_name", " ".join(words[1:]))


def strip_title(name: str) -> tuple[str, str | None]:
    """'Mr. VIKRAM SETHI' -> ('VIKRAM SETHI', 'male'); 'Baby ANANYA RAO' -> ('ANANYA RAO', None)."""
    words = name.split()
    sex = _sex_words("titles").get(normalise(words[0])) if len(words) >= 2 else None
    if sex is None:
        return name, None
    return " ".join(words[1:]), None if sex == "none" else sex


_AGE = regex.compile(
    r"(?P<n>\d{1,3}(?:[.,]\d+)?)\s*(?P<u>years?|yrs?|y|anos|años|anni|ans|jahre|år|ar|a|months?|mos?|meses|"
    r"mesi|mois|monate|days?|dias|días|giorni|jours|tage|d)?\b",
    regex.IGNORECASE,
)


@functools.cache
def _sex_words(section: str = "sex_values") -> dict[str, str]:
    data = yaml.safe_load(_LABELS.read_text(encoding="utf-8"))[section]
    return {normalise(word): sex for sex, words in data.items() for word in words}


def parse_sex(text: str) -> str | None:
    """'M', 'Male', 'Femenino', 'weiblich' -> 'male' / 'female'; None when it does not say."""
    words = _sex_words()
    return next((words[token] for token in normalise(text).split() if token in words), None)


def parse_age(text: str) -> float | None:
    """'30 Years', '45Y', '6 months', '27' -> age in years."""
    match = _AGE.search(text)
    if match is None:
        return None
    number = float(match.group("n").replace(",", "."))
    unit = (match.group("u") or "y").casefold()
    if unit.startswith(("mo", "mes", "moi")):
        number /= 12
    elif unit.startswith(("d", "gi", "jo", "ta")):
        number /= 365.25
    return number if 0 <= number < 130 else None


def split_age_sex(text: str) -> tuple[float | None, str | None]:
    """'27 / Male', '45Y/F', 'F 45 years' -> (age, sex)."""
    return parse_age(text), parse_sex(regex.sub(r"\d+[a-zA-Z]{0,3}\b", " ", text.replace("/", " ")))
