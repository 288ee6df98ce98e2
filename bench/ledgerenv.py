"""One managed anvil node, an app anchoring to it over RPC, and a database of hashed events.

Shared by the anchoring and verification benchmarks: when both run, the
verification reads the very events the anchoring benchmark anchored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, insert
from sqlmodel import Session

from bench import dataset
from bench.database import COLLECTOR, PLANT, fresh_database
from bench.report import Progress, say
from ledger.node import ANVIL_DEV_KEYS, ManagedNode
from traceability import create_app
from traceability.anchoring.connection import LedgerHandle, ensure_ready, open_ledger
from traceability.anchoring.worker import pending_count
from traceability.app import trace_of
from traceability.custody.models import Event


@dataclass
class LedgerEnv:
    node: ManagedNode
    app: Flask
    engine: Engine
    handle: LedgerHandle
    events: int = 0

    def pending(self) -> int:
        with Session(self.engine) as session:
            return pending_count(session)


@contextmanager
def ledger_env(*, db: str | None, tmp: Path) -> Iterator[LedgerEnv]:
    """Anvil in ``tmp/ledger``, a fresh migrated database and a registry deployed on it."""
    data_dir = tmp / "ledger-bench"
    data_dir.mkdir(parents=True, exist_ok=True)
    with (
        ManagedNode("anvil", data_dir=data_dir / "anvil") as node,
        fresh_database(db, data_dir, "ledger") as url,
    ):
        app = create_app(
            {
                "env": "development",
                "database_url": url,
                "data_dir": data_dir,
                "ledger_mode": "rpc",
                "ledger_url": node.url,
                "ledger_owner_key": ANVIL_DEV_KEYS[0],
                "ledger_key": ANVIL_DEV_KEYS[1],
            }
        )
        engine = trace_of(app).engine
        handle = open_ledger(trace_of(app).ledger)
        with Session(engine) as session:
            ensure_ready(session, handle)  # deploys the registry, authorises the submitter
        say(f"ledger: anvil at {node.url}, registry {handle.submitter.contract_address}")
        try:
            yield LedgerEnv(node=node, app=app, engine=engine, handle=handle)
        finally:
            engine.dispose()


def load_events(env: LedgerEnv, count: int, chunk: int = 5_000) -> None:
    """Insert ``count`` hashed lifecycle events (raw table: the digests are real)."""
    progress = Progress("hashing and inserting events", count)
    start = time.perf_counter()
    rows = dataset.event_rows(
        count, collector=COLLECTOR, collector_user="col-0", plant=PLANT, plant_user="dis-0"
    )
    buffer: list[dict[str, object]] = []
    with env.engine.begin() as conn:
        for row in rows:
            buffer.append(row)
            if len(buffer) == chunk:
                conn.execute(insert(Event.__table__), buffer)  # type: ignore[attr-defined]
                progress(len(buffer))
                buffer = []
        if buffer:
            conn.execute(insert(Event.__table__), buffer)  # type: ignore[attr-defined]
            progress(len(buffer))
    env.events += count
    say(f"  loaded {count:,} events in {time.perf_counter() - start:.1f}s")
