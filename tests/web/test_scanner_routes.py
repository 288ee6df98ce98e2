"""The handheld app's server side: its shell, context, service worker and manifest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import SQLModel

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import OUTPUTS, Handheld, receive
from tests.support.manifests import lot_shipment
from tests.support.web import sign_in
from traceability import create_app
from traceability.app import trace_of

STATIC = Path(__file__).parents[2] / "static"


@pytest.fixture
def plant(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("DIS-SZ", "dismantler", password=PASSWORD)


def test_the_context_names_the_user_destinations_and_the_lots_to_act_on(
    client: FlaskClient,
    plant: Actor,
    collector: Actor,
    make_actor: Callable[..., Actor],
) -> None:
    processor = make_actor("PRO-SZ", "processor")
    make_actor("DIS-BJ", "dismantler", region="110000")
    Handheld(client, plant).dismantle(receive(client, collector, plant), OUTPUTS)
    Handheld(client, plant).record(
        {
            "type": "lot_shipped",
            "lot": "DIS-SZ-pcb-00001",
            "to": processor.org,
            **lot_shipment(client.application, "DIS-SZ-pcb-00001"),
        },
    )
    sign_in(client, plant.username)
    context = client.get("/scan/context.json").get_json()
    assert context["user"] == {
        "id": context["user"]["id"],
        "username": plant.username, "org": "DIS-SZ", "kind": "dismantler", "role": "operator",
    }  # fmt: skip
    assert context["csrf_token"]
    assert [o["code"] for o in context["destinations"]["device"]] == ["DIS-BJ"]
    assert [o["code"] for o in context["destinations"]["lot"]] == ["PRO-SZ"]
    assert [lot["code"] for lot in context["lots"]["open"]] == ["DIS-SZ-plastics-00001"]
    assert context["lots"]["incoming"] == context["lots"]["received"] == []


def test_a_processor_is_told_the_manifests_to_weigh_of_each_incoming_lot(
    client: FlaskClient, plant: Actor, collector: Actor, make_actor: Callable[..., Actor]
) -> None:
    processor = make_actor("PRO-SZ", "processor", password=PASSWORD)
    Handheld(client, plant).dismantle(receive(client, collector, plant), OUTPUTS)
    shipment = lot_shipment(client.application, "DIS-SZ-pcb-00001")
    Handheld(client, plant).record(
        {"type": "lot_shipped", "lot": "DIS-SZ-pcb-00001", "to": processor.org, **shipment}
    )
    sign_in(client, processor.username)

    [incoming] = client.get("/scan/context.json").get_json()["lots"]["incoming"]

    assert incoming["manifests"] == [shipment["manifests"][0]["number"]]


def test_the_context_is_401_when_signed_out_and_403_for_a_regulator(
    client: FlaskClient, make_actor: Callable[..., Actor]
) -> None:
    response = client.get("/scan/context.json")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "signed_out"
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000", password=PASSWORD)
    sign_in(client, auditor.username)
    assert client.get("/scan/context.json").status_code == 403


def test_the_service_worker_is_served_under_scan_so_it_controls_the_app(
    client: FlaskClient,
) -> None:
    if not (STATIC / "dist" / "scan" / "sw.js").exists():
        pytest.skip("run `make assets` first")
    response = client.get("/scan/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/scan/"
    assert "no-cache" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert "/static/dist/scan/zxing_reader.wasm" in body  # precached with the app
    response.close()


def test_the_manifest_makes_the_app_installable(client: FlaskClient) -> None:
    manifest = client.get("/scan/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body: dict[str, Any] = manifest.get_json(force=True)
    assert (body["start_url"], body["scope"], body["display"]) == ("/scan/", "/scan/", "standalone")
    for icon in body["icons"]:
        with client.get(icon["src"]) as response:  # a file response: closed after use
            assert response.status_code == 200, icon["src"]
    assert {i["sizes"] for i in body["icons"]} >= {"192x192", "512x512"}


def test_the_app_page_allows_webassembly_and_the_camera_but_nothing_from_elsewhere(
    client: FlaskClient, plant: Actor
) -> None:
    sign_in(client, plant.username)
    policy = client.get("/scan/").headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in policy
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy


def test_behind_a_proxy_each_client_address_is_counted_on_its_own(
    settings: dict[str, Any], make_actor: Callable[..., Actor]
) -> None:
    app: Flask = create_app({**settings, "proxy_hops": 1, "login_free_failures_per_address": 2})
    SQLModel.metadata.create_all(trace_of(app).engine)
    try:
        operator = make_actor("COL-SZ", "collector", password=PASSWORD)
        first, second = app.test_client(), app.test_client()
        first.environ_base["HTTP_X_FORWARDED_FOR"] = "192.168.10.21"
        second.environ_base["HTTP_X_FORWARDED_FOR"] = "192.168.10.22"
        for name in ("guess1", "guess2"):
            assert sign_in(first, name, "wrong password").status_code == 401
        assert sign_in(first, operator.username).status_code == 429
        assert sign_in(second, operator.username).status_code == 302
    finally:
        trace_of(app).engine.dispose()
