"""A device's whole life through the API: collect, ship, receive, dismantle, lots."""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient

from ledger.canonical import digest_hex, event_content
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id


def test_full_history_reads_back_with_digests_and_prev_links(
    client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    qr_id = Handheld(client, collector).collect(weight_kg="31.5", brand="Konka", serial="SN-1")
    results = Handheld(client, collector).post(
        {
            "id": new_id(),
            "type": "shipped",
            "qr_id": qr_id,
            "to": plant.org,
            "manifest_no": "M-001",
        },
    )
    assert results[0]["status"] == "created"
    results = Handheld(client, plant).post(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": 30.25},
        {"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "A-3"},
        {
            "id": new_id(),
            "type": "dismantled",
            "qr_id": qr_id,
            "batch": "2026-11-25-L1",
            "line": "L1",
            "outputs": [
                {"fraction": "crt_panel_glass", "weight_kg": 12.0},
                {"fraction": "crt_funnel_glass", "weight_kg": 6.5},
                {"fraction": "pcb", "weight_kg": 2.125},
                {"fraction": "plastics", "weight_kg": 7},
            ],
        },
    )
    assert [r["status"] for r in results] == ["created"] * 3

    detail = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    assert detail["state"] == "dismantled"
    assert detail["received_weight_kg"] == 30.25
    assert detail["batch"] == "2026-11-25-L1"
    events = detail["events"]
    assert [e["type"] for e in events] == [
        "collected",
        "shipped",
        "received",
        "stored",
        "dismantled",
    ]
    assert events[0]["prev"] is None
    for earlier, later in itertools.pairwise(events):
        assert later["prev"] == earlier["digest"]
    for e in events:
        content = event_content(
            id=e["id"],
            type=e["type"],
            org=e["org"],
            actor=e["actor"],
            occurred_at=e["occurred_at"],
            recorded_at=e["recorded_at"],
            payload=e["payload"],
            prev=e["prev"],
            device=e["device"],
        )
        assert digest_hex(content) == e["digest"]
    assert events[2]["payload"] == {"weight_g": 30250}
    assert events[4]["payload"]["outputs"][2] == {"fraction": "pcb", "weight_g": 2125}
    assert detail["head_digest"] == events[-1]["digest"]
