"""Typed models of the interpretation engine: what it reads, what it builds and what it hands to renderers.

Contract (stable; the store and the renderers build on it):

- ``Observation`` is ONE stored result of one patient, as the store hands it to the engine: the canonical
  analyte code, the value and unit as printed (UCUM), the range printed on the SAME report, the draw date,
  and provenance (report, lab, page, box, confidence). ``observations_from_document`` in ``adapt.py``
  builds them from a ``pipeline.models.Document``.
- ``interpret(observations, patient) -> Interpretation`` (``pipeline.interpret``) is the only entry point.
  Everything below ``Interpretation`` is derived and pure: the same inputs give the same output.
- Values in ``TimelinePoint``, ``Change``, ``Trend`` are in the analyte's CANONICAL unit (``Timeline.unit``);
  the printed value and unit are kept beside them for display.
- "Not known" is ``None`` and is never filled in: a missing sex, age, medicine list or treatment date stays
  ``None`` and is reported as unknown.
- Findings carry ``sources`` (citation strings); every number the engine uses is cited in ``sources.py``.
- Provenance travels with the values: every ``TimelinePoint`` keeps the test name and unit as printed, the
  report, lab, page and box; every ``Evidence`` item keeps its report and page. Renderers cite from these
  and never look values up again in the source documents.
- Display names (``Timeline.label``) come from the knowledge base (``parsers/knowledge``), never from the
  internal analyte code.

All models forbid unknown keys (``extra="forbid"``) so a typo in a producer fails loudly.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

INTERPRET_SCHEMA_VERSION = "1.1"
"""1.1: provenance on points and evidence (printed name, unit, page, range), affine conversion offset,
lab_unknown comparability notes, SYNTHETIC_FUNCTION_WORSENING."""

Comparator = Literal["<", "<=", ">", ">="]
Flag = Literal["H", "L", "HH", "LL", "A"]
Sex = Literal["female", "male"]
FindingSeverity = Literal["info", "warning", "urgent"]
"""info: worth knowing; warning: discuss with a doctor soon; urgent: seek timely medical review."""
Direction = Literal["rising", "falling", "stable", "insufficient"]
"""insufficient: too few comparable numeric points to call a direction (fewer than two; without sourced
biological variation, anything but a strictly monotonic run over three or more)."""
Confirmation = Literal["sustained", "trend", "unconfirmed", "none", "not_assessable"]
"""How well a change is supported (design choice after clinical.md §2, not a guideline):
sustained: the last 2+ consecutive results are beyond the RCV from baseline in the same direction;
trend: Mann-Kendall monotonic trend (two-sided p < 0.05) over 4+ points and, for analytes with sourced
biological variation, a change along the Theil-Sen line beyond the RCV;
unconfirmed: a single result beyond the RCV: either the latest (repeat before calling it a change) or an
earlier spike that came back to baseline (``Trend.excursions`` holds it; direction is then 'stable');
none: no result beyond the RCV and no monotonic trend;
not_assessable: no sourced biological variation for the analyte and no significant trend test."""
ChangeKind = Literal["single", "sustained", "trend", "none"]
RangeStatus = Literal["below", "within", "above", "unknown"]
ComparabilityKind = Literal[
    "unit_converted",
    "unit_unknown",
    "unit_not_convertible",
    "lab_changed",
    "lab_unknown",
    "method_changed",
    "range_changed",
    "range_missing",
    "censored_value",
    "non_numeric",
    "needs_review",
    "same_day_repeat",
]
ComparabilityAction = Literal["note", "caveat", "refuse"]
"""note: shown in provenance only; caveat: the comparison stands but carries the caveat;
refuse: the two points are NOT compared (a new comparable segment starts)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------------
# Inputs


class Observation(_Model):
    """One stored result of one patient, with the range printed on its own report and its provenance."""

    analyte: str
    """Canonical analyte code (see /tmp/analytes_scope.md: 'alt', 'bilirubin_total', 'inr', ...)."""
    loinc: str | None = None
    name: str | None = None
    """The test name as printed."""
    value: float | None = None
    """Numeric value in ``unit``; None for text results ('Negative') or unreadable values."""
    value_text: str
    """The value exactly as printed."""
    comparator: Comparator | None = None
    """Set for censored values such as '<5'; such values are shown but never trended."""
    unit: str | None = None
    """UCUM code of the printed unit, e.g. 'U/L', 'mg/dL', 'umol/L', '{INR}', '10*3/uL'."""
    unit_printed: str | None = None
    ref_low: float | None = None
    """Printed lower reference limit, in ``unit``."""
    ref_high: float | None = None
    """Printed upper reference limit, in ``unit``."""
    ref_text: str | None = None
    """The printed range verbatim."""
    ref_applies_to: str | None = None
    flag: Flag | None = None
    collected_at: dt.date
    """Date of the draw (collection), not of the report."""
    collected_time: dt.time | None = None
    report_id: str
    """Stable id of the report (document) this result came from."""
    lab: str | None = None
    """Laboratory name as printed; used for the comparability check."""
    lab_method: str | None = None
    """Analytical method or unit system when printed (e.g. 'IFCC 37C', 'Jaffe', 'enzymatic', 'POC')."""
    age_years: float | None = None
    """Patient age as printed on THIS report (used by FIB-4, which needs the age at the draw)."""
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    extraction_method: Literal["text", "ocr"] | None = None
    confidence: float | None = None
    needs_review: bool = False


class ClinicalContext(_Model):
    """What no lab report holds; every field is None (= unknown) unless a person entered it."""

    known_liver_disease: bool | None = None
    on_vitamin_k_antagonist: bool | None = None
    """Warfarin or another VKA: raises INR by design."""
    alcohol: str | None = None
    medicines: list[str] | None = None
    treatment_start: dt.date | None = None
    ascites: bool | None = None
    encephalopathy: bool | None = None


class PatientInfo(_Model):
    """The patient facts the engine uses; identifiers stay out of logs."""

    id: str | None = None
    sex: Sex | None = None
    birth_date: dt.date | None = None
    age_years: float | None = None
    """Age as last printed, used only when neither a birth date nor a per-report age is known."""
    age_on: dt.date | None = None
    """The date at which ``age_years`` was true (a report's draw date)."""
    context: ClinicalContext = Field(default_factory=ClinicalContext)


# --------------------------------------------------------------------------------------------------
# Timelines


class Evidence(_Model):
    """One value a score or finding rests on, in the unit it is shown in, with its date and report."""

    analyte: str
    value: float | None
    unit: str | None
    collected_at: dt.date
    report_id: str | None = None
    value_text: str | None = None
    ref_high: float | None = None
    """Upper limit printed on the value's own report, in ``unit``."""
    ref_low: float | None = None
    """Lower limit printed on the value's own report, in ``unit``."""
    ref_text: str | None = None
    """That range exactly as printed (in ``unit_printed``)."""
    unit_printed: str | None = None
    """The unit as the report printed it (``value_text`` is in it)."""
    page: int | None = None
    """Page of the report the value was read from (1-based)."""


class TimelinePoint(_Model):
    """One result placed on its analyte's timeline, in the canonical unit, with its own printed range."""

    collected_at: dt.date
    collected_time: dt.time | None = None
    value: float | None
    """In the timeline's canonical unit; None when non-numeric, censored or not convertible."""
    comparator: Comparator | None = None
    value_text: str
    ref_low: float | None = None
    """Printed lower limit of the SAME report, converted to the canonical unit."""
    ref_high: float | None = None
    ref_text: str | None = None
    flag: Flag | None = None
    range_status: RangeStatus = "unknown"
    uln_multiple: float | None = None
    """value / ref_high (the printed upper limit of the same report)."""
    original_value: float | None = None
    original_unit: str | None = None
    """UCUM code of the printed unit."""
    unit_printed: str | None = None
    """The unit exactly as printed (e.g. 'x10^3/uL', 'µmol/L')."""
    name: str | None = None
    """The test name exactly as printed on this report."""
    factor: float = 1.0
    offset: float = 0.0
    """canonical value = original value * factor + offset (offset is 0 except for affine conversions such
    as HbA1c IFCC mmol/mol -> NGSP %)."""
    segment: int = 0
    """Points share a segment when they may be compared; a refusal starts a new segment."""
    report_id: str
    lab: str | None = None
    lab_method: str | None = None
    loinc: str | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    confidence: float | None = None
    needs_review: bool = False

    @property
    def converted(self) -> bool:
        """The value was printed in another unit and converted to the timeline's unit."""
        return self.original_value is not None and (self.factor != 1.0 or self.offset != 0.0)


class ComparabilityNote(_Model):
    """Why two points of a timeline carry a caveat or may not be compared."""

    kind: ComparabilityKind
    action: ComparabilityAction
    collected_at: dt.date
    """Date of the later point the note is about."""
    previous_at: dt.date | None = None
    report_id: str
    detail: str


class Timeline(_Model):
    """All results of one analyte for one patient, oldest first, in one unit."""

    analyte: str
    label: str
    """Display name of the analyte (English)."""
    unit: str | None
    """Canonical UCUM unit every point's ``value`` is in (None when unknown for this analyte)."""
    points: list[TimelinePoint] = Field(default_factory=list)
    notes: list[ComparabilityNote] = Field(default_factory=list)

    @property
    def numeric(self) -> list[TimelinePoint]:
        """Points with a usable numeric value, oldest first."""
        return [p for p in self.points if p.value is not None]


# --------------------------------------------------------------------------------------------------
# Change and trend


class Change(_Model):
    """The change between two points of a timeline and whether it exceeds the reference change value."""

    analyte: str
    basis: Literal["consecutive", "baseline"]
    from_date: dt.date
    to_date: dt.date
    from_value: float
    to_value: float
    unit: str | None
    absolute: float
    percent: float | None
    """None when the earlier value is 0."""
    days: int
    per_30_days: float | None
    """Absolute change scaled to 30 days (CLSI EP33 delta check); None on the same day."""
    rcv_up_pct: float | None = None
    rcv_down_pct: float | None = None
    """Negative number, e.g. -25.3."""
    rcv_method: Literal["lognormal", "symmetric"] | None = None
    significant: bool | None = None
    """None when the analyte has no sourced biological variation data."""
    direction: Literal["up", "down", "none"] = "none"
    kind: ChangeKind = "none"
    caveats: list[str] = Field(default_factory=list)


class MannKendall(_Model):
    """Mann-Kendall trend test (normal approximation, tie-corrected) and Theil-Sen slope."""

    n: int
    s: int
    var_s: float
    z: float
    p_value: float
    """Two-sided."""
    p_one_sided: float
    """One-sided, in the direction of S (reported only; the trend rule uses the two-sided p)."""
    tau: float
    theil_sen_per_30_days: float


class SeverityNow(_Model):
    """How far the latest value sits from its own printed range (separate from direction)."""

    collected_at: dt.date
    value: float
    unit: str | None
    range_status: RangeStatus
    uln_multiple: float | None = None
    band: str
    """e.g. 'within range', 'below range', 'above range (1.0-3x ULN)', 'range not printed'."""
    ctcae_grade: int | None = None
    """CTCAE v5 grade by multiple of ULN where the engine grades the analyte (liver tests)."""


class Trend(_Model):
    """Direction and confirmation of one analyte over its latest comparable segment; severity kept apart."""

    analyte: str
    unit: str | None
    direction: Direction
    confirmation: Confirmation
    n_points: int
    segment: int
    """The comparable segment read (the latest one)."""
    baseline: Evidence | None = None
    latest: Evidence | None = None
    severity: SeverityNow | None = None
    consecutive: list[Change] = Field(default_factory=list)
    from_baseline: list[Change] = Field(default_factory=list)
    mann_kendall: MannKendall | None = None
    excursions: list[Evidence] = Field(default_factory=list)
    """Single results beyond the RCV that were not confirmed (spikes)."""
    regression_to_mean: str | None = None
    """Softer-wording caveat when the first value was extreme and the move is back toward the range."""
    rcv_note: str | None = None
    summary: str
    """One plain line: direction, confirmation and severity, e.g. 'falling (sustained); still 3.2x ULN'."""


# --------------------------------------------------------------------------------------------------
# Scores and findings


class ScoreComponent(_Model):
    name: str
    value: float | None
    note: str | None = None


class ScoreResult(_Model):
    """A score or pattern from same-draw values, or 'not computable' with the reason."""

    name: str
    """Stable key, e.g. 'fib4', 'apri', 'meld', 'meld_na', 'meld3', 'albi', 'child_pugh_lab', 'r_ratio'."""
    label: str
    computable: bool
    value: float | None = None
    raw_value: float | None = None
    """Unrounded / uncapped value where the score defines rounding or caps (MELD 3.0 raw)."""
    band: str | None = None
    grade: int | None = None
    interpretation: str | None = None
    reason: str | None = None
    """Why it is not computable (an input missing, non-numeric, or from another draw)."""
    collected_at: dt.date | None = None
    inputs: list[Evidence] = Field(default_factory=list)
    components: list[ScoreComponent] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class Finding(_Model):
    """A pattern over time the report must show, with evidence and sources."""

    code: str
    """Stable code, one of ``FINDING_CODES``."""
    severity: FindingSeverity
    title: str
    detail: str
    """For a clinician."""
    patient_text: str
    """Plain language for the patient."""
    analytes: list[str]
    evidence: list[Evidence]
    sources: list[str]
    next_steps: list[str] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    unknowns: list[str] = Field(default_factory=list)
    """Context the reading depends on that nobody recorded (stays unknown)."""


FINDING_CODES: tuple[str, ...] = (
    "SYNTHETIC_FAILURE_DISCORDANCE",
    "SYNTHETIC_FUNCTION_WORSENING",
    "CHOLESTATIC_SHIFT",
    "DE_RITIS_REVERSAL",
    "INR_THRESHOLD_CROSSED",
    "GENUINE_IMPROVEMENT",
    "HYS_LAW_PATTERN",
    "UNCONFIRMED_CHANGE",
    "RELATED_TESTS_MISSING",
)


class MissingTest(_Model):
    """A related test that was not measured recently enough to read the panel."""

    analyte: str
    last_collected_at: dt.date | None
    reason: str


class Interpretation(_Model):
    """Everything the renderers show for one patient."""

    schema_version: str = INTERPRET_SCHEMA_VERSION
    patient: PatientInfo
    report_ids: list[str] = Field(default_factory=list)
    as_of: dt.date | None = None
    """Latest draw date seen."""
    timelines: list[Timeline] = Field(default_factory=list)
    trends: list[Trend] = Field(default_factory=list)
    scores: list[ScoreResult] = Field(default_factory=list)
    """Scores on the latest draw holding any of their inputs (not computable ones too, with the reason)."""
    findings: list[Finding] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    missing_tests: list[MissingTest] = Field(default_factory=list)
    unknown_context: list[str] = Field(default_factory=list)
    red_flags: list[str] = Field(default_factory=list)
    """Symptoms that call for timely medical advice ('when to seek care')."""
    questions: list[str] = Field(default_factory=list)
    """Questions to discuss with a doctor."""
    sources: list[str] = Field(default_factory=list)
    """Every citation used anywhere in this interpretation, deduplicated."""
