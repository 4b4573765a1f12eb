"""Tests of the synthetic fixture generator (fixtures/generator), not of the project's parser.

Checks that generation is deterministic, that the checked-in fixtures are what the generator makes now
(set LABREPORT_REGEN_FIXTURES=1 to rewrite them on purpose), that every truth file is valid and agrees
with the text the PDF really contains (read back with pdfplumber), and that the fixture set still covers
the layout features it promises in fixtures/README.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.generator import LAYOUTS, Lab, Locale, Patient, build_all, render_bytes, spec_from_values
from fixtures.generator.edge import EDGE_CASES, USER_PASSWORD
from fixtures.generator.formatting import derive_flag, format_date, format_number
from fixtures.generator.model import ReportSpec
from fixtures.generator.specs import fixtures
from fixtures.generator.truth import dumps, validate_truth

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURES = fixtures()
NAMES = [spec.name for spec, _ in FIXTURES]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole fixture set generated once into a temporary folder."""
    out = tmp_path_factory.mktemp("fixtures")
    build_all(out)
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _truth(built: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((built / "truth" / f"{name}.pdf.truth.json").read_text("utf-8"))
    return data


# ---- determinism and golden files ---------------------------------------------------------------


def test_generation_is_byte_identical_twice(built: Path, tmp_path: Path) -> None:
    build_all(tmp_path)
    first, second = _files(built), _files(tmp_path)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_checked_in_fixtures_equal_generator_output(built: Path) -> None:
    """Nobody edits a fixture by hand: the repo holds exactly what the generator makes."""
    if os.environ.get("LABREPORT_REGEN_FIXTURES") == "1":
        for sub in ("reports", "truth", "edge"):
            for old in (ROOT / sub).glob("*.pdf*"):
                old.unlink()
            shutil.copytree(built / sub, ROOT / sub, dirs_exist_ok=True)
    want = _files(built)
    have = {
        name: data
        for name, data in _files(ROOT).items()
        if name.split("/")[0] in ("reports", "truth", "edge") and not name.endswith(".md")
    }
    assert sorted(have) == sorted(want), (
        "run LABREPORT_REGEN_FIXTURES=1 pytest tests/test_fixture_generator.py"
    )
    stale = [name for name in want if have[name] != want[name]]
    assert stale == [], f"out of date (regenerate with LABREPORT_REGEN_FIXTURES=1): {stale}"


# ---- truth files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_truth_is_valid(built: Path, name: str) -> None:
    truth = _truth(built, name)
    assert validate_truth(truth) == []
    assert truth["layout"] in LAYOUTS
    assert truth["annotated_loincs"] == list(dict.fromkeys(r["loinc"] for r in truth["results"]))
    for r in truth["results"]:
        if r["low"] is not None and r["high"] is not None:
            assert r["low"] < r["high"]


def test_validate_truth_catches_inconsistencies(built: Path) -> None:
    truth = _truth(built, "us_reference_lab_cmp_lipids")
    broken = json.loads(dumps(truth))
    broken["results"][0]["flag_derived"] = None if broken["results"][0]["flag_derived"] else "H"
    broken["annotated_loincs"] = broken["annotated_loincs"][1:]
    broken["results"][1]["low"], broken["results"][1]["high"] = 9.0, 1.0
    errors = validate_truth(broken)
    assert any("flag_derived" in e for e in errors)
    assert any("annotated_loincs" in e for e in errors)
    assert any("low >= high" in e for e in errors)


def test_every_layout_is_used_and_there_are_at_least_ten() -> None:
    used = {layout for _, layout in FIXTURES}
    assert len(LAYOUTS) >= 10
    assert used == set(LAYOUTS)


def test_fixture_names_are_unique() -> None:
    assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize(
    "name", [n for (s, _), n in zip(FIXTURES, NAMES, strict=True) if s.has_history_columns]
)
def test_cumulative_truth_has_one_result_per_analyte_and_date(built: Path, name: str) -> None:
    spec = next(s for s, _ in FIXTURES if s.name == name)
    truth = _truth(built, name)
    assert truth["has_history_columns"] is True
    expected = sum(1 for _, line in spec.keyed_lines() if line.loinc for m in line.results if m is not None)
    assert len(truth["results"]) == expected
    assert {r["collected_at"] for r in truth["results"]} == {d.isoformat() for d in spec.dates}
    assert truth["collected_at"] == max(spec.dates).isoformat()


# ---- the PDFs really say what the truth says ------------------------------------------------------


def _page_texts(pdf_path: Path) -> list[str]:
    with pdfplumber.open(pdf_path) as pdf:
        return [" ".join(w["text"] for w in page.extract_words()) for page in pdf.pages]


@pytest.mark.parametrize("name", NAMES)
def test_pdf_text_contains_every_truth_field(built: Path, name: str) -> None:
    spec = next(s for s, _ in FIXTURES if s.name == name)
    truth = _truth(built, name)
    pages = _page_texts(built / "reports" / f"{name}.pdf")
    by_code = {(line.name, line.loinc): line for _, line in spec.keyed_lines() if line.loinc}
    for r in truth["results"]:
        text = pages[r["page"] - 1]
        line = by_code[(r["name"], r["loinc"])]
        pieces = [r["value_text"], r["unit_printed"], *line.name_lines, *line.range_lines]
        missing = [p for p in pieces if p and p not in text]
        assert missing == [], f"{r['name']} page {r['page']}"
        flag_text = next(m.flag_text for m in line.results if m and m.value_text == r["value_text"])
        assert flag_text in text
    for unknown in truth["unknown_tests"]:
        assert any(unknown in page for page in pages)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("in_pathlab")])
def test_bold_only_marks_are_bold_in_the_pdf(built: Path, name: str) -> None:
    """Abnormal values are bold (and only they): flag null, flag_derived set."""
    truth = _truth(built, name)
    with pdfplumber.open(built / "reports" / f"{name}.pdf") as pdf:
        words = [pdf.pages[i].extract_words(extra_attrs=["fontname"]) for i in range(len(pdf.pages))]
    checked = 0
    for r in truth["results"]:
        assert r["flag"] is None
        fonts = {w["fontname"] for w in words[r["page"] - 1] if w["text"] == r["value_text"]}
        assert fonts, r["name"]
        is_bold = any("Bold" in f for f in fonts)
        assert is_bold == (r["flag_derived"] is not None) or len(fonts) > 1, r["name"]
        checked += r["flag_derived"] is not None
    assert checked >= 3


def test_previous_results_are_printed_but_not_truth(built: Path) -> None:
    for spec, _ in FIXTURES:
        prev = [(line, line.previous) for _, line in spec.keyed_lines() if line.previous is not None]
        if not prev:
            continue
        pages = " ".join(_page_texts(built / "reports" / f"{spec.name}.pdf"))
        assert all(m.value_text in pages for _, m in prev)
        truth = _truth(built, spec.name)
        current = {(r["name"], r["value_text"]) for r in truth["results"]}
        for line, m in prev:
            if line.current.value_text != m.value_text:
                assert (line.name, m.value_text) not in current


# ---- the same data through several layouts -------------------------------------------------------

ENGLISH_LAYOUTS = [
    "us_reference_lab",
    "dotleader_clinic",
    "au_plain",
    "two_column",
    "uk_previous",
    "pk_range_first",
]


def _series_spec() -> ReportSpec:
    return spec_from_values(
        "api_example",
        [
            ("2345-7", 104, "mg/dL"),
            ("creatinine", 1.4, "mg/dL"),
            ("1742-6", 66, "U/L"),
            ("hba1c", 6.6, "%"),
            ("wbc", 3.2, "x10^3/uL"),
        ],
        lab=Lab("Test Lab", ("1 Test St", "Testville"), "000"),
        patient=Patient("DOE, JANE", "female", "T-1", date(1970, 1, 2), 55),
        collected_at=date(2025, 3, 14),
        locale=Locale("en", ".", ",", "MM/DD/YYYY"),
    )


@pytest.mark.parametrize("layout", ENGLISH_LAYOUTS)
def test_one_spec_draws_in_every_english_layout(layout: str) -> None:
    spec = _series_spec()
    data, truth = render_bytes(spec, layout)
    assert data.startswith(b"%PDF")
    reference = render_bytes(spec, "us_reference_lab")[1]
    strip = [{k: v for k, v in r.items() if k != "page"} for r in truth["results"]]
    assert strip == [{k: v for k, v in r.items() if k != "page"} for r in reference["results"]]
    assert {r["flag_derived"] for r in truth["results"]} == {"H", "L"}
    assert validate_truth(truth) == []


# ---- the fixture set covers what fixtures/README.md promises ---------------------------------------


def _all_results(built: Path) -> list[dict[str, Any]]:
    return [r for name in NAMES for r in _truth(built, name)["results"]]


def test_coverage_of_units_ranges_values_and_flags(built: Path) -> None:
    results = _all_results(built)
    units = {r["unit_printed"] for r in results}
    for unit in (
        "x10^3/uL",
        "K/uL",
        "10^9/L",
        "mill/mm3",
        "lakhs/cumm",
        "/cumm",
        "umol/L",
        "mmol/L",
        "ukat/L",
        "µkat/L",
        "IU/L",
        "mEq/L",
        "mg/dL",
        "g/L",
        "%",
        "fL",
        "pg",
        "s",
        "x10^3/µl",
    ):
        assert unit in units, unit
    assert any(r["loinc"] == "6301-6" and r["unit_printed"] == "" for r in results)
    ranges = {r["range_text"] for r in results}
    for rng in (
        "7-55",
        "(5 - 40)",
        "[ 8.5 - 13.3 ]",
        "40,0 a 80,0",
        "<33",
        "< OR = 39",
        ">60",
        "Up to 40",
        "Male: 10-50; Female: 7-35",
        "Not Estab.",
        "Negative",
    ):
        assert any(rng in text for text in ranges), rng
    assert any(" - " in t and "Child" in t for t in ranges)
    assert any(r["range_text"] == "0 to 55" or "(0 to 55)" in r["range_text"] for r in results)
    values = {r["value_text"] for r in results}
    for value in ("<0.1", ">90", "Negative", "2,12,000", "9.480", "3,150"):
        assert value in values, value
    assert {"H", "L", "HH", "LL", "A"} <= {r["flag"] for r in results}
    assert any(r["flag"] is None and r["flag_derived"] in ("H", "L") for r in results)
    assert any(r["value"] is None for r in results)


def test_patients_cover_both_sexes_children_and_elderly(built: Path) -> None:
    patients = [_truth(built, name)["patient"] for name in NAMES]
    assert {p["sex"] for p in patients} == {"male", "female"}
    ages = [p["age_years"] for p in patients if p["age_years"] is not None]
    assert min(ages) < 18 < 65 < max(ages)


def test_unknown_tests_are_listed(built: Path) -> None:
    unknown = {t for name in NAMES for t in _truth(built, name)["unknown_tests"]}
    assert {"Vitamin B12", "Ferritin"} <= unknown


# ---- edge cases ------------------------------------------------------------------------------------


def test_edge_readme_lists_every_edge_file() -> None:
    readme = (ROOT / "edge" / "README.md").read_text("utf-8")
    for name in EDGE_CASES:
        assert f"`{name}`" in readme, name


def test_edge_cases_behave_as_described(built: Path) -> None:
    edge = built / "edge"
    assert (edge / "empty.pdf").stat().st_size == 0
    assert not (edge / "not_a_pdf.pdf").read_bytes().startswith(b"%PDF")
    assert b"%%EOF" not in (edge / "truncated.pdf").read_bytes()
    with pytest.raises(Exception), pdfplumber.open(edge / "encrypted_user_password.pdf") as pdf:  # noqa: B017
        pdf.pages[0].extract_text()
    with pdfplumber.open(edge / "encrypted_user_password.pdf", password=USER_PASSWORD) as pdf:
        assert "Result" in pdf.pages[0].extract_text()
    with pdfplumber.open(edge / "encrypted_owner_only.pdf") as pdf:
        assert "Result" in pdf.pages[0].extract_text()
    with pdfplumber.open(edge / "image_only.pdf") as pdf:
        assert pdf.pages[0].chars == [] and len(pdf.pages[0].images) == 1
    garbage_truth = json.loads((edge / "garbage_textlayer.pdf.truth.json").read_text("utf-8"))
    with pdfplumber.open(edge / "garbage_textlayer.pdf") as pdf:
        text = pdf.pages[0].extract_text()
    assert len(text) > 200
    assert not any(r["name"] in text for r in garbage_truth["results"])
    letter = json.loads((edge / "no_results_letter.pdf.truth.json").read_text("utf-8"))
    assert letter["results"] == [] and validate_truth(letter) == []


# ---- formatting helpers ------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**9))
def test_indian_grouping_keeps_the_number(n: int) -> None:
    text = format_number(n, 0, Locale("en", ".", "indian"))
    assert int(text.replace(",", "")) == n
    assert re.fullmatch(r"\d{1,2}(,\d\d)*,\d{3}|\d{1,3}", text)


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False), st.integers(min_value=0, max_value=3))
def test_comma_decimal_with_dot_grouping_round_trips(value: float, decimals: int) -> None:
    text = format_number(value, decimals, Locale("de", ",", "."))
    assert float(text.replace(".", "").replace(",", ".")) == pytest.approx(
        round(value, decimals), abs=10**-decimals
    )


@pytest.mark.parametrize(
    ("style", "lang", "want"),
    [
        ("DD/MM/YYYY", "en", "05/03/2025"),
        ("MM/DD/YYYY", "en", "03/05/2025"),
        ("YYYY-MM-DD", "en", "2025-03-05"),
        ("DD.MM.YYYY", "de", "05.03.2025"),
        ("DD-Mon-YYYY", "en", "05-Mar-2025"),
        ("D month YYYY", "es", "5 marzo 2025"),
        ("D month YYYY", "de", "5 März 2025"),
    ],
)
def test_format_date(style: str, lang: str, want: str) -> None:
    assert format_date(date(2025, 3, 5), style, lang) == want


@pytest.mark.parametrize(
    ("value", "comp", "low", "high", "want"),
    [
        (5.0, None, 1.0, 4.0, "H"),
        (0.5, None, 1.0, 4.0, "L"),
        (2.0, None, 1.0, 4.0, None),
        (4.0, None, 1.0, 4.0, None),
        (0.1, "<", 0.3, 1.2, "L"),
        (0.1, "<", None, 0.2, None),
        (90.0, ">", 60.0, None, None),
        (90.0, ">", None, 40.0, "H"),
    ],
)
def test_derive_flag(
    value: float, comp: str | None, low: float | None, high: float | None, want: str | None
) -> None:
    assert derive_flag(value, comp, str(value), low, high, "") == want


def test_derive_flag_for_text_results() -> None:
    assert derive_flag(None, None, "Negative", None, None, "Negative") is None
    assert derive_flag(None, None, "Positive", None, None, "Negative") == "A"
