"""Every shipment can be finished: received or refused by its destination (SPEC §2.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from ledger.canonical import digest_hex, event_content
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive


def shipping(qr_id: str, to: str) -> dict[str, Any]:
    return {"type": "shipped", "qr_id": qr_id, "to": to}


def refusal(qr_id: str, reason: str = "no licence for this category") -> dict[str, Any]:
    return {"type": "refused", "qr_id": qr_id, "reason": reason}


def test_a_device_cannot_be_shipped_to_a_collector(
    client: FlaskClient, make_actor: Callable[..., Actor], collector: Actor
) -> None:
    hub = make_actor("COL-HUB", "collector")
    qr_id = Handheld(client, collector).collect()

    [result] = Handheld(client, collector).post({"id": new_id(), **shipping(qr_id, hub.org)})

    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid", "to")
    assert "dismantler" in result["error"]["message"]
    assert Handheld(client, collector).device(qr_id)["state"] == "collected"


def test_the_destination_refuses_and_the_sender_keeps_the_device(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = Handheld(client, collector).collect()
    [shipped] = Handheld(client, collector).record(shipping(qr_id, plant.org))

    [digest] = Handheld(client, plant).record(
        refusal(qr_id, "CRT glass not on our licence\nsee permit")
    )

    detail = Handheld(client, collector).device(qr_id)
    assert (detail["state"], detail["custodian"], detail["destination"]) == (
        "collected",
        collector.org,
        None,
    )
    refused = detail["events"][-1]
    assert (refused["type"], refused["org"], refused["prev"]) == ("refused", plant.org, shipped)
    assert refused["payload"] == {"reason": "CRT glass not on our licence\nsee permit"}
    content = event_content(
        **{k: refused[k] for k in ("id", "type", "org", "actor", "occurred_at", "recorded_at")},
        payload=refused["payload"],
        prev=refused["prev"],
        device=qr_id,
    )
    assert digest_hex(content) == refused["digest"] == digest == detail["head_digest"]


def test_after_a_refusal_the_sender_can_ship_again(
    client: FlaskClient, make_actor: Callable[..., Actor], collector: Actor, plant: Actor
) -> None:
    other = make_actor("DIS-WX", "dismantler")
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).record(shipping(qr_id, plant.org))
    Handheld(client, plant).record(refusal(qr_id))

    Handheld(client, collector).record(shipping(qr_id, other.org))
    Handheld(client, other).record({"type": "received", "qr_id": qr_id, "weight_kg": 25})

    detail = Handheld(client, other).device(qr_id)
    assert (detail["state"], detail["custodian"]) == ("received", other.org)
    assert [e["type"] for e in detail["events"]] == [
        "collected",
        "shipped",
        "refused",
        "shipped",
        "received",
    ]


def test_a_device_refused_between_plants_returns_to_received(
    client: FlaskClient, make_actor: Callable[..., Actor], collector: Actor, plant: Actor
) -> None:
    other = make_actor("DIS-WX", "dismantler")
    qr_id = receive(client, collector, plant)
    Handheld(client, plant).record(shipping(qr_id, other.org))

    Handheld(client, other).record(refusal(qr_id))

    detail = Handheld(client, plant).device(qr_id)
    assert (detail["state"], detail["custodian"], detail["destination"]) == (
        "received",
        plant.org,
        None,
    )
    [result] = Handheld(client, other).post(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": 30}
    )
    assert result["error"]["code"] == "not_custodian"
    Handheld(client, plant).record(
        {
            "type": "dismantled",
            "qr_id": qr_id,
            "outputs": [{"fraction": "pcb", "weight_kg": 1}],
        },
    )


def test_only_the_destination_can_refuse(
    client: FlaskClient, make_actor: Callable[..., Actor], collector: Actor, plant: Actor
) -> None:
    other = make_actor("DIS-WX", "dismantler")
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).record(shipping(qr_id, plant.org))

    results = Handheld(client, other).post(
        {"id": new_id(), **refusal(qr_id)}, {"id": new_id(), **refusal(qr_id)}
    )

    assert [r["error"]["code"] for r in results] == ["not_custodian"] * 2
    assert Handheld(client, plant).device(qr_id)["state"] == "in_transit"
