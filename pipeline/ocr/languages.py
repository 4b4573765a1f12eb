"""The page's language, guessed from the words of an English pass, and the Tesseract languages a setting names.

Lab reports are mostly numbers, units and analyte names, and Tesseract's English data reads the Latin-script
reports of the knowledge base's languages best: the knowledge base matches names without their accents. A
second pass in the guessed language, keeping the surer reading of each word, lost more than it gained on 81
degraded Spanish, Portuguese, Italian, French, German and Nordic scans (F1 0.987 against 0.989 with English
alone, 800 results claimed right against 890, none wrong either way; bench/scan_bench.py) and cost 0.8 s a
page. So `ocr_languages = "auto"` reads with English and records the guessed language; naming languages
('ita', 'spa+eng') reads with their data instead. We count distinctive words and diacritics of Spanish,
Portuguese, Italian, French and German among the words and name a language only when the evidence is clear.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

SUPPORTED = ("eng", "spa", "por", "ita", "fra", "deu")


def _words(text: str) -> list[str]:
    return text.split()


_CUES: dict[str, frozenset[str]] = {
    "ita": frozenset(
        _words("""della delle degli dei del di il gli esame esami risultato risultati valori riferimento
        analisi emocromo emocromocitometrico globuli bianchi rossi emoglobina ematocrito piastrine metodo
        conteggio unità colesterolo trigliceridi glicemia creatinina azotemia sodio potassio sideremia
        linfociti neutrofili monociti eosinofili basofili referto paziente prelievo data nascita""")
    ),
    "spa": frozenset(
        _words("""los las resultado resultados valores referencia hemoglobina hematocrito leucocitos
        hematíes plaquetas glucosa unidades prueba análisis colesterol triglicéridos bioquímica hemograma
        linfocitos neutrófilos monocitos eosinófilos basófilos paciente fecha nacimiento muestra y""")
    ),
    "por": frozenset(
        _words("""dos das resultado resultados valores referência hemoglobina hematócrito leucócitos
        eritrócitos plaquetas glicose unidade exame exames colesterol triglicerídeos ureia bioquímica
        hemograma linfócitos neutrófilos monócitos paciente data nascimento amostra não""")
    ),
    "fra": frozenset(
        _words("""des du le la les et résultat résultats valeurs référence hémoglobine hématocrite
        leucocytes hématies plaquettes glycémie unités analyse analyses cholestérol triglycérides
        polynucléaires biochimie numération sanguine patient prélèvement naissance""")
    ),
    "deu": frozenset(
        _words("""und der die das mit ergebnis ergebnisse einheit referenzbereich hämoglobin hämatokrit
        leukozyten erythrozyten thrombozyten blutbild untersuchung kreatinin harnstoff natrium kalium
        gesamtcholesterin triglyzeride lymphozyten monozyten patient geburtsdatum befund""")
    ),
    "eng": frozenset(
        _words("""the and of test result results units reference range hemoglobin haemoglobin
        hematocrit platelets glucose cholesterol triglycerides count patient collected reported""")
    ),
}
_DIACRITICS: dict[str, str] = {
    "ñ": "spa",
    "¿": "spa",
    "¡": "spa",
    "ã": "por",
    "õ": "por",
    "ä": "deu",
    "ö": "deu",
    "ü": "deu",
    "ß": "deu",
    "œ": "fra",
    "ê": "fra",
    "â": "fra",
    "ò": "ita",
    "ì": "ita",
}
MIN_EVIDENCE = 3


def _fold(text: str) -> str:
    """Lower case without accents, so that an English pass's 'unita' still matches 'unità'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _weights() -> dict[str, dict[str, float]]:
    """Cue word -> {language: weight}; a word shared by n languages counts 1/n for each."""
    folded = {lang: {_fold(w) for w in words} for lang, words in _CUES.items()}
    table: dict[str, dict[str, float]] = {}
    for lang, words in folded.items():
        for word in words:
            table.setdefault(word, {})[lang] = 1.0
    return {word: {lang: 1.0 / len(langs) for lang in langs} for word, langs in table.items()}


_WEIGHTS = _weights()


def guess_language(words: Iterable[str]) -> str | None:
    """The page language among SUPPORTED other than English, or None (English, or not clear)."""
    scores = dict.fromkeys(_CUES, 0.0)
    seen: set[str] = set()
    for raw in words:
        token = _fold(raw.strip(".,:;()[]*"))
        for char in raw.lower():
            if char in _DIACRITICS:
                scores[_DIACRITICS[char]] += 0.5
        if (len(token) < 2 and token != "y") or token in seen:
            continue
        seen.add(token)
        for lang, weight in _WEIGHTS.get(token, {}).items():
            scores[lang] += weight
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if best == "eng" or top < MIN_EVIDENCE or top < 1.3 * second:
        return None
    return best


def resolve(setting: str) -> str:
    """Tesseract languages for a setting other than 'auto': 'ita' alone reads as 'ita+eng'."""
    langs = [lang for lang in setting.replace(",", "+").split("+") if lang]
    if langs and "eng" not in langs:
        langs.append("eng")
    return "+".join(langs)
