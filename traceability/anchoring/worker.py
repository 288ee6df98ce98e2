"""The anchoring worker: passes over the open batches, and the loop that repeats them.

A pass (``run_once``) follows the state machine in ``anchoring.states`` with
the database side in ``anchoring.store``. Membership and root are committed
before anything is sent (``anchoring.batching``).

No database transaction is ever open while the chain is asked something: a
pass reads the batches it will work on and ends that read, talks to the node
with no lock held, then records each outcome in a short write transaction
that only applies if the batch is still in the state it was read in. A slow
or hung node therefore never holds the SQLite write lock that ingestion
needs. Several workers may run: a batch to be sent is first claimed with a
committed lease, so only one of them sends it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from ledger.errors import LedgerError
from traceability.anchoring import states, store
from traceability.anchoring.batching import cut_batch, pending_count
from traceability.anchoring.connection import LedgerHandle, ensure_ready
from traceability.anchoring.models import AnchorBatch, AnchorState

__all__ = ["AnchorRun", "ParentGone", "cut_batch", "pending_count", "run_once", "watch"]

log = logging.getLogger(__name__)

#: Recent anchors re-read from the chain on every pass.
RECHECK_LIMIT = 20

_ON_CHAIN = (AnchorState.confirmed, AnchorState.final)


@dataclass
class AnchorRun:
    """What one pass of the worker did."""

    batches_cut: int = 0
    events_anchored: int = 0
    sent: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    final: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last: AnchorBatch | None = None

    def note(self, batch: AnchorBatch, read_state: str) -> None:
        """Count the move a chain step made from ``read_state`` to the batch's state now."""
        now = batch.state
        if now == read_state:
            return
        if now == AnchorState.submitted:
            self.sent.append(batch.root)
        if now in _ON_CHAIN and read_state not in _ON_CHAIN:
            self.confirmed.append(batch.root)
        if now == AnchorState.final:
            self.final.append(batch.root)
        if now == AnchorState.lost:
            self.lost.append(batch.root)


def _advance(
    session: Session,
    batches: list[AnchorBatch],
    step: Callable[[AnchorBatch], None],
    run: AnchorRun,
) -> None:
    """Apply a chain step to each batch and record the ones it changed."""
    for batch in batches:
        read_state = batch.state
        before = store.outcome_of(batch)
        step(batch)
        if store.outcome_of(batch) != before:
            store.record_outcome(session, batch, read_state)
        run.note(batch, read_state)


def _worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_once(
    engine: Engine,
    handle: LedgerHandle,
    *,
    max_size: int,
    confirmations: int,
    receipt_timeout_s: float = 15,
    lease_s: float = 120,
    recheck: bool = True,
) -> AnchorRun:
    """One pass: check the chain, advance open batches, cut and send new ones.

    ``recheck=False`` skips asking the chain whether the newest confirmed roots
    are still there: only for a caller that wrote them itself a moment ago
    (the demo replaying its quarter day by day); the worker always rechecks.
    """
    run = AnchorRun()
    owner = _worker_id()
    with Session(engine, expire_on_commit=False) as session:
        ensure_ready(session, handle)
        session.commit()
        ledger = handle.submitter

        if recheck:
            recent = store.read_batches(session, _ON_CHAIN, newest=RECHECK_LIMIT)
            _advance(session, recent, lambda b: states.recheck(ledger, b), run)
        open_batches = store.read_batches(session, (AnchorState.submitted, AnchorState.confirmed))
        _advance(session, open_batches, lambda b: states.follow(ledger, b, confirmations), run)

        while cut_batch(session, max_size) is not None:
            run.batches_cut += 1

        mine: list[AnchorBatch] = []
        for batch in store.read_batches(session, (AnchorState.pending, AnchorState.lost)):
            if not store.take_lease(session, batch, owner, lease_s):
                continue  # another worker is sending it
            read_state = batch.state
            try:
                states.submit(ledger, batch)
            except LedgerError as exc:
                store.release_lease(session, batch, owner, str(exc))
                run.errors.append(str(exc))
                raise
            # Recorded at once: a crash loses one send at most.
            store.record_outcome(session, batch, read_state, lease_owner=owner)
            run.note(batch, read_state)
            run.events_anchored += batch.size
            run.last = batch
            if batch.state == AnchorState.submitted:
                mine.append(batch)

        for batch in mine:
            # Local nodes mine at once; waiting here lets POST /anchors answer
            # with the block. A slow chain is simply followed on the next pass.
            with contextlib.suppress(LedgerError):
                ledger.wait_receipt(batch.tx_hash or "", timeout=receipt_timeout_s)
            _advance(session, [batch], lambda b: states.follow(ledger, b, confirmations), run)
    return run


# -- the loop --------------------------------------------------------------------


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


class ParentGone:
    """A stop flag for a worker started by ``serve``: set once that process is gone."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def is_set(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return os.getppid() != self.pid


def watch(
    engine: Engine,
    handle: LedgerHandle,
    *,
    max_size: int,
    confirmations: int,
    interval_s: float,
    stop: StopFlag | None = None,
    every_so_often: Callable[[], None] | None = None,
    often_s: float = 300.0,
    lease_s: float = 120.0,
) -> None:
    """Anchor forever (until ``stop.is_set()``); a down node only delays anchoring.

    ``every_so_often`` (the completeness check) runs at most every ``often_s``.
    """
    next_often = 0.0
    while stop is None or not stop.is_set():
        try:
            run = run_once(
                engine, handle, max_size=max_size, confirmations=confirmations, lease_s=lease_s
            )
            if run.sent or run.final:
                log.info("anchored %d events in %d batch(es)", run.events_anchored, len(run.sent))
            if every_so_often is not None and time.monotonic() >= next_often:
                every_so_often()
                next_often = time.monotonic() + often_s
        except LedgerError as exc:
            log.warning("ledger unavailable, events stay pending: %s", exc)
        time.sleep(interval_s)
