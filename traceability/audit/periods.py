"""Audit periods: quarters (``2026Q3``) and months (``2026-09``), in China time.

Plants and regulators keep their books by the calendar in China (UTC+8, no
daylight saving), so a quarter opens and closes at midnight there.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from traceability.errors import ValidationFailed

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in China time; ``name`` is how it was written."""

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


def parse_period(raw: str, *, field: str = "period") -> Period:
    """``YYYYQn`` or ``YYYY-MM``; anything else is a 422 naming ``field``."""
    text = raw.strip().upper()
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        first = 3 * quarter - 2
        return Period(text, _first_of(year, first), _first_of(year, first + 3))
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        return Period(text, _first_of(year, month), _first_of(year, month + 1))
    raise ValidationFailed(
        f"period must be a quarter like 2026Q3 or a month like 2026-09, not {raw[:40]!r}",
        field=field,
    )


def quarter_of(when: dt.datetime) -> Period:
    local = when.astimezone(CHINA)
    return parse_period(f"{local.year}Q{(local.month - 1) // 3 + 1}")


def last_closed_quarter(now: dt.datetime) -> Period:
    current = quarter_of(now)
    return quarter_of(current.start - dt.timedelta(days=1))
