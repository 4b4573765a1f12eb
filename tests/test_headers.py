import pytest

from pipeline.headers import parse_age, parse_sex, read_header_fields, split_age_sex
from pipeline.layout import group_lines
from tests.words import page_from_text


def fields(text: str) -> dict[str, str]:
    return read_header_fields(group_lines(page_from_text(text))).values


def test_label_value_pairs_on_one_line() -> None:
    got = fields("Name : DUMMY                Age : 30 Years\nCollected : 14/5/2023    Reported : 16/5/2023")
    assert got == {
        "patient_name": "DUMMY",
        "age": "30 Years",
        "collected_at": "14/5/2023",
        "reported_at": "16/5/2023",
    }


def test_glued_labels_and_place_labels_are_not_dates() -> None:
    got = fields("Dob:25/02/1990   Sex: M\nCollected at : MAIN LAB")
    assert got == {"birth_date": "25/02/1990", "sex": "M"}


def test_values_printed_under_their_labels() -> None:
    got = fields("Data di nascita     Sesso\n18/12/1986          M")
    assert got == {"birth_date": "18/12/1986", "sex": "M"}


def test_spanish_labels() -> None:
    got = fields("Paciente: Ana Pérez    Sexo: Femenino\nFecha de toma: 03/02/2025")
    assert (
        got["patient_name"] == "Ana Pérez"
        and got["sex"] == "Femenino"
        and got["collected_at"] == "03/02/2025"
    )


@pytest.mark.parametrize(
    ("text", "sex"),
    [("M", "male"), ("Female", "female"), ("Masculino", "male"), ("weiblich", "female"), ("X", None)],
)
def test_parse_sex(text: str, sex: str | None) -> None:
    assert parse_sex(text) == sex


@pytest.mark.parametrize(("text", "age"), [("30 Years", 30), ("45Y", 45), ("6 months", 0.5), ("27", 27)])
def test_parse_age(text: str, age: float) -> None:
    assert parse_age(text) == pytest.approx(age)


def test_age_and_sex_together() -> None:
    assert split_age_sex("27 / Male") == (27, "male")
    assert split_age_sex("45Y/F") == (45, "female")
