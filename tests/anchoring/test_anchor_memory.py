"""Anchoring and verification on the in-process chain (fast, no node)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld, new_id


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "ledger_mode": "memory"}


def test_anchored_device_verifies_and_bundle_carries_proofs(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).post(
        {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
    )
    before = client.get(f"/api/v1/devices/{qr_id}/verify", headers=plant.headers).get_json()
    assert [e["status"] for e in before["events"]] == ["pending", "pending"]
    assert before["verified"] is False

    anchored = client.post("/api/v1/anchors", headers=manager_headers(client, plant)).get_json()
    # the device's two events and the register's events of its two organisations (SPEC §2.8)
    assert anchored["anchored"] == 2 + 2
    assert anchored["block_number"] >= 1

    after = client.get(f"/api/v1/devices/{qr_id}/verify", headers=plant.headers).get_json()
    assert after["verified"] is True
    assert {e["status"] for e in after["events"]} == {"verified"}

    bundle = client.get(f"/api/v1/devices/{qr_id}/proof", headers=plant.headers).get_json()
    assert [e["anchor"]["root"] for e in bundle["events"]] == [anchored["root"]] * 2
    assert bundle["chain"]["contract"]
