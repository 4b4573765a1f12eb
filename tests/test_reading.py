"""unsure_rows: which rows of a draft OCR page are worth reading twice."""

from __future__ import annotations

from pipeline.models import PageWords, Word
from pipeline.reading import unsure_rows
from pipeline.settings import Settings


def line(top: float, *cells: tuple[float, str, float]) -> list[Word]:
    return [Word(text, x0, top, x0 + 7 * len(text), top + 10, conf=conf) for x0, text, conf in cells]


def test_unsure_results_and_named_rows_without_a_result_are_chosen() -> None:
    words = [
        *line(100, (50, "Test", 0.99), (250, "Result", 0.99), (350, "Units", 0.99), (450, "Reference", 0.99)),
        *line(130, (50, "Sodium", 0.99), (250, "140", 0.99), (350, "mmol/L", 0.99), (450, "136-145", 0.99)),
        *line(160, (50, "Potassium", 0.99), (250, "4.1", 0.6), (350, "mmol/L", 0.99), (450, "3.5-5.1", 0.99)),
        *line(190, (50, "Urea", 0.99), (250, "§2", 0.7), (350, "mmol/L", 0.99), (450, "2.5-7.8", 0.99)),
        *line(220, (50, "Phone", 0.99), (250, "555", 0.5), (350, "1234", 0.5)),
    ]
    page = PageWords(1, 612, 792, "pt", "ocr", tuple(words), engine="tesseract 5.3.0")
    rows = unsure_rows(page, Settings())
    # Potassium's value was read unsurely; Urea names a test but its value ('§2') is no number. Sodium is
    # claimed as it is, and the phone line names no test.
    assert [top for _, top, _, _ in rows] == [160, 190]
    assert all(x0 == 50 and x1 > 450 for x0, _, x1, _ in rows)


def test_a_page_with_no_words_has_no_rows() -> None:
    page = PageWords(1, 612, 792, "pt", "none", (), reason="blank page")
    assert unsure_rows(page, Settings()) == []
