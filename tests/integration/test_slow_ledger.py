"""A slow or hung ledger node never slows ingestion (SPEC §3: anchoring holds no
database write transaction across a chain call).

The anchoring worker talks to the real node through a JSON-RPC proxy that
holds each call until the test lets it through. While the worker waits on a
call, handhelds post events: each must be recorded before that call is
answered. A write that waited on the worker's chain call could not finish
until the test released it (it fails after SQLite's 30 s busy timeout), so
nothing here is timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.node import ManagedNode, NodeKind
from tests.rpc_proxy import RpcProxy
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import make_device, new_id
from tests.support.ledger import anchor
from tests.support.waiting import wait_until
from traceability import create_app
from traceability.app import trace_of

pytestmark = pytest.mark.integration

#: Calls the worker may make before it sends its anchor (start-up checks, reads).
MAX_CALLS = 40


@pytest.fixture
def node_kind() -> NodeKind:
    """One node kind is enough: what is tested is the worker's locking, not the node."""
    return "anvil"


def _env(settings: dict[str, Any]) -> dict[str, str]:
    """TRACE_* variables for a child process with these settings."""
    env = {}
    for key, value in settings.items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        env[f"TRACE_{key.upper()}"] = text
    return env


def _record_one(client: FlaskClient, actor: Actor) -> str:
    """Collect a new device; the item's status ("created" when recorded)."""
    body = {
        "events": [
            {
                "id": new_id(),
                "type": "collected",
                "category": "tv",
                "attributes": {"display": "lcd", "backlight": "led", "screen_in": 42},
                "weight_kg": "18.2",
            }
        ]
    }
    response = client.post("/api/v1/events", json=body, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["results"][0]["status"])


@pytest.mark.slow
# "slow": the worker's calls are answered one by one, each after the test has
# recorded events while it waited, until it has sent its anchor (start-up
# checks, reads, the send). "hung": its first call is never answered.
@pytest.mark.parametrize("node", ["slow", "hung"])
def test_events_are_recorded_while_the_worker_waits_on_each_node_call(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    ledger_node: ManagedNode,
    settings: dict[str, Any],
    node: str,
) -> None:
    for _ in range(2):
        make_device(client, collector, plant)
    anchor(client, plant)  # the registry exists and holds a confirmed batch
    for _ in range(2):
        make_device(client, collector, plant)  # pending: the worker will send them

    with RpcProxy(ledger_node.url, delay_s=None, gated=True) as proxy:
        # The worker runs as it does in production: a process of its own, here
        # patient enough never to give up on a call while the test holds it.
        worker_settings = {
            **settings,
            "ledger_url": proxy.url,
            "anchor_interval_s": 0.2,
            "ledger_worker_timeout_s": 600,
        }
        env = {**os.environ, **_env(worker_settings)}
        anchoring = subprocess.Popen(
            [sys.executable, "-m", "traceability.cli", "anchor", "--watch"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        waited_on: list[str] = []
        try:
            for let_through in range(MAX_CALLS):
                wait_until(  # the calls let through so far answered, the next one held
                    lambda: (
                        (proxy.held, proxy.answered) == (1, let_through)  # noqa: B023
                        or anchoring.poll() is not None
                    ),
                    timeout=60,
                    what="the worker to wait on the node",
                )
                assert anchoring.poll() is None, "the worker stopped instead of waiting"
                held = proxy.methods[-1]
                statuses = [_record_one(client, collector) for _ in range(3)]
                assert statuses == ["created"] * 3, f"while the worker waited on {held}"
                assert (proxy.held, proxy.answered) == (1, let_through), "the call was answered"
                waited_on.append(held)
                if node == "hung" or held == "eth_sendRawTransaction":
                    break
                proxy.let_one_through()
            if node == "hung":
                time.sleep(1)  # the worker keeps waiting; it neither gives up nor dies
                assert anchoring.poll() is None and proxy.answered == 0
                assert _record_one(client, collector) == "created"
        finally:
            anchoring.kill()
            anchoring.communicate()  # reaps it and closes its pipe

    if node == "slow":
        # the worker went all the way: checks, reads and the send of its anchor
        assert waited_on[-1] == "eth_sendRawTransaction", waited_on
        assert {"eth_chainId", "eth_call"} <= set(waited_on), waited_on


def test_anchoring_on_demand_answers_promptly_when_the_node_hangs(
    client: FlaskClient, collector: Actor, plant: Actor, ledger_node: ManagedNode, settings: dict
) -> None:
    make_device(client, collector, plant)
    anchor(client, plant)  # registry deployed and trusted while the node answered
    make_device(client, collector, plant)
    with RpcProxy(ledger_node.url, delay_s=None) as proxy:
        hung = create_app({**settings, "ledger_url": proxy.url, "ledger_request_timeout_s": 1})
        start = time.perf_counter()
        response = hung.test_client().post(
            "/api/v1/anchors", headers=manager_headers(client, plant)
        )
        elapsed = time.perf_counter() - start
        trace_of(hung).engine.dispose()
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "ledger_unavailable"
    assert elapsed < 5  # a few one-second calls at most, never the worker's patience
