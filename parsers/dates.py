"""Read one printed date (and time), and infer a document's numeric date order.

Contract: the whole text must be one date, optionally followed by a time; anything else is None.
Accepted: numeric '14/5/2023', '15.02.2025', '15-02-25', ISO '2025-02-15', '2025-02-15T08:43', month
names in en/es/pt/it/fr/de, full or abbreviated ('15-Feb-2025', '15 de fevereiro de 2025', 'Feb 15,
2025', '15. Februar 2025', '15-FEB-25'), and times '11:03', '11:03:00AM', '8:43 p.m.'.

- A 4-digit first field is year-month-day whatever `order` says.
- Other numeric dates follow `order` (DMY or MDY); without one, a date reads only when its fields force
  one order ('15/02/25' is DMY, '02/15/25' MDY, '04/04/2023' either); an ambiguous one is None. Under
  YMD (a document that prints 4-digit years first) a '15/02/2025' still reads by its fields, but a
  2-digit-year '25/02/15' is None: it could be either.
- Two-digit years: 00-69 are 2000-2069, 70-99 are 1970-1999. Years outside 1900-2099 and impossible
  dates (31/02) are None. Time zones are not accepted (a lab report prints local times).
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from collections.abc import Iterable

from parsers.types import DateOrder

logger = logging.getLogger(__name__)

_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("jan", "january", "ene", "enero", "janeiro", "gen", "gennaio", "janv", "janvier", "januar", "janner",
     "jänner"),
    ("feb", "february", "febrero", "fev", "fevereiro", "febbraio", "fevr", "fevrier", "févr", "février",
     "februar", "feber"),
    ("mar", "march", "marzo", "marco", "março", "mars", "mär", "marz", "märz", "maerz", "mrz"),
    ("apr", "april", "abr", "abril", "aprile", "avr", "avril"),
    ("may", "mayo", "mai", "maio", "mag", "maggio"),
    ("jun", "june", "junio", "junho", "giu", "giugno", "juin", "juni"),
    ("jul", "july", "julio", "julho", "lug", "luglio", "juil", "juillet", "juli"),
    ("aug", "august", "ago", "agosto", "aou", "aout", "août"),
    ("sep", "sept", "september", "septiembre", "setiembre", "set", "setembro", "settembre", "septembre"),
    ("oct", "october", "octubre", "out", "outubro", "ott", "ottobre", "octobre", "okt", "oktober"),
    ("nov", "november", "noviembre", "novembro", "novembre"),
    ("dec", "december", "dic", "diciembre", "dez", "dezembro", "dicembre", "dezember", "déc", "décembre",
     "decembre"),
)  # fmt: skip


def _fold(text: str) -> str:
    """Casefold and drop accents: the key for month names."""
    key = text.casefold()
    if key.isascii():
        return key
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


_MONTHS = {_fold(name): i for i, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_MONTH_ALTERNATION = "|".join(sorted({n for names in _MONTH_NAMES for n in names}, key=len, reverse=True))
_MONTH = rf"(?P<mon>{_MONTH_ALTERNATION})\.?"
_TIME = (
    r"(?:(?:T|\s*,?\s+(?:(?:at|um|à|às|alle|ore|a las|@|-)\s+)?)(?P<hh>[0-9]{1,2})[:h.](?P<mi>[0-9]{2})"
    r"(?::(?P<ss>[0-9]{2})(?:\.[0-9]{1,6})?)?\s*(?P<ampm>[ap]\.?\s?m\.?)?(?:\s*(?:h|hrs|uhr))?)?"
)
_YEAR = r"(?P<y>[0-9]{4}|'?[0-9]{2})"
_ORDINAL = r"(?:st|nd|rd|th|er|º|°|o)?"
_PATTERNS = tuple(
    re.compile(p + _TIME, re.IGNORECASE)
    for p in (
        r"(?P<a>[0-9]{1,4})(?P<sep>[/.\-])(?P<b>[0-9]{1,2})(?P=sep)(?P<c>[0-9]{1,4})",
        rf"(?P<d>[0-9]{{1,2}}){_ORDINAL}\.?(?:\s*[-/.\s]\s*|\s+de\s+){_MONTH}(?:\s*[-/.,\s]\s*|\s+de\s+){_YEAR}",
        rf"{_MONTH}\s*[-/\s]\s*(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:\s*,\s*|\s+){_YEAR}",
        rf"(?P<y>[0-9]{{4}})\s*[-/.\s]\s*{_MONTH}\s*[-/.\s]\s*(?P<d>[0-9]{{1,2}})",
    )
)
_NUMERIC_DATE_RE = re.compile(
    r"(?<![0-9/.\-])([0-9]{1,4})([/.\-])([0-9]{1,2})\2([0-9]{2,4})(?![0-9]|[/.\-][0-9])"
)


def _year(text: str) -> int:
    """A printed year; two digits pivot at 70 (00-69 are 2000s)."""
    y = int(text.lstrip("'"))
    if len(text.lstrip("'")) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _make_date(y: int, m: int, d: int) -> datetime.date | None:
    """A valid date in 1900-2099, else None."""
    if not 1900 <= y <= 2099:
        return None
    try:
        return datetime.date(y, m, d)
    except ValueError:
        return None


def _numeric(a: str, b: str, c: str, order: DateOrder | None) -> datetime.date | None:
    """A numeric date from its three fields, using `order` only where the fields allow two readings."""
    if len(a) == 4:
        return _make_date(int(a), int(b), int(c)) if len(c) <= 2 else None
    if len(a) == 3:
        return None
    x, yy, z = int(a), int(b), c
    if len(z) not in (2, 4) or (order is DateOrder.YMD and len(z) == 2):
        return None  # under YMD, '25/02/15' could be 2025-02-15 or 25 Feb 2015
    if order is DateOrder.DMY:
        return _make_date(_year(z), yy, x)
    if order is DateOrder.MDY:
        return _make_date(_year(z), x, yy)
    if x == yy or (x > 12 and yy <= 12):
        return _make_date(_year(z), yy, x)
    if yy > 12 and x <= 12:
        return _make_date(_year(z), x, yy)
    return None


def _time(m: re.Match[str]) -> tuple[bool, datetime.time | None]:
    """(valid, time) for the time printed after a date; (True, None) when there is none."""
    hh = m.group("hh")
    if hh is None:
        return True, None
    h, mi, ss = int(hh), int(m.group("mi")), int(m.group("ss") or 0)
    ampm = m.group("ampm")
    if ampm:
        if not 1 <= h <= 12:
            return False, None
        h = h % 12 + (12 if ampm[0] in "pP" else 0)
    if h > 23 or mi > 59 or ss > 59:
        return False, None
    return True, datetime.time(h, mi, ss)


def parse_datetime(
    text: str, order: DateOrder | None = None
) -> tuple[datetime.date, datetime.time | None] | None:
    """Read a printed date with an optional time; None when the text is not exactly that."""
    s = " ".join(text.split())
    if not s or not s[0].isalnum():
        return None
    for i, pattern in enumerate(_PATTERNS):
        m = pattern.fullmatch(s)
        if m is None:
            continue
        if i == 0:
            date = _numeric(m.group("a"), m.group("b"), m.group("c"), order)
        else:
            month = _MONTHS.get(_fold(m.group("mon")))
            year = _year(m.group("y"))
            date = _make_date(year, month, int(m.group("d"))) if month else None
        valid, time = _time(m)
        return (date, time) if date is not None and valid else None
    return None


def parse_date(text: str, order: DateOrder | None = None) -> datetime.date | None:
    """Read a printed date (a trailing time is allowed and ignored); None when the text is not one."""
    parsed = parse_datetime(text, order)
    return parsed[0] if parsed else None


def infer_date_order(texts: Iterable[str], *, default: DateOrder | None = None) -> DateOrder | None:
    """The numeric date order a document uses, from dates whose fields force one; None on conflict.

    A first field above 12 votes DMY, a second above 12 votes MDY, a 4-digit first field votes YMD.
    YMD dates read the same under any order, so they decide only when no DMY/MDY vote exists.
    """
    votes: set[DateOrder] = set()
    for text in texts:
        for a, _sep, b, c in _NUMERIC_DATE_RE.findall(text):
            if len(a) == 4:
                if len(c) <= 2 and _make_date(int(a), int(b), int(c)):
                    votes.add(DateOrder.YMD)
                continue
            if len(a) == 3 or len(c) == 3:
                continue
            x, y = int(a), int(b)
            if x > 12 and y <= 12 and _make_date(_year(c), y, x):
                votes.add(DateOrder.DMY)
            elif y > 12 and x <= 12 and _make_date(_year(c), x, y):
                votes.add(DateOrder.MDY)
    day_month = votes - {DateOrder.YMD}
    logger.debug("date order votes: %s", sorted(v.value for v in votes))
    if len(day_month) > 1:
        return None
    if day_month:
        return day_month.pop()
    return DateOrder.YMD if votes else default
