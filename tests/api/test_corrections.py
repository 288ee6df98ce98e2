"""Corrections (SPEC §2.4): a new `corrected` event; nothing is updated or deleted."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from ledger.canonical import digest_hex, event_content
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from traceability.custody.models import Event


def correction(corrects: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "type": "corrected",
        "corrects": corrects,
        "reason": "misread the scale",
        "fields": fields,
    }


def event_of(detail: dict[str, Any], type: str) -> dict[str, Any]:
    [event] = [e for e in detail["events"] if e["type"] == type]
    return event


def test_correcting_the_intake_weight_appends_an_event_and_changes_the_device(
    client: FlaskClient, collector: Actor, plant: Actor, session: Session
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30.5")
    before = Handheld(client, plant).device(qr_id)
    original = event_of(before, "received")
    row_before = session.exec(select(Event).where(Event.id == original["id"])).one().model_dump()
    session.rollback()

    [digest] = Handheld(client, plant).record(correction(original["id"], weight_kg="29.75"))

    after = Handheld(client, plant).device(qr_id)
    assert after["received_weight_kg"] == 29.75
    assert after["events"][:-1] == before["events"]  # the history is untouched
    fix = after["events"][-1]
    assert (fix["type"], fix["digest"], fix["prev"]) == ("corrected", digest, before["head_digest"])
    assert fix["payload"] == {
        "corrects": original["id"],
        "reason": "misread the scale",
        "fields": {"weight_g": 29750},
    }
    assert after["head_digest"] == digest
    row_after = session.exec(select(Event).where(Event.id == original["id"])).one().model_dump()
    assert row_after == row_before


def test_correcting_collection_attributes_updates_the_device(
    client: FlaskClient, collector: Actor
) -> None:
    qr_id = Handheld(client, collector).collect(brand="Konka")
    collected = event_of(Handheld(client, collector).device(qr_id), "collected")

    Handheld(client, collector).record(
        correction(collected["id"], brand="TCL", attributes={"display": "crt", "screen_in": 25}),
    )

    detail = Handheld(client, collector).device(qr_id)
    assert (detail["brand"], detail["attributes"]) == ("TCL", {"display": "crt", "screen_in": 25})
    assert event_of(detail, "collected") == collected


@pytest.mark.parametrize(
    ("type", "field"),
    [
        ("received", "occurred_at"),
        ("received", "qr_id"),
        ("shipped", "to"),
        ("collected", "category"),
    ],
)
def test_a_field_that_cannot_be_corrected_is_refused_by_name(
    client: FlaskClient, collector: Actor, plant: Actor, type: str, field: str
) -> None:
    # Each event's recorder holds the device: the collector until the plant receives it.
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).record({"type": "shipped", "qr_id": qr_id, "to": plant.org})
    if type == "received":
        Handheld(client, plant).record({"type": "received", "qr_id": qr_id, "weight_kg": 30})
    before = Handheld(client, plant).device(qr_id)["events"]
    target = event_of(Handheld(client, plant).device(qr_id), type)
    actor = plant if target["org"] == plant.org else collector

    [result] = Handheld(client, actor).post(correction(target["id"], **{field: "x"}))

    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid", f"fields.{field}")
    assert Handheld(client, plant).device(qr_id)["events"] == before


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"weight_kg": "-2"}, "fields.weight_kg"),
        ({"weight_kg": "1.0001"}, "fields.weight_kg"),
        ({"attributes": {"display": "crt", "screen_in": 1000}}, "fields.attributes.screen_in"),
        ({"source": "stolen"}, "fields.source"),
        ({}, "fields"),
    ],
)
def test_an_invalid_corrected_value_is_refused_by_name(
    client: FlaskClient, collector: Actor, fields: dict[str, Any], named: str
) -> None:
    qr_id = Handheld(client, collector).collect(weight_kg="20")
    collected = event_of(Handheld(client, collector).device(qr_id), "collected")

    [result] = Handheld(client, collector).post(correction(collected["id"], **fields))

    assert (result["status"], result["error"]["field"]) == ("rejected", named)
    assert Handheld(client, collector).device(qr_id)["collected_weight_kg"] == 20


def test_a_correction_cannot_itself_be_corrected(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    received = event_of(Handheld(client, plant).device(qr_id), "received")
    first = correction(received["id"], weight_kg="29")
    Handheld(client, plant).record(first)

    [result] = Handheld(client, plant).post(correction(first["id"], weight_kg="28"))

    assert (result["status"], result["error"]["field"]) == ("rejected", "corrects")


# -- who may correct (SPEC §2.1: only on devices and lots in one's custody) ----


def test_once_the_plant_has_received_a_device_its_collector_cannot_correct_it(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    collected = event_of(Handheld(client, plant).device(qr_id), "collected")

    [result] = Handheld(client, collector).post(
        correction(
            collected["id"], attributes={"display": "lcd", "backlight": "led", "screen_in": 42}
        ),
    )

    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == ("not_custodian", "corrects")
    assert Handheld(client, plant).device(qr_id)["attributes"] == {
        "display": "crt",
        "screen_in": 21,
    }


def test_the_plant_may_correct_what_it_can_see_on_a_device_it_received(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    collected = event_of(Handheld(client, plant).device(qr_id), "collected")

    Handheld(client, plant).record(
        correction(collected["id"], attributes={"display": "crt", "screen_in": 25})
    )

    detail = Handheld(client, plant).device(qr_id)
    assert detail["attributes"] == {"display": "crt", "screen_in": 25}
    fix = detail["events"][-1]
    assert fix["org"] == plant.org and "flag" not in fix["payload"]


@pytest.mark.parametrize(
    ("target", "fields"),
    [("shipped", {"manifest_no": "YS-9"}), ("collected", {"source": "business"})],
)
def test_the_plant_cannot_rewrite_the_collectors_own_statements(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    target: str,
    fields: dict[str, Any],
) -> None:
    qr_id = receive(client, collector, plant)
    event = event_of(Handheld(client, plant).device(qr_id), target)

    [result] = Handheld(client, plant).post(correction(event["id"], **fields))

    assert (result["status"], result["error"]["code"]) == ("rejected", "forbidden")
    assert len(Handheld(client, plant).device(qr_id)["events"]) == 3


def test_a_tier_changing_correction_after_dismantling_is_accepted_and_flagged(
    client: FlaskClient, plant: Actor
) -> None:
    qr_id = Handheld(client, plant).collect()  # CRT 21": the 14–25" tier
    Handheld(client, plant).record({"type": "received", "qr_id": qr_id, "weight_kg": 30})
    Handheld(client, plant).dismantle(qr_id, {"crt_panel_glass": 15, "pcb": 2})
    collected = event_of(Handheld(client, plant).device(qr_id), "collected")

    [digest] = Handheld(client, plant).record(
        correction(collected["id"], attributes={"display": "crt", "screen_in": 29})
    )

    detail = Handheld(client, plant).device(qr_id)
    fix = detail["events"][-1]
    assert fix["payload"]["flag"] == "after_dismantling"
    content = event_content(
        **{k: fix[k] for k in ("id", "type", "org", "actor", "occurred_at", "recorded_at")},
        payload=fix["payload"],
        prev=fix["prev"],
        device=qr_id,
    )
    assert digest_hex(content) == digest  # the flag is part of what is hashed and anchored
    assert detail["attributes"] == {"display": "crt", "screen_in": 29}


@pytest.mark.parametrize(
    ("target", "fields", "flagged"),
    [
        ("received", {"weight_kg": "29"}, True),
        ("received", {"weight_kg": "30"}, False),  # the same weight: nothing changes
        ("collected", {"brand": "TCL"}, False),
        ("dismantled", {"line": "L2"}, False),
    ],
)
def test_only_tier_or_mass_changes_after_dismantling_are_flagged(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    target: str,
    fields: dict[str, Any],
    flagged: bool,
) -> None:
    qr_id = Handheld(client, plant).collect()
    Handheld(client, plant).record({"type": "received", "qr_id": qr_id, "weight_kg": 30})
    Handheld(client, plant).dismantle(qr_id, {"pcb": 2})
    event = event_of(Handheld(client, plant).device(qr_id), target)

    Handheld(client, plant).record(correction(event["id"], **fields))

    payload = Handheld(client, plant).device(qr_id)["events"][-1]["payload"]
    assert ("flag" in payload) is flagged


def test_a_correction_before_dismantling_is_not_flagged(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    received = event_of(Handheld(client, plant).device(qr_id), "received")

    Handheld(client, plant).record(correction(received["id"], weight_kg="29"))

    assert "flag" not in Handheld(client, plant).device(qr_id)["events"][-1]["payload"]
