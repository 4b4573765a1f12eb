"""What a report tells about itself that every row needs: number style, date order, patient, dates.

All cues come from the report's own text: a decimal comma somewhere, a date whose first field is over 12,
the patient's printed sex and age. When numeric dates stay ambiguous (8/02/26 and 10/02/26), the order
that puts collection and report closest together wins if it is clearly closer, since labs report in days,
not months; otherwise the dates are left out and an issue says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import regex

from parsers.dates import infer_date_order, parse_datetime
from parsers.types import DateOrder, NumberStyle
from parsers.values import detect_number_style
from pipeline.headers import HeaderFields, parse_age, parse_sex, split_age_sex, strip_title
from pipeline.hints import LabHint
from pipeline.models import Issue, Line, Patient

_DATE_LIKE = regex.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b")
_DATE_FIELDS = ("collected_at", "reported_at", "birth_date")
_ASIDE = regex.compile(r"\(([^)]*)\)")
_US_CUES = regex.compile(
    r"\bCLIA\b|\b(?:A[KLRZ]|C[AOT]|DE|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]|T[NX]|"
    r"UT|V[AT]|W[AIVY])\s+\d{5}(?:-\d{4})?\b|\(\d{3}\)\s?\d{3}-\d{4}"
)
_WORLD_CUES = regex.compile(
    r"\b(?:mmol/l|[µμu]mol/l|g/l|10\^?9/l|10\^?12/l|lakhs?|cumm|nhs|abn|gst)\b|\+(?!1\b)\d{2,3}[\s-]\d",
    regex.IGNORECASE,
)


@dataclass(slots=True)
class ReportContext:
    """Document-level cues, updated page by page as the report is read."""

    style: NumberStyle = NumberStyle.UNKNOWN
    order: DateOrder | None = None
    header: HeaderFields = field(default_factory=HeaderFields)
    date_texts: list[str] = field(default_factory=list)
    sex: str | None = None
    age_years: float | None = None
    us_cues: int = 0
    world_cues: int = 0
    order_assumed: bool = False
    hinted_order: bool = False

    def follow(self, hint: LabHint) -> None:
        """A lab's layout hint settles the number style and the date order for the whole report."""
        self.style = hint.style or self.style
        self.order = hint.order or self.order
        self.hinted_order = hint.order is not None

    def add_page(self, lines: Iterable[Line], header: HeaderFields) -> None:
        """Take the cues of one more page (before its rows are read)."""
        self.header.merge(header)
        texts = [w.text for line in lines for w in line.words]
        if self.style is NumberStyle.UNKNOWN:
            self.style = detect_number_style(texts)
        self.date_texts.extend(m.group(0) for t in texts for m in _DATE_LIKE.finditer(t))
        self.date_texts.extend(self.header.values[k] for k in _DATE_FIELDS if k in self.header.values)
        line_texts = [line.text for line in lines]
        self.us_cues += sum(1 for t in line_texts if _US_CUES.search(t))
        self.world_cues += sum(1 for t in line_texts if _WORLD_CUES.search(t))
        self.world_cues += self.style is NumberStyle.COMMA
        if not self.hinted_order:
            self.order = infer_date_order(self.date_texts) or self.order or _closest_order(self.header)
        if self.order is None and self.us_cues != self.world_cues and (self.us_cues == 0 or self.world_cues == 0):
            # numeric dates that no cue decides: the report's locale decides (US reports write month first,
            # nearly all others day first); recorded as an assumption
            self.order = DateOrder.MDY if self.us_cues else DateOrder.DMY
            self.order_assumed = True
        values = self.header.values
        if "age_sex" in values:
            age, sex = split_age_sex(values["age_sex"])
            self.age_years = self.age_years if self.age_years is not None else age
            self.sex = self.sex or sex
        if self.sex is None and "sex" in values:
            self.sex = parse_sex(values["sex"])
        if self.age_years is None and "age" in values:
            self.age_years = parse_age(values["age"])
        if "patient_name" in values:
            values["patient_name"], titled = strip_title(values["patient_name"])
            self.sex = self.sex or titled
        aside = _ASIDE.search(values.get("birth_date", ""))
        if aside is not None:
            # 'DOB: 2012-08-25 (12 y, F)'
            age, sex = split_age_sex(aside.group(1))
            self.age_years = self.age_years if self.age_years is not None else age
            self.sex = self.sex or sex


def _closest_order(header: HeaderFields) -> DateOrder | None:
    """For ambiguous numeric dates: the order under which collection and report dates are clearly closest."""
    texts = [header.values[k] for k in ("collected_at", "reported_at") if k in header.values]
    if len(texts) < 2:
        return None
    spans: dict[DateOrder, int] = {}
    for order in (DateOrder.DMY, DateOrder.MDY):
        parsed = [parse_datetime(t, order) for t in texts]
        if all(p is not None for p in parsed):
            days = [p[0] for p in parsed if p is not None]
            if days[1] >= days[0]:
                spans[order] = (days[1] - days[0]).days
    if len(spans) == 2:
        (a, span_a), (_, span_b) = sorted(spans.items(), key=lambda kv: kv[1])
        return a if span_a <= 7 and span_b >= 4 * max(span_a, 1) else None
    return next(iter(spans), None)


@dataclass(frozen=True, slots=True)
class ReportDates:
    collected_at: str | None
    collected_time: str | None
    reported_at: str | None
    birth_date: str | None


def resolve_dates(ctx: ReportContext, issues: list[Issue], today: dt.date) -> ReportDates:
    """ISO dates of the header's date fields in the report's order; unclear or future dates are issues."""
    out: dict[str, tuple[dt.date, dt.time | None] | None] = {}
    texts = [ctx.header.values[key] for key in _DATE_FIELDS if key in ctx.header.values]
    if ctx.order_assumed and ctx.order is not None and any(_needs_order(text) for text in texts):
        issues.append(
            Issue(
                severity="info",
                code="date_order_assumed",
                message=f"numeric dates read as {ctx.order.value}: no date on the report decides the order, "
                "its locale does",
            )
        )
    for key in _DATE_FIELDS:
        text = ctx.header.values.get(key)
        if text is None:
            out[key] = None
            continue
        parsed = parse_datetime(text, ctx.order) or _leading_date(text, ctx.order)
        if parsed is None:
            issues.append(
                Issue(
                    severity="warning",
                    code="unreadable_date",
                    message=f"the {key.replace('_', ' ')} date could not be read unambiguously",
                )
            )
        elif parsed[0] > today + dt.timedelta(days=1):
            issues.append(
                Issue(
                    severity="warning",
                    code="future_date",
                    message=f"the {key.replace('_', ' ')} date lies in the future; left out",
                )
            )
            parsed = None
        out[key] = parsed
    collected, reported, birth = out["collected_at"], out["reported_at"], out["birth_date"]
    return ReportDates(
        collected_at=collected[0].isoformat() if collected else None,
        collected_time=collected[1].strftime("%H:%M") if collected and collected[1] else None,
        reported_at=reported[0].isoformat() if reported else None,
        birth_date=birth[0].isoformat() if birth else None,
    )


def _needs_order(text: str) -> bool:
    """A date that reads only once the day-month order is known ('04/05/2023')."""
    return _leading_date(text, None) is None and _leading_date(text, DateOrder.DMY) is not None


def _leading_date(text: str, order: DateOrder | None) -> tuple[dt.date, dt.time | None] | None:
    """A date followed by other words ('14/5/2023 11:03:00AM Reported')."""
    words = text.split()
    for size in range(min(4, len(words)), 0, -1):
        parsed = parse_datetime(" ".join(words[:size]), order)
        if parsed is not None:
            return parsed
    return None


def patient_of(ctx: ReportContext, dates: ReportDates) -> Patient:
    """The patient as printed; the age at collection is computed from the birth date when not printed."""
    values = ctx.header.values
    sex = ctx.sex if ctx.sex in ("male", "female") else None
    age = ctx.age_years
    if age is None and dates.birth_date and dates.collected_at:
        born, drawn = dt.date.fromisoformat(dates.birth_date), dt.date.fromisoformat(dates.collected_at)
        age = float(drawn.year - born.year - ((drawn.month, drawn.day) < (born.month, born.day)))
    return Patient(
        id=values.get("patient_id"),
        name=values.get("patient_name"),
        sex=sex,  # type: ignore[arg-type]
        birth_date=dates.birth_date,
        age_years=age,
    )
