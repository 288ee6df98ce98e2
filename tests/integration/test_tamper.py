"""Tampering with the database after anchoring is found: edits, deletions, a reset chain."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, delete, select, update
from sqlmodel import Session

from ledger.canonical import digest_hex
from ledger.node import ManagedNode
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import make_device
from tests.support.ledger import anchor, event_ids, statuses, submitter, verification
from traceability.anchoring.connection import open_ledger
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.anchoring.repair import repair
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.verification.reconciliation import audit_anchors
from traceability.verification.services import content_of

pytestmark = pytest.mark.integration

EVENT = Event.__table__  # type: ignore[attr-defined]
LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]
BATCH = AnchorBatch.__table__  # type: ignore[attr-defined]


def invoke(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj=trace_of(app), catch_exceptions=False)


def tamper(app: Flask, fn: Callable[[Connection], None]) -> None:
    """Run ``fn`` on a raw connection: the attacker goes around the application."""
    with trace_of(app).engine.begin() as conn:
        fn(conn)


def event_row(conn: Connection, event_id: str) -> Any:
    return conn.execute(select(EVENT).where(EVENT.c.id == event_id)).one()


@pytest.fixture
def anchored(client: FlaskClient, collector: Actor, plant: Actor) -> list[str]:
    """Three devices of three events each, all anchored and verified."""
    qr_ids = [make_device(client, collector, plant, weight_kg=w) for w in ("30.5", "12", "7.25")]
    assert anchor(client, plant)["anchored"] == 9 + 2  # and the register's two events
    for qr_id in qr_ids:
        assert verification(client, plant, qr_id)["verified"] is True
    return qr_ids


def test_edited_payload_is_tampered_and_other_devices_still_verify(
    app: Flask, client: FlaskClient, plant: Actor, anchored: list[str]
) -> None:
    victim, *others = anchored
    received = event_ids(client, plant, victim)[2]

    def lighter(conn: Connection) -> None:
        payload = event_row(conn, received).payload
        assert payload == {"weight_g": 30500}
        conn.execute(
            update(EVENT).where(EVENT.c.id == received).values(payload={"weight_g": 20500})
        )

    tamper(app, lighter)

    result = verification(client, plant, victim)
    assert result["verified"] is False
    assert [e["status"] for e in result["events"]] == ["verified", "verified", "tampered"]
    for qr_id in others:
        assert verification(client, plant, qr_id)["verified"] is True


def test_a_payload_without_a_canonical_form_is_tampered_not_an_error(
    app: Flask, client: FlaskClient, plant: Actor, anchored: list[str]
) -> None:
    """A float where the log holds grams has no RFC 8785 digest: still just tampered."""
    victim, *others = anchored
    received = event_ids(client, plant, victim)[2]
    tamper(
        app,
        lambda conn: conn.execute(
            update(EVENT).where(EVENT.c.id == received).values(payload={"weight_g": 30500.0})
        ),
    )
    result = verification(client, plant, victim)
    assert [e["status"] for e in result["events"]] == ["verified", "verified", "tampered"]
    assert verification(client, plant, others[0])["verified"] is True


def test_edited_payload_with_recomputed_digest_is_still_found(
    app: Flask, client: FlaskClient, plant: Actor, anchored: list[str]
) -> None:
    victim = anchored[1]
    shipped = event_ids(client, plant, victim)[1]

    def forge(conn: Connection) -> None:
        row = event_row(conn, shipped)
        forged = {**row._mapping, "payload": {**row.payload, "to": "DIS-XX"}}
        digest = digest_hex(content_of(SimpleNamespace(**forged)))
        conn.execute(
            update(EVENT)
            .where(EVENT.c.id == shipped)
            .values(payload=forged["payload"], digest=digest)
        )

    tamper(app, forge)

    # Its digest no longer is the anchored leaf; the next event's prev no longer names it.
    assert statuses(client, plant, victim) == ["verified", "tampered", "broken_chain"]
    assert verification(client, plant, anchored[0])["verified"] is True


def test_deleted_middle_event_breaks_the_device_chain(
    app: Flask, client: FlaskClient, plant: Actor, anchored: list[str]
) -> None:
    victim = anchored[2]
    ids = event_ids(client, plant, victim)

    def remove(conn: Connection) -> None:
        seq = event_row(conn, ids[1]).seq
        conn.execute(delete(LEAF).where(LEAF.c.event_seq == seq))
        conn.execute(delete(EVENT).where(EVENT.c.seq == seq))

    tamper(app, remove)

    result = verification(client, plant, victim)
    assert result["verified"] is False
    assert [(e["id"], e["status"]) for e in result["events"]] == [
        (ids[0], "verified"),
        (ids[2], "broken_chain"),
    ]
    # A device sharing the batch has an intact history, but the batch lacks an event.
    neighbour = verification(client, plant, anchored[0])
    assert {e["status"] for e in neighbour["events"]} == {"verified"}
    assert neighbour["verified"] is False
    assert "lacks 1 anchored event(s)" in neighbour["ledger_problem"]
    with Session(trace_of(app).engine) as session:
        audit = audit_anchors(session, submitter(app), submitter(app).address)
    assert audit.missing_events and list(audit.missing_events.values()) == [1]


def test_deleted_anchored_batch_is_found_from_the_chain(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    gone = make_device(client, collector, plant)
    first = anchor(client, plant)
    kept = make_device(client, collector, plant)
    second = anchor(client, plant)
    assert first["root"] != second["root"]

    def erase_batch(conn: Connection) -> None:
        batch_id = conn.execute(select(BATCH.c.id).where(BATCH.c.root == first["root"])).one()[0]
        seqs = [
            s for (s,) in conn.execute(select(LEAF.c.event_seq).where(LEAF.c.batch_id == batch_id))
        ]
        conn.execute(delete(LEAF).where(LEAF.c.batch_id == batch_id))
        conn.execute(delete(EVENT).where(EVENT.c.seq.in_(seqs)))
        conn.execute(delete(BATCH).where(BATCH.c.id == batch_id))

    tamper(app, erase_batch)

    # What is left in the database is self-consistent ...
    assert verification(client, plant, kept)["verified"] is True
    # ... but the chain remembers every anchor the plant made.
    with Session(trace_of(app).engine) as session:
        audit = audit_anchors(session, submitter(app), submitter(app).address)
    assert audit.on_chain == 2
    assert audit.missing_batches == [first["root"]]
    assert not audit.ok

    result = invoke(app, "verify", "--all")
    assert result.exit_code == 1, result.output
    assert first["root"] in result.output
    assert "missing from the database" in result.output
    assert result.output.strip().splitlines()[-1] == "NOT VERIFIED"
    # The device whose whole history went with the batch does not verify either.
    assert verification(client, plant, gone)["verified"] is False


class TestChainReset:
    """The node loses its chain (state deleted): say so, and repair from the database."""

    @pytest.fixture
    def ledger_node(self, private_node: ManagedNode) -> ManagedNode:
        return private_node

    def reset(self, node: ManagedNode) -> None:
        node.stop()
        state = node.state_path
        if state.is_dir():
            shutil.rmtree(state)
        else:
            state.unlink()
        node.start()

    def test_reset_chain_shows_missing_on_chain_and_repair_restores_it(
        self,
        app: Flask,
        client: FlaskClient,
        collector: Actor,
        plant: Actor,
        ledger_node: ManagedNode,
    ) -> None:
        qr_ids = [make_device(client, collector, plant) for _ in range(2)]
        anchor(client, plant)
        more = make_device(client, collector, plant)
        anchor(client, plant)
        qr_ids.append(more)

        self.reset(ledger_node)

        for qr_id in qr_ids:
            result = verification(client, plant, qr_id)
            assert result["verified"] is False
            assert {e["status"] for e in result["events"]} == {"missing_on_chain"}
            assert "anchor --repair" in result["ledger_problem"]
        cli = invoke(app, "verify", qr_ids[0])
        assert cli.exit_code == 1
        assert "missing_on_chain" in cli.output and "anchor --repair" in cli.output
        every = invoke(app, "verify", "--all")
        assert every.exit_code == 1
        assert "missing_on_chain" in every.output and "anchor --repair" in every.output
        blocked = client.post("/api/v1/anchors", headers=manager_headers(client, plant))
        assert blocked.status_code == 503
        assert "anchor --repair" in blocked.get_json()["error"]["message"]

        repaired = invoke(app, "anchor", "--repair")

        assert repaired.exit_code == 0, repaired.output
        # the devices' nine events and the register's two
        assert "repair: 11 events re-anchored in 2 batch(es)" in repaired.output
        for qr_id in qr_ids:
            assert verification(client, plant, qr_id)["verified"] is True
        assert invoke(app, "verify", "--all").exit_code == 0
        assert submitter(app).anchor_count(submitter(app).address) == 2
        assert (
            repair(trace_of(app).engine, open_ledger(trace_of(app).ledger), confirmations=0).sent
            == []
        )
