"""parsers.dates: printed dates and times in several languages, and a document's numeric date order."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.dates import infer_date_order, parse_date, parse_datetime
from parsers.types import DateOrder

D = datetime.date
T = datetime.time
DMY, MDY, YMD = DateOrder.DMY, DateOrder.MDY, DateOrder.YMD

# text, order, date, time
DATES: list[tuple[str, DateOrder | None, datetime.date, datetime.time | None]] = [
    ("14/5/2023", None, D(2023, 5, 14), None),
    ("14/5/2023 11:03:00AM", None, D(2023, 5, 14), T(11, 3)),
    ("14/5/2023 11:03:00 PM", None, D(2023, 5, 14), T(23, 3)),
    ("14/5/2023 12:03 a.m.", None, D(2023, 5, 14), T(0, 3)),
    ("15/02/25", None, D(2025, 2, 15), None),
    ("8/02/26", DMY, D(2026, 2, 8), None),
    ("8/02/26", MDY, D(2026, 8, 2), None),
    ("04/05/2023", DMY, D(2023, 5, 4), None),
    ("04/05/2023", MDY, D(2023, 4, 5), None),
    ("04/04/2023", None, D(2023, 4, 4), None),
    ("29/02/2024", None, D(2024, 2, 29), None),
    ("02/15/2025", None, D(2025, 2, 15), None),
    ("15/02/2025", YMD, D(2025, 2, 15), None),
    ("2025-02-15", None, D(2025, 2, 15), None),
    ("2025-02-15", DMY, D(2025, 2, 15), None),
    ("2025/2/5", MDY, D(2025, 2, 5), None),
    ("2025-02-15T08:43", None, D(2025, 2, 15), T(8, 43)),
    ("2025-02-15 08:43:12", None, D(2025, 2, 15), T(8, 43, 12)),
    ("15.02.2025", None, D(2025, 2, 15), None),
    ("15.02.2025 14:30 Uhr", None, D(2025, 2, 15), T(14, 30)),
    ("15/02/2025 14h30", None, D(2025, 2, 15), T(14, 30)),
    ("15/02/2025, 08:43", None, D(2025, 2, 15), T(8, 43)),
    ("15-02-70", DMY, D(1970, 2, 15), None),
    ("15-02-69", DMY, D(2069, 2, 15), None),
    ("15-Feb-2025", None, D(2025, 2, 15), None),
    ("15 Feb 2025", None, D(2025, 2, 15), None),
    ("15 Feb. 2025", None, D(2025, 2, 15), None),
    ("15th Feb 2025", None, D(2025, 2, 15), None),
    ("Feb 15, 2025", None, D(2025, 2, 15), None),
    ("Feb. 15th, 2025", None, D(2025, 2, 15), None),
    ("February 15 2025", None, D(2025, 2, 15), None),
    ("15-FEB-25", None, D(2025, 2, 15), None),
    ("15/Feb/2025 10:15", None, D(2025, 2, 15), T(10, 15)),
    ("2025-Feb-15", None, D(2025, 2, 15), None),
    ("15 febrero 2025", None, D(2025, 2, 15), None),
    ("15 de febrero de 2025", None, D(2025, 2, 15), None),
    ("15 de fevereiro de 2025", None, D(2025, 2, 15), None),
    ("15 febbraio 2025", None, D(2025, 2, 15), None),
    ("15 février 2025", None, D(2025, 2, 15), None),
    ("1er mars 2025", None, D(2025, 3, 1), None),
    ("15. Februar 2025", None, D(2025, 2, 15), None),
    ("3 ene 2024", None, D(2024, 1, 3), None),
    ("3 fev 2024", None, D(2024, 2, 3), None),
    ("3 gen 2024", None, D(2024, 1, 3), None),
    ("3 févr. 2024", None, D(2024, 2, 3), None),
    ("3. Mär 2024", None, D(2024, 3, 3), None),
    ("3. März 2024", None, D(2024, 3, 3), None),
    ("3 mai 2024", None, D(2024, 5, 3), None),
    ("3 ago 2024", None, D(2024, 8, 3), None),
    ("3 set 2024", None, D(2024, 9, 3), None),
    ("3 out 2024", None, D(2024, 10, 3), None),
    ("3 dic 2024", None, D(2024, 12, 3), None),
    ("3 dez 2024", None, D(2024, 12, 3), None),
    ("3 août 2024", None, D(2024, 8, 3), None),
    ("3 déc. 2024", None, D(2024, 12, 3), None),
    ("3 Jänner 2024", None, D(2024, 1, 3), None),
]


@pytest.mark.parametrize(
    ("text", "order", "date", "time"), DATES, ids=[f"{t!r}-{o.name if o else None}" for t, o, *_ in DATES]
)
def test_dates(
    text: str, order: DateOrder | None, date: datetime.date, time: datetime.time | None
) -> None:
    assert parse_datetime(text, order) == (date, time)
    assert parse_date(text, order) == date


NOT_DATES: list[tuple[str, DateOrder | None]] = [
    ("8/02/26", None), ("04/05/2023", None), ("31/02/2023", DMY), ("29/02/2023", DMY),
    ("14/5/2023", MDY), ("25/02/15", YMD), ("04/05/2023", YMD),
    ("12:30", None), ("2025-02-15T08:43:00Z", None), ("8/02/26 13:05 PM", DMY),
    ("15/02/2025 25:00", None), ("Feb 2025", None), ("1.2.3", None), ("15/02/1899", None),
    ("Collected: 15/02/2025", None), ("15/02/2025 extra", None), ("15-02", None), ("15.00", None),
    ("2025", None), ("", None), ("Hemoglobin", None), ("32 Feb 2025", None), ("15 Foo 2025", None),
    ("15/02/202", None), ("2025-13-01", None), ("15/02-2025", None), ("115/02/2025", None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "order"), NOT_DATES, ids=[f"{t!r}-{o}" for t, o in NOT_DATES])
def test_not_dates(text: str, order: DateOrder | None) -> None:
    assert parse_datetime(text, order) is None
    assert parse_date(text, order) is None


ORDERS: list[tuple[list[str], DateOrder | None, DateOrder | None]] = [
    (["Collected: 15/02/25", "Reported: 8/02/26"], None, DMY),
    (["02/15/2025 10:00"], None, MDY),
    (["2025-02-15"], None, YMD),
    (["2025-02-15", "15/02/2025"], None, DMY),
    (["15/02/2025", "02/15/2025"], DMY, None),
    (["no dates here", "04/05/2023"], DMY, DMY),
    ([], MDY, MDY),
    (["192.168.1.1", "v1.2.3", "12.5 - 15.2"], None, None),
    (["15.02.2025"], None, DMY),
    (["31/02/2025"], None, None),
]


@pytest.mark.parametrize(
    ("texts", "default", "expected"), ORDERS, ids=[" | ".join(t) or "empty" for t, *_ in ORDERS]
)
def test_infer_date_order(texts: list[str], default: DateOrder | None, expected: DateOrder | None) -> None:
    assert infer_date_order(texts, default=default) is expected


# ------------------------------------------------------------------------------------------------
# Properties

_dates = st.dates(min_value=D(1970, 1, 1), max_value=D(2069, 12, 31))
_MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
           "outubro", "novembro", "dezembro"],
    "it": ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
}  # fmt: skip


def _numeric(d: datetime.date, order: DateOrder, sep: str, pad: bool, year_digits: int) -> str:
    """A date printed numerically in `order`."""
    day, month = (f"{d.day:02d}", f"{d.month:02d}") if pad else (str(d.day), str(d.month))
    year = f"{d.year}" if year_digits == 4 else f"{d.year % 100:02d}"
    if order is DMY:
        return sep.join((day, month, year))
    if order is MDY:
        return sep.join((month, day, year))
    return sep.join((f"{d.year}", month, day))


@given(
    d=_dates,
    order=st.sampled_from([DMY, MDY, YMD]),
    sep=st.sampled_from(["/", ".", "-"]),
    pad=st.booleans(),
    year_digits=st.sampled_from([2, 4]),
    time=st.one_of(st.none(), st.times().map(lambda t: t.replace(microsecond=0))),
)
def test_numeric_dates_parse_back_given_the_order(
    d: datetime.date, order: DateOrder, sep: str, pad: bool, year_digits: int, time: datetime.time | None
) -> None:
    text = _numeric(d, order, sep, pad, year_digits)
    if time is not None:
        text += f" {time:%H:%M:%S}"
    assert parse_datetime(text, order) == (d, time)


@given(d=_dates, lang=st.sampled_from(sorted(_MONTHS)), layout=st.integers(min_value=0, max_value=3))
def test_month_name_dates_parse_back(d: datetime.date, lang: str, layout: int) -> None:
    month = _MONTHS[lang][d.month - 1]
    text = [
        f"{d.day} {month} {d.year}",
        f"{d.day:02d}-{month.upper()}-{d.year % 100:02d}",
        f"{month} {d.day}, {d.year}",
        f"{d.day} de {month} de {d.year}",
    ][layout]
    assert parse_date(text) == d


@given(
    dates=st.lists(_dates, min_size=1, max_size=5),
    order=st.sampled_from([DMY, MDY]),
    sep=st.sampled_from(["/", ".", "-"]),
)
def test_infer_date_order_recovers_the_order(dates: list[datetime.date], order: DateOrder, sep: str) -> None:
    texts = [f"Collected {_numeric(d, order, sep, True, 4)}" for d in dates]
    told = any(d.day > 12 for d in dates)
    inferred = infer_date_order(texts)
    if told:
        assert inferred is order
        assert all(parse_date(_numeric(d, order, sep, True, 4), inferred) == d for d in dates)
    else:
        assert inferred is None
