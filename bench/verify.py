"""Verifying every event against the ledger vs just reading the same rows.

Measured: ``verification.services.verify_all`` over all anchored events
(recompute each digest, check prev links, leaf membership, one eth_call per
batch), consumed to the end. Baseline: the same ``SELECT`` of the event rows
in the same order, nothing else. The ratio is expected below 1; the absolute
target is what counts.
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select
from sqlmodel import Session

from bench.ledgerenv import LedgerEnv, load_events
from bench.report import Measurement, Progress, Result, say, timed
from traceability.anchoring.trust import TrustedLedger
from traceability.anchoring.worker import run_once
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.verification.services import verify_all

TARGET_EVENTS_PER_S = 20_000
_EVENT = Event.__table__  # type: ignore[attr-defined]


def measure_read(env: LedgerEnv) -> Measurement:
    with Session(env.engine) as session:
        start = time.perf_counter()
        rows = list(
            session.execute(select(_EVENT).order_by(_EVENT.c.device, _EVENT.c.lot, _EVENT.c.seq))
        )
        return timed("read the same rows (SELECT)", len(rows), start)


def measure_verify(env: LedgerEnv) -> tuple[Measurement, Counter[str]]:
    progress = Progress("verify_all", env.events)
    statuses: Counter[str] = Counter()
    with Session(env.engine) as session:
        start = time.perf_counter()
        ledger = TrustedLedger.of_client(env.handle.submitter)
        for _subject, _event_id, status in verify_all(session, ledger, progress=progress):
            statuses[status] += 1
        measured = timed("verify_all (real ledger)", sum(statuses.values()), start)
    return measured, statuses


def ensure_anchored(env: LedgerEnv, events: int) -> None:
    if env.events < events:
        load_events(env, events - env.events)
    if env.pending():
        say("verify: anchoring pending events first (not timed)")
        settings = trace_of(env.app).settings
        run_once(
            env.engine,
            env.handle,
            max_size=settings.anchor_batch_max,
            confirmations=settings.ledger_confirmations,
        )


def run(env: LedgerEnv, *, events: int) -> Result:
    ensure_anchored(env, events)
    say(f"verify: {env.events:,} events")
    baseline = measure_read(env)
    measured, statuses = measure_verify(env)
    notes = [f"statuses: {dict(statuses)}"]
    return Result(
        "verify",
        measured,
        baseline,
        TARGET_EVENTS_PER_S,
        "rate",
        notes,
        extra={"statuses": dict(statuses)},
    )
