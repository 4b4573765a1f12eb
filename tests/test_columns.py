import datetime as dt

import pytest

from parsers.types import DateOrder
from pipeline.columns import assign, find_header
from pipeline.layout import group_lines
from tests.words import page_from_text


def header_roles(text: str, order: DateOrder | None = DateOrder.DMY) -> list[str] | None:
    lines = group_lines(page_from_text(text))
    header = find_header(lines, 0, order)
    return None if header is None else [c.role for c in header.columns]


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        (
            "Test         Result    Flag   Units    Reference Range",
            ["name", "value", "flag", "unit", "range"],
        ),
        (
            "Investigation      Observed Value   Unit    Biological Reference Interval",
            ["name", "value", "unit", "range"],
        ),
        (
            "Prueba          Resultado    Unidades    Valores de referencia",
            ["name", "value", "unit", "range"],
        ),
        ("Analisi         Risultati    U. M.    Valori di riferimento", ["name", "value", "unit", "range"]),
        (
            "Test Name     Reference Range   Unit   Result   Status",
            ["name", "range", "unit", "value", "flag"],
        ),
        ("Untersuchung    Ergebnis   Einheit   Referenzbereich", ["name", "value", "unit", "range"]),
    ],
    ids=["us", "india", "spanish", "italian", "range-first", "german"],
)
def test_header_roles_in_any_language_and_order(text: str, roles: list[str]) -> None:
    assert header_roles(text) == roles


def test_sentence_is_not_a_header() -> None:
    assert header_roles("The result of this test should be read with the reference range in mind") is None


def test_previous_qualifier_above_a_result_column() -> None:
    text = "                     Previous\nTest       Result    Result     Units   Range"
    lines = group_lines(page_from_text(text))
    header = find_header(lines, 1, DateOrder.DMY)
    assert header is not None
    assert [c.role for c in header.columns] == ["name", "value", "previous", "unit", "range"]


def test_cumulative_date_columns() -> None:
    lines = group_lines(page_from_text("Test        12/03/2024   05/01/2024   Units   Range"))
    header = find_header(lines, 0, DateOrder.DMY)
    assert header is not None and header.dated
    assert [c.date for c in header.columns if c.role == "value"] == [
        dt.date(2024, 3, 12),
        dt.date(2024, 1, 5),
    ]


def test_side_by_side_groups() -> None:
    text = "Test   Result  Units        Test   Result  Units\nALT    41      U/L          AST    30      U/L"
    lines = group_lines(page_from_text(text))
    header = find_header(lines, 0, None)
    assert header is not None and header.groups == 2


def test_words_go_to_their_columns_and_long_names_overflow() -> None:
    text = "Test                    Result   Units   Range\nAlkaline Phosphatase     150     U/L     30 - 120"
    lines = group_lines(page_from_text(text))
    header = find_header(lines, 0, None)
    assert header is not None
    placed = assign(lines[1], header, 0)
    texts = {header.columns[i].role: " ".join(w.text for w in ws) for i, ws in placed.items()}
    assert texts == {"name": "Alkaline Phosphatase", "value": "150", "unit": "U/L", "range": "30 - 120"}
