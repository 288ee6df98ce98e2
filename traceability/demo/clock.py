"""Time in the demo quarter: China time, working days, stamps to the second."""

from __future__ import annotations

import datetime as dt

from traceability.demo.figures import Quarter

CST = dt.timezone(dt.timedelta(hours=8), "CST")


def working_days(quarter: Quarter) -> list[dt.date]:
    day, days = quarter.first_day, []
    while day <= quarter.last_day:
        if day.weekday() < 5 and day not in quarter.holidays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def at(day: dt.date, minutes: float) -> dt.datetime:
    """``minutes`` after midnight of ``day``, China time, to the second."""
    return dt.datetime.combine(day, dt.time(), CST) + dt.timedelta(seconds=int(minutes * 60))


def stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")
