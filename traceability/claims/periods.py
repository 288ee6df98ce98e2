"""Claim periods (quarters) and dates as the fund counts them: Beijing time (UTC+8)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from traceability.errors import ValidationFailed

#: China Standard Time; China has no daylight saving, so a fixed offset is exact.
BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")

_PERIOD = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Period:
    """A calendar quarter in Beijing time: ``start`` ≤ t < ``end`` (both aware)."""

    name: str
    start: dt.datetime
    end: dt.datetime

    def contains(self, when: dt.datetime) -> bool:
        return self.start <= when < self.end


def parse_period(text: object, field: str = "period") -> Period:
    """``"2026Q3"`` → the quarter; anything else is a ValidationFailed naming ``field``."""
    found = _PERIOD.match(text.strip().upper()) if isinstance(text, str) else None
    if found is None:
        raise ValidationFailed("period must be a quarter such as 2026Q3", field=field)
    year, quarter = int(found[1]), int(found[2])
    if not 2012 <= year <= 2099:
        raise ValidationFailed("period must be a quarter between 2012 and 2099", field=field)
    first_month = 3 * (quarter - 1) + 1
    start = dt.datetime(year, first_month, 1, tzinfo=BEIJING)
    end = (
        dt.datetime(year + 1, 1, 1, tzinfo=BEIJING)
        if quarter == 4
        else dt.datetime(year, first_month + 3, 1, tzinfo=BEIJING)
    )
    return Period(f"{year}Q{quarter}", start, end)


def beijing_date(when: dt.datetime) -> dt.date:
    """The calendar date in Beijing of an aware instant (rates follow this date)."""
    return when.astimezone(BEIJING).date()


def beijing_text(when: dt.datetime) -> str:
    """``2026-07-01 09:30:00`` in Beijing time, as a finance office reads it."""
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
