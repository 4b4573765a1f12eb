"""Timelines: one unit per analyte, each point with its own range, comparability caveats and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.interpret import interpret
from pipeline.interpret.models import Observation
from pipeline.interpret.timeline import build_timeline, build_timelines, latest_segment
from pipeline.interpret.units import convert, to_canonical


def o(
    analyte: str,
    value: float | None,
    unit: str | None,
    day: int,
    lab: str | None = "Lab A",
    low: float | None = None,
    high: float | None = None,
    text: str | None = None,
    comparator: str | None = None,
    method: str | None = None,
) -> Observation:
    return Observation.model_validate(
        {
            "analyte": analyte,
            "value": value,
            "value_text": text or str(value),
            "unit": unit,
            "ref_low": low,
            "ref_high": high,
            "collected_at": dt.date(2024, 1, 1) + dt.timedelta(days=day),
            "report_id": f"r{day}",
            "lab": lab,
            "comparator": comparator,
            "lab_method": method,
        }
    )


def test_bilirubin_umol_is_converted_with_its_own_range() -> None:
    """Lab B prints 34.2 umol/L (3.4-20.5): 34.2 / 17.1 = 2.0 mg/dL, range 0.2-1.2 mg/dL (rounded)."""
    t = build_timeline(
        "bilirubin_total",
        [
            o("bilirubin_total", 1.0, "mg/dL", 0, low=0.2, high=1.2),
            o("bilirubin_total", 34.2, "umol/L", 30, lab="Lab B", low=3.4, high=20.5),
        ],
    )
    assert t.unit == "mg/dL"
    p = t.points[1]
    assert p.value == pytest.approx(2.0)
    assert p.ref_high == pytest.approx(20.5 / 17.1) and p.ref_low == pytest.approx(3.4 / 17.1)
    assert (p.original_value, p.original_unit) == (34.2, "umol/L")
    assert p.range_status == "above" and p.uln_multiple == pytest.approx(34.2 / 20.5)
    kinds = {(n.kind, n.action) for n in t.notes}
    assert ("unit_converted", "note") in kinds and ("lab_changed", "caveat") in kinds
    assert len({p.segment for p in t.points}) == 1


def test_enzyme_in_ukat_is_sixty_u_per_l() -> None:
    t = build_timeline("alt", [o("alt", 0.5, "ukat/L", 0, high=0.75)])
    assert t.points[0].value == pytest.approx(30.0) and t.points[0].ref_high == pytest.approx(45.0)


def test_unconvertible_unit_is_kept_but_refused() -> None:
    t = build_timeline("alt", [o("alt", 30.0, "U/L", 0), o("alt", 48, "mg/dL", 30)])
    assert [p.value for p in t.points] == [30.0, None]
    assert t.points[1].original_value == 48
    assert any(n.kind == "unit_not_convertible" and n.action == "refuse" for n in t.notes)


def test_hba1c_ifcc_converts_with_the_ngsp_master_equation_and_its_source() -> None:
    """NGSP % = 0.09148 x IFCC mmol/mol + 2.152 (NGSP; Hoelzel 2004): 48 -> 6.543 %, range 20-42 -> 3.98-5.99."""
    t = build_timeline(
        "hba1c", [o("hba1c", 6.0, "%", 0), o("hba1c", 48, "mmol/mol", 30, low=20, high=42)]
    )
    p = t.points[1]
    assert p.value == pytest.approx(0.09148 * 48 + 2.152)
    assert p.ref_low == pytest.approx(0.09148 * 20 + 2.152) and p.ref_high == pytest.approx(0.09148 * 42 + 2.152)
    assert (p.factor, p.offset) == (0.09148, 2.152) and p.converted
    assert {pt.segment for pt in t.points} == {0}
    note = next(n for n in t.notes if n.kind == "unit_converted")
    assert note.action == "caveat" and "Hoelzel" in note.detail and "ngsp.org" in note.detail
    assert convert("hba1c", 6.543, "%", "mmol/mol") == pytest.approx((6.543 - 2.152) / 0.09148)
    cited = interpret([o("hba1c", 6.0, "%", 0), o("hba1c", 48, "mmol/mol", 30)]).sources
    assert any("Hoelzel" in c for c in cited)


def test_a_missing_lab_name_gives_a_caveat_and_blocks_nothing_else() -> None:
    """Either side's lab unknown: comparability cannot be confirmed (caveat); very different ranges refuse."""
    t = build_timeline(
        "alt",
        [
            o("alt", 30, "U/L", 0, high=40),
            o("alt", 32, "U/L", 30, lab=None, high=41),
            o("alt", 90, "U/L", 60, lab=None, high=120),
        ],
    )
    unknown = [n for n in t.notes if n.kind == "lab_unknown"]
    assert [n.action for n in unknown] == ["caveat", "caveat"]
    assert "one of the two reports" in unknown[0].detail and "either report" in unknown[1].detail
    assert "cannot be confirmed" in unknown[0].detail
    assert [p.segment for p in t.points] == [0, 0, 1]  # ULN 41 -> 120 with no lab name known: not compared


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [
        ("alt", 500, "nkat/L", 30.0),
        ("alt", 30, "IU/L", 30.0),
        ("bilirubin_total", 12, "mg/L", 1.2),
        ("sodium", 140, "mEq/L", 140.0),
    ],
    ids=["nkat-from-knowledge-base", "IU-alias", "mg-per-L-from-knowledge-base", "mEq-alias"],
)
def test_units_from_the_knowledge_base_and_aliases(
    analyte: str, value: float, unit: str, expected: float
) -> None:
    """500 nkat/L = 0.5 ukat/L = 30 U/L; 12 mg/L = 1.2 mg/dL."""
    t = build_timeline(analyte, [o(analyte, value, unit, 0)])
    assert t.points[0].value == pytest.approx(expected)


def test_very_different_ranges_across_labs_start_a_new_segment() -> None:
    """ALP ULN 120 U/L (37 C) then 300 U/L at another lab: ratio 2.5 >= 1.5, raw values are not compared."""
    t = build_timeline(
        "alp",
        [
            o("alp", 100, "U/L", 0, high=120),
            o("alp", 110, "U/L", 30, high=120),
            o("alp", 250, "U/L", 60, lab="Lab C", high=300),
        ],
    )
    assert [p.segment for p in t.points] == [0, 0, 1]
    assert any(n.kind == "range_changed" and n.action == "refuse" for n in t.notes)
    assert [p.value for p in latest_segment(t)] == [250]


def test_same_lab_range_change_is_only_a_caveat() -> None:
    t = build_timeline("alt", [o("alt", 30, "U/L", 0, high=40), o("alt", 32, "U/L", 30, high=33)])
    assert {p.segment for p in t.points} == {0}
    assert any(n.kind == "range_changed" and n.action == "caveat" for n in t.notes)


def test_method_change_and_censored_values() -> None:
    t = build_timeline(
        "creatinine",
        [
            o("creatinine", 1.0, "mg/dL", 0, method="Jaffe"),
            o("creatinine", 0.9, "mg/dL", 30, method="enzymatic"),
            o("creatinine", 0.3, "mg/dL", 60, text="<0.3", comparator="<"),
        ],
    )
    assert any(n.kind == "method_changed" for n in t.notes)
    assert t.points[2].value is None and t.points[2].comparator == "<"
    assert any(n.kind == "censored_value" for n in t.notes)


def test_points_are_sorted_by_draw_and_inr_may_have_no_unit() -> None:
    t = build_timeline("inr", [o("inr", 1.3, None, 30), o("inr", 1.0, "{INR}", 0)])
    assert [p.value for p in t.points] == [1.0, 1.3]


def test_unit_missing_for_a_unit_bearing_analyte_is_refused() -> None:
    t = build_timeline("alt", [o("alt", 30, None, 0)])
    assert t.points[0].value is None and t.notes[0].kind == "unit_unknown"


def test_unknown_analyte_is_compared_in_its_own_printed_unit() -> None:
    t = build_timeline("vitamin_d", [o("vitamin_d", 20, "ng/mL", 0), o("vitamin_d", 50, "nmol/L", 30)])
    assert t.unit == "nmol/L"
    assert [p.value for p in t.points] == [None, 50]


def test_flag_decides_range_status_when_no_range_is_printed() -> None:
    obs = o("alt", 80, "U/L", 0).model_copy(update={"flag": "H"})
    t = build_timeline("alt", [obs])
    assert t.points[0].range_status == "above"
    assert any(n.kind == "range_missing" for n in t.notes)


def test_build_timelines_groups_by_analyte() -> None:
    ts = build_timelines([o("alt", 30, "U/L", 0), o("ast", 25, "U/L", 0), o("alt", 31, "U/L", 30)])
    assert [(t.analyte, len(t.points)) for t in ts] == [("alt", 2), ("ast", 1)]


@settings(max_examples=100, deadline=None)
@given(mg=st.floats(0.1, 40), analyte=st.sampled_from(["bilirubin_total", "creatinine"]))
def test_si_round_trip(mg: float, analyte: str) -> None:
    si = convert(analyte, mg, "mg/dL", "umol/L")
    assert si is not None
    back = to_canonical(analyte, si, "umol/L")
    assert back == pytest.approx(mg, rel=1e-12)


def test_an_offset_conversion_without_a_confirmed_source_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.interpret import units

    monkeypatch.setattr(units, "AFFINE_SOURCES", {})
    t = build_timeline("hba1c", [o("hba1c", 6.0, "%", 0), o("hba1c", 48, "mmol/mol", 30)])
    assert [p.value for p in t.points] == [6.0, None]
    assert any(n.action == "refuse" and units.UNSOURCED_AFFINE in n.detail for n in t.notes)


def test_points_and_evidence_carry_their_printed_name_unit_and_page() -> None:
    """Provenance travels with the values, so renderers never look them up again in the documents."""
    from pipeline.interpret.change import evidence

    obs = o("bilirubin_total", 34.2, "umol/L", 0, low=3.4, high=20.5).model_copy(
        update={"name": "S. Bilirubin (Total)", "unit_printed": "µmol/L", "page": 2, "ref_text": "3.4 - 20.5"}
    )
    t = build_timeline("bilirubin_total", [obs])
    p = t.points[0]
    assert (p.name, p.unit_printed, p.page, p.original_unit) == ("S. Bilirubin (Total)", "µmol/L", 2, "umol/L")
    e = evidence(t, p)
    assert (e.page, e.unit_printed, e.ref_text, e.value_text) == (2, "µmol/L", "3.4 - 20.5", "34.2")
    assert e.unit == "mg/dL" and e.ref_low == pytest.approx(3.4 / 17.1)
    assert t.label == "Bilirubin, total"  # the knowledge base's name, not the printed one


def test_an_analyte_unknown_to_the_knowledge_base_is_labelled_with_its_printed_name() -> None:
    obs = o("vitamin_d", 20, "ng/mL", 0).model_copy(update={"name": "25-OH Vitamin D"})
    assert build_timeline("vitamin_d", [obs]).label == "25-OH Vitamin D"
