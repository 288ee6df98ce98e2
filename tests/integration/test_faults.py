"""Faults on a real anvil: the node dies, the worker dies mid-send, two workers race."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from ledger.node import ManagedNode, NodeKind
from tests.support.accounts import Actor, manager_headers
from tests.support.databases import PG_URL
from tests.support.floor import Handheld, make_device, new_id
from tests.support.ledger import (
    anchor,
    statuses,
    submitter,
    tally,
    verification,
    wait_for_state_dump,
)
from tests.support.waiting import wait_until
from traceability import create_app
from traceability.anchoring import worker
from traceability.anchoring.connection import ensure_ready, open_ledger
from traceability.anchoring.models import AnchorBatch, AnchorState
from traceability.anchoring.service import anchor_now
from traceability.app import trace_of

pytestmark = pytest.mark.integration


@pytest.fixture
def node_kind() -> NodeKind:
    return "anvil"


@pytest.fixture
def ledger_node(private_node: ManagedNode) -> ManagedNode:
    return private_node


def test_node_down_ingestion_continues_and_nothing_is_lost(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, ledger_node: ManagedNode
) -> None:
    early = make_device(client, collector, plant)
    assert anchor(client, plant)["anchored"] == 3 + 2  # and the register's two events
    # anvil dumps its state every second (--state-interval 1): wait for a dump with the anchor.
    wait_for_state_dump(ledger_node.state_path, submitter(app).block_number())
    ledger_node.kill()

    late = [make_device(client, collector, plant) for _ in range(2)]
    results = Handheld(client, plant).post(
        {"id": new_id(), "type": "stored", "qr_id": early, "area": "B-1"}
    )
    assert [r["status"] for r in results] == ["created"]
    down = client.post("/api/v1/anchors", headers=manager_headers(client, plant))
    assert down.status_code == 503
    assert down.get_json()["error"]["code"] == "ledger_unavailable"
    # Verifying needs the chain: a clear 503 too, never a 500.
    unverifiable = client.get(f"/api/v1/devices/{early}/verify", headers=plant.headers)
    assert unverifiable.status_code == 503
    assert unverifiable.get_json()["error"]["code"] == "ledger_unavailable"
    with Session(trace_of(app).engine) as session:
        assert worker.pending_count(session) == 7
    assert tally(app).events == 12

    ledger_node.start()

    anchored = anchor(client, plant)
    assert anchored["anchored"] == 7
    counts = tally(app)
    assert counts.events == counts.leaves == counts.distinct_leaves == counts.batch_sizes == 12
    assert submitter(app).anchor_count(submitter(app).address) == counts.batches == 2
    for qr_id in (early, *late):
        assert verification(client, plant, qr_id)["verified"] is True


def test_worker_killed_between_sending_and_recording_does_not_anchor_twice(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_ids = [make_device(client, collector, plant) for _ in range(2)]
    engine, handle = trace_of(app).engine, open_ledger(trace_of(app).ledger)
    with Session(engine, expire_on_commit=False) as session:
        ensure_ready(session, handle)
        batch = worker.cut_batch(session, max_size=100)
    assert batch is not None and batch.size == 6 + 2  # and the register's two events
    ledger = handle.submitter
    before = ledger.anchor_count(ledger.address)
    # The worker sent the root, then died before writing `submitted` to its row.
    sent = ledger.send_anchor(bytes.fromhex(batch.root), batch.size)
    mined = ledger.wait_receipt(sent.tx_hash)
    assert mined.status

    run = worker.run_once(engine, handle, max_size=100, confirmations=0)

    assert run.sent == [] and run.errors == []
    assert run.confirmed == [batch.root]
    assert ledger.anchor_count(ledger.address) == before + 1
    with Session(engine) as session:
        row = session.get(AnchorBatch, batch.id)
        assert row is not None
        assert row.state == AnchorState.confirmed
        assert (row.block_number, row.block_hash) == (mined.block_number, mined.block_hash)
        # The lost tx hash is recovered, so proof bundles still name it.
        assert row.tx_hash == sent.tx_hash
    for qr_id in qr_ids:
        assert statuses(client, plant, qr_id) == ["verified"] * 3
    assert worker.run_once(engine, handle, max_size=100, confirmations=0).final == [batch.root]
    assert ledger.anchor_count(ledger.address) == before + 1


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs TRACE_TEST_DATABASE_URL (PostgreSQL)")
def test_two_workers_racing_on_postgresql_never_anchor_anything_twice(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, settings: dict[str, Any]
) -> None:
    for _ in range(4):
        make_device(client, collector, plant)
    with Session(trace_of(app).engine) as session:
        ensure_ready(
            session, open_ledger(trace_of(app).ledger)
        )  # the registry exists before workers start
    workers = [create_app(settings) for _ in range(2)]
    start, stop = threading.Barrier(len(workers) + 1), threading.Event()
    failures: list[BaseException] = []
    passes: list[worker.AnchorRun] = []

    def work(worker_app: Flask) -> None:
        engine, handle = trace_of(worker_app).engine, open_ledger(trace_of(worker_app).ledger)
        try:
            start.wait()
            while not stop.is_set():
                passes.append(worker.run_once(engine, handle, max_size=4, confirmations=0))
        except BaseException as exc:
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    start.wait()
    for _ in range(6):  # events keep arriving while both workers anchor
        make_device(client, collector, plant)
    arrived = len(passes)
    wait_until(lambda: len(passes) >= arrived + len(workers), timeout=60, what="more passes")
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    anchor_now(
        trace_of(app).engine, trace_of(app).ledger
    )  # whatever arrived after the workers' last pass
    counts = tally(app)
    assert counts.events == 30 + 2  # and the register's two events
    assert counts.leaves == counts.distinct_leaves == counts.batch_sizes == counts.events
    assert counts.distinct_roots == counts.batches
    ledger = submitter(app)
    on_chain = [r.root.removeprefix("0x") for r in ledger.anchors_of(ledger.address)]
    assert len(on_chain) == len(set(on_chain)) == counts.batches
    assert sum(len(p.sent) for p in passes) <= counts.batches
    with Session(trace_of(app).engine) as session:
        rows = session.exec(select(AnchorBatch)).all()
        assert {r.root for r in rows} == set(on_chain)
        assert {r.state for r in rows} <= {AnchorState.confirmed, AnchorState.final}


def _rpc(url: str, method: str, *params: Any) -> Any:
    import requests

    reply = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10
    ).json()
    assert "error" not in reply, reply
    return reply["result"]


def test_anchor_that_vanished_from_the_same_chain_is_found_and_resent(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, ledger_node: ManagedNode
) -> None:
    """Same genesis, same contract, but the block holding our root is gone
    (a node that crashed before dumping its state, or a reorg): the worker
    notices on its next pass and anchors the batch again."""
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)  # deploys the registry and anchors the first events
    snapshot = _rpc(ledger_node.url, "evm_snapshot")
    second = make_device(client, collector, plant)
    assert anchor(client, plant)["anchored"] == 3
    assert statuses(client, plant, second) == ["verified"] * 3

    assert _rpc(ledger_node.url, "evm_revert", snapshot) is True
    assert set(statuses(client, plant, second)) == {"missing_on_chain"}

    with app.app_context():
        run = anchor_now(trace_of(app).engine, trace_of(app).ledger)
    assert len(run.lost) == 1
    assert run.events_anchored == 3
    assert statuses(client, plant, second) == ["verified"] * 3
    assert statuses(client, plant, qr_id) == ["verified"] * 3
    counts = tally(app)
    assert counts.batches == 2
    assert submitter(app).anchor_count(submitter(app).address) == 2
