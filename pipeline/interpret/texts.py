"""Plain-language lists the renderers show: when to seek care, questions for a doctor, unknown context.

Contract: wording is the project's own (the seeds give the reasoning, not the text). ``red_flags`` is
always the full list (the renderer's "when to seek care" section); ``questions`` depends on the findings;
``unknown_context`` names every piece of context nobody recorded, so it is shown as unknown, never filled in.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import Finding, PatientInfo, Trend

RED_FLAGS: tuple[str, ...] = (
    "yellow skin or yellow whites of the eyes",
    "dark, tea-coloured urine or pale, clay-coloured stools",
    "confusion, unusual sleepiness or a change in behaviour",
    "vomiting blood, or black, tarry stools",
    "a belly that is newly swollen",
    "severe pain in the abdomen",
    "worry that a medicine or supplement is affecting you",
)
"""After seed 003 ('when to talk with a doctor'): seek timely medical advice for any of these."""

_BY_CODE: dict[str, tuple[str, ...]] = {
    "SYNTHETIC_FAILURE_DISCORDANCE": (
        "My ALT/AST are falling but my clotting test, albumin or bilirubin is getting worse: what does that "
        "say about how well my liver is working, and should I see a liver specialist?",
        "Could a blood thinner, low vitamin K or another condition explain my INR?",
    ),
    "SYNTHETIC_FUNCTION_WORSENING": (
        "The tests of how well my liver works are getting worse: what could explain it, and should I see a "
        "liver specialist?",
        "Could a blood thinner, low vitamin K, my diet or my kidneys explain any of these results?",
    ),
    "CHOLESTATIC_SHIFT": (
        "ALP is rising while ALT and AST fall: do I need GGT, a split (direct) bilirubin or an ultrasound?",
        "Could any of my medicines or supplements affect bile flow?",
    ),
    "DE_RITIS_REVERSAL": (
        "AST is now higher than ALT: do I need an assessment of liver scarring (fibrosis)?",
    ),
    "INR_THRESHOLD_CROSSED": (
        "My INR is above 1.6: what could be causing it, and how soon should it be repeated?",
    ),
    "GENUINE_IMPROVEMENT": (
        "My ALT is improving: how long should we keep monitoring, and which tests should be repeated "
        "with it?",
        "Does this change my treatment? (Please do not change treatment based on ALT alone.)",
    ),
    "RELATED_TESTS_MISSING": (
        "Should albumin, INR, bilirubin, platelets, ALP and GGT be checked together with ALT next time?",
    ),
    "HYS_LAW_PATTERN": (
        "Several liver tests are raised together: could a medicine or supplement be the cause, and what "
        "should I do now?",
    ),
    "UNCONFIRMED_CHANGE": ("When should the test that changed be repeated to confirm it?",),
}


def questions(findings: Sequence[Finding], trends: Sequence[Trend]) -> list[str]:
    """Questions to discuss with a doctor, from the findings, plus one when ALT is still above range."""
    out: list[str] = []
    for f in findings:
        for q in _BY_CODE.get(f.code, ()):
            if q not in out:
                out.append(q)
    if any(t.analyte == "alt" and t.severity and t.severity.range_status == "above" for t in trends):
        out.append("My ALT is still above the range printed on my report: what could be keeping it raised?")
    if findings:
        out.append("Which of my results should be repeated, and when?")
    return out


def unknown_context(patient: PatientInfo) -> list[str]:
    """Context that is not on any lab report and nobody entered: shown as unknown."""
    c = patient.context
    pairs = (
        (c.treatment_start, "treatment start date"),
        (c.medicines, "medicines and supplements"),
        (c.alcohol, "alcohol intake"),
        (c.on_vitamin_k_antagonist, "warfarin or other vitamin K antagonist use"),
        (c.known_liver_disease, "known liver disease"),
        (c.ascites, "ascites"),
        (c.encephalopathy, "encephalopathy"),
    )
    return [name for value, name in pairs if value is None]
