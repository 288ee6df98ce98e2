"""Reporting periods and dates in China time (UTC+8, no daylight saving).

Plants, the fund and regulators keep their books by the calendar in China, so
a quarter opens and closes at midnight there, and a device's dismantling date
(which decides its subsidy rate) is its date in Beijing. Claims are per
quarter (``2026Q3``); the audit also looks at months (``2026-09``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from traceability.errors import ValidationFailed

#: China Standard Time; China has no daylight saving, so a fixed offset is exact.
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR, LAST_YEAR = 2012, 2099  # the fund's first year; nothing is planned past 2099


@dataclass(frozen=True)
class Period:
    """``start`` ≤ t < ``end`` in China time (both aware); ``name`` as it is written."""

    name: str
    start: dt.datetime
    end: dt.datetime

    def contains(self, when: dt.datetime) -> bool:
        return self.start <= when < self.end

    def closed(self, now: dt.datetime) -> bool:
        return now >= self.end


def _first_of(year: int, month: int) -> dt.datetime:
    if month > 12:
        year, month = year + 1, month - 12
    return dt.datetime(year, month, 1, tzinfo=CHINA)


def parse_period(raw: object, *, field: str = "period", months: bool = True) -> Period:
    """``YYYYQn`` (or, with ``months``, ``YYYY-MM``); anything else is a 422 naming ``field``."""
    wanted = (
        "a quarter like 2026Q3 or a month like 2026-09" if months else "a quarter such as 2026Q3"
    )
    text = raw.strip().upper() if isinstance(raw, str) else ""
    quarter, month = _QUARTER.match(text), _MONTH.match(text) if months else None
    found = quarter or month
    if found is None:
        shown = f", not {raw[:40]!r}" if isinstance(raw, str) else ""
        raise ValidationFailed(f"period must be {wanted}{shown}", field=field)
    year = int(found[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(f"period must be between {FIRST_YEAR} and {LAST_YEAR}", field=field)
    if quarter:
        first = 3 * int(quarter[2]) - 2
        return Period(f"{year}Q{quarter[2]}", _first_of(year, first), _first_of(year, first + 3))
    number = int(found[2])
    return Period(text, _first_of(year, number), _first_of(year, number + 1))


def quarter_of(when: dt.datetime) -> Period:
    local = when.astimezone(CHINA)
    return _quarter(local.year, (local.month - 1) // 3 + 1)


@cache
def _quarter(year: int, quarter: int) -> Period:
    """A quarter's period, made once (the audit asks it for every device it replays)."""
    return parse_period(f"{year}Q{quarter}")


def last_closed_quarter(now: dt.datetime) -> Period:
    current = quarter_of(now)
    return quarter_of(current.start - dt.timedelta(days=1))


def beijing_date(when: dt.datetime) -> dt.date:
    """The calendar date in Beijing of an aware instant (rates follow this date)."""
    return when.astimezone(CHINA).date()


def beijing_text(when: dt.datetime) -> str:
    """``2026-07-01 09:30:00`` in Beijing time, as a finance office reads it."""
    return when.astimezone(CHINA).isoformat(sep=" ", timespec="seconds")[:19]


def beijing_wall_clock(when: dt.datetime) -> dt.datetime:
    """The Beijing wall-clock time of an aware instant, without a zone: what a spreadsheet's
    date cell holds (a cell has no zone; its column header says Beijing time)."""
    return when.astimezone(CHINA).replace(tzinfo=None)
