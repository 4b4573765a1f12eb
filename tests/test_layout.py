from pipeline.layout import group_lines, split_line
from pipeline.models import PageWords, Word
from tests.words import page_from_text


def cells(text: str) -> list[list[str]]:
    return [[c.text for c in line.cells] for line in group_lines(page_from_text(text))]


def test_words_split_into_cells_at_wide_gaps() -> None:
    assert cells("Total Protein     7.00   g/dL    5.70 - 8.20") == [
        ["Total Protein", "7.00", "g/dL", "5.70 - 8.20"]
    ]


def test_dot_leaders_are_separators_not_text() -> None:
    assert cells("ALT ............ 41 H") == [["ALT", "41 H"]]
    assert cells("Glucose.......... 95") == [["Glucose", "95"]]


def test_lines_follow_vertical_position_not_word_order() -> None:
    words = (
        Word("B", 0, 70, 5, 79),
        Word("A", 0, 50, 5, 59),
        Word("a2", 40, 51, 50, 60),
    )
    page = PageWords(page=1, width=100, height=100, unit="pt", method="text", words=words)
    assert [line.text for line in group_lines(page)] == ["A a2", "B"]


def test_superscript_stays_on_its_line() -> None:
    words = (Word("x10", 0, 50, 15, 59), Word("3", 15.5, 47, 18, 53), Word("/uL", 18.5, 50, 30, 59))
    page = PageWords(page=1, width=100, height=100, unit="pt", method="text", words=words)
    lines = group_lines(page)
    assert len(lines) == 1


def test_split_line_cuts_side_by_side_tables() -> None:
    line = group_lines(page_from_text("ALT   41   U/L          AST   30   U/L"))[0]
    left, right = split_line(line, [100.0])
    assert left.text == "ALT 41 U/L" and right.text == "AST 30 U/L"


def test_fake_bold_duplicates_are_dropped() -> None:
    words = (Word("Sodium", 0, 50, 30, 59), Word("Sodium", 0.4, 50, 30.4, 59))
    page = PageWords(page=1, width=100, height=100, unit="pt", method="text", words=words)
    assert group_lines(page)[0].text == "Sodium"
