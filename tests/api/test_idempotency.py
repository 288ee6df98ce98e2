"""Retried requests never duplicate (SPEC §4.1, §6): client ids make every write idempotent."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select
from werkzeug.serving import make_server

from tests.support.accounts import Actor
from tests.support.floor import CRT_TV, Handheld, new_id
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.lots.models import LotItem

THREADS = 8


def count(session: Session, query: Any) -> int:
    session.rollback()  # a fresh snapshot: see what other connections committed
    return session.exec(query).one()


def test_same_id_twice_in_one_request_is_recorded_once(
    client: FlaskClient, collector: Actor, plant: Actor, session: Session
) -> None:
    qr_id = Handheld(client, collector).collect()
    shipped = {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}

    first, second = Handheld(client, collector).post(shipped, shipped)

    assert (first["status"], second["status"]) == ("created", "duplicate")
    assert second["digest"] == first["digest"]
    assert count(session, select(func.count()).where(Event.id == shipped["id"])) == 1


def test_same_id_in_a_later_request_is_a_duplicate_with_the_same_digest(
    client: FlaskClient, collector: Actor, plant: Actor, session: Session
) -> None:
    qr_id = Handheld(client, collector).collect()
    shipped = {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
    [first] = Handheld(client, collector).post(shipped)
    events_before = count(session, select(func.count()).select_from(Event))

    # The device is now in transit, so a second *new* shipment would be refused:
    # the retry must be recognised by its id before any state check.
    [again] = Handheld(client, collector).post(shipped)

    assert first["status"] == "created"
    assert again == {**first, "status": "duplicate"}
    assert count(session, select(func.count()).select_from(Event)) == events_before
    detail = client.get(f"/api/v1/devices/{qr_id}", headers=collector.headers).get_json()
    assert [e["type"] for e in detail["events"]] == ["collected", "shipped"]


def test_an_id_used_by_another_organisation_is_a_conflict_that_reveals_nothing(
    client: FlaskClient, collector: Actor, make_actor: Any, session: Session
) -> None:
    other = make_actor("DIS-BJ", "dismantler", region="110000")  # devices ship to plants
    qr_id = Handheld(client, collector).collect()
    own = Handheld(client, other).collect()
    event_id = new_id()
    [first] = Handheld(client, collector).post(
        {"id": event_id, "type": "shipped", "qr_id": qr_id, "to": other.org}
    )
    events_before = count(session, select(func.count()).select_from(Event))

    [reused] = Handheld(client, other).post(
        {"id": event_id, "type": "shipped", "qr_id": own, "to": collector.org}
    )

    assert reused["status"] == "conflict"
    assert reused["error"]["code"] == "id_conflict"
    assert reused["error"]["field"] == "id"
    assert first["digest"] not in str(reused) and qr_id not in str(reused)
    assert count(session, select(func.count()).select_from(Event)) == events_before


@pytest.mark.parametrize(
    "spelling",
    [str.upper, lambda u: u.replace("-", ""), lambda u: "{" + u + "}", lambda u: "urn:uuid:" + u],
)
def test_a_retry_spelling_the_same_uuid_differently_is_a_duplicate(
    client: FlaskClient, collector: Actor, plant: Actor, spelling: Any
) -> None:
    qr_id = Handheld(client, collector).collect()
    event_id = new_id()
    shipped = {"type": "shipped", "qr_id": qr_id, "to": plant.org}
    [first] = Handheld(client, collector).post({**shipped, "id": event_id})
    [again] = Handheld(client, collector).post({**shipped, "id": spelling(event_id)})
    assert first["status"] == "created"
    assert (again["status"], again["id"], again["digest"]) == (
        "duplicate",
        event_id,
        first["digest"],
    )


def test_collecting_twice_with_one_client_id_gives_one_device(
    client: FlaskClient, collector: Actor, session: Session
) -> None:
    body = {**CRT_TV, "id": new_id(), "weight_kg": "25.5"}

    first = client.post("/api/v1/devices", json=body, headers=collector.headers)
    again = client.post("/api/v1/devices", json=body, headers=collector.headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert again.get_json()["qr_id"] == first.get_json()["qr_id"]
    assert again.get_json()["digest"] == first.get_json()["digest"]
    assert count(session, select(func.count()).select_from(Device)) == 1
    assert count(session, select(func.count()).where(Event.id == body["id"])) == 1


# -- issue 15 L11: an id re-sent with other content is a conflict the handheld shows


def _device_at_plant(client: FlaskClient, collector: Actor, plant: Actor) -> str:
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).record(
        {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
    )
    return qr_id


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ({"weight_kg": 30}, {"weight_kg": "30.5"}),
        ({"weight_kg": 30}, {"weight_kg": 30, "occurred_at": "2026-01-01T08:00:00+08:00"}),
    ],
    ids=["another weight", "another time"],
)
def test_an_id_resent_with_other_content_is_a_conflict_and_changes_nothing(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    session: Session,
    first: dict[str, Any],
    again: dict[str, Any],
) -> None:
    qr_id = _device_at_plant(client, collector, plant)
    received = {"id": new_id(), "type": "received", "qr_id": qr_id}
    [created] = Handheld(client, plant).post({**received, **first})
    events_before = count(session, select(func.count()).select_from(Event))

    [result] = Handheld(client, plant).post({**received, **again})

    assert created["status"] == "created"
    assert result["status"] == "conflict", result
    assert (result["error"]["code"], result["error"]["field"]) == ("id_conflict", "id")
    assert "digest" not in result
    assert count(session, select(func.count()).select_from(Event)) == events_before
    detail = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    assert detail["received_weight_kg"] == 30


@pytest.mark.parametrize(
    ("type", "first", "again"),
    [
        ("stored", {"area": "A-1"}, {"area": "B-2"}),
        ("refused", {"reason": "broken"}, {"reason": "burnt"}),
        ("dismantled", {"outputs": [{"fraction": "pcb", "weight_kg": 2}]}, {"outputs": []}),
        (
            "dismantled",
            {"outputs": [{"fraction": "pcb", "weight_kg": 2}]},
            {"outputs": [{"fraction": "pcb", "weight_kg": 3}]},
        ),
        (
            "dismantled",
            {"outputs": [{"fraction": "pcb", "weight_kg": 2}]},
            {"outputs": [{"fraction": "pcb", "weight_kg": 2}], "batch": "B-1"},
        ),
    ],
)
def test_every_kind_of_step_resent_with_other_content_is_a_conflict(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    type: str,
    first: dict[str, Any],
    again: dict[str, Any],
) -> None:
    qr_id = _device_at_plant(client, collector, plant)
    if type != "refused":
        Handheld(client, plant).record(
            {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": 30}
        )
    step = {"id": new_id(), "type": type, "qr_id": qr_id}
    [created] = Handheld(client, plant).post({**step, **first})

    [same] = Handheld(client, plant).post({**step, **first})
    [other] = Handheld(client, plant).post({**step, **again})

    assert created["status"] == "created", created
    assert same == {**created, "status": "duplicate"}
    assert other["status"] == "conflict", other


def test_the_same_content_in_other_spellings_is_a_duplicate(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = _device_at_plant(client, collector, plant)
    received = {"id": new_id(), "type": "received", "qr_id": qr_id}
    [created] = Handheld(client, plant).post({**received, "weight_kg": 30})
    detail = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    when = dt.datetime.fromisoformat(detail["events"][-1]["occurred_at"])
    beijing = when.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()

    [again] = Handheld(client, plant).post(
        {**received, "weight_kg": "30.000", "occurred_at": beijing}
    )

    assert again == {**created, "status": "duplicate"}


def test_a_conflict_in_one_batch_leaves_the_others_recorded(
    client: FlaskClient, collector: Actor, plant: Actor, session: Session
) -> None:
    qr_id = _device_at_plant(client, collector, plant)
    stored = {"id": new_id(), "type": "stored", "qr_id": qr_id}
    Handheld(client, plant).record(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": 30}
    )
    later = {"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "C-3"}

    results = Handheld(client, plant).post(
        {**stored, "area": "A-1"}, {**stored, "area": "B-2"}, later
    )

    assert [r["status"] for r in results] == ["created", "conflict", "created"]
    assert count(session, select(func.count()).where(Event.id == later["id"])) == 1


def test_collecting_again_with_one_client_id_and_another_device_is_a_409(
    client: FlaskClient, collector: Actor, session: Session
) -> None:
    body = {**CRT_TV, "id": new_id(), "weight_kg": "25.5"}
    first = client.post("/api/v1/devices", json=body, headers=collector.headers)

    again = client.post(
        "/api/v1/devices", json={**body, "weight_kg": "26"}, headers=collector.headers
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "id_conflict"
    assert count(session, select(func.count()).select_from(Device)) == 1


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app behind a real threaded HTTP server on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _race_batch(
    client: FlaskClient, collector: Actor, plant: Actor, collections: int
) -> list[dict[str, Any]]:
    """Steps for several devices in transit to the plant, plus fresh collections."""
    batch: list[dict[str, Any]] = []
    for weight in ("21.5", "30", "44.125", "18.2"):
        qr_id = Handheld(client, collector).collect()
        Handheld(client, collector).record({"type": "shipped", "qr_id": qr_id, "to": plant.org})
        batch += [
            {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": weight},
            {"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "A-1"},
            {
                "id": new_id(),
                "type": "dismantled",
                "qr_id": qr_id,
                "batch": "RACE",
                "outputs": [
                    {"fraction": "crt_panel_glass", "weight_kg": 9},
                    {"fraction": "pcb", "weight_kg": "1.5"},
                ],
            },
        ]
    batch += [{"id": new_id(), "type": "collected", **CRT_TV} for _ in range(collections)]
    return batch


# Without collections, losers of the race never hit a unique violation: they
# must see the winner's events once they hold the device locks.
@pytest.mark.parametrize("collections", [0, 3], ids=["device steps", "steps and collections"])
def test_concurrent_identical_batches_record_each_event_once(
    live_server: str,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    session: Session,
    collections: int,
) -> None:
    batch = _race_batch(client, collector, plant, collections)
    devices_before = count(session, select(func.count()).select_from(Device))
    start = threading.Barrier(THREADS)
    responses: list[requests.Response | BaseException] = [None] * THREADS  # type: ignore[list-item]

    def post(slot: int) -> None:
        try:
            start.wait()
            responses[slot] = requests.post(
                f"{live_server}/api/v1/events",
                json={"events": batch},
                headers=plant.headers,
                timeout=120,
            )
        except BaseException as exc:  # reported below, not lost in the thread
            responses[slot] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses: dict[str, Counter[str]] = {item["id"]: Counter() for item in batch}
    digests: dict[str, set[str]] = {item["id"]: set() for item in batch}
    for response in responses:
        assert isinstance(response, requests.Response), response
        assert response.status_code == 200, response.text
        for result in response.json()["results"]:
            statuses[result["id"]][result["status"]] += 1
            digests[result["id"]].add(result.get("digest"))
    for event_id, seen in statuses.items():
        assert seen == Counter({"created": 1, "duplicate": THREADS - 1}), (event_id, seen)
    session.rollback()
    rows = session.exec(select(Event.id, Event.digest).where(Event.id.in_(statuses))).all()  # type: ignore[attr-defined]
    assert Counter(event_id for event_id, _ in rows) == Counter(set(statuses))
    assert {event_id: {digest} for event_id, digest in rows} == digests
    collected = sum(1 for item in batch if item["type"] == "collected")
    assert count(session, select(func.count()).select_from(Device)) == (devices_before + collected)
    dismantlings = sum(1 for item in batch if item["type"] == "dismantled")
    assert count(session, select(func.count()).select_from(LotItem)) == 2 * dismantlings
