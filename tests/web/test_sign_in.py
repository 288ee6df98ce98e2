"""Browser sign-in (/login, /logout): limited attempts, revocable sessions, CSRF, cookie flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import Session, SQLModel

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import CRT_TV
from tests.support.web import csrf_token, sign_in
from traceability import create_app
from traceability.accounts import services as accounts
from traceability.accounts.models import BrowserSession
from traceability.app import trace_of


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser that asks for English pages."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def operator(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("COL-SZ", "collector", password=PASSWORD)


@pytest.fixture
def other_worker(settings: dict[str, Any]) -> Iterator[Callable[..., FlaskClient]]:
    """Second apps on the same database (with other settings): what other gunicorn workers are."""
    apps: list[Flask] = []

    def start(**overrides: Any) -> FlaskClient:
        app = create_app({**settings, **overrides})
        apps.append(app)
        SQLModel.metadata.create_all(trace_of(app).engine)
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    yield start
    for app in apps:
        trace_of(app).engine.dispose()


def signed_in_page(client: FlaskClient) -> int:
    return client.get("/scan/").status_code


def test_an_anonymous_browser_is_sent_to_sign_in_and_back(
    client: FlaskClient, operator: Actor
) -> None:
    response = client.get("/scan/?step=ship")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/scan/?step%3Dship"
    response = sign_in(client, operator.username, next_path="/scan/?step=ship")
    assert response.status_code == 302
    assert response.headers["Location"] == "/scan/?step=ship"
    page = client.get("/scan/")
    assert page.status_code == 200
    assert operator.username in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "x"],
)
def test_sign_in_never_redirects_off_the_site(
    client: FlaskClient, operator: Actor, target: str
) -> None:
    response = sign_in(client, operator.username, next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/scan/"


def test_wrong_passwords_delay_the_account_on_this_device_even_for_the_right_one(
    client: FlaskClient, operator: Actor
) -> None:
    free = 5  # the default of TRACE_LOGIN_FREE_FAILURES
    for _ in range(free):
        assert sign_in(client, operator.username, "wrong password").status_code == 401
    response = sign_in(client, operator.username)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 5  # TRACE_LOGIN_DELAY_S
    text = response.get_data(as_text=True)
    assert "Too many failed sign-ins for this account from this device. Try again in" in text
    assert f"Try again in {response.headers['Retry-After']} s." in text
    assert signed_in_page(client) == 302


def test_the_wait_is_said_in_chinese_on_a_chinese_page(app: Flask, operator: Actor) -> None:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    for _ in range(5):
        sign_in(client, operator.username, "wrong password")
    response = sign_in(client, operator.username)
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert f"请 {response.headers['Retry-After']} 秒后再试" in text
    assert "Too many" not in text


def test_an_attacker_failing_from_one_address_never_keeps_the_user_out_of_another(
    app: Flask, operator: Actor
) -> None:
    attacker, user = app.test_client(), app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    user.environ_base["REMOTE_ADDR"] = "192.168.10.21"
    answers = {sign_in(attacker, operator.username, f"guess {n}").status_code for n in range(40)}
    assert answers == {401, 429}  # wrong, then made to wait
    assert sign_in(attacker, operator.username).status_code == 429  # even the right one, there
    response = sign_in(user, operator.username)
    assert response.status_code == 302
    assert signed_in_page(user) == 200


def test_the_delay_holds_on_every_worker(
    client: FlaskClient, operator: Actor, other_worker: Callable[..., FlaskClient]
) -> None:
    for _ in range(5):
        assert sign_in(client, operator.username, "wrong password").status_code == 401
    assert sign_in(other_worker(), operator.username).status_code == 429


@pytest.mark.parametrize("settings_overrides", [{"login_free_failures_per_address": 3}])
def test_guessing_many_usernames_from_one_address_delays_that_address(
    make_actor: Callable[..., Actor],
    other_worker: Callable[..., FlaskClient],
    settings_overrides: dict[str, Any],
) -> None:
    client = other_worker(**settings_overrides)
    operator = make_actor("COL-SZ", "collector", password=PASSWORD)
    for name in ("admin", "root", "zhang.wei"):
        assert sign_in(client, name, "123456").status_code == 401
    response = sign_in(client, operator.username)
    assert response.status_code == 429
    assert "from this device" in response.get_data(as_text=True)


def test_a_successful_sign_in_starts_the_account_count_afresh(
    client: FlaskClient, operator: Actor
) -> None:
    for _ in range(4):
        sign_in(client, operator.username, "wrong password")
    assert sign_in(client, operator.username).status_code == 302
    for _ in range(4):
        assert sign_in(client, operator.username, "wrong password").status_code == 401
    assert sign_in(client, operator.username).status_code == 302


def test_a_disabled_user_loses_the_session_and_cannot_sign_in(
    app: Flask, client: FlaskClient, operator: Actor
) -> None:
    sign_in(client, operator.username)
    assert signed_in_page(client) == 200
    with Session(trace_of(app).engine) as session:
        accounts.disable_user(session=session, username=operator.username)
        session.commit()
    assert signed_in_page(client) == 302
    assert sign_in(client, operator.username).status_code == 401


def test_signing_out_ends_the_session_even_for_a_copy_of_its_cookie(
    app: Flask, client: FlaskClient, operator: Actor
) -> None:
    sign_in(client, operator.username)
    copied = client.get_cookie("session")
    assert copied is not None
    token = csrf_token(client.get("/scan/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert signed_in_page(client) == 302
    thief = app.test_client()
    thief.set_cookie("session", copied.value)
    assert signed_in_page(thief) == 302
    assert thief.get(f"/api/v1/devices/{'0' * 14}").status_code == 401


def test_a_session_expires(app: Flask, client: FlaskClient, operator: Actor) -> None:
    sign_in(client, operator.username)
    assert signed_in_page(client) == 200
    # Its end brought forward in the database, not waited for (a loaded machine
    # took longer than a one-second session to show the first page).
    with trace_of(app).engine.begin() as conn:
        conn.execute(
            update(BrowserSession).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )
    assert signed_in_page(client) == 302


def test_forms_without_the_csrf_token_are_refused(client: FlaskClient, operator: Actor) -> None:
    response = client.post("/login", data={"username": operator.username, "password": PASSWORD})
    assert response.status_code == 400
    assert signed_in_page(client) == 302
    sign_in(client, operator.username)
    assert client.post("/logout").status_code == 400
    assert signed_in_page(client) == 200  # still signed in: the forged sign-out did nothing


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://trace.example.cn", True), ("http://10.0.0.5:5000", False)]
)
def test_the_session_cookie_is_httponly_lax_and_secure_over_https(
    make_actor: Callable[..., Actor],
    other_worker: Callable[..., FlaskClient],
    public_url: str,
    secure: bool,
) -> None:
    client = other_worker(public_url=public_url)
    operator = make_actor("COL-SZ", "collector", password=PASSWORD)
    response = sign_in(client, operator.username)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in cookie.lower()
    assert ("secure" in flags) is secure


def test_a_user_whose_organisation_kind_has_no_scanner_gets_403(
    client: FlaskClient, make_actor: Callable[..., Actor]
) -> None:
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000", password=PASSWORD)
    assert sign_in(client, auditor.username).status_code == 302
    response = client.get("/scan/")
    assert response.status_code == 403
    assert "No access" in response.get_data(as_text=True)


class TestTheApiWithASessionCookie:
    def test_reads_need_no_csrf_token_but_writes_do(
        self, client: FlaskClient, operator: Actor
    ) -> None:
        sign_in(client, operator.username)
        refused = client.post("/api/v1/devices", json=CRT_TV)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "csrf_failed"
        assert refused.get_json()["error"]["field"] == "X-CSRFToken"
        token = csrf_token(client.get("/scan/").get_data(as_text=True))
        created = client.post("/api/v1/devices", json=CRT_TV, headers={"X-CSRFToken": token})
        assert created.status_code == 201, created.get_json()
        qr_id = created.get_json()["qr_id"]
        assert client.get(f"/api/v1/devices/{qr_id}").status_code == 200
        # Only the one device with the token was recorded.
        listed = client.get(f"/api/v1/devices/{qr_id}").get_json()
        assert [e["type"] for e in listed["events"]] == ["collected"]

    def test_a_bearer_token_needs_no_csrf_token_even_beside_a_session(
        self, client: FlaskClient, operator: Actor
    ) -> None:
        sign_in(client, operator.username)
        response = client.post("/api/v1/devices", json=CRT_TV, headers=operator.headers)
        assert response.status_code == 201

    def test_a_signed_out_browser_reaches_nothing(
        self, client: FlaskClient, operator: Actor
    ) -> None:
        sign_in(client, operator.username)
        token = csrf_token(client.get("/scan/").get_data(as_text=True))
        client.post("/logout", data={"csrf_token": token})
        response = client.post("/api/v1/devices", json=CRT_TV, headers={"X-CSRFToken": token})
        assert response.status_code == 401
        assert signed_in_page(client) == 302
