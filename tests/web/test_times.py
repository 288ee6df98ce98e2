"""Every time a person reads is Beijing time and says so (SPEC §2.9): one ``china_time``."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, render_template_string

from traceability.web.times import china_span, china_time


@pytest.mark.parametrize(
    ("value", "date_only", "shown"),
    [
        ("2026-06-30T16:30:00+00:00", False, "2026-07-01 00:30 (UTC+8)"),
        ("2026-06-30T16:30:00Z", False, "2026-07-01 00:30 (UTC+8)"),
        ("2026-06-30T16:30:00Z", True, "2026-07-01 (UTC+8)"),
        (dt.datetime(2026, 6, 30, 15, 59, tzinfo=dt.UTC), True, "2026-06-30 (UTC+8)"),
        (dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC), False, "2026-07-01 00:00 (UTC+8)"),
        (None, False, "—"),
        ("", True, "—"),
        ("not a time", False, "not a time"),
    ],
)
def test_a_time_reads_in_china_time_and_says_so(
    value: str | dt.datetime | None, date_only: bool, shown: str
) -> None:
    assert china_time(value, date_only=date_only) == shown


def test_every_page_has_the_one_filter(app: Flask) -> None:
    assert app.jinja_env.filters["china_time"] is china_time
    with app.test_request_context("/"):
        page = render_template_string("{{ t|china_time }}", t="2026-01-01T00:00:00Z")
    assert page == "2026-01-01 08:00 (UTC+8)"


def test_a_span_says_the_day_once_when_it_stays_the_same() -> None:
    start = dt.datetime(2026, 9, 22, 0, 30, tzinfo=dt.UTC)  # 08:30 in Beijing
    assert china_span(start, start + dt.timedelta(minutes=35)) == "2026-09-22 08:30–09:05 (UTC+8)"
    # 15:50 UTC is 23:50 in Beijing: ten minutes later is the next Beijing day
    late = dt.datetime(2026, 9, 22, 15, 50, tzinfo=dt.UTC)
    assert china_span(late, late + dt.timedelta(minutes=20)) == (
        "2026-09-22 23:50–2026-09-23 00:10 (UTC+8)"
    )
