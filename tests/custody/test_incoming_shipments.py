"""GET /shipments/incoming: what the receive screen checks a pallet against (issue 19)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from flask.testing import FlaskClient

from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id


def incoming(client: FlaskClient, actor: Actor) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/v1/shipments/incoming", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def ship(client: FlaskClient, sender: Actor, to: Actor, n: int, manifest: str | None) -> list[str]:
    ids = [Handheld(client, sender).collect(weight_kg="20.5") for _ in range(n)]
    extra = {"manifest_no": manifest} if manifest else {}
    Handheld(client, sender).record(
        *({"type": "shipped", "qr_id": q, "to": to.org, **extra} for q in ids)
    )
    return ids


def test_devices_on_their_way_are_listed_by_sender_and_manifest(
    client: FlaskClient, make_actor: Callable[..., Actor], collector: Actor, plant: Actor
) -> None:
    other = make_actor("COL-OTHER", "collector")
    elsewhere = make_actor("DIS-ELSE", "dismantler")
    first = ship(client, collector, plant, 3, "M-001")
    second = ship(client, collector, plant, 2, "M-002")
    by_other = ship(client, other, plant, 1, None)
    ship(client, collector, elsewhere, 2, "M-001")  # not this plant's
    Handheld(client, plant).record({"type": "received", "qr_id": first[0], "weight_kg": "20"})

    body = incoming(client, plant)

    listed = {s["key"]: [d["qr_id"] for d in s["devices"]] for s in body["shipments"]}
    assert listed[f"{collector.org}/M-001"] == first[1:]  # the received one has arrived
    assert listed[f"{collector.org}/M-002"] == second
    [key] = [k for k in listed if k.startswith(f"{other.org}/")]
    assert listed[key] == by_other
    assert len(listed) == 3
    shipment = next(s for s in body["shipments"] if s["manifest_no"] == "M-002")
    assert shipment["sender"] == collector.org
    assert {Decimal(str(d["collected_weight_kg"])) for d in shipment["devices"]} == {
        Decimal("20.5")
    }
    assert body["org"] == plant.org and body["truncated"] is False
    assert incoming(client, elsewhere)["shipments"][0]["devices"][0]["qr_id"] not in first


def test_a_refused_device_is_no_longer_on_its_way(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    [qr_id] = ship(client, collector, plant, 1, "M-9")
    Handheld(client, plant).record({"type": "refused", "qr_id": qr_id, "reason": "not delivered"})
    assert incoming(client, plant)["shipments"] == []


def test_a_collector_is_told_it_receives_nothing(client: FlaskClient, collector: Actor) -> None:
    response = client.get("/api/v1/shipments/incoming", headers=collector.headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["field"] == "org"


def test_a_device_taken_in_over_the_shipment_carries_its_note(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    [qr_id] = ship(client, collector, plant, 1, None)
    note = "on the pallet of M-001, not on its manifest"
    Handheld(client, plant).record(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": "19", "note": note}
    )
    received = Handheld(client, plant).device(qr_id)["events"][-1]
    assert received["payload"] == {"weight_g": 19000, "note": note}


def test_the_custody_list_holds_what_the_organisation_can_still_act_on(
    client: FlaskClient, make_actor: Callable[..., Actor], collector: Actor, plant: Actor
) -> None:
    elsewhere = make_actor("DIS-ELSE", "dismantler")
    hand = Handheld(client, plant)
    [on_its_way] = ship(client, collector, plant, 1, None)
    [gone_elsewhere] = ship(client, collector, elsewhere, 1, None)
    received = hand.collect(weight_kg="30")
    hand.record({"type": "received", "qr_id": received, "weight_kg": "31.5"})
    dismantled = hand.collect()
    outputs = [{"fraction": "pcb", "weight_kg": "1.5"}, {"fraction": "plastics", "weight_kg": "3"}]
    hand.record(
        {"type": "received", "qr_id": dismantled, "weight_kg": "30"},
        {"type": "dismantled", "qr_id": dismantled, "outputs": outputs},
    )
    at_collector = Handheld(client, collector).collect()

    response = client.get("/api/v1/custody", headers=plant.headers)
    assert response.status_code == 200
    held = {d["qr_id"]: d for d in response.get_json()["devices"]}

    assert set(held) == {on_its_way, received}
    assert (held[on_its_way]["state"], held[on_its_way]["destination"]) == ("in_transit", plant.org)
    assert held[received]["state"] == "received"
    assert Decimal(str(held[received]["weight_kg"])) == Decimal("31.5")
    assert held[received]["attributes"] == {"display": "crt", "screen_in": 21}
    theirs = client.get("/api/v1/custody", headers=collector.headers).get_json()["devices"]
    states = {d["qr_id"]: d["state"] for d in theirs}
    assert states == {
        on_its_way: "in_transit",
        gone_elsewhere: "in_transit",
        at_collector: "collected",
    }
