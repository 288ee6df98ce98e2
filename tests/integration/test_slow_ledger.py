"""A slow or hung ledger node never slows ingestion (SPEC §3: anchoring holds no
database write transaction across a chain call).

The anchoring worker talks to the real node through a small JSON-RPC proxy
that answers every call only after a delay, or never; meanwhile handhelds keep
posting events. Their latency must stay what it is without the worker.
"""

from __future__ import annotations

import json
import os
import statistics
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

# The node answers each call after 5 s: far above a normal write (tens of ms).
DELAY_S = 5.0
WINDOW_S = 3.0

pytestmark = pytest.mark.integration


@pytest.fixture
def node_kind() -> NodeKind:
    """One node kind is enough: what is tested is the worker's locking, not the node."""
    return "anvil"


def _post_for(client: FlaskClient, actor: Actor, seconds: float) -> list[tuple[float, int]]:
    """(latency, status) of one-event posts, one every 50 ms for ``seconds``."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(_post_one(client, actor))
        time.sleep(0.05)
    return samples


def _env(settings: dict[str, Any]) -> dict[str, str]:
    """TRACE_* variables for a child process with these settings."""
    env = {}
    for key, value in settings.items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        env[f"TRACE_{key.upper()}"] = text
    return env


def _post_one(client: FlaskClient, actor: Actor) -> tuple[float, int]:
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
    start = time.perf_counter()
    response = client.post("/api/v1/events", json=body, headers=actor.headers)
    elapsed = time.perf_counter() - start
    status = response.status_code
    if status == 200 and response.get_json()["results"][0]["status"] != "created":
        status = 0
    return elapsed, status


@pytest.mark.slow
# A slow node is watched for six of its calls: the worker's start-up checks
# take four, so the calls that follow (reading and sending anchors) are in the
# window too. A hung node holds the worker at its first call.
@pytest.mark.parametrize(
    ("delay_s", "window_s"), [(DELAY_S, 6 * DELAY_S), (None, 3 * DELAY_S)], ids=["slow", "hung"]
)
def test_ingestion_keeps_its_pace_while_the_worker_waits_on_the_node(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    ledger_node: ManagedNode,
    settings: dict[str, Any],
    delay_s: float | None,
    window_s: float,
) -> None:
    for _ in range(2):
        make_device(client, collector, plant)
    anchor(client, plant)  # the registry exists and holds a confirmed batch
    for _ in range(2):
        make_device(client, collector, plant)  # pending: the worker will send them

    before = _post_for(client, collector, WINDOW_S)

    with RpcProxy(ledger_node.url, delay_s) as proxy:
        # The worker runs as it does in production: a process of its own.
        worker_settings = {**settings, "ledger_url": proxy.url, "anchor_interval_s": 0.2}
        env = {**os.environ, **_env(worker_settings)}
        anchoring = subprocess.Popen(
            [sys.executable, "-m", "traceability.cli", "anchor", "--watch"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(
                lambda: proxy.calls > 0 or anchoring.poll() is not None,
                timeout=60,
                what="the worker to call the node",
            )
            during = _post_for(client, collector, window_s)
            assert proxy.calls > 0, "the worker never reached the node"
            assert anchoring.poll() is None, "the worker stopped instead of waiting for the node"
        finally:
            anchoring.kill()
            anchoring.communicate()  # reaps it and closes its pipe

    after = _post_for(client, collector, WINDOW_S)

    for window in (before, during, after):
        assert {status for _, status in window} == {200}, "an event was not recorded"
    # "Normal" is measured just before and just after, on the same busy machine.
    normal = max(statistics.median(t for t, _ in w) for w in (before, after))
    slowest_normal = max(t for w in (before, after) for t, _ in w)
    assert statistics.median(t for t, _ in during) <= 2 * normal
    # No single write waited on the node (each chain call takes DELAY_S or forever).
    assert max(t for t, _ in during) <= max(2 * slowest_normal, 1.0)


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
