"""/portal/ledger reads each anchor from the chain once per process, not on every view.

Issue 15, finding 10: the page read every anchor of every submitter on each
view (4 s at 309 anchors). The chain calls are counted through a proxy in
front of a real anvil node.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from flask import Flask
from flask.testing import FlaskClient

from ledger.node import NodeKind
from tests.rpc_proxy import RpcProxy
from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld
from tests.support.ledger import anchor
from tests.support.web import sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def node_kind() -> NodeKind:
    return "anvil"


def anchors_shown(portal: FlaskClient) -> int:
    response = portal.get("/portal/ledger")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return int(html.split("Anchors on chain", 1)[1].split("(", 1)[1].split(")", 1)[0])


ANCHOR_READS = tuple(
    "0x" + keccak(text=signature)[:4].hex()
    for signature in ("anchorAt(address,uint256)", "anchorCount(address)")
)


def anchor_reads(proxy: RpcProxy) -> int:
    """The eth_calls that read a submitter's anchors (the trust checks' calls aside)."""
    return sum(data.startswith(ANCHOR_READS) for data in proxy.call_data)


def test_a_second_view_reads_no_anchor_again_and_a_new_anchor_alone_is_read(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    make_actor: Any,
    proxied_app: Flask,
    proxy: RpcProxy,
) -> None:
    for _ in range(4):
        Handheld(client, plant).collect()
        anchor(client, plant)
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000", password=PASSWORD)
    portal = proxied_app.test_client()
    portal.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert sign_in(portal, auditor.username).status_code == 302

    assert anchors_shown(portal) == 4
    first = anchor_reads(proxy)
    assert first == 1 + 4  # the first view read the count and every anchor
    calls = proxy.methods.count("eth_call")

    for _ in range(5):
        assert anchors_shown(portal) == 4
    assert anchor_reads(proxy) == first  # same chain head: not one anchor read
    assert proxy.methods.count("eth_call") == calls  # nor any other eth_call

    Handheld(client, plant).collect()
    anchor(client, plant)  # a new head, one more anchor
    assert anchors_shown(portal) == 5
    assert anchor_reads(proxy) - first == 2  # its count, and the new anchor alone
