"""What the EPCIS export leaves out: the register's and the claims' events are not EPCIS events."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from tests.epcis.documents import event_list, export
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld, receive
from traceability.clock import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))


def test_a_submitted_claim_is_not_exported_as_an_object_of_its_own(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    Handheld(client, plant).dismantle(qr_id, {"pcb": "1.5", "plastics": "3"})
    manager = manager_headers(client, plant)
    # the closed quarter before (a claim of the open one is refused): empty, still anchored
    claim = client.post("/api/v1/claims", json={"period": "2026Q3"}, headers=manager)
    assert claim.status_code == 201, claim.get_json()
    submitted = client.post(f"/api/v1/claims/{claim.get_json()['id']}/submit", headers=manager)
    assert submitted.status_code == 200, submitted.get_json()

    events = event_list(export(client, manager))

    assert [e["bizStep"] for e in events] == ["receiving", "disassembling"]
    subjects = [s for e in events for s in e.get("epcList", e.get("inputEPCList"))]
    assert subjects == [f"https://trace.example.cn/d/{qr_id}"] * 2
