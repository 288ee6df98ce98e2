"""Label sheet PDFs: one large render at a time per user, an hourly share (issue 15, finding 10).

The clock is an argument: every render names its ``now``, nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.support.accounts import Actor
from traceability.accounts.services import principal_for
from traceability.labels.throttle import RenderPolicy, TooManyLabels, finish_render, start_render

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
POLICY = RenderPolicy()  # 100 labels is large; 5000 labels an hour


@pytest.fixture
def render(session: Session, make_actor: Callable[..., Actor]) -> Callable[..., int | str]:
    """Start a render as ``user`` (a collector operator): its id, or "wait N"."""
    principals: dict[str, Any] = {}

    def start(user: str, labels: int, now: dt.datetime) -> int | str:
        if user not in principals:
            actor = make_actor("COL-SZ", "collector")
            principals[user] = principal_for(session=session, username=actor.username)
        try:
            return start_render(
                session=session, principal=principals[user], labels=labels, policy=POLICY, now=now
            )
        except TooManyLabels as exc:
            return f"wait {exc.retry_after}"

    return start


def test_a_user_makes_one_large_sheet_at_a_time_and_small_ones_meanwhile(
    session: Session, render: Callable[..., int | str]
) -> None:
    first = render("wang", 1000, T0)
    assert isinstance(first, int)
    assert render("wang", 1000, T0 + dt.timedelta(seconds=3)) == "wait 10"
    assert isinstance(render("wang", 20, T0 + dt.timedelta(seconds=3)), int)  # a reprint of a few
    assert isinstance(render("li", 1000, T0 + dt.timedelta(seconds=3)), int)  # someone else
    finish_render(session=session, render_id=first, now=T0 + dt.timedelta(seconds=7))
    assert isinstance(render("wang", 1000, T0 + dt.timedelta(seconds=8)), int)


def test_a_render_whose_worker_died_stops_counting_as_running(
    render: Callable[..., int | str],
) -> None:
    assert isinstance(render("wang", 1000, T0), int)  # never finished
    assert render("wang", 1000, T0 + dt.timedelta(seconds=119)) == "wait 10"
    assert isinstance(render("wang", 1000, T0 + dt.timedelta(minutes=2)), int)


def test_five_full_sheets_an_hour_then_wait_until_the_first_leaves_the_hour(
    session: Session, render: Callable[..., int | str]
) -> None:
    for n in range(5):
        started = T0 + dt.timedelta(minutes=n)
        rid = render("wang", 1000, started)
        assert isinstance(rid, int)
        finish_render(session=session, render_id=rid, now=started + dt.timedelta(seconds=7))
    ten_past = T0 + dt.timedelta(minutes=10)
    assert render("wang", 1000, ten_past) == f"wait {50 * 60}"
    assert render("wang", 1, ten_past) == f"wait {50 * 60}"
    assert isinstance(render("li", 1000, ten_past), int)
    assert isinstance(render("wang", 1000, T0 + dt.timedelta(hours=1, seconds=1)), int)


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "labels_per_hour": 5}


def test_the_api_answers_429_with_retry_after_in_both_languages(
    client: FlaskClient, collector: Actor
) -> None:
    created = client.post("/api/v1/labels", json={"count": 3}, headers=collector.headers)
    assert created.status_code == 201
    pdf = f"/api/v1/labels/{created.get_json()['sheet']}.pdf"
    assert client.get(pdf, headers=collector.headers).status_code == 200

    again = client.get(pdf, headers=collector.headers)

    assert again.status_code == 429
    assert 3000 < int(again.headers["Retry-After"]) <= 3600  # when the first leaves the hour
    error = again.get_json()["error"]
    assert error["code"] == "too_many_labels" and error["field"] == "sheet"
    assert "try again in" in error["message"] and "秒后再试" in error["message"]
