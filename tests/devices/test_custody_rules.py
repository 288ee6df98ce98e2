"""A log that breaks the custody rules never verifies, whatever its digests say.

The ingest checks each step against the ``device`` projection. A database
administrator who edits that row (a dismantled TV set back to ``received``)
gets a second dismantling accepted, chained and anchored — doubling the mass
in the output lots. Replaying the log shows the step could not have been
recorded honestly, so every report on the device says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import Actor, manager_headers
from tests.support.databases import edit_row
from tests.support.floor import OUTPUTS, Handheld, receive


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "ledger_mode": "memory"}


@pytest.fixture
def anchor(client: FlaskClient, plant: Actor) -> Callable[[], None]:
    def run() -> None:
        response = client.post("/api/v1/anchors", headers=manager_headers(client, plant))
        assert response.status_code == 200, response.get_json()

    return run


def test_a_second_dismantling_through_an_edited_row_is_caught(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, anchor: Callable[[], None]
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
    anchor()
    assert Handheld(client, plant).device(qr_id)["verified"] is True

    edit_row(app, qr_id, state="received")  # the admin reopens a finished device
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")  # accepted: the row said received
    anchor()

    detail = Handheld(client, plant).device(qr_id)
    assert detail["verified"] is False
    assert detail["verification"] == "failed"
    assert "breaks the custody rules" in detail["verification_problem"]
    verify = client.get(f"/api/v1/devices/{qr_id}/verify", headers=plant.headers).get_json()
    assert verify["verified"] is False
    assert "breaks the custody rules" in verify["ledger_problem"]
    report = Handheld(client, plant).batch("B1")
    assert report["verified"] is False
    assert [u["qr_id"] for u in report["unverified"]] == [qr_id]


def test_an_honest_log_verifies_with_no_anomalies(
    client: FlaskClient, collector: Actor, plant: Actor, anchor: Callable[[], None]
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
    anchor()
    detail = Handheld(client, plant).device(qr_id)
    assert (detail["verified"], detail["anomalies"]) == (True, [])
