"""Report-level cues: date order from the report's own dates, then from its locale; nothing when nothing decides."""

from __future__ import annotations

import datetime as dt

from parsers.types import DateOrder
from pipeline.context import ReportContext, resolve_dates
from pipeline.headers import read_header_fields
from pipeline.layout import group_lines
from pipeline.models import Issue
from tests.words import page_from_text


def read(text: str) -> tuple[ReportContext, list[Issue], dict[str, str | None]]:
    ctx = ReportContext()
    lines = group_lines(page_from_text(text))
    ctx.add_page(lines, read_header_fields(lines))
    issues: list[Issue] = []
    dates = resolve_dates(ctx, issues, dt.date(2026, 11, 21))
    return ctx, issues, {"collected": dates.collected_at, "reported": dates.reported_at}


def test_a_day_over_twelve_decides() -> None:
    ctx, issues, dates = read("Collected: 03/04/2025   Reported: 15/04/2025")
    assert ctx.order is DateOrder.DMY and dates == {"collected": "2025-04-03", "reported": "2025-04-15"}
    assert not issues


def test_turnaround_decides_when_every_date_is_ambiguous() -> None:
    ctx, _, dates = read("Collected On: 8/02/26\nReported On: 10/02/26")
    assert ctx.order is DateOrder.DMY and dates["collected"] == "2026-02-08"


def test_us_locale_decides_and_says_so() -> None:
    ctx, issues, dates = read("Main Lab, Tacoma, WA 98402  (253) 555-0199\nCollected: 03/04/2025")
    assert ctx.order is DateOrder.MDY and dates["collected"] == "2025-03-04"
    assert [i.code for i in issues] == ["date_order_assumed"]


def test_si_locale_decides_day_first() -> None:
    ctx, _, dates = read("Collected: 03/04/2025\nSodium 140 mmol/L (135-145)")
    assert ctx.order is DateOrder.DMY and dates["collected"] == "2025-04-03"


def test_nothing_decides_and_the_date_is_left_out() -> None:
    ctx, issues, dates = read("Collected: 03/04/2025")
    assert ctx.order is None and dates["collected"] is None
    assert [i.code for i in issues] == ["unreadable_date"]


def test_future_date_is_refused() -> None:
    _, issues, dates = read("Collected: 2031-01-05")
    assert dates["collected"] is None and [i.code for i in issues] == ["future_date"]
