"""The demo served on a real anvil node (rpc mode), for evidence reports and in-browser
verification: the browser reads the registry through the node's JSON-RPC."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from ledger.canonical import canonical_value
from ledger.node import DEV_KEYS, ManagedNode
from tests.support.live import LiveServer, live_server
from traceability import demo
from traceability.anchoring.service import anchor_now
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.custody.models import Event


@contextmanager
def anvil_demo(directory: Path, node: ManagedNode, devices: int = 120) -> Iterator[LiveServer]:
    """The demo quarter on ``node``, anchored and audited. Anchored today, so lateness is
    allowed for widely (the pages, not the lateness rule, are under test)."""
    keys = DEV_KEYS[node.kind]
    with (
        live_server(directory, ledger_mode="rpc", ledger_url=node.url, ledger_owner_key=keys[0],
                    ledger_key=keys[1], anchor_max_delay_s=100 * 365 * 86_400,
                    anchor_in_background=False) as live,
        pytest.MonkeyPatch.context() as mp,
    ):  # fmt: skip
        mp.setattr(
            "traceability.accounts.services.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        trace = trace_of(live.app)
        demo.load(trace, devices=devices, seed=2026)
        assert anchor_now(trace.engine, trace.ledger).events_anchored > 0
        refresh(trace, force=True)
        yield live


def dismantled_at(app: Flask, plant: str, skip: int = 0) -> str:
    """A device dismantled at ``plant`` (the ``skip``-th by QR ID)."""
    with Session(trace_of(app).engine) as session:
        query = (
            select(Event.device)
            .where(Event.type == "dismantled", Event.org == plant)
            .order_by(Event.device)
        )
        return str(list(session.exec(query))[skip])


def edit_receipt(app: Flask, qr_id: str) -> str:
    """What the plant's DB admin does after anchoring: the receipt's payload lightened in the
    row (a JSON value PostgreSQL and SQLite both take). The event's id."""
    with Session(trace_of(app).engine) as session:
        event = session.exec(
            select(Event).where(Event.device == qr_id, Event.type == "received")
        ).one()
        payload = {**json.loads(canonical_value(event.payload)), "weight_kg": "0.5"}
    with trace_of(app).engine.begin() as conn:
        conn.execute(update(Event).where(Event.id == event.id).values(payload=payload))  # type: ignore[arg-type]
    return str(event.id)
