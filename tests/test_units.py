"""Printed unit -> UCUM: the table, micro-sign and case handling, OCR repairs, and what is not a unit."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from parsers.units import (
    UNITS_PATH,
    UnitTableError,
    compact,
    dimension_of,
    looks_like_unit,
    normalise_unit,
    unit_readings,
    unit_table,
)

MICRO_SIGN, GREEK_MU = "\u00b5", "\u03bc"

PRINTED = [
    ("U/L", "U/L"),
    ("IU/L", "[IU]/L"),
    ("U/l", "U/L"),
    ("UI/L", "[IU]/L"),
    ("µkat/L", "ukat/L"),
    ("ukat/L", "ukat/L"),
    ("mg/dL", "mg/dL"),
    ("mg/dl", "mg/dL"),
    ("mg%", "mg/dL"),
    ("g/dL", "g/dL"),
    ("gm/dL", "g/dL"),
    ("g/dl", "g/dL"),
    ("gm%", "g/dL"),
    ("g/L", "g/L"),
    ("g/l", "g/L"),
    ("mmol/L", "mmol/L"),
    ("mmol/l", "mmol/L"),
    ("mEq/L", "meq/L"),
    ("umol/L", "umol/L"),
    ("nmol/L", "nmol/L"),
    ("pmol/L", "pmol/L"),
    ("%", "%"),
    ("fL", "fL"),
    ("fl", "fL"),
    ("cu.micron", "fL"),
    ("µm3", "fL"),
    ("pg", "pg"),
    ("s", "s"),
    ("sec", "s"),
    ("seconds", "s"),
    ("ratio", "{ratio}"),
    ("INR", "{INR}"),
    ("10^3/uL", "10*3/uL"),
    ("x10^3/µl", "10*3/uL"),
    ("x10³/µL", "10*3/uL"),
    ("10*3/uL", "10*3/uL"),
    ("10e3/uL", "10*3/uL"),
    ("K/uL", "10*3/uL"),
    ("K/µL", "10*3/uL"),
    ("thou/mm3", "10*3/uL"),
    ("thou/cumm", "10*3/uL"),
    ("x10^9/L", "10*9/L"),
    ("10^9/l", "10*9/L"),
    ("x10⁹/L", "10*9/L"),
    ("×10^9/L", "10*9/L"),
    ("G/L", "10*9/L"),
    ("x10(9)/L", "10*9/L"),
    ("10^6/uL", "10*6/uL"),
    ("mill/mm3", "10*6/uL"),
    ("mill/cumm", "10*6/uL"),
    ("M/uL", "10*6/uL"),
    ("x10^12/L", "10*12/L"),
    ("T/L", "10*12/L"),
    ("/cumm", "/uL"),
    ("/mm3", "/uL"),
    ("cells/cumm", "/uL"),
    ("/uL", "/uL"),
    ("cells/µL", "/uL"),
    ("lakhs/cumm", "10*5/uL"),
    ("lakh/cumm", "10*5/uL"),
    ("mIU/L", "m[IU]/L"),
    ("mU/L", "mU/L"),
    ("µU/mL", "uU/mL"),
    ("milhões/mm³", "10*6/uL"),
    ("millones/µL", "10*6/uL"),
    ("mil/mm³", "10*3/uL"),
    ("milliers/mm³", "10*3/uL"),
    ("µIU/mL", "u[IU]/mL"),
    ("uIU/mL", "u[IU]/mL"),
    ("mIU/mL", "m[IU]/mL"),
    ("ng/dL", "ng/dL"),
    ("ng/mL", "ng/mL"),
    ("pg/mL", "pg/mL"),
    ("µg/dL", "ug/dL"),
    ("ug/dL", "ug/dL"),
    ("mcg/dL", "ug/dL"),
    ("mg/L", "mg/L"),
    ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
    ("mL/min/1,73m²", "mL/min/{1.73_m2}"),
    ("ml/min/1.73 m2", "mL/min/{1.73_m2}"),
    ("mmol/mol", "mmol/mol"),
    ("L/L", "L/L"),
    ("Tsd/µl", "10*3/uL"),
    ("Mio/µl", "10*6/uL"),
    ("/nl", "10*9/L"),
    ("(mg/dL)", "mg/dL"),
    ("[U/L]", "U/L"),
    ("mg/dL.", "mg/dL"),
    (" mmol / L ", "mmol/L"),
    ("Sek.", "s"),
]


@pytest.mark.parametrize(("printed", "ucum"), PRINTED, ids=[p for p, _ in PRINTED])
def test_printed_unit_maps_to_ucum(printed: str, ucum: str) -> None:
    info = normalise_unit(printed)
    assert info is not None and info.ucum == ucum
    assert info.printed == printed.strip() and info.corrections == ()
    assert info.dimension == dimension_of(ucum)


@pytest.mark.parametrize("unit", ["umol/L", "ukat/L", "ug/dL", "u[IU]/mL", "10*3/uL", "/uL"])
@pytest.mark.parametrize("micro", [MICRO_SIGN, GREEK_MU, "u"], ids=["micro-sign", "greek-mu", "ascii-u"])
def test_micro_sign_variants_are_equal(unit: str, micro: str) -> None:
    printed = {
        "umol/L": "{}mol/L",
        "ukat/L": "{}kat/L",
        "ug/dL": "{}g/dL",
        "u[IU]/mL": "{}IU/mL",
        "10*3/uL": "x10^3/{}L",
        "/uL": "cells/{}L",
    }[unit].format(micro)
    info = normalise_unit(printed)
    assert info is not None and info.ucum == unit


def test_case_decides_giga_versus_gram() -> None:
    giga, gram = normalise_unit("G/L"), normalise_unit("g/L")
    assert giga is not None and giga.ucum == "10*9/L" and giga.dimension == "count"
    assert gram is not None and gram.ucum == "g/L" and gram.dimension == "mass_conc"
    assert [r.ucum for r in unit_readings("G/L")] == ["10*9/L", "g/L"]


def test_milli_iu_per_ml_is_not_milli_iu_per_litre() -> None:
    per_ml, per_l = normalise_unit("mIU/mL"), normalise_unit("mIU/L")
    assert per_ml is not None and per_l is not None and per_ml.ucum != per_l.ucum


# (printed, ucum, repair named in corrections)
OCR_GARBAGE = [
    ("10^3/pL", "10*3/uL", "micro"),
    ("pIU/mL", "u[IU]/mL", "micro"),
    ("jmol/L", "umol/L", "micro"),
    ("ykat/L", "ukat/L", "micro"),
    ("mg/d1", "mg/dL", "'l'"),
    ("mmo1/L", "mmol/L", "'l'"),
    ("fI", "fL", "'l'"),
    ("mg/dI", "mg/dL", "'l'"),
    ("rnmol/L", "mmol/L", "'m'"),
    ("rng/dL", "mg/dL", "'m'"),
    ("103/uL", "10*3/uL", "10^3"),
    ("x109/L", "10*9/L", "10^9"),
    ("1012/L", "10*12/L", "10^12"),
    ("×10^69/L", "10*9/L", "exponent"),
    ("10°3/uL", "10*3/uL", "caret"),
    ("°/o", "%", "'%'"),
    ("mm0l/L", "mmol/L", "'o'"),
    ("rnEq/L", "meq/L", "'m'"),
    ("10^3//uL", "10*3/uL", "'/'"),
    # seen in Tesseract output of the public sample images
    ("cells/%L", "/uL", "micro"),
    ("x10/6/pl", "10*6/uL", "caret"),
    ("x103/pl", "10*3/uL", "micro"),
]


@pytest.mark.parametrize(("printed", "ucum", "reason"), OCR_GARBAGE, ids=[g for g, _, _ in OCR_GARBAGE])
def test_ocr_repairs_are_applied_only_in_ocr_mode_and_recorded(printed: str, ucum: str, reason: str) -> None:
    assert normalise_unit(printed) is None
    info = normalise_unit(printed, ocr=True)
    assert info is not None and info.ucum == ucum
    assert info.corrections and any(reason in c for c in info.corrections)


@pytest.mark.parametrize(
    ("printed", "ucum"), [("10^6/¼L", "10*6/uL"), ("cells/¼L", "/uL"), ("¼mol/L", "umol/L")]
)
def test_broken_micro_glyph_is_repaired_in_both_modes_and_recorded(printed: str, ucum: str) -> None:
    for ocr in (False, True):
        info = normalise_unit(printed, ocr=ocr)
        assert info is not None and info.ucum == ucum and "¼" in info.corrections[0]


def test_literal_units_are_never_repaired() -> None:
    """pmol/L and pg/mL are real units: the p must not become a micro sign."""
    for printed in ("pmol/L", "pg/mL", "pg"):
        info = normalise_unit(printed, ocr=True)
        assert info is not None and info.ucum == printed and info.corrections == ()


NOT_UNITS = [
    "",
    "   ",
    "12.5",
    "4,00 - 9,50",
    "140",
    "H",
    "L",
    "HH",
    "*",
    "Negative",
    "Positive",
    "Hemoglobin",
    "Normal",
    "High-Abnormal",
    "(135-145)",
    "<0.3",
    "Page 1 of 10",
    "14/5/2023",
    "Method",
    "Result",
]


@pytest.mark.parametrize("text", NOT_UNITS, ids=[repr(t) for t in NOT_UNITS])
def test_text_that_is_not_a_unit(text: str) -> None:
    assert normalise_unit(text) is None
    assert normalise_unit(text, ocr=True) is None
    assert not looks_like_unit(text)


@pytest.mark.parametrize(
    "text", ["mg/dL", "%", "fL", "thou/mm3", "x10^69/L", "cells/¼L", "mg/d1", "s", "INR"]
)
def test_looks_like_unit_accepts_units_and_damaged_units(text: str) -> None:
    assert looks_like_unit(text)


def _table_spellings() -> list[tuple[str, str]]:
    with UNITS_PATH.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return [(p, ucum) for ucum, entry in data["units"].items() for p in (ucum, *entry["printed"])]


def test_every_spelling_in_the_table_round_trips() -> None:
    spellings = _table_spellings()
    assert len(spellings) > 200
    wrong = [(p, u) for p, u in spellings if (info := normalise_unit(p)) is None or info.ucum != u]
    assert wrong == []


# Units as printed on the public sample reports (see /work/shared/real-samples/README.md), with the UCUM
# code a careful reader assigns; the last three come from an image with broken glyphs.
REAL_SAMPLE_UNITS = [
    ("x10^3/μl", "10*3/uL"),
    ("x10^6/μl", "10*6/uL"),
    ("g/dl", "g/dL"),
    ("%", "%"),
    ("fl", "fL"),
    ("mmol/L", "mmol/L"),
    ("umol/L", "umol/L"),
    ("g/L", "g/L"),
    ("U/L", "U/L"),
    ("mill/mm3", "10*6/uL"),
    ("thou/mm3", "10*3/uL"),
    ("mg/dL", "mg/dL"),
    ("mEq/L", "meq/L"),
    ("µIU/mL", "u[IU]/mL"),
    ("gm/dL", "g/dL"),
    ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
    ("ng/mL", "ng/mL"),
    ("µg/dL", "ug/dL"),
    ("pg", "pg"),
    ("×10^69/L", "10*9/L"),
    ("10^6/¼L", "10*6/uL"),
    ("cells/¼L", "/uL"),
]


@pytest.mark.parametrize(("printed", "ucum"), REAL_SAMPLE_UNITS, ids=[p for p, _ in REAL_SAMPLE_UNITS])
def test_real_sample_units(printed: str, ucum: str) -> None:
    info = normalise_unit(printed, ocr=True)
    assert info is not None and info.ucum == ucum


FIXTURE_TRUTH = Path(__file__).resolve().parent.parent / "fixtures" / "truth"


@pytest.mark.skipif(not FIXTURE_TRUTH.is_dir(), reason="no fixture truth files")
def test_every_unit_the_fixture_generator_prints_normalises_to_its_truth() -> None:
    """The fixture generator and this table agree on every printed unit (literal UCUM: IU/L -> [IU]/L)."""
    wrong = set()
    for path in FIXTURE_TRUTH.glob("*.truth.json"):
        for row in json.loads(path.read_text(encoding="utf-8"))["results"]:
            if row.get("unit_printed"):
                info = normalise_unit(row["unit_printed"])
                if info is None or info.ucum != row["unit"]:
                    wrong.add((row["unit_printed"], row["unit"], info.ucum if info else None))
    assert wrong == set()


_CASE_FREE = sorted(
    {p for p, _ in _table_spellings() if len(unit_table().folded.get(compact(p)[0].casefold(), ())) == 1}
)


def _perturb(spelling: str) -> st.SearchStrategy[str]:
    """Random ASCII case flips and spaces between characters: neither changes a case-free unit."""

    def build(flips: list[bool], spaces: list[int]) -> str:
        out = []
        for ch, flip, space in zip(spelling, flips, spaces, strict=True):
            out.append((ch.swapcase() if flip and ch in string.ascii_letters else ch) + " " * space)
        return "".join(out)

    n = len(spelling)
    return st.builds(
        build,
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
    )


@given(st.sampled_from(_CASE_FREE).flatmap(lambda p: st.tuples(st.just(p), _perturb(p))))
def test_case_and_space_perturbations_keep_the_unit(pair: tuple[str, str]) -> None:
    original, perturbed = pair
    expected = normalise_unit(original)
    got = normalise_unit(perturbed)
    assert expected is not None and got is not None and got.ucum == expected.ucum


@given(
    st.one_of(
        st.integers(-(10**6), 10**6).map(str),
        st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: f"{f:g}"),
    )
)
def test_numbers_are_not_units(text: str) -> None:
    assert normalise_unit(text) is None and normalise_unit(text, ocr=True) is None
    assert not looks_like_unit(text)


def _write(tmp_path: Path, units: dict[str, object]) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump({"sources": "test", "units": units}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ({"mg/dL": {"dimension": "mass_conc", "printed": ["mg/dl"], "note": "x"}}, "exactly"),
        ({"mg/dL": {"dimension": "weight", "printed": ["mg/dl"]}}, "unknown dimension"),
        (
            {
                "mg/dL": {"dimension": "mass_conc", "printed": ["mg%"]},
                "g/dL": {"dimension": "mass_conc", "printed": ["mg%"]},
            },
            "maps to both",
        ),
        (
            {"mL/min": {"dimension": "volume_rate", "printed": ["mL/min/1", "73m2"]}},
            "does not look like a unit",
        ),
    ],
    ids=["unknown-key", "unknown-dimension", "spelling-in-two-units", "comma-split-fragment"],
)
def test_malformed_unit_tables_fail_at_load(tmp_path: Path, units: dict[str, object], message: str) -> None:
    with pytest.raises(UnitTableError, match=message):
        unit_table(_write(tmp_path, units))


@pytest.mark.parametrize(
    ("printed", "allowed", "ucum"),
    [
        ("x10*°69/L", ("10*3/uL", "10*9/L", "/uL"), "10*9/L"),
        ("x1046/ul", ("10*6/uL", "10*12/L"), "10*6/uL"),
        ("10^6/½/4L", ("10*6/uL", "10*12/L"), "10*6/uL"),
        ("cells//4L", ("10*3/uL", "10*9/L", "/uL"), "/uL"),
    ],
    ids=["caret-and-exponent", "caret-as-4", "broken-micro", "broken-micro-cells"],
)
def test_closest_unit_repairs_damaged_units_within_the_tests_units(
    printed: str, allowed: tuple[str, ...], ucum: str
) -> None:
    from parsers.units import closest_unit

    unit = closest_unit(printed, allowed)
    assert unit is not None and unit.ucum == ucum and unit.corrections


@pytest.mark.parametrize(
    ("printed", "allowed"),
    [("mg/dl", ("10*3/uL", "10*9/L")), ("g/dL", ("g/dL", "g/L")), ("9/dL", ("g/dL",)), ("Negative", ("mg/L",))],
    ids=["known-but-wrong-unit", "already-known", "too-short", "not-a-unit"],
)
def test_closest_unit_leaves_known_short_or_unrelated_text_alone(printed: str, allowed: tuple[str, ...]) -> None:
    from parsers.units import closest_unit

    assert closest_unit(printed, allowed) is None
