"""Corrections (SPEC §2.4): a new `corrected` event; nothing is updated or deleted."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.api.conftest import collect, device, post_events, receive, record
from tests.conftest import Actor, new_id
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
    before = device(client, plant, qr_id)
    original = event_of(before, "received")
    row_before = session.exec(select(Event).where(Event.id == original["id"])).one().model_dump()
    session.rollback()

    [digest] = record(client, plant, correction(original["id"], weight_kg="29.75"))

    after = device(client, plant, qr_id)
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
    qr_id = collect(client, collector, brand="Konka")
    collected = event_of(device(client, collector, qr_id), "collected")

    record(
        client,
        collector,
        correction(collected["id"], brand="TCL", attributes={"display": "crt", "screen_in": 25}),
    )

    detail = device(client, collector, qr_id)
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
    qr_id = receive(client, collector, plant)
    target = event_of(device(client, plant, qr_id), type)
    actor = plant if target["org"] == plant.org else collector

    [result] = post_events(client, actor, correction(target["id"], **{field: "x"}))

    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == ("invalid", f"fields.{field}")
    assert len(device(client, plant, qr_id)["events"]) == 3


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
    qr_id = collect(client, collector, weight_kg="20")
    collected = event_of(device(client, collector, qr_id), "collected")

    [result] = post_events(client, collector, correction(collected["id"], **fields))

    assert (result["status"], result["error"]["field"]) == ("rejected", named)
    assert device(client, collector, qr_id)["collected_weight_kg"] == 20


def test_a_correction_cannot_itself_be_corrected(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    received = event_of(device(client, plant, qr_id), "received")
    first = correction(received["id"], weight_kg="29")
    record(client, plant, first)

    [result] = post_events(client, plant, correction(first["id"], weight_kg="28"))

    assert (result["status"], result["error"]["field"]) == ("rejected", "corrects")
