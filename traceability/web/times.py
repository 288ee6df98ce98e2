"""Times as people read them on every page: Beijing time, saying so (SPEC §2.9).

Storage and the API keep UTC; a template turns a timestamp into what a
person reads with the one ``china_time`` filter registered here.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask

from traceability.periods import CHINA

#: What every time a person reads says it is.
ZONE = "(UTC+8)"


def china_time(value: str | dt.datetime | None, date_only: bool = False) -> str:
    """A UTC timestamp (ISO text or a datetime) in China time, to the minute or the day.

    A missing time (a malformed event row's unreadable one) reads as a dash;
    text that is no timestamp is shown as it is, never hidden.
    """
    if not value:
        return "—"
    try:
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    shown = when.astimezone(CHINA).strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")
    return f"{shown} {ZONE}"


def china_span(start: dt.datetime, end: dt.datetime) -> str:
    """A stretch of time in China time, the day said once when it does not change."""
    first, last = start.astimezone(CHINA), end.astimezone(CHINA)
    until = last.strftime("%H:%M" if first.date() == last.date() else "%Y-%m-%d %H:%M")
    return f"{first.strftime('%Y-%m-%d %H:%M')}–{until} {ZONE}"


def init_app(app: Flask) -> None:
    app.add_template_filter(china_time, "china_time")
    app.add_template_filter(china_span, "china_span")
