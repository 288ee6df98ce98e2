"""Merkle-batch anchoring vs one transaction per event, on the same anvil node.

Baseline: ``send_anchor(digest, 1)`` for each of N event digests, waiting for
each receipt (what anchoring without batching would cost). Measured: the
app's worker (``anchoring.worker.run_once``) anchoring every pending event:
cutting batches of ``anchor_batch_max``, storing membership and root, sending
one transaction per batch and following it to its receipt.
"""

from __future__ import annotations

import time

from sqlmodel import Session, col, select

from bench.ledgerenv import LedgerEnv, load_events
from bench.report import Measurement, Progress, Result, say, timed
from traceability.anchoring.worker import run_once
from traceability.app import trace_of
from traceability.custody.models import Event

TARGET_RATIO = 100


def measure_per_event(env: LedgerEnv, count: int) -> Measurement:
    """One anchor transaction per event digest, each awaited before the next."""
    with Session(env.engine) as session:
        digests = list(session.exec(select(Event.digest).order_by(col(Event.seq)).limit(count)))
    ledger = env.handle.submitter
    progress = Progress("one transaction per event", len(digests))
    start = time.perf_counter()
    for digest in digests:
        sent = ledger.send_anchor(bytes.fromhex(digest), 1)
        receipt = ledger.wait_receipt(sent.tx_hash)
        if not receipt.status:
            raise RuntimeError(f"anchor of {digest} reverted")
        progress(1)
    return timed("1 tx per event, receipt awaited", len(digests), start)


def measure_batches(env: LedgerEnv) -> tuple[Measurement, int]:
    """The worker anchors everything pending (the per-event roots are separate leaves)."""
    settings = trace_of(env.app).settings
    pending = env.pending()
    say(
        f"anchoring: worker run_once over {pending:,} pending events "
        f"(batches of ≤ {settings.anchor_batch_max:,})"
    )
    start = time.perf_counter()
    run = run_once(
        env.engine,
        env.handle,
        max_size=settings.anchor_batch_max,
        confirmations=settings.ledger_confirmations,
    )
    measured = timed("worker Merkle batches (run_once)", run.events_anchored, start)
    if run.errors or env.pending():
        raise RuntimeError(f"worker left events pending: {run.errors}")
    return measured, run.batches_cut


def run(env: LedgerEnv, *, events: int, per_event: int) -> Result:
    if env.events < events:
        load_events(env, events - env.events)
    say(f"anchoring: {per_event:,} events one transaction each")
    baseline = measure_per_event(env, per_event)
    measured, batches = measure_batches(env)
    return Result(
        "anchoring",
        measured,
        baseline,
        TARGET_RATIO,
        "ratio",
        [f"{batches} batch transaction(s) for {measured.events:,} events"],
        extra={"batches": batches},
    )
