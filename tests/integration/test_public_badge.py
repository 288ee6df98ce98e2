"""The public /d/{ID} page is anonymous: its badge is cached, not a chain call per view."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.node import NodeKind
from tests.rpc_proxy import RpcProxy
from tests.support.accounts import Actor
from tests.support.floor import make_device, new_id
from tests.support.ledger import anchor

pytestmark = pytest.mark.integration


@pytest.fixture
def node_kind() -> NodeKind:
    return "anvil"


def _badge(client: FlaskClient, qr_id: str) -> str:
    html = client.get(f"/d/{qr_id}").get_data(as_text=True)
    return html.split('data-verification="', 1)[1].split('"', 1)[0]


def test_repeated_anonymous_views_make_no_chain_calls(
    client: FlaskClient, collector: Actor, plant: Actor, proxied_app: Flask, proxy: RpcProxy
) -> None:
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)
    public = proxied_app.test_client()

    assert _badge(public, qr_id) == "verified"
    after_first = proxy.calls
    assert after_first > 0  # the first view did ask the chain
    for _ in range(20):
        assert _badge(public, qr_id) == "verified"
    assert proxy.calls == after_first


def test_a_new_event_is_not_hidden_by_the_cache(
    client: FlaskClient, collector: Actor, plant: Actor, proxied_app: Flask
) -> None:
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)
    public = proxied_app.test_client()
    assert _badge(public, qr_id) == "verified"
    response = client.post(
        "/api/v1/events",
        json={"events": [{"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "A-1"}]},
        headers=plant.headers,
    )
    assert response.get_json()["results"][0]["status"] == "created"
    assert _badge(public, qr_id) == "pending"
