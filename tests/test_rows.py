"""The row finder on synthetic word layouts: table mode, free mode, wraps, ranges, OCR repairs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parsers.knowledge import load_knowledge
from parsers.types import DateOrder, NumberStyle
from pipeline.fields import FieldContext
from pipeline.layout import group_lines
from pipeline.rows import Candidate, RowContext, find_rows
from tests.words import page_from_text


def rows(text: str, *, ocr: bool = False, style: NumberStyle = NumberStyle.DOT) -> list[Candidate]:
    ctx = RowContext(load_knowledge(), FieldContext(style, None, None, ocr), DateOrder.DMY)
    found, _ = find_rows(group_lines(page_from_text(text)), None, ctx)
    return found


def summary(candidate: Candidate) -> tuple[str, str, str | None, str | None]:
    return (
        candidate.name,
        candidate.value.text if candidate.value else "",
        candidate.unit.unit.ucum if candidate.unit and candidate.unit.unit else None,
        candidate.range.text if candidate.range else None,
    )


def test_table_rows_with_range_before_result() -> None:
    text = (
        "Test Name        Reference Range   Unit     Result   Status\n"
        "Hemoglobin       13.5 - 17.5       g/dL     15       Normal\n"
        "HCT              35 - 45           %        24       Low-Abnormal"
    )
    assert [summary(c) for c in rows(text)] == [
        ("Hemoglobin", "15", "g/dL", "13.5 - 17.5"),
        ("HCT", "24", "%", "35 - 45"),
    ]


def test_previous_result_column_is_not_the_value() -> None:
    text = (
        "                           Previous\n"
        "Test          Result       Result       Units    Range\n"
        "ALT           41 H         38           U/L      7 - 55"
    )
    (row,) = rows(text)
    assert summary(row) == ("ALT", "41", "U/L", "7 - 55") and row.extra_numbers == 0


def test_free_rows_need_a_known_name_and_nothing_unexplained() -> None:
    text = (
        "Sodium 140 (135-145) mmol/L\n"
        "HbA1c 5.7-6.4 % indicates prediabetes in adults\n"
        "Page 1 of 3\n"
        "ALT 30 (< 40) U/L"
    )
    assert [summary(c) for c in rows(text)] == [
        ("Sodium", "140", "mmol/L", "(135-145)"),
        ("ALT", "30", "U/L", "(< 40)"),
    ]


def test_value_followed_by_range_is_not_one_grouped_number() -> None:
    (row,) = rows("Platelets 151 150 - 400 10^9/L")
    assert summary(row) == ("Platelets", "151", "10*9/L", "150 - 400")


def test_name_wrapped_over_two_lines() -> None:
    text = "Test                 Result   Units   Range\nGamma Glutamyl       41       U/L     7 - 55\nTransferase"
    (row,) = rows(text)
    assert row.name == "Gamma Glutamyl Transferase" and row.matches[0].analyte.code == "ggt"


def test_range_continued_on_the_next_line() -> None:
    text = (
        "Test              Result   Units    Reference Range\n"
        "HDL Cholesterol   46       mg/dL    Male: > 40\n"
        "                                    Female: > 50"
    )
    (row,) = rows(text)
    assert [f.text for f in row.range_extra] == ["Female: > 50"]


def test_garbled_numbers_in_the_range_column_are_counted() -> None:
    text = "Test Name      Reference Range    Unit    Result\nHemoglobin     13.5 5 - - 17.5    g/dL    15"
    (row,) = rows(text, ocr=True)
    assert row.extra_numbers > 0


@pytest.mark.parametrize(
    ("printed", "ucum"), [("x1046/ul", "10*6/uL"), ("cells//4L", "/uL")], ids=["caret-as-4", "broken-micro"]
)
def test_damaged_unit_on_an_ocr_row_of_a_known_test(printed: str, ucum: str) -> None:
    name = "RBC Count" if "10" in printed else "Platelet Count"
    text = f"Test Name        Result   Unit        Reference Range\n{name}        6        {printed}    4.5 - 5.5"
    (row,) = rows(text, ocr=True)
    assert row.unit is not None and row.unit.unit is not None and row.unit.unit.ucum == ucum
    assert rows(text, ocr=False)[0].unit is None


def test_result_printed_as_a_labelled_block() -> None:
    text = (
        "GLICOSE\n"
        "Material: Plasma   Método: Enzimático\n"
        "Resultado:  112 mg/dL\n"
        "Valor de referência: 70 a 99 mg/dL\n"
        "Resultado anterior: 104 mg/dL em 10/09/2024"
    )
    (row,) = rows(text, style=NumberStyle.COMMA)
    assert summary(row) == ("GLICOSE", "112", "mg/dL", "70 a 99")


def test_block_range_continues_on_the_next_line() -> None:
    text = (
        "HEMOGLOBINA\n"
        "Resultado:  11,8 g/dL\n"
        "Valores de referência:  Homens: 13,5 a 17,5 g/dL\n"
        "                        Mulheres: 12,0 a 15,5 g/dL"
    )
    (row,) = rows(text, style=NumberStyle.COMMA)
    assert row.range is not None and [f.text for f in row.range_extra] == ["Mulheres: 12,0 a 15,5"]


def test_name_wrapped_over_three_lines_with_the_value_on_the_first() -> None:
    text = (
        "Test                          Result    Reference      Units\n"
        "Mean corpuscular              32.8      31.5 - 34.5    g/dL\n"
        "haemoglobin\n"
        "concentration (MCHC)\n"
        "\n"
        "Red cell                      15.1      11.6 - 14.0    %\n"
        "distribution width\n"
        "(RDW)"
    )
    found = rows(text)
    assert [(r.name, r.matches[0].analyte.code) for r in found] == [
        ("Mean corpuscular haemoglobin concentration (MCHC)", "mchc"),
        ("Red cell distribution width (RDW)", "rdw_cv"),
    ]


def test_percentage_and_count_on_one_row_are_two_results() -> None:
    text = (
        "Determinación             Resultado                 Valores de Referencia\n"
        "Linfocitos                29 %    1.972 /mm³        20 - 40 %"
    )
    found = rows(text, style=NumberStyle.COMMA)
    assert [(r.matches[0].analyte.code, r.value.text if r.value else None) for r in found] == [
        ("lymphocytes_pct", "29"),
        ("lymphocytes_abs", "1.972"),
    ]
    assert found[0].range is not None and found[1].range is None


def test_a_test_named_like_a_unit_starts_the_second_result_on_a_line() -> None:
    found = rows("T.BILI  0.6 mg/dL  (0.2-1.2)        INR   1.2   (0.9-1.1)   H")
    assert [(r.matches[0].analyte.code, r.value.text if r.value else None) for r in found] == [
        ("bilirubin_total", "0.6"),
        ("inr", "1.2"),
    ]


def test_header_of_short_cells_with_unknown_labels_and_a_unit_column_known_by_its_cells() -> None:
    text = (
        "Kode       Analyse            Resultat   Maal     Referenceinterval\n"
        "NPU0001    P-Natrium;stofk.   139        mmol/L   137 - 145\n"
        "NPU0002    P-Kalium;stofk.    4,6        mmol/L   3,5 - 5,0\n"
        "NPU0003    P-Kreatinin;stofk. 118        µmol/L   60 - 105"
    )
    found = rows(text, style=NumberStyle.COMMA)
    assert [summary(r) for r in found] == [
        ("P-Natrium;stofk.", "139", "mmol/L", "137 - 145"),
        ("P-Kalium;stofk.", "4,6", "mmol/L", "3,5 - 5,0"),
        ("P-Kreatinin;stofk.", "118", "umol/L", "60 - 105"),
    ]


def test_a_faint_mark_before_a_name_on_a_scan_is_read_past_but_not_claimed() -> None:
    text = (
        "Test Name           Result   Unit   Reference Range\n"
        "fa : Lymphocytes    21       %      20 - 50\n"
        "oO Monocytes        5        %      2 - 10"
    )

    def names(mark_conf: float) -> set[tuple[str, bool]]:
        page = page_from_text(text)
        marks = {"fa", ":", "oO"}
        words = tuple(replace(w, conf=mark_conf) if w.text in marks else replace(w, conf=0.95) for w in page.words)
        ctx = RowContext(load_knowledge(), FieldContext(NumberStyle.DOT, None, None, True), DateOrder.DMY)
        found, _ = find_rows(group_lines(replace(page, words=words)), None, ctx)
        return {(code, m.exact) for row in found for m in row.matches if (code := m.analyte.code).endswith("pct")}

    assert names(0.3) == {("lymphocytes_pct", False), ("monocytes_pct", False)}
    assert names(0.9) == set()
