"""Candidate rows -> validated LabResults with a confidence and the reasons for it, plus document issues.

Confidence is a promise: 0.9 or above means value, unit and range are claimed right without review. So a
result starts at 1.0 only when every independent check agrees (known name, clean number, unit valid for
the analyte, value physically possible, a sane range, a consistent flag, a clear text layer or a confident
OCR read) and each doubt multiplies it down, with the reason recorded in `notes`. Nothing is dropped:
a suspect result stays, below 0.9, with an issue that says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from parsers.flags import derive_flag
from parsers.knowledge import Analyte, KnowledgeBase
from parsers.types import ParsedRange, ParsedValue, UnitInfo
from pipeline.fields import FieldContext, cached_range
from pipeline.models import REVIEW_THRESHOLD, Flag, FlagSource, Issue, LabResult, PageMethod, ReferenceRange
from pipeline.rows import Candidate

_GROUPING_OR_DECIMAL = re.compile(r"[<>]?=?\d{1,3}[.,]\d{3}")
SLIP_FACTOR = 3.0
"""A scanned value this many times outside its range is checked for a lost decimal point."""


@dataclass(frozen=True, slots=True)
class DocContext:
    kb: KnowledgeBase
    fields: FieldContext
    method: PageMethod
    engine: str | None


@dataclass(slots=True)
class _Score:
    value: float = 1.0

    def cut(self, factor: float, notes: list[str], reason: str) -> None:
        self.value *= factor
        notes.append(reason)


def _range_of(candidate: Candidate, ctx: DocContext) -> tuple[ParsedRange | None, str | None]:
    if candidate.range is None:
        return None, None
    if not candidate.range_extra:
        return candidate.range.range, candidate.range.text
    text = "; ".join([candidate.range.text, *(f.text for f in candidate.range_extra)])
    style, sex, age = ctx.fields.style, ctx.fields.sex, ctx.fields.age_years
    joined = cached_range(text, style, sex, age) or cached_range(text.replace("; ", " "), style, sex, age)
    return (joined, text) if joined is not None else (candidate.range.range, candidate.range.text)


def _choose_value(
    parsed: ParsedValue,
    analyte: Analyte | None,
    ucum: str | None,
    kb: KnowledgeBase,
    notes: list[str],
    score: _Score,
) -> float | None:
    """The number, or the one plausible reading of an ambiguous one ('1,234'); None if still ambiguous."""
    if not parsed.alternatives:
        return parsed.value
    readings = [v for v in (parsed.value, *parsed.alternatives) if v is not None]
    if analyte is not None:
        plausible = [v for v in readings if kb.plausible(analyte, v, ucum)]
        if len(plausible) == 1:
            score.cut(
                0.85,
                notes,
                f"'{parsed.text}' is ambiguous; the reading {plausible[0]:g} is the only plausible one",
            )
            return plausible[0]
    score.cut(0.3, notes, f"'{parsed.text}' is ambiguous (digit grouping or decimal comma)")
    return None


def build_result(candidate: Candidate, ctx: DocContext) -> tuple[LabResult, list[Issue]]:
    """Validate one candidate row."""
    kb = ctx.kb
    notes: list[str] = []
    issues: list[tuple[str, str, str]] = []
    score = _Score()
    unit_info: UnitInfo | None = candidate.unit.unit if candidate.unit is not None else None
    ucum = unit_info.ucum if unit_info is not None else None
    method = ctx.method
    read_by = {w.engine for w in candidate.value.words if w.engine} if candidate.value is not None else set()
    engine = " + ".join(sorted(read_by)) if read_by else ctx.engine

    # --- name -> analyte
    analyte: Analyte | None = None
    chosen = kb.resolve(candidate.matches, ucum) if candidate.matches else None
    if chosen is not None:
        analyte = chosen.analyte
        if not chosen.exact:
            score.cut(0.8, notes, f"name read approximately as '{chosen.alias}'")
    elif candidate.matches:
        options = sorted({m.analyte.code for m in candidate.matches})
        if len(options) == 1:
            analyte = candidate.matches[0].analyte
        else:
            score.cut(
                0.5, notes, f"name fits several tests ({', '.join(options)}) and the unit does not decide"
            )
            issues.append(
                ("warning", "ambiguous_analyte", f"'{candidate.name}' could be {' or '.join(options)}")
            )
    else:
        score.cut(0.5, notes, "test name not in the knowledge base")
        issues.append(
            ("info", "unknown_analyte", f"'{candidate.name}' is not a test the knowledge base knows")
        )

    # --- value
    value_field = candidate.value
    parsed = value_field.value if value_field is not None and value_field.value is not None else None
    value: float | None = None
    comparator = None
    value_text = value_field.text if value_field is not None else ""
    if value_field is not None and value_field.kind == "bound" and value_field.range is not None:
        bound = value_field.range
        value = bound.high if bound.kind == "upper" else bound.low
        inclusive = bound.high_inclusive if bound.kind == "upper" else bound.low_inclusive
        comparator = ("<=" if inclusive else "<") if bound.kind == "upper" else (">=" if inclusive else ">")
    elif parsed is not None:
        value_text = parsed.text
        comparator = parsed.comparator
        if not parsed.is_text:
            value = _choose_value(parsed, analyte, ucum, kb, notes, score)
        elif analyte is not None and analyte.value_kind != "numeric_or_text":
            # 'Glucose NEGATIVE' on a urine dipstick is another test than blood glucose
            notes.append(f"a text result is not a value of {analyte.name}: another test (urine?)")
            issues.append(("info", "unknown_analyte", f"'{candidate.name}' with a text result is not {analyte.name}"))
            analyte = None
            score.cut(0.5, notes, "test not identified")
        for correction in parsed.corrections:
            score.cut(0.8, notes, correction)
    if value is None and (parsed is None or not parsed.is_text):
        issues.append(("warning", "unreadable_value", f"the value of '{candidate.name}' could not be read"))

    # --- unit
    if unit_info is not None:
        for correction in unit_info.corrections:
            score.cut(0.9, notes, correction)
        if analyte is not None and not kb.unit_compatible(analyte, ucum):
            score.cut(0.5, notes, f"unit {unit_info.printed} does not fit {analyte.name}")
            issues.append(
                ("warning", "unit_mismatch", f"unit '{unit_info.printed}' is not valid for {analyte.name}")
            )
    elif analyte is not None and analyte.unit.startswith("{"):
        ucum = analyte.unit
    elif analyte is not None and value is not None:
        score.cut(0.85, notes, "no unit printed")

    # --- range
    parsed_range, range_text = _range_of(candidate, ctx)
    reference: ReferenceRange | None = None
    if candidate.range is None:
        # a range may be printed where the row does not show it (a block or a note below, a column whose
        # header was not understood): without one the result cannot be claimed complete ('Not Estab.' and
        # other explicit marks are ranges of their own kind and do not count here)
        score.cut(0.85, notes, "no reference range read on the row")
    if parsed_range is not None and range_text is not None:
        reference = ReferenceRange(
            low=parsed_range.low, high=parsed_range.high, text=range_text, applies_to=parsed_range.applies_to
        )
        if parsed_range.unresolved:
            score.cut(0.85, notes, parsed_range.unresolved)
        if (
            parsed_range.low is not None
            and parsed_range.high is not None
            and parsed_range.low >= parsed_range.high
        ):
            score.cut(0.5, notes, "range low is not below high")
            issues.append(
                ("warning", "bad_range", f"range '{range_text}' of '{candidate.name}' has low >= high")
            )

    # --- plausibility
    if analyte is not None and value is not None and not kb.plausible(analyte, value, ucum):
        score.cut(
            0.3,
            notes,
            f"{value:g} {unit_info.printed if unit_info else ''} is outside what is physically possible",
        )
        issues.append(
            ("warning", "implausible_value", f"'{candidate.name}' value is not physically possible")
        )
    if value is not None and reference is not None and reference.high is not None and reference.high > 0:
        ratio = value / reference.high
        if ratio > 100 or (reference.low is not None and reference.low > 0 and value < reference.low / 100):
            score.cut(0.6, notes, "value is more than 100 times away from its range (decimal point or unit?)")

    # --- flag
    flag, flag_printed, flag_source = _flag(candidate, value, parsed_range, ctx, notes, score, issues)

    # --- reading quality and ambiguity
    if candidate.extra_numbers > 0:
        score.cut(0.7, notes, "more numbers on the row than one result explains")
    if candidate.junk:
        score.cut(0.8, notes, f"unexplained text on the row: {' '.join(candidate.junk)[:40]}")
    if method == "ocr":
        words = [
            w for f in (candidate.value, candidate.unit, candidate.range) if f is not None for w in f.words
        ]
        low_conf = min((w.conf for w in words), default=1.0)
        if low_conf < 0.9:
            score.cut(0.6 + 0.4 * low_conf, notes, f"OCR confidence {low_conf:.2f}")
        if reference is None or (reference.low is None and reference.high is None):
            # a scan can lose a range (misread column header, faint cell); labs print one for almost every test
            score.cut(0.85, notes, "no reference range read on a scanned row")
        elif value is not None and _decimal_slip(value, reference.low, reference.high):
            score.cut(0.8, notes, "far outside its range, where a lost decimal point would put it (scan)")
        if _GROUPING_OR_DECIMAL.fullmatch(value_text.strip()):
            # OCR confuses '.' and ',', so the report's number style cannot say which one this is
            score.cut(0.85, notes, f"'{value_text}' on a scan: three digits after the separator (thousands?)")

    confidence = round(min(1.0, score.value), 3)
    loinc = kb.loinc_for(analyte, ucum) if analyte is not None else None
    result = LabResult(
        name=candidate.name,
        analyte=analyte.code if analyte is not None else None,
        loinc=loinc,
        value=value,
        value_text=value_text,
        comparator=comparator,  # type: ignore[arg-type]
        unit=ucum,
        unit_printed=unit_info.printed if unit_info is not None else None,
        reference_range=reference,
        flag=flag,
        flag_printed=flag_printed,
        flag_source=flag_source,
        collected_at=candidate.collected_at.isoformat() if candidate.collected_at else None,
        page=candidate.page,
        bbox=tuple(round(v, 1) for v in candidate.bbox),  # type: ignore[arg-type]
        value_bbox=_box(candidate),
        method=method,
        engine=engine,
        confidence=confidence,
        needs_review=confidence < REVIEW_THRESHOLD,
        notes=notes,
    )
    return result, [Issue(severity=s, code=c, message=m, page=candidate.page) for s, c, m in issues]  # type: ignore[arg-type]


def _decimal_slip(value: float, low: float | None, high: float | None) -> bool:
    """The value is over SLIP_FACTOR times outside its range, and moving its decimal point one or two places
    would put it within the range (widened by half): a point lost in the value ('31' for 3.1) or in the
    range ('75-115' for 7.5-11.5), as OCR of a coarse scan does without a warning."""

    def near(x: float) -> bool:
        return (low is None or x >= low / 1.5) and (high is None or x <= high * 1.5)

    if high is not None and high > 0 and value > SLIP_FACTOR * high:
        return any(near(value / f) for f in (10.0, 100.0))
    if low is not None and low > 0 and value < low / SLIP_FACTOR:
        return any(near(value * f) for f in (10.0, 100.0))
    return False


def _box(candidate: Candidate) -> tuple[float, float, float, float] | None:
    if candidate.value is None:
        return None
    words = candidate.value.words
    return (
        round(min(w.x0 for w in words), 1),
        round(min(w.top for w in words), 1),
        round(max(w.x1 for w in words), 1),
        round(max(w.bottom for w in words), 1),
    )


def _flag(
    candidate: Candidate,
    value: float | None,
    parsed_range: ParsedRange | None,
    ctx: DocContext,
    notes: list[str],
    score: _Score,
    issues: list[tuple[str, str, str]],
) -> tuple[Flag | None, str | None, FlagSource | None]:
    """The printed flag when there is one (its direction taken from the range when it gives none), else the
    flag marked by bold type, else the flag derived from the range; disagreements are recorded."""
    derived: Flag | None = None
    if (
        value is not None
        and parsed_range is not None
        and (parsed_range.low is not None or parsed_range.high is not None)
    ):
        derived = derive_flag(
            value,
            parsed_range.low,
            parsed_range.high,
            low_inclusive=parsed_range.low_inclusive,
            high_inclusive=parsed_range.high_inclusive,
        )
    field = candidate.flag
    printed = None
    if field is not None:
        printed = field.flag.text if field.flag is not None else field.text
        mark = field.flag.flag if field.flag is not None else "A"
        if field.flag is not None and not field.flag.abnormal:
            mark = None
        if mark == "A" and derived is not None:
            return derived, printed, "printed"
        if mark is None and derived is not None:
            # a mark that reads 'normal' ('N') beside a value outside its range: the range decides, and the
            # disagreement is recorded (in German reports 'N' means niedrig, low)
            score.cut(0.85, notes, f"printed mark {printed} reads as normal but the value is outside its range")
            issues.append(("warning", "flag_mismatch", f"'{candidate.name}': printed mark disagrees with the range"))
            return derived, printed, "derived"
        if mark is not None and derived is not None and mark[0] != derived:
            score.cut(0.85, notes, f"printed flag {printed} disagrees with the range")
            issues.append(
                ("warning", "flag_mismatch", f"'{candidate.name}': printed flag disagrees with the range")
            )
        elif mark is not None and derived is None and parsed_range is not None and value is not None:
            issues.append(
                ("info", "flag_mismatch", f"'{candidate.name}': flagged although inside the printed range")
            )
        return mark, printed, "printed" if mark is not None else None
    if derived is not None:
        return derived, None, "derived"
    return None, None, None


def is_bold(candidate: Candidate) -> bool:
    """The value is printed in a bold face."""
    return candidate.value is not None and all(w.bold for w in candidate.value.words)


def finalise_flags(results: Sequence[LabResult], bold: Sequence[bool], issues: list[Issue]) -> None:
    """Decisions that need the whole document: bold type marks abnormal values when some, but under half, of
    the values are bold (otherwise it is just the body font); and a lab that prints flags but left an
    out-of-range value unflagged is worth a note."""
    marks = 0 < sum(bold) < 0.5 * len(bold)
    prints_flags = any(r.flag_source == "printed" for r in results)
    for index, (result, bolded) in enumerate(zip(results, bold, strict=True)):
        if result.flag_source != "derived" and not (bolded and result.flag is None):
            continue
        if marks and bolded:
            if result.flag is None:
                result.notes.append("value printed bold but inside its range")
            else:
                result.flag_source = "bold"
        elif prints_flags and result.flag is not None:
            issues.append(
                Issue(
                    severity="info",
                    code="unflagged_abnormal",
                    page=result.page,
                    result=index,
                    message=f"'{result.name}' is outside its range but not flagged",
                )
            )


def dedupe(results: list[LabResult], issues: list[Issue]) -> list[LabResult]:
    """One result per measurement (LOINC) and date; a conflicting duplicate lowers both and is reported,
    never dropped silently. The same analyte in two unit systems (HbA1c % and mmol/mol) has two LOINCs."""
    seen: dict[tuple[str | None, str | None], LabResult] = {}
    kept: list[LabResult] = []
    for result in results:
        if result.analyte is None:
            kept.append(result)
            continue
        key = (result.loinc, result.collected_at)
        first = seen.get(key)
        if first is None:
            seen[key] = result
            kept.append(result)
            continue
        if first.value == result.value and first.unit == result.unit:
            issues.append(
                Issue(
                    severity="info",
                    code="duplicate_result",
                    page=result.page,
                    message=f"'{result.name}' is printed again on page {result.page}; kept once",
                )
            )
            continue
        for item in (first, result):
            item.confidence = round(min(item.confidence, 0.6), 3)
            item.needs_review = True
            item.notes.append("another value for the same test and date is printed in this report")
        issues.append(
            Issue(
                severity="warning",
                code="conflicting_duplicate",
                page=result.page,
                message=f"'{result.name}' has two different values in this report",
            )
        )
        kept.append(result)
    return kept
