"""Merging the fallback engine's words, splitting a box read as several words, and the language guess."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ocr.engine import OcrWord, split_words
from pipeline.ocr.languages import guess_language, resolve
from pipeline.ocr.merge import Tagged, merge


def word(text: str, x0: float, conf: float, top: float = 100, width: float = 60) -> OcrWord:
    return OcrWord(text, x0, top, x0 + width, top + 30, conf)


def tag(words: list[OcrWord], engine: str) -> list[Tagged]:
    return [Tagged(w, engine) for w in words]


def test_confident_words_stay_and_poor_ones_are_replaced() -> None:
    first = tag([word("Sodium", 0, 0.96), word("l4O", 200, 0.35), word("mmol/L", 400, 0.9)], "t")
    second = tag([word("Sodium", 2, 0.99), word("140", 198, 0.98), word("mmol/l", 401, 0.97)], "r")
    merged = merge(first, second)
    assert [(m.word.text, m.engine) for m in merged] == [("Sodium", "t"), ("140", "r"), ("mmol/L", "t")]


def test_poor_words_nobody_else_saw_are_noise_and_missed_words_are_added() -> None:
    first = tag([word("Urea", 0, 0.95), word("~'", 600, 0.15)], "t")
    second = tag([word("Urea", 0, 0.99), word("5.1", 200, 0.97), word("?", 300, 0.2)], "r")
    merged = merge(first, second)
    assert [m.word.text for m in merged] == ["Urea", "5.1"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Esame Risultato Unità Valori di riferimento Emoglobina 13,2 g/dl Globuli bianchi", "ita"),
        ("Prueba Resultado Unidades Valores de referencia Hemoglobina Leucocitos Plaquetas", "spa"),
        ("Exame Resultado Unidade Valores de referência Hemoglobina Leucócitos Glicose", "por"),
        ("Analyse Résultat Unités Valeurs de référence Hémoglobine Leucocytes et", "fra"),
        ("Untersuchung Ergebnis Einheit Referenzbereich Hämoglobin Leukozyten und", "deu"),
        ("Test Result Units Reference range Hemoglobin Glucose Platelets", None),
        ("12.5 140 4.1 mg/dL g/dL % 3.5-5.0", None),
        ("Resultado Hemoglobina", None),
    ],
    ids=["ita", "spa", "por", "fra", "deu", "eng", "numbers-only", "too-little"],
)
def test_language_is_guessed_from_a_first_english_pass(words: str, expected: str | None) -> None:
    assert guess_language(words.split()) == expected


def test_a_named_language_is_read_with_english_too() -> None:
    assert resolve("ita") == "ita+eng"
    assert resolve("eng+deu") == "eng+deu"


@given(
    st.lists(st.text(alphabet="abc123.,/-", min_size=1, max_size=8), min_size=1, max_size=6),
    st.floats(0, 1000),
    st.floats(10, 2000),
)
def test_line_split_into_words_in_order_and_inside_the_line(
    pieces: list[str], x0: float, width: float
) -> None:
    text = " ".join(pieces)
    words = split_words(text, x0, x0 + width)
    assert [w[0] for w in words] == pieces
    assert all(x0 - 1e-6 <= a <= b <= x0 + width + 1e-6 for _, a, b in words)
    assert all(words[i][2] <= words[i + 1][1] + 1e-6 for i in range(len(words) - 1))
