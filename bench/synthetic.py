"""Synthetic lab-report pages for OCR tests and benchmarks, with the truth of what each row prints.

`make_report_pdf()` draws one A4 page with reportlab (header, a fake patient block, a results table with
optional rulings) in one of six languages and returns the rows it printed, so an OCR run can be scored
without any real patient data. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

Rulings = Literal["grid", "rows", "none"]

_HEADERS: dict[str, tuple[str, str, str, str, str, str]] = {
    # title, test, result, flag, unit, range
    "eng": ("COMPLETE BLOOD COUNT AND CHEMISTRY", "Test", "Result", "Flag", "Units", "Reference range"),
    "ita": (
        "ESAME EMOCROMOCITOMETRICO E CHIMICA CLINICA",
        "Esame",
        "Risultato",
        "",
        "Unità",
        "Valori di riferimento",
    ),
    "spa": ("HEMOGRAMA Y BIOQUÍMICA", "Prueba", "Resultado", "", "Unidades", "Valores de referencia"),
    "por": ("HEMOGRAMA E BIOQUÍMICA", "Exame", "Resultado", "", "Unidade", "Valores de referência"),
    "fra": (
        "NUMÉRATION FORMULE SANGUINE ET BIOCHIMIE",
        "Analyse",
        "Résultat",
        "",
        "Unités",
        "Valeurs de référence",
    ),
    "deu": ("BLUTBILD UND KLINISCHE CHEMIE", "Untersuchung", "Ergebnis", "", "Einheit", "Referenzbereich"),
}

_ANALYTES: dict[str, tuple[str, ...]] = {
    "eng": (
        "Hemoglobin",
        "Hematocrit",
        "White blood cells",
        "Red blood cells",
        "Platelets",
        "MCV",
        "MCH",
        "MCHC",
        "RDW",
        "Neutrophils",
        "Lymphocytes",
        "Monocytes",
        "Eosinophils",
        "Basophils",
        "Glucose",
        "Creatinine",
        "Urea",
        "Sodium",
        "Potassium",
        "Chloride",
        "ALT",
        "AST",
        "Alkaline phosphatase",
        "Total bilirubin",
        "Total cholesterol",
        "Triglycerides",
        "HDL cholesterol",
        "LDL cholesterol",
    ),
    "ita": (
        "Emoglobina",
        "Ematocrito",
        "Globuli bianchi",
        "Globuli rossi",
        "Piastrine",
        "Volume globulare medio",
        "Contenuto emoglobinico medio",
        "Concentrazione emoglobinica media",
        "Neutrofili",
        "Linfociti",
        "Monociti",
        "Eosinofili",
        "Basofili",
        "Glicemia",
        "Creatinina",
        "Azotemia",
        "Sodio",
        "Potassio",
        "Cloro",
        "Colesterolo totale",
        "Trigliceridi",
        "Colesterolo HDL",
        "Bilirubina totale",
        "Fosfatasi alcalina",
        "Sideremia",
        "Ferritina",
        "Acido urico",
        "Calcio",
    ),
    "spa": (
        "Hemoglobina",
        "Hematocrito",
        "Leucocitos",
        "Hematíes",
        "Plaquetas",
        "Volumen corpuscular medio",
        "Hemoglobina corpuscular media",
        "Neutrófilos",
        "Linfocitos",
        "Monocitos",
        "Eosinófilos",
        "Basófilos",
        "Glucosa",
        "Creatinina",
        "Urea",
        "Sodio",
        "Potasio",
        "Cloro",
        "Colesterol total",
        "Triglicéridos",
        "Colesterol HDL",
        "Bilirrubina total",
        "Fosfatasa alcalina",
        "Hierro",
        "Ferritina",
        "Ácido úrico",
        "Calcio",
        "Proteínas totales",
    ),
    "por": (
        "Hemoglobina",
        "Hematócrito",
        "Leucócitos",
        "Eritrócitos",
        "Plaquetas",
        "Volume corpuscular médio",
        "Hemoglobina corpuscular média",
        "Neutrófilos",
        "Linfócitos",
        "Monócitos",
        "Eosinófilos",
        "Basófilos",
        "Glicose",
        "Creatinina",
        "Ureia",
        "Sódio",
        "Potássio",
        "Cloro",
        "Colesterol total",
        "Triglicerídeos",
        "Colesterol HDL",
        "Bilirrubina total",
        "Fosfatase alcalina",
        "Ferro sérico",
        "Ferritina",
        "Ácido úrico",
        "Cálcio",
        "Proteínas totais",
    ),
    "fra": (
        "Hémoglobine",
        "Hématocrite",
        "Leucocytes",
        "Hématies",
        "Plaquettes",
        "Volume globulaire moyen",
        "Teneur corpusculaire moyenne",
        "Polynucléaires neutrophiles",
        "Lymphocytes",
        "Monocytes",
        "Éosinophiles",
        "Basophiles",
        "Glycémie à jeun",
        "Créatinine",
        "Urée",
        "Sodium",
        "Potassium",
        "Chlore",
        "Cholestérol total",
        "Triglycérides",
        "Cholestérol HDL",
        "Bilirubine totale",
        "Phosphatases alcalines",
        "Fer sérique",
        "Ferritine",
        "Acide urique",
        "Calcium",
        "Protéines",
    ),
    "deu": (
        "Hämoglobin",
        "Hämatokrit",
        "Leukozyten",
        "Erythrozyten",
        "Thrombozyten",
        "MCV",
        "MCH",
        "MCHC",
        "Neutrophile",
        "Lymphozyten",
        "Monozyten",
        "Eosinophile",
        "Basophile",
        "Glukose nüchtern",
        "Kreatinin",
        "Harnstoff",
        "Natrium",
        "Kalium",
        "Chlorid",
        "Gesamtcholesterin",
        "Triglyzeride",
        "HDL-Cholesterin",
        "Bilirubin gesamt",
        "Alkalische Phosphatase",
        "Eisen",
        "Ferritin",
        "Harnsäure",
        "Kalzium",
    ),
}

_UNITS = ("g/dL", "%", "x10^3/uL", "x10^6/uL", "fL", "pg", "mg/dL", "mmol/L", "U/L", "ng/mL", "umol/L")
_COMMA_LANGS = frozenset({"ita", "spa", "por", "fra", "deu"})


@dataclass(frozen=True, slots=True)
class RowTruth:
    """One printed result row: the strings a reader must recover, and where the row sits (PDF points)."""

    name: str
    value: str
    flag: str
    unit: str
    low: str
    high: str
    top: float
    bottom: float

    @property
    def numbers(self) -> tuple[str, str, str]:
        return (self.value, self.low, self.high)


def _number(rng: random.Random, lang: str) -> tuple[str, float]:
    decimals = rng.choice((0, 1, 1, 2))
    value = round(rng.uniform(0.5, 250.0), decimals)
    text = f"{value:.{decimals}f}"
    return (text.replace(".", ",") if lang in _COMMA_LANGS else text), value


def _fmt(value: float, decimals: int, lang: str) -> str:
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang in _COMMA_LANGS else text


def make_report_pdf(
    path: Path,
    *,
    lang: str = "eng",
    seed: int = 0,
    rows: int = 22,
    rulings: Rulings = "rows",
    font_size: float = 9.5,
) -> list[RowTruth]:
    """Draw a one-page synthetic lab report to `path` and return the rows printed on it."""
    rng = random.Random(seed)
    title, h_test, h_result, h_flag, h_unit, h_range = _HEADERS[lang]
    height = A4[1]
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setTitle("synthetic lab report")
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(50, height - 60, "SYNTHETIC REFERENCE LABORATORY")
    canvas.setFont("Helvetica", 9)
    canvas.drawString(50, height - 76, "12 Example Street, Testville  -  Tel 000 000 0000")
    canvas.drawString(50, height - 100, f"Patient: TEST PATIENT {seed:04d}    Sex: F    DOB: 01/02/1980")
    canvas.drawString(50, height - 114, "Collected: 03/04/2024 08:15    Reported: 03/04/2024 14:02")
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(50, height - 144, title)
    cols = (50.0, 250.0, 315.0, 350.0, 430.0, 550.0)
    y = height - 170
    canvas.setFont("Helvetica-Bold", font_size)
    for x, text in zip(cols, (h_test, h_result, h_flag, h_unit, h_range), strict=False):
        canvas.drawString(x, y, text)
    row_h = font_size * 2.1
    table_top = y + row_h * 0.7
    names = list(_ANALYTES[lang])
    rng.shuffle(names)
    truths: list[RowTruth] = []
    canvas.setFont("Helvetica", font_size)
    for name in names[:rows]:
        y -= row_h
        decimals = rng.choice((0, 1, 1, 2))
        low_v = round(rng.uniform(0.5, 150.0), decimals)
        high_v = round(low_v * rng.uniform(1.3, 3.0), decimals)
        flag = rng.choice(("", "", "", "H", "L"))
        if flag == "H":
            value_v = high_v * rng.uniform(1.05, 1.5)
        elif flag == "L":
            value_v = low_v * rng.uniform(0.5, 0.95)
        else:
            value_v = rng.uniform(low_v, high_v)
        value, low, high = (_fmt(v, decimals, lang) for v in (value_v, low_v, high_v))
        unit = rng.choice(_UNITS)
        canvas.drawString(cols[0], y, name)
        canvas.drawString(cols[1], y, value)
        canvas.drawString(cols[2], y, flag)
        canvas.drawString(cols[3], y, unit)
        canvas.drawString(cols[4], y, f"{low} - {high}")
        if rulings != "none":
            canvas.setLineWidth(0.8)
            canvas.line(cols[0] - 5, y - row_h * 0.3, cols[-1], y - row_h * 0.3)
        top = height - (y + font_size * 0.75)
        truths.append(RowTruth(name, value, flag, unit, low, high, top, top + font_size))
    if rulings == "grid":
        canvas.setLineWidth(0.8)
        bottom = y - row_h * 0.3
        for x in cols:
            canvas.line(x - 5, bottom, x - 5, table_top)
        canvas.line(cols[0] - 5, table_top, cols[-1], table_top)
    canvas.setFont("Helvetica-Oblique", 8)
    canvas.drawString(50, 60, "Values outside the reference range are flagged H (high) or L (low).")
    canvas.showPage()
    canvas.save()
    return truths


def expected_tokens(rows: list[RowTruth]) -> dict[str, list[str]]:
    """The tokens an OCR pass must recover, grouped: numbers, flags, name words, units."""
    return {
        "numbers": [n for r in rows for n in r.numbers],
        "flags": [r.flag for r in rows if r.flag],
        "words": [w for r in rows for w in r.name.split()],
        "units": [r.unit for r in rows],
    }
