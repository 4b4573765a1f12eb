"""The analyte knowledge base: data validity, name matching, unit resolution, conversions, plausibility."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from parsers.knowledge import ANALYTES_PATH, KnowledgeBase, KnowledgeError, load_knowledge
from parsers.units import normalise_unit, unit_table

REAL_SAMPLES = Path("/work/shared/real-samples")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


KB = load_knowledge()

# The scope agreed with the fixture generator:
# canonical code -> (default LOINC, molar/IFCC codes by unit, canonical unit).
SCOPE = {
    "alt": ("1742-6", {}, "U/L"),
    "ast": ("1920-8", {}, "U/L"),
    "alp": ("6768-6", {}, "U/L"),
    "ggt": ("2324-2", {}, "U/L"),
    "bilirubin_total": ("1975-2", {"umol/L": "14631-6"}, "mg/dL"),
    "bilirubin_direct": ("1968-7", {"umol/L": "14629-0"}, "mg/dL"),
    "bilirubin_indirect": ("1971-1", {}, "mg/dL"),
    "albumin": ("1751-7", {}, "g/dL"),
    "total_protein": ("2885-2", {}, "g/dL"),
    "globulin": ("10834-0", {}, "g/dL"),
    "ag_ratio": ("1759-0", {}, "{ratio}"),
    "ldh": ("2532-0", {}, "U/L"),
    "pt": ("5902-2", {}, "s"),
    "inr": ("6301-6", {}, "{INR}"),
    "aptt": ("3173-2", {}, "s"),
    "fibrinogen": ("3255-7", {}, "mg/dL"),
    "hemoglobin": ("718-7", {}, "g/dL"),
    "hematocrit": ("4544-3", {}, "%"),
    "rbc": ("789-8", {}, "10*6/uL"),
    "wbc": ("6690-2", {}, "10*3/uL"),
    "platelets": ("777-3", {}, "10*3/uL"),
    "mcv": ("787-2", {}, "fL"),
    "mch": ("785-6", {}, "pg"),
    "mchc": ("786-4", {}, "g/dL"),
    "rdw_cv": ("788-0", {}, "%"),
    "mpv": ("32623-1", {}, "fL"),
    "neutrophils_pct": ("770-8", {}, "%"),
    "lymphocytes_pct": ("736-9", {}, "%"),
    "monocytes_pct": ("5905-5", {}, "%"),
    "eosinophils_pct": ("713-8", {}, "%"),
    "basophils_pct": ("706-2", {}, "%"),
    "neutrophils_abs": ("751-8", {}, "10*3/uL"),
    "lymphocytes_abs": ("731-0", {}, "10*3/uL"),
    "monocytes_abs": ("742-7", {}, "10*3/uL"),
    "eosinophils_abs": ("711-2", {}, "10*3/uL"),
    "basophils_abs": ("704-7", {}, "10*3/uL"),
    "glucose": ("2345-7", {"mmol/L": "14749-6"}, "mg/dL"),
    "urea": ("3091-6", {}, "mg/dL"),
    "bun": ("3094-0", {}, "mg/dL"),
    "creatinine": ("2160-0", {"umol/L": "14682-9"}, "mg/dL"),
    "egfr": ("98979-8", {}, "mL/min/{1.73_m2}"),
    "sodium": ("2951-2", {}, "mmol/L"),
    "potassium": ("2823-3", {}, "mmol/L"),
    "chloride": ("2075-0", {}, "mmol/L"),
    "bicarbonate": ("1963-8", {}, "mmol/L"),
    "co2": ("2028-9", {}, "mmol/L"),
    "anion_gap": ("33037-3", {}, "mmol/L"),
    "calcium": ("17861-6", {}, "mg/dL"),
    "phosphorus": ("2777-1", {}, "mg/dL"),
    "magnesium": ("19123-9", {}, "mg/dL"),
    "uric_acid": ("3084-1", {}, "mg/dL"),
    "cholesterol_total": ("2093-3", {"mmol/L": "14647-2"}, "mg/dL"),
    "hdl": ("2085-9", {"mmol/L": "14646-4"}, "mg/dL"),
    "ldl_calc": ("13457-7", {"mmol/L": "39469-2"}, "mg/dL"),
    "ldl_direct": ("18262-6", {}, "mg/dL"),
    "triglycerides": ("2571-8", {"mmol/L": "14927-8"}, "mg/dL"),
    "vldl": ("13458-5", {}, "mg/dL"),
    "non_hdl": ("43396-1", {}, "mg/dL"),
    "tsh": ("3016-3", {}, "m[IU]/L"),
    "ft4": ("3024-7", {}, "ng/dL"),
    "ft3": ("3051-0", {}, "pg/mL"),
    "t4_total": ("3026-2", {}, "ug/dL"),
    "t3_total": ("3053-6", {}, "ng/dL"),
    "hba1c": ("4548-4", {"mmol/mol": "59261-8"}, "%"),
    "crp": ("1988-5", {}, "mg/L"),
}
PAIRS = {
    frozenset((f"{c}_pct", f"{c}_abs"))
    for c in ("neutrophils", "lymphocytes", "monocytes", "eosinophils", "basophils")
}


# ------------------------------------------------------------------------------------------ the data
def test_analytes_match_the_agreed_scope(kb: KnowledgeBase) -> None:
    got = {a.code: (a.loinc, dict(a.loinc_by_unit), a.unit) for a in kb.analytes}
    assert got == SCOPE


def test_every_code_is_a_valid_loinc_code(kb: KnowledgeBase) -> None:
    def check_digit_ok(code: str) -> bool:
        body, check = code.split("-")
        digits = [int(d) * (2 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body))]
        return (10 - sum(d - 9 if d > 9 else d for d in digits) % 10) % 10 == int(check)

    codes = [c for a in kb.analytes for c in (a.loinc, *a.loinc_by_unit.values())]
    assert len(codes) == len(set(codes))
    bad = [
        c
        for c in codes
        if not (c.split("-")[0].isdigit() and len(c.split("-")[1]) == 1 and check_digit_ok(c))
    ]
    assert bad == []


def test_every_unit_is_known_to_the_unit_table(kb: KnowledgeBase) -> None:
    known = unit_table().dimensions
    assert [(a.code, u) for a in kb.analytes for u in (a.unit, *a.units) if u not in known] == []
    assert all(a.units[a.unit] == 1.0 for a in kb.analytes)


def test_bounds_and_typical_ranges_are_sane(kb: KnowledgeBase) -> None:
    for a in kb.analytes:
        assert a.bounds[0] < a.bounds[1], a.code
        assert a.typical is not None and a.bounds[0] <= a.typical[0] <= a.typical[1] <= a.bounds[1], a.code


def test_several_hundred_aliases_in_every_language(kb: KnowledgeBase) -> None:
    with ANALYTES_PATH.open(encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    by_language: dict[str, int] = {}
    for entry in raw["analytes"]:
        for language, names in entry["aliases"].items():
            by_language[language] = by_language.get(language, 0) + len(names)
    assert set(by_language) == {"en", "es", "pt", "it", "fr", "de", "nordic"}
    assert min(by_language.values()) >= 100 and sum(by_language.values()) >= 800


def test_every_alias_round_trips_to_its_analyte(kb: KnowledgeBase) -> None:
    failures = []
    for analyte in kb.analytes:
        for alias in analyte.aliases:
            matches = kb.match(alias)
            codes = {m.analyte.code for m in matches}
            exact = all(m.exact and m.score == 1.0 for m in matches)
            shared_ok = len(codes) == 1 or frozenset(codes) in PAIRS
            if analyte.code not in codes or not exact or not shared_ok:
                failures.append((analyte.code, alias, sorted(codes)))
    assert failures == []


def test_only_declared_pairs_share_a_name(kb: KnowledgeBase) -> None:
    owners: dict[str, set[str]] = {}
    for analyte in kb.analytes:
        for alias in analyte.aliases:
            owners.setdefault(kb.key(alias).replace(" ", ""), set()).add(analyte.code)
    shared = {frozenset(codes) for codes in owners.values() if len(codes) > 1}
    assert shared == PAIRS


# ---------------------------------------------------------------------------------- real report names
# Names and units as printed on the public sample reports in /work/shared/real-samples (Dr Lal PathLabs,
# 4Cyte Pathology, an Italian CBC, a Pakistani CBC template), with the LOINC the truth files assign.
REAL_NAMES = [
    ("GLOBULI BIANCHI", "x10^3/μl", "6690-2"),
    ("GLOBULI ROSSI", "x10^6/μl", "789-8"),
    ("EMOGLOBINA", "g/dl", "718-7"),
    ("EMATOCRITO", "%", "4544-3"),
    ("VOLUME GLOBULARE MEDIO (MCV)", "fl", "787-2"),
    ("PIASTRINE", "x10^3/μl", "777-3"),
    ("Sodium", "mmol/L", "2951-2"),
    ("Potassium", "mmol/L", "2823-3"),
    ("Chloride", "mmol/L", "2075-0"),
    ("Urea", "mmol/L", "3091-6"),
    ("Creatinine", "umol/L", "2160-0"),
    ("Total Protein", "g/L", "2885-2"),
    ("Albumin", "g/L", "1751-7"),
    ("Bilirubin Total", "umol/L", "1975-2"),
    ("Alk. Phosphatase", "U/L", "6768-6"),
    ("Gamma GT", "U/L", "2324-2"),
    ("ALT", "U/L", "1742-6"),
    ("AST", "U/L", "1920-8"),
    ("Hemoglobin", "g/dL", "718-7"),
    ("Packed Cell Volume (PCV)", "%", "4544-3"),
    ("RBC Count", "mill/mm3", "789-8"),
    ("MCV", "fL", "787-2"),
    ("Total Leukocyte Count (TLC)", "thou/mm3", "6690-2"),
    ("Platelet Count", "thou/mm3", "777-3"),
    ("Creatinine", "mg/dL", "2160-0"),
    ("Urea", "mg/dL", "3091-6"),
    ("Urea Nitrogen Blood", "mg/dL", "3094-0"),
    ("AST (SGOT)", "U/L", "1920-8"),
    ("ALT (SGPT)", "U/L", "1742-6"),
    ("GGTP", "U/L", "2324-2"),
    ("Alkaline Phosphatase (ALP)", "U/L", "6768-6"),
    ("Bilirubin Total", "mg/dL", "1975-2"),
    ("Bilirubin Direct", "mg/dL", "1968-7"),
    ("Total Protein", "g/dL", "2885-2"),
    ("Albumin", "g/dL", "1751-7"),
    ("Calcium, Total", "mg/dL", "17861-6"),
    ("Sodium", "mEq/L", "2951-2"),
    ("Potassium", "mEq/L", "2823-3"),
    ("Chloride", "mEq/L", "2075-0"),
    ("Cholesterol, Total", "mg/dL", "2093-3"),
    ("Triglycerides", "mg/dL", "2571-8"),
    ("HDL Cholesterol", "mg/dL", "2085-9"),
    ("LDL Cholesterol, Calculated", "mg/dL", "13457-7"),
    ("HbA1c", "%", "4548-4"),
    ("Glucose Fasting", "mg/dL", "2345-7"),
    ("TSH", "µIU/mL", "3016-3"),
    ("WBC Count (TLC)", "×10^69/L", "6690-2"),
    ("RBC Count", "10^6/¼L", "789-8"),
    ("Hemoglobin (HB)", "g/dL", "718-7"),
    ("HCT", "%", "4544-3"),
    ("Platelet Count", "cells/¼L", "777-3"),
    # rows of the same reports that the truth files do not annotate
    ("Segmented Neutrophils", "%", "770-8"),
    ("Lymphocytes", "%", "736-9"),
    ("Neutrophils", "thou/mm3", "751-8"),
    ("Basophils", "thou/mm3", "704-7"),
    ("NEUTROFILI", "%", "770-8"),
    ("NEUTROFILI #", "x10^3/μl", "751-8"),
    ("LINFOCITI #", "x10^3/μl", "731-0"),
    ("CONTENUTO MEDIO DI HB (MCH)", "pg", "785-6"),
    ("CONCENTRAZIONE MEDIA DI HB (MCHC)", "g/dl", "786-4"),
    ("RDW-CV", "%", "788-0"),
    ("MPV", "fL", "32623-1"),
    ("Red Cell Distribution Width (RDW)", "%", "788-0"),
    ("Mean Platelet Volume", "fL", "32623-1"),
    ("GFR Estimated", "mL/min/1.73m2", "98979-8"),
    ("eGFR", None, "98979-8"),
    ("Uric Acid", "mg/dL", "3084-1"),
    ("Bilirubin Indirect", "mg/dL", "1971-1"),
    ("A : G Ratio", None, "1759-0"),
    ("Globulin(Calculated)", "gm/dL", "10834-0"),
    ("Phosphorus", "mg/dL", "2777-1"),
    ("VLDL Cholesterol,Calculated", "mg/dL", "13458-5"),
    ("Non-HDL Cholesterol", "mg/dL", "43396-1"),
    ("T3, Total", "ng/mL", "3053-6"),
    ("T4, Total", "µg/dL", "3026-2"),
    ("Bicarbonate", "mmol/L", "1963-8"),
    ("Anion Gap", "mmol/L", "33037-3"),
    ("Globulin", "g/L", "10834-0"),
]


@pytest.mark.parametrize(("name", "unit", "loinc"), REAL_NAMES, ids=[f"{n}|{u}" for n, u, _ in REAL_NAMES])
def test_real_printed_names_resolve_to_the_right_loinc(
    kb: KnowledgeBase, name: str, unit: str | None, loinc: str
) -> None:
    info = normalise_unit(unit, ocr=True) if unit else None
    chosen = kb.resolve(kb.match(name, ocr=True), info.ucum if info else None)
    assert chosen is not None and chosen.analyte.loinc == loinc


@pytest.mark.skipif(not REAL_SAMPLES.is_dir(), reason="real samples live outside the repository")
def test_every_truth_file_result_resolves(kb: KnowledgeBase) -> None:
    same = {"14631-6": "1975-2", "14629-0": "1968-7", "14682-9": "2160-0", "14749-6": "2345-7"}
    wrong = []
    for path in sorted(REAL_SAMPLES.glob("*.truth.json")):
        for row in json.loads(path.read_text(encoding="utf-8"))["results"]:
            info = normalise_unit(row["unit_printed"], ocr=True) if row["unit_printed"] else None
            chosen = kb.resolve(kb.match(row["name"], ocr=True), info.ucum if info else None)
            code = kb.loinc_for(chosen.analyte, info.ucum if info else None) if chosen else None
            if info is None or info.ucum != row["unit"] or same.get(code or "", code) != row["loinc"]:
                wrong.append((path.name, row["name"], row["unit_printed"], code))
    assert wrong == []


FIXTURE_TRUTH = Path(__file__).resolve().parent.parent / "fixtures" / "truth"
SAME_MEASUREMENT = {
    "14631-6": "1975-2",
    "14629-0": "1968-7",
    "14682-9": "2160-0",
    "14749-6": "2345-7",
    "14647-2": "2093-3",
    "14646-4": "2085-9",
    "14927-8": "2571-8",
    "39469-2": "13457-7",
    "59261-8": "4548-4",
}


@pytest.mark.skipif(not FIXTURE_TRUTH.is_dir(), reason="no fixture truth files")
def test_every_fixture_name_and_unit_resolves_to_its_truth_loinc(kb: KnowledgeBase) -> None:
    """The fixture generator's names (7 languages, many layouts) resolve by name and printed unit alone."""
    wrong = []
    rows = 0
    for path in sorted(FIXTURE_TRUTH.glob("*.truth.json")):
        for row in json.loads(path.read_text(encoding="utf-8"))["results"]:
            rows += 1
            info = normalise_unit(row["unit_printed"]) if row.get("unit_printed") else None
            chosen = kb.resolve(kb.match(row["name"]), info.ucum if info else None)
            code = kb.loinc_for(chosen.analyte, info.ucum if info else None) if chosen else None
            if SAME_MEASUREMENT.get(code or "", code) != SAME_MEASUREMENT.get(row["loinc"], row["loinc"]):
                wrong.append((path.name, row["name"], row.get("unit_printed"), row["loinc"], code))
    assert rows > 100 and wrong == []


NORDIC = [
    ("P-ALAT", "alt"),
    ("S-ASAT", "ast"),
    ("P-ALP", "alp"),
    ("P-GT", "ggt"),
    ("P-Bil", "bilirubin_total"),
    ("B-Hb", "hemoglobin"),
    ("B-Leuk", "wbc"),
    ("B-Trom", "platelets"),
    ("P-Krea", "creatinine"),
    ("P-Na", "sodium"),
    ("P-K", "potassium"),
    ("fP-Gluk", "glucose"),
    ("B-HbA1c", "hba1c"),
    ("P-INR", "inr"),
    ("P-TSH", "tsh"),
    ("P-Alb", "albumin"),
    ("P-CRP", "crp"),
    ("B -Hb", "hemoglobin"),
    ("fP -Kol", "cholesterol_total"),
    ("S/P-ALAT", "alt"),
    ("Pt-eGFR", "egfr"),
    ("Kreatinin;P", "creatinine"),
    ("Erc-MCV", "mcv"),
    ("B-EVF", "hematocrit"),
]


@pytest.mark.parametrize(("name", "code"), NORDIC, ids=[n for n, _ in NORDIC])
def test_nordic_specimen_prefixes_are_dropped(kb: KnowledgeBase, name: str, code: str) -> None:
    assert [m.analyte.code for m in kb.match(name)] == [code]


STRUCTURE = [  # (text, expected analyte codes, what `matched` must be)
    ("Hemoglobin (HB)", ["hemoglobin"], "Hemoglobin (HB)"),
    ("Creatinine (plasma)", ["creatinine"], "Creatinine"),
    ("Creatinine - plasma", ["creatinine"], "Creatinine"),
    ("Sodium, plasma", ["sodium"], "Sodium"),
    ("Serum Uric Acid", ["uric_acid"], "Serum Uric Acid"),
    ("Glucose Fasting", ["glucose"], "Glucose Fasting"),
    ("Sr. Bilirubin", ["bilirubin_total"], "Bilirubin"),
    ("Kalium im Serum", ["potassium"], "Kalium"),
    ("Glucosa en suero", ["glucose"], "Glucosa"),
    ("GLUCOSE, FASTING (F), PLASMA", ["glucose"], "GLUCOSE, FASTING"),
    ("Gamma GT (sangue)", ["ggt"], "Gamma GT"),
    ("Triglycerides (fasting)", ["triglycerides"], "Triglycerides"),
    ("Hematocrit (%)", ["hematocrit"], "Hematocrit"),
    ("HbA1c (IFCC)", ["hba1c"], "HbA1c (IFCC)"),
    ("Urea (BUN)", ["urea", "bun"], "Urea"),
    ("Neutrophils (Segmented)", ["neutrophils_pct", "neutrophils_abs"], "Neutrophils (Segmented)"),
    ("Lymphocytes (automated)", ["lymphocytes_pct", "lymphocytes_abs"], "Lymphocytes"),
    # regression: a trailing specimen word must not take the % / # marker with it
    ("Neutrophils %, blood", ["neutrophils_pct"], "Neutrophils %"),
    ("Lymphocytes # (blood)", ["lymphocytes_abs"], "Lymphocytes #"),
]


@pytest.mark.parametrize(("text", "codes", "matched"), STRUCTURE, ids=[t for t, _, _ in STRUCTURE])
def test_parentheticals_specimen_and_method_words(
    kb: KnowledgeBase, text: str, codes: list[str], matched: str
) -> None:
    matches = kb.match(text)
    assert [m.analyte.code for m in matches] == codes
    assert matches[0].matched == matched and matches[0].exact


UNKNOWN = [
    "BUN/Creatinine Ratio",
    "Estimated average glucose (eAG)",
    "Calcium (ionized)",
    "Ionized Calcium",
    "Creatinine (urine)",
    "Urine Creatinine",
    "U-Krea",
    "Glucose PP",
    "Glucose (2 hr)",
    "eGFR (MDRD)",
    "hs-CRP",
    "RDW-SD",
    "Protein",
    "Vitamin B12",
    "GFR Category",
    "Calcium (corrected)",
    "Free T4 Index",
    "Bilirubin (delta)",
    "VITAMIN D, 25 - HYDROXY, SERUM",
    "SwasthFit Super 4",
    "Name",
    "Lab No.",
]


@pytest.mark.parametrize("text", UNKNOWN)
def test_unknown_or_qualified_names_do_not_match(kb: KnowledgeBase, text: str) -> None:
    assert kb.match(text) == []


QUALIFIED = [
    ("T4 (free)", "ft4"),
    ("LDL (direct)", "ldl_direct"),
    ("Cholesterol (HDL)", "hdl"),
    ("Bilirubin (Direct)", "bilirubin_direct"),
    ("Bicarbonate (Total CO2)", "co2"),
    ("Urea", "urea"),
    ("Blood Urea Nitrogen", "bun"),
    ("LDL", "ldl_calc"),
    ("Direct LDL", "ldl_direct"),
    ("S.G.O.T.", "ast"),
    ("A/G Ratio", "ag_ratio"),
    ("γ-GT", "ggt"),
    ("Hæmoglobin", "hemoglobin"),
    ("Harnsäure", "uric_acid"),
    ("Gesamteiweiß", "total_protein"),
    ("Hemo globin", "hemoglobin"),
]


@pytest.mark.parametrize(("text", "code"), QUALIFIED, ids=[t for t, _ in QUALIFIED])
def test_qualifiers_choose_the_right_analyte(kb: KnowledgeBase, text: str, code: str) -> None:
    assert [m.analyte.code for m in kb.match(text)] == [code]


HEADINGS = [
    ("LIVER FUNCTION TEST", "liver"),
    ("COMPLETE BLOOD COUNT", "cbc"),
    ("COMPLETE BLOOD COUNT;CBC", "cbc"),
    ("Lipid Profile", "lipids"),
    ("Differential Leucocyte Count (DLC)", "differential"),
    ("LIVER & KIDNEY PANEL, SERUM", "liver"),
    ("LIPID SCREEN, SERUM", "lipids"),
    ("THYROID PROFILE,TOTAL, SERUM", "thyroid"),
    ("Absolute Leucocyte Count", "differential"),
    ("ESAME EMOCROMOCITOMETRICO", "cbc"),
    ("FORMULA LEUCOCITARIA", "differential"),
    ("Biochemistry (Serum)", "metabolic"),
    ("CHEMISTRY", "metabolic"),
    ("Hemograma", "cbc"),
    ("Perfil lipídico", "lipids"),
    ("Perfil hepático", "liver"),
    ("Emocromo", "cbc"),
    ("Funzionalità epatica", "liver"),
    ("Bilan hépatique", "liver"),
    ("Bilan lipidique", "lipids"),
    ("Numération formule sanguine", "cbc"),
    ("Blutbild", "cbc"),
    ("Kleines Blutbild", "cbc"),
    ("Leberwerte", "liver"),
    ("Gerinnung", "coagulation"),
    ("Função hepática", "liver"),
    ("Coagulograma", "coagulation"),
    ("Blodstatus", "cbc"),
    ("Leverprøver", "liver"),
    ("Lipidstatus", "lipids"),
    ("Perusverenkuva", "cbc"),
    ("Thyroid Function Test", "thyroid"),
    ("Coagulation Profile", "coagulation"),
    ("Indici di flogosi", "inflammation"),
]


@pytest.mark.parametrize(("text", "panel"), HEADINGS, ids=[t for t, _ in HEADINGS])
def test_panel_headings_are_recognised_and_never_match_an_analyte(
    kb: KnowledgeBase, text: str, panel: str
) -> None:
    assert kb.is_panel_heading(text) == panel
    assert kb.match(text) == [] and kb.match(text, ocr=True) == []


def test_no_alias_is_a_panel_heading(kb: KnowledgeBase) -> None:
    assert [a for an in kb.analytes for a in an.aliases if kb.is_panel_heading(a)] == []


# -------------------------------------------------------------------------------------------- OCR
OCR_NAMES = [
    ("Haemoglobln", ["hemoglobin"]),
    ("Sodlum", ["sodium"]),
    ("Creatinlne", ["creatinine"]),
    ("HbAlc", ["hba1c"]),
    ("Bilirubin lndirect", ["bilirubin_indirect"]),
    ("Trig1ycerides", ["triglycerides"]),
    ("Alkaline Phosphatsae", ["alp"]),
    ("Neutrophlls", ["neutrophils_pct", "neutrophils_abs"]),
    ("Total Leukocyte Cuont", ["wbc"]),
    ("P-ALAT", ["alt"]),
]


@pytest.mark.parametrize(("text", "codes"), OCR_NAMES, ids=[t for t, _ in OCR_NAMES])
def test_ocr_mode_allows_small_edits(kb: KnowledgeBase, text: str, codes: list[str]) -> None:
    matches = kb.match(text, ocr=True)
    assert [m.analyte.code for m in matches] == codes
    if text != "P-ALAT":
        assert kb.match(text) == [] and not matches[0].exact and matches[0].score < 0.95


@pytest.mark.parametrize("text", ["AXT", "ASL", "GGX", "Free T5", "T8, Total", "Hbb", "Sodium123", "HbA2c"])
def test_ocr_mode_never_edits_short_names_or_digits(kb: KnowledgeBase, text: str) -> None:
    assert kb.match(text, ocr=True) == []


# --------------------------------------------------------------------------------- units and values
RESOLVE = [
    ("Neutrophils", "%", "neutrophils_pct"),
    ("Neutrophils", "10*9/L", "neutrophils_abs"),
    ("Neutrophils", "/uL", "neutrophils_abs"),
    ("Neutrophils", None, None),
    ("Neutrophils", "mg/dL", None),
    ("Hemoglobin", "mmol/L", "hemoglobin"),
    ("Hemoglobin", "U/L", None),
    ("TSH", "m[IU]/mL", None),
    ("Urea", "mg/dL", "urea"),
    ("BUN", "mg/dL", "bun"),
    ("INR", None, "inr"),
    ("INR", "{ratio}", "inr"),
    ("Urea (BUN)", "mg/dL", None),
    ("Platelets", "10*5/uL", "platelets"),
]


@pytest.mark.parametrize(("name", "ucum", "code"), RESOLVE, ids=[f"{n}|{u}" for n, u, _ in RESOLVE])
def test_resolve_picks_by_unit_and_refuses_to_guess(
    kb: KnowledgeBase, name: str, ucum: str | None, code: str | None
) -> None:
    chosen = kb.resolve(kb.match(name), ucum)
    assert (chosen.analyte.code if chosen else None) == code


def test_loinc_follows_the_unit(kb: KnowledgeBase) -> None:
    assert kb.loinc_for(kb.get("bilirubin_total"), "umol/L") == "14631-6"
    assert kb.loinc_for(kb.get("bilirubin_total"), "mg/dL") == "1975-2"
    assert kb.loinc_for(kb.get("glucose"), "mmol/L") == "14749-6"
    assert kb.loinc_for(kb.get("hba1c"), "mmol/mol") == "59261-8"
    assert kb.loinc_for(kb.get("urea"), "mmol/L") == "3091-6"
    assert kb.loinc_for(kb.get("creatinine"), None) == "2160-0"


# (analyte, printed value, unit, value in the canonical unit): factors from clinical.md section 4.
CONVERSIONS = [
    ("bilirubin_total", 17.1, "umol/L", 1.0),
    ("creatinine", 88.4, "umol/L", 1.0),
    ("glucose", 5.55, "mmol/L", 100.0),
    ("albumin", 40.0, "g/L", 4.0),
    ("total_protein", 70, "g/L", 7.0),
    ("hemoglobin", 150.0, "g/L", 15.0),
    ("cholesterol_total", 5.172, "mmol/L", 200.0),
    ("triglycerides", 1.6935, "mmol/L", 150.0),
    ("alt", 0.5, "ukat/L", 0.5 / 0.01667),
    ("calcium", 2.495, "mmol/L", 10.0),
    ("urea", 7.0, "mmol/L", 42.042),
    ("bun", 3.57, "mmol/L", 10.0),
    ("platelets", 2.5, "10*5/uL", 250.0),
    ("wbc", 6730, "/uL", 6.73),
    ("hematocrit", 0.45, "L/L", 45.0),
    ("tsh", 2.1, "u[IU]/mL", 2.1),
    ("tsh", 2.1, "mU/L", 2.1),
    ("ast", 40, "[IU]/L", 40.0),
    ("crp", 1.2, "mg/dL", 12.0),
    ("hba1c", 48, "mmol/mol", 6.543),
    ("sodium", 140, "meq/L", 140.0),
    ("t3_total", 2.0, "ng/mL", 200.0),
    ("fibrinogen", 3.0, "g/L", 300.0),
]


@pytest.mark.parametrize(
    ("code", "value", "ucum", "canonical"), CONVERSIONS, ids=[f"{c}-{u}" for c, _, u, _ in CONVERSIONS]
)
def test_conversions_to_the_canonical_unit(
    kb: KnowledgeBase, code: str, value: float, ucum: str, canonical: float
) -> None:
    got = kb.to_canonical(kb.get(code), value, ucum)
    assert got == pytest.approx(canonical, rel=2e-3)


def test_conversion_to_an_unaccepted_unit_is_none(kb: KnowledgeBase) -> None:
    assert kb.to_canonical(kb.get("alt"), 30, "mg/dL") is None
    assert not kb.unit_compatible(kb.get("tsh"), "m[IU]/mL") and kb.unit_compatible(kb.get("tsh"), None)


PLAUSIBLE = [
    ("alt", 30, "U/L", True),
    ("alt", 30000, "U/L", False),
    ("albumin", 40, "g/dL", False),
    ("albumin", 40, "g/L", True),
    ("sodium", 1400, "mmol/L", False),
    ("hemoglobin", 150, "g/dL", False),
    ("hemoglobin", 150, "g/L", True),
    ("hemoglobin", 150, None, True),
    ("glucose", -5, "mg/dL", False),
    ("glucose", 5.5, "mmol/L", True),
    ("platelets", 2.5, "10*5/uL", True),
    ("inr", 1.1, None, True),
    ("inr", float("nan"), None, False),
    ("wbc", 7.2, "mg/dL", False),
]


@pytest.mark.parametrize(
    ("code", "value", "ucum", "ok"), PLAUSIBLE, ids=[f"{c}-{v}-{u}" for c, v, u, _ in PLAUSIBLE]
)
def test_plausible_uses_bounds_after_conversion(
    kb: KnowledgeBase, code: str, value: float, ucum: str | None, ok: bool
) -> None:
    assert kb.plausible(kb.get(code), value, ucum) is ok


def test_get_names_an_unknown_code(kb: KnowledgeBase) -> None:
    with pytest.raises(KeyError, match="unknown analyte code 'alanine'"):
        kb.get("alanine")


# --------------------------------------------------------------------------------- property tests
_ALIASES = sorted({(a.code, alias) for a in KB.analytes for alias in a.aliases})
_ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "c": "ç", "n": "ñ"}
_SPACES = ["  ", "", "-", " - ", "_"]


def _perturbations(alias: str) -> st.SearchStrategy[str]:
    """Per character: keep, flip case, add or strip an accent; spaces doubled, dropped or hyphenated."""

    def build(choices: list[int]) -> str:
        out = []
        for ch, c in zip(alias, choices, strict=True):
            if c == 1 and len(ch.swapcase()) == 1:
                ch = ch.swapcase()
            elif c == 2:
                ch = _ACCENTED.get(ch, ch)
            elif c == 3:
                ch = "".join(x for x in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(x))
            elif c >= 4 and ch == " ":
                ch = _SPACES[c - 4]
            out.append(ch)
        return "".join(out)

    return st.lists(st.integers(0, 8), min_size=len(alias), max_size=len(alias)).map(build)


@given(st.sampled_from(_ALIASES).flatmap(lambda pair: st.tuples(st.just(pair), _perturbations(pair[1]))))
def test_perturbed_aliases_still_match(data: tuple[tuple[str, str], str]) -> None:
    (code, alias), perturbed = data
    expected = {m.analyte.code for m in KB.match(alias)}
    got = {m.analyte.code for m in KB.match(perturbed)}
    assert code in expected and got == expected, (alias, perturbed)


_WORDS = (
    "the of and to in is it you that he was for on are with as his they be at one have this from or "
    "had by word but what some we can out other were all there when up use your how said an each she "
    "which do their time if will way about many then them write would like so these her long make "
    "thing see him two look more day could go come did number sound no most people my over know water "
    "than call first who may down side been now find any new work part take get place made live where "
    "after back little only round man year came show every good me give our under name very through "
    "just form sentence great think say help low line differ turn cause much mean before move right "
    "boy old too same tell does set three want air well also play small end put home read hand port "
    "large spell add even land here must big high such follow act why ask men change went light kind "
    "off need house picture try us again animal point mother world near build self earth father "
    "report page patient doctor sample reference interval result value date signature laboratory "
    "address phone collected received approved method comments remarks "
)
ENGLISH = _WORDS.split()


@given(st.lists(st.sampled_from(ENGLISH), min_size=1, max_size=3).map(" ".join))
def test_random_english_words_do_not_match(text: str) -> None:
    assert KB.match(text) == []


@pytest.mark.parametrize("word", ENGLISH)
def test_english_words_do_not_fuzzy_match(word: str) -> None:
    assert KB.match(word.title(), ocr=True) == []


# ------------------------------------------------------------------------------------- validation
def _load_with(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> KnowledgeBase:
    with ANALYTES_PATH.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    edit(data)
    path = tmp_path / "analytes.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_knowledge(path)


def _analyte(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in data["analytes"] if a["code"] == code)


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown-analyte-key", lambda d: _analyte(d, "alt").update(synonyms=["x"]), "unknown keys"),
    ("unknown-top-key", lambda d: d.update(extra=1), "top level"),
    ("unknown-unit", lambda d: _analyte(d, "alt")["units"].update({"IU/dL": 1}), "not in units.yaml"),
    ("bad-check-digit", lambda d: _analyte(d, "alt").update(loinc="1742-7"), "check digit"),
    ("duplicate-code", lambda d: d["analytes"].append(dict(_analyte(d, "alt"), loinc="1920-8")), "duplicate"),
    ("duplicate-loinc", lambda d: _analyte(d, "ast").update(loinc="1742-6"), "duplicate LOINC"),
    ("alias-collision", lambda d: _analyte(d, "ast")["aliases"]["en"].append("SGPT"), "names both"),
    ("compact-collision", lambda d: _analyte(d, "ast")["aliases"]["en"].append("S GPT"), "names both"),
    ("typical-outside-bounds", lambda d: _analyte(d, "alt").update(typical=[0, 30000]), "outside bounds"),
    ("canonical-not-listed", lambda d: _analyte(d, "alt").update(unit="ukat/L"), "factor 1"),
    ("unknown-language", lambda d: _analyte(d, "alt")["aliases"].update(nl=["ALT"]), "languages"),
    (
        "pair-sharing-a-unit",
        lambda d: _analyte(d, "neutrophils_abs")["units"].update({"%": 1}),
        "share a unit",
    ),
    ("heading-alias", lambda d: _analyte(d, "alt")["aliases"]["en"].append("Liver Profile"), "panel heading"),
    ("bad-factor", lambda d: _analyte(d, "alt")["units"].update({"ukat/L": "sixty"}), "expected a number"),
]


@pytest.mark.parametrize(("edit", "message"), [(e, m) for _, e, m in BROKEN], ids=[i for i, _, _ in BROKEN])
def test_broken_knowledge_fails_at_load(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(KnowledgeError, match=message):
        _load_with(tmp_path, edit)


def test_an_unchanged_copy_loads(tmp_path: Path) -> None:
    copy = _load_with(tmp_path, lambda d: None)
    assert [a.code for a in copy.analytes] == [a.code for a in KB.analytes]


def test_default_knowledge_base_is_cached() -> None:
    assert load_knowledge() is load_knowledge() is load_knowledge(ANALYTES_PATH)


def test_exact_lookup_never_searches(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard against an accidental scan of all aliases per call: an alias is found by its key alone, and a
    plain non-name is refused without trying variants or neighbours.

    Trailing spaces make every string new to match()'s cache without changing its key."""

    def searched(*args: object, **kwargs: object) -> None:
        raise AssertionError("an exact lookup searched variants or neighbours")

    monkeypatch.setattr(kb, "_variants", searched)
    monkeypatch.setattr(kb, "_fuzzy_match", searched)
    aliases = [alias for a in kb.analytes for alias in a.aliases if "(" not in alias and "[" not in alias]
    names = [name + " " * (i % 7 + 9) for i, name in enumerate([*aliases, "Patient Name", "Reference"])]
    assert sum(1 for name in names if kb.match(name)) == len(aliases)
