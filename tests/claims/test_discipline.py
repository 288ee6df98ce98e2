"""Claim discipline (issue 18, item 1): closed quarters within the claim window, one claim per
plant and quarter plus explicit supplements (补报). The app lives at a fixed moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import Actor, add_actor, manager_headers
from tests.support.databases import snapshot
from traceability import create_app
from traceability.app import trace_of
from traceability.catalog.files import CatalogDataError
from traceability.cli import main
from traceability.clock import FixedClock
from traceability.periods import CHINA

#: Two weeks after 2026Q3 closed (Beijing time): 2026Q3 may be claimed, 2026Q4 is open.
OCTOBER = dt.datetime(2026, 10, 15, 10, 0, tzinfo=CHINA)


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The default claim window (90 days), not the suite's long one."""
    return {k: v for k, v in settings.items() if k != "claim_window_days"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(OCTOBER)


@pytest.fixture
def manager(client: FlaskClient, plant: Actor) -> dict[str, str]:
    return manager_headers(client, plant)


def create(client: FlaskClient, manager: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/claims", json=body, headers=manager)


def test_the_open_quarter_is_refused_with_its_reason_and_nothing_changes(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    before = snapshot(trace_of(client.application).engine)
    response = create(client, manager, period="2026Q4")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "period"
    assert "2026Q4 is still open" in error["message"]
    assert "2027-01-01 00:00" in error["message"] and "Beijing" in error["message"]
    assert create(client, manager, period="2027Q1").get_json()["error"]["field"] == "period"
    assert snapshot(trace_of(client.application).engine) == before
    assert create(client, manager, period="2026Q3").status_code == 201  # closed: accepted


def test_the_cli_refuses_the_open_quarter_too(app: Flask, plant: Actor) -> None:
    manager = add_actor(app, plant.org, "dismantler", role="manager")
    result = CliRunner().invoke(
        main, ["claims", "create", "2026Q4", "--as", manager.username], obj=trace_of(app)
    )
    assert result.exit_code != 0
    assert "2026Q4 is still open" in result.output and "(period)" in result.output


def test_a_quarter_past_its_claim_window_is_refused(settings: dict[str, Any], plant: Actor) -> None:
    """2026Q1 closed on 2026-04-01: 90 days later, its window closed on 2026-06-30."""
    app = create_app(settings, clock=FixedClock(OCTOBER))
    try:
        client = app.test_client()
        manager = manager_headers(client, add_actor(app, plant.org, "dismantler"))
        response = create(client, manager, period="2026Q1")
        assert response.status_code == 422, response.get_json()
        error = response.get_json()["error"]
        assert error["field"] == "period" and "claim window of 2026Q1 closed" in error["message"]
        assert "2026-06-30" in error["message"]
    finally:
        trace_of(app).engine.dispose()
    wide = create_app({**settings, "claim_window_days": 365}, clock=FixedClock(OCTOBER))
    try:
        client = wide.test_client()
        manager = manager_headers(client, add_actor(wide, plant.org, "dismantler"))
        assert create(client, manager, period="2026Q1").status_code == 201  # configurable
    finally:
        trace_of(wide).engine.dispose()


def test_a_second_claim_of_a_quarter_is_refused_unless_supplementary(
    client: FlaskClient, manager: dict[str, str]
) -> None:
    nothing = create(client, manager, period="2026Q3", supplementary=True)
    assert nothing.status_code == 409
    assert nothing.get_json()["error"]["field"] == "supplementary"
    first = create(client, manager, period="2026Q3").get_json()
    assert first["supplements"] is None
    again = create(client, manager, period="2026Q3")  # the open draft, recomputed
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    submitted = client.post(f"/api/v1/claims/{first['id']}/submit", headers=manager)
    assert submitted.status_code == 200, submitted.get_json()
    second = create(client, manager, period="2026Q3")
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["field"] == "period" and first["code"] in error["message"]
    assert "supplementary" in error["message"]
    supplement = create(client, manager, period="2026Q3", supplementary=True)
    assert supplement.status_code == 201, supplement.get_json()
    body = supplement.get_json()
    assert body["supplements"] == [first["code"]] and body["code"].endswith("-2")
    # It adds nothing: there is nothing to submit.
    empty = client.post(f"/api/v1/claims/{body['id']}/submit", headers=manager)
    assert empty.status_code == 409 and empty.get_json()["error"]["field"] == "id"


def test_submission_is_refused_once_the_window_has_closed(
    settings: dict[str, Any], plant: Actor
) -> None:
    """A draft made in time cannot be submitted after the window (its reason, on period)."""
    october = create_app(settings, clock=FixedClock(OCTOBER))
    january = create_app(settings, clock=FixedClock(OCTOBER + dt.timedelta(days=90)))
    try:
        headers = manager_headers(
            october.test_client(), add_actor(october, plant.org, "dismantler")
        )
        draft = create(october.test_client(), headers, period="2026Q3").get_json()
        late = january.test_client().post(f"/api/v1/claims/{draft['id']}/submit", headers=headers)
        assert late.status_code == 422 and late.get_json()["error"]["field"] == "period"
    finally:
        trace_of(october).engine.dispose()
        trace_of(january).engine.dispose()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('version = "x"', "source"),
        ("[[", None),
    ],
)
def test_a_malformed_claim_policy_stops_the_start_naming_file_and_key(
    settings: dict[str, Any], tmp_path: Path, text: str, key: str | None
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogDataError) as caught:
        create_app({**settings, "claim_policy": policy})
    assert caught.value.path == policy
    assert caught.value.key == key


def test_evidence_changed_after_submission_can_only_mark(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    shipped = (Path(__file__).parents[2] / "traceability/claims/data/policy.toml").read_text()
    tail = shipped.split("[flags.evidence_changed_after_submission]")[1]
    policy = tmp_path / "policy.toml"
    policy.write_text(
        shipped.replace(
            "[flags.evidence_changed_after_submission]" + tail.split("[hazardous]")[0],
            '[flags.evidence_changed_after_submission]\neffect = "exclude"\nreason = "x"\n\n',
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogDataError) as caught:
        create_app({**settings, "claim_policy": policy})
    assert caught.value.key == "flags" and "only mark" in caught.value.problem
