"""The handheld's quick user switch on the server (/scan/pin): a PIN set after a full sign-in,
checked only as a PBKDF2 verifier, limited like the password form, ending with its session."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Actor
from tests.support.web import csrf_token, sign_in


def verifier(pin: str, salt: bytes) -> str:
    """What the phone sends (pin.js): PBKDF2-SHA-256 of the PIN, 210,000 rounds, 256 bits."""
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, 210_000).hex()


@pytest.fixture
def alice(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("DIS-PIN", "dismantler", password=PASSWORD)


@pytest.fixture
def bob(make_actor: Callable[..., Actor], alice: Actor) -> Actor:
    return make_actor(alice.org, "dismantler", password=PASSWORD)


def post(client: FlaskClient, path: str, body: Any) -> Any:
    token = csrf_token(client.get("/scan/").get_data(as_text=True))
    return client.post(path, json=body, headers={"X-CSRFToken": token})


def who(client: FlaskClient) -> str | None:
    response = client.get("/scan/context.json")
    return response.get_json()["user"]["username"] if response.status_code == 200 else None


def set_pin(client: FlaskClient, username: str, pin: str) -> tuple[str, bytes]:
    sign_in(client, username)
    salt = os.urandom(16)
    response = post(client, "/scan/pin", {"verifier": verifier(pin, salt)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["username"] == username and body["expires_at"]
    assert pin not in body["key"]
    return body["key"], salt


def test_a_pin_switches_the_phone_to_its_user_and_a_wrong_one_does_not(
    app: Flask, alice: Actor, bob: Actor
) -> None:
    phone = app.test_client()
    key, salt = set_pin(phone, alice.username, "2468")
    sign_in(phone, bob.username)  # Bob takes the phone with his password
    assert who(phone) == bob.username
    wrong = post(phone, "/scan/pin/switch", {"key": key, "verifier": verifier("1111", salt)})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "wrong_pin"
    assert who(phone) == bob.username
    right = post(phone, "/scan/pin/switch", {"key": key, "verifier": verifier("2468", salt)})
    assert right.status_code == 200
    assert who(phone) == alice.username


def test_wrong_pins_are_delayed_like_wrong_passwords(app: Flask, alice: Actor, bob: Actor) -> None:
    phone = app.test_client()
    key, salt = set_pin(phone, alice.username, "2468")
    sign_in(phone, bob.username)
    free = 5  # the default of TRACE_LOGIN_FREE_FAILURES
    for n in range(free):
        answer = post(
            phone, "/scan/pin/switch", {"key": key, "verifier": verifier(f"000{n}", salt)}
        )
        assert answer.status_code == 401
    # Even the right PIN waits now, and so does Alice's password on this device.
    delayed = post(phone, "/scan/pin/switch", {"key": key, "verifier": verifier("2468", salt)})
    assert delayed.status_code == 429
    assert 0 < int(delayed.headers["Retry-After"]) <= 5
    assert delayed.get_json()["error"]["retry_after"] == int(delayed.headers["Retry-After"])
    assert who(phone) == bob.username
    assert sign_in(app.test_client(), alice.username).status_code == 429


def test_the_pin_ends_with_the_session_it_was_set_in(app: Flask, alice: Actor, bob: Actor) -> None:
    phone = app.test_client()
    key, salt = set_pin(phone, alice.username, "2468")
    token = csrf_token(phone.get("/scan/").get_data(as_text=True))
    phone.post("/logout", data={"csrf_token": token})
    sign_in(phone, bob.username)
    answer = post(phone, "/scan/pin/switch", {"key": key, "verifier": verifier("2468", salt)})
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "pin_expired"
    assert who(phone) == bob.username


def test_signing_out_of_a_session_reached_by_pin_ends_the_pins_session_too(
    app: Flask, alice: Actor, bob: Actor
) -> None:
    """Alice set her PIN, Bob took the phone, Alice came back by PIN and signed out: a copy
    of the key the phone kept switches no one in any more."""
    phone = app.test_client()
    key, salt = set_pin(phone, alice.username, "2468")
    sign_in(phone, bob.username)
    right = {"key": key, "verifier": verifier("2468", salt)}
    assert post(phone, "/scan/pin/switch", right).status_code == 200
    assert who(phone) == alice.username
    token = csrf_token(phone.get("/scan/").get_data(as_text=True))
    phone.post("/logout", data={"csrf_token": token})
    assert who(phone) is None
    sign_in(phone, bob.username)
    answer = post(phone, "/scan/pin/switch", right)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "pin_expired"
    assert who(phone) == bob.username


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/scan/pin", {"verifier": "2468"}, "verifier"),
        ("/scan/pin", {}, "verifier"),
        ("/scan/pin/switch", {"key": "made-up", "verifier": "0" * 64}, "key"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    app: Flask, alice: Actor, path: str, body: dict[str, Any], field: str
) -> None:
    phone = app.test_client()
    sign_in(phone, alice.username)
    answer = post(phone, path, body)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == field
    assert who(phone) == alice.username


def test_a_forged_verifier_in_a_genuine_key_is_refused(
    app: Flask, alice: Actor, bob: Actor
) -> None:
    """The key the phone keeps holds a keyed hash: reading it does not give the verifier."""
    phone = app.test_client()
    key, _salt = set_pin(phone, alice.username, "2468")
    sign_in(phone, bob.username)
    answer = post(phone, "/scan/pin/switch", {"key": key, "verifier": "f" * 64})
    assert answer.status_code == 401
    assert who(phone) == bob.username


def test_signed_out_cannot_set_a_pin(app: Flask) -> None:
    phone = app.test_client()
    token = csrf_token(phone.get("/login").get_data(as_text=True))
    answer = phone.post("/scan/pin", json={"verifier": "0" * 64}, headers={"X-CSRFToken": token})
    assert answer.status_code == 401
