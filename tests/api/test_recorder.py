"""Each queued record names its recorder; the server refuses it in anyone else's session.

Issue 15 finding 7: a handheld re-sent user A's offline queue under user B's
session. The scanner sends ``recorded_by`` with every item; an item that
names someone other than the caller is refused (``recorder_mismatch``) and
nothing is recorded — not even a duplicate is confirmed. API token clients
may leave it out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld, new_id
from tests.support.web import sign_in
from traceability.accounts.models import User
from traceability.custody.models import Event


@pytest.fixture
def operators(make_actor: Callable[..., Actor]) -> tuple[Actor, Actor]:
    """Two operators of one collector, both able to sign in to the scanner."""
    return (
        make_actor("COL-SZ", "collector", password=PASSWORD),
        make_actor("COL-SZ", "collector", password=PASSWORD),
    )


def user_id(session: Session, actor: Actor) -> int:
    found = session.exec(select(User.id).where(User.username == actor.username)).one()
    assert found is not None
    return found


def events_with(session: Session, event_id: str) -> int:
    session.rollback()
    return session.exec(select(func.count()).where(Event.id == event_id)).one()


def shipped(qr_id: str, plant: Actor, **extra: Any) -> dict[str, Any]:
    return {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org, **extra}


def test_an_item_recorded_by_its_sender_is_recorded(
    client: FlaskClient, operators: tuple[Actor, Actor], plant: Actor, session: Session
) -> None:
    alice, _ = operators
    item = shipped(
        Handheld(client, alice).collect(),
        plant,
        recorded_by={"username": alice.username, "user_id": user_id(session, alice)},
    )
    [result] = Handheld(client, alice).post(item)
    assert result["status"] == "created"
    # The recorder is who sent it: not part of the event's content.
    detail = client.get(f"/api/v1/devices/{result['qr_id']}", headers=alice.headers).get_json()
    assert detail["events"][-1]["actor"] == alice.username
    assert "recorded_by" not in detail["events"][-1]["payload"]


def test_another_users_item_is_refused_and_nothing_is_recorded(
    client: FlaskClient, operators: tuple[Actor, Actor], plant: Actor, session: Session
) -> None:
    alice, bob = operators
    item = shipped(
        Handheld(client, alice).collect(),
        plant,
        recorded_by={"username": alice.username, "user_id": user_id(session, alice)},
    )
    [result] = Handheld(client, bob).post(item)
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "recorder_mismatch"
    assert result["error"]["field"] == "recorded_by"
    assert alice.username in result["error"]["message"]
    assert events_with(session, item["id"]) == 0


def test_a_recorded_item_is_not_confirmed_to_another_user_either(
    client: FlaskClient, operators: tuple[Actor, Actor], plant: Actor, session: Session
) -> None:
    alice, bob = operators
    mine = {"username": alice.username, "user_id": user_id(session, alice)}
    item = shipped(Handheld(client, alice).collect(), plant, recorded_by=mine)
    assert Handheld(client, alice).post(item)[0]["status"] == "created"
    [again] = Handheld(client, bob).post(item)
    assert (again["status"], again["error"]["code"]) == ("rejected", "recorder_mismatch")


def test_the_same_username_with_another_user_id_is_refused(
    client: FlaskClient, operators: tuple[Actor, Actor], plant: Actor, session: Session
) -> None:
    alice, _ = operators
    other_id = user_id(session, alice) + 1000
    item = shipped(
        Handheld(client, alice).collect(),
        plant,
        recorded_by={"username": alice.username, "user_id": other_id},
    )
    [result] = Handheld(client, alice).post(item)
    assert (result["status"], result["error"]["code"]) == ("rejected", "recorder_mismatch")
    assert events_with(session, item["id"]) == 0


def test_a_signed_in_browser_cannot_send_another_users_queue(
    client: FlaskClient, operators: tuple[Actor, Actor], plant: Actor, session: Session
) -> None:
    """The scanner's path: session cookie and CSRF token, as after B signed in on A's phone."""
    alice, bob = operators
    qr_id = Handheld(client, alice).collect()
    sign_in(client, bob.username)
    context = client.get("/scan/context.json").get_json()
    assert context["user"]["id"] == user_id(session, bob)
    alices = shipped(qr_id, plant, recorded_by={"username": alice.username})
    response = client.post(
        "/api/v1/events",
        json={"events": [alices]},
        headers={"X-CSRFToken": context["csrf_token"]},
    )
    [result] = response.get_json()["results"]
    assert (result["status"], result["error"]["code"]) == ("rejected", "recorder_mismatch")
    assert events_with(session, alices["id"]) == 0
    bobs = shipped(
        qr_id, plant, recorded_by={"username": bob.username, "user_id": context["user"]["id"]}
    )
    response = client.post(
        "/api/v1/events", json={"events": [bobs]}, headers={"X-CSRFToken": context["csrf_token"]}
    )
    assert response.get_json()["results"][0]["status"] == "created"


def test_api_token_clients_may_leave_the_recorder_out(
    client: FlaskClient, operators: tuple[Actor, Actor], plant: Actor
) -> None:
    alice, _ = operators
    [result] = Handheld(client, alice).post(shipped(Handheld(client, alice).collect(), plant))
    assert result["status"] == "created"


def test_the_recorder_is_documented_for_every_event_item(client: FlaskClient) -> None:
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for name in ("Shipped", "Collected", "LotTreated", "CollectRequest"):
        assert "recorded_by" in schemas[name]["properties"], name
