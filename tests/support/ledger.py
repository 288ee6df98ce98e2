"""Anchoring and verifying against a ledger: steps, counts, the published trust."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from ledger.chain import Web3Ledger
from ledger.node import DEV_KEYS, ManagedNode
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld
from tests.support.waiting import wait_until
from traceability import create_app
from traceability.anchoring.connection import open_ledger, read_meta
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event


def anchor(client: FlaskClient, actor: Actor) -> dict[str, Any]:
    """Anchor now, as a manager of ``actor``'s organisation."""
    response = client.post("/api/v1/anchors", headers=manager_headers(client, actor))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def verification(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}/verify", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def statuses(client: FlaskClient, actor: Actor, qr_id: str) -> list[str]:
    return [e["status"] for e in verification(client, actor, qr_id)["events"]]


def event_ids(client: FlaskClient, actor: Actor, qr_id: str) -> list[str]:
    return [e["id"] for e in Handheld(client, actor).device(qr_id)["events"]]


def submitter(app: Flask) -> Web3Ledger:
    """The app's own submitter client, pointed at the registry it recorded."""
    with Session(trace_of(app).engine) as session:
        contract = read_meta(session)["contract"]
    return open_ledger(trace_of(app).ledger).submitter.at_address(contract)


@dataclass(frozen=True)
class Tally:
    events: int
    leaves: int
    distinct_leaves: int
    batches: int
    batch_sizes: int
    distinct_roots: int


def tally(app: Flask) -> Tally:
    """Counts that show whether every event sits in exactly one batch."""
    with Session(trace_of(app).engine) as s:

        def one(query: Any) -> int:
            return int(s.execute(query).scalar_one())

        return Tally(
            events=one(select(func.count()).select_from(Event)),
            leaves=one(select(func.count()).select_from(AnchorLeaf)),
            distinct_leaves=one(select(func.count(func.distinct(AnchorLeaf.event_seq)))),
            batches=one(select(func.count()).select_from(AnchorBatch)),
            batch_sizes=one(select(func.coalesce(func.sum(AnchorBatch.size), 0))),
            distinct_roots=one(select(func.count(func.distinct(AnchorBatch.root)))),
        )


def dumped_block_number(state_path: Path) -> int:
    """The newest block in anvil's state dump (-1 while there is no complete dump)."""
    try:
        state = json.loads(state_path.read_bytes())
    except (OSError, ValueError):
        return -1  # not written yet, or caught mid-write
    number = state.get("best_block_number", -1)
    return int(number, 16) if isinstance(number, str) else int(number)


def wait_for_state_dump(state_path: Path, block_number: int, timeout: float = 15) -> None:
    """Wait until anvil's periodic dump (``--state-interval``) holds ``block_number``."""
    wait_until(
        lambda: dumped_block_number(state_path) >= block_number,
        timeout=timeout,
        what=f"anvil to dump block {block_number} to {state_path}",
    )


def published_trust(app: Flask) -> dict[str, Any]:
    """What `traceability ledger trust` prints for this deployment."""
    done = CliRunner().invoke(main, ["ledger", "trust"], obj=trace_of(app), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)  # type: ignore[no-any-return]


@contextmanager
def regulator_app(app: Flask, settings: dict[str, Any], data_dir: Path) -> Iterator[Flask]:
    """The regulator's view of the plant's database: trust from the published file, no key."""
    trust = published_trust(app)
    regulator = create_app(
        {
            **settings,
            "data_dir": data_dir,
            "ledger_key": None,
            "ledger_owner_key": None,
            "ledger_contract": trust["registry"],
            "ledger_chain_id": trust["chain_id"],
            "ledger_genesis_hash": trust["genesis_hash"],
            "ledger_registry_owner": trust["owner"],
        }
    )
    try:
        yield regulator
    finally:
        trace_of(regulator).engine.dispose()


def rpc_settings(base: dict[str, Any], node: ManagedNode) -> dict[str, Any]:
    """App settings anchoring to ``node`` with its well-known development keys."""
    keys = DEV_KEYS[node.kind]
    return {
        **base,
        "ledger_mode": "rpc",
        "ledger_url": node.url,
        "ledger_owner_key": keys[0],
        "ledger_key": keys[1],
    }
