"""The regulator's import (``traceability import``) with full verification vs a plain SELECT.

The plant: the ledger benchmark's app, its events anchored on anvil, served
over HTTP on a free port. The regulator: an app of its own (a fresh database,
the plant's published trust file, no key) that registers the plant with its
submitter. Measured: ``federation.import_plant`` end to end — the plant's EPCIS
pages over HTTP, each record's digest recomputed, its chain followed, its leaf
checked against the batch whose root the registry holds (one eth_call per
batch), the rows and the projections stored — over every event. Baseline: a
plain ``SELECT`` of the same rows from the regulator's database afterwards,
in the same run. Issue 21 sets the target: 20,000 events/s at 1,000,000.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlmodel import Session
from werkzeug.serving import make_server

from bench.database import COLLECTOR, PLANT, add_actor, fresh_database
from bench.ledgerenv import LedgerEnv
from bench.report import Measurement, Result, say, timed
from bench.verify import ensure_anchored
from traceability import create_app
from traceability.accounts import services as accounts
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.federation import PlantSource, import_plant
from traceability.register.services import register_org

TARGET_EVENTS_PER_S = 20_000
_EVENT = Event.__table__  # type: ignore[attr-defined]
_REGULATOR = "BENCH-REG"


@contextmanager
def _served(env: LedgerEnv) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, env.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _reader_token(env: LedgerEnv) -> str:
    """An auditor of a regulator over the plant's region, on the plant's deployment."""
    for org, kind in ((COLLECTOR, "collector"), (PLANT, "dismantler")):
        add_actor(env.engine, org=org, kind=kind, username=f"bench-{kind}-import")
    with Session(env.engine) as session:
        accounts.add_org(session=session, code=_REGULATOR, kind="regulator",
                         name="Bench regulator", region="320000")  # fmt: skip
        accounts.add_user(session=session, username="bench-auditor", org_code=_REGULATOR,
                          role="auditor")  # fmt: skip
        token = accounts.create_token(session=session, username="bench-auditor", ttl_days=1).token
        session.commit()
    return token


@contextmanager
def _regulator(env: LedgerEnv, tmp: Path, db: str | None) -> Iterator[object]:
    trust = CliRunner().invoke(main, ["ledger", "trust"], obj=trace_of(env.app))
    trust_file = tmp / "import-bench-trust.json"
    trust_file.write_text(trust.output, encoding="utf-8")
    data_dir = tmp / "import-bench-regulator"
    data_dir.mkdir(parents=True, exist_ok=True)
    with fresh_database(db, data_dir, "regulator") as url:
        app = create_app({
            "env": "development", "database_url": url, "data_dir": data_dir,
            "ledger_mode": "rpc", "ledger_url": env.node.url, "ledger_trust_file": trust_file,
            "anchor_max_delay_s": 100 * 365 * 86_400,
        })  # fmt: skip
        with Session(trace_of(app).engine) as session:
            register_org(session=session, code=PLANT, kind="dismantler", name="Bench plant",
                         region="320500", license_no="LIC-BENCH",
                         submitter=json.loads(trust.output)["submitters"][0])  # fmt: skip
            session.commit()
        try:
            yield app
        finally:
            trace_of(app).engine.dispose()


def measure_select(engine: object) -> Measurement:
    with Session(engine) as session:  # type: ignore[arg-type]
        start = time.perf_counter()
        rows = list(session.execute(select(_EVENT).order_by(_EVENT.c.seq)))
        return timed("read the same rows (SELECT)", len(rows), start)


def run(env: LedgerEnv, *, events: int, tmp: Path, db: str | None) -> Result:
    ensure_anchored(env, events)
    token = _reader_token(env)
    say(f"import: {env.events:,} anchored events, served over HTTP")
    with _served(env) as url, _regulator(env, tmp, db) as app:
        trace = trace_of(app)  # type: ignore[arg-type]
        source = PlantSource(url, token)
        start, cpu = time.perf_counter(), time.process_time()
        run_ = import_plant(trace, PLANT, source)
        cpu = time.process_time() - cpu
        stored = run_.counts["imported"] + run_.counts["late"]
        measured = timed("import with full verification", stored, start)
        source.close()
        baseline = measure_select(trace.engine)
    notes = [
        f"outcomes: {dict(run_.counts)}",
        f"pages: {run_.pages}",
        # the plant's export and the regulator's import share this process: its CPU time is
        # the figure a shared machine's load disturbs least
        f"CPU: {cpu:.1f} s, {stored / cpu if cpu else 0:,.0f} events per CPU-second (plant + "
        "regulator)",
    ]
    return Result(
        "import", measured, baseline, TARGET_EVENTS_PER_S, "rate", notes,
        extra={"outcomes": dict(run_.counts)},
    )  # fmt: skip
