"""The anchoring worker: one state machine per batch, kept in the database.

pending ──send──▶ submitted(nonce, tx) ──mined──▶ confirmed(block) ──N blocks──▶ final
   ▲  ▲                                │ reverted/dropped/reorged        │
   │  └────────────────────────────────┘                                 │ root vanished
   └──────────────────────── lost ◀──────────────────────────────────────┘

Membership and root are committed before anything is sent, and the chain is
read before every (re)send: a root already on chain is never sent again
(and the contract would refuse it anyway).

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
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from ledger.chain import Web3Ledger
from ledger.errors import DuplicateRoot, LedgerError, NonceTooLow
from traceability.anchoring.batching import cut_batch, pending_count
from traceability.anchoring.connection import LedgerHandle, ensure_ready
from traceability.anchoring.models import AnchorBatch, AnchorState
from traceability.db import begin_write, utcnow

__all__ = ["AnchorRun", "ParentGone", "cut_batch", "pending_count", "run_once", "watch"]

log = logging.getLogger(__name__)

#: A submitted transaction with no receipt after this long is resent.
RESEND_AFTER_S = 60.0
#: Recent anchors re-read from the chain on every pass.
RECHECK_LIMIT = 20

# The columns a chain outcome may change (never membership, root or leaves).
_OUTCOME = (
    "state",
    "chain_id",
    "contract",
    "submitter",
    "nonce",
    "tx_hash",
    "block_number",
    "block_hash",
    "attempts",
    "last_error",
    "submitted_at",
    "confirmed_at",
)


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


# -- the state machine: decisions from what the chain says (no database) ------


def _mark_on_chain(batch: AnchorBatch, ledger: Web3Ledger, block_number: int) -> None:
    if batch.tx_hash is None:  # sent by a worker that died before noting it
        batch.tx_hash = ledger.anchor_transaction(bytes.fromhex(batch.root), block_number)
        batch.chain_id, batch.contract = ledger.chain_id(), ledger.contract_address
        batch.submitter = batch.submitter or ledger.address
    batch.state = AnchorState.confirmed
    batch.block_number = block_number
    batch.block_hash = ledger.block_hash(block_number)
    batch.confirmed_at = utcnow()


def _back_to_pending(batch: AnchorBatch, reason: str | None = None) -> None:
    batch.state, batch.tx_hash, batch.nonce = AnchorState.pending, None, None
    batch.block_number, batch.block_hash = None, None
    if reason:
        batch.last_error = reason


def submit(ledger: Web3Ledger, batch: AnchorBatch, run: AnchorRun) -> None:
    """Send a pending (or lost) batch's root, unless the chain already holds it."""
    root = bytes.fromhex(batch.root)
    existing = ledger.get_anchor(root)
    if existing is not None:
        _mark_on_chain(batch, ledger, existing.block_number)
        run.confirmed.append(batch.root)
        return
    chain_id = ledger.chain_id()
    for _ in range(3):
        try:
            sent = ledger.send_anchor(root, batch.size, nonce=ledger.pending_nonce())
            break
        except NonceTooLow:
            continue  # resynchronise from the node's pending count
        except DuplicateRoot:
            record = ledger.get_anchor(root)
            if record is not None:
                _mark_on_chain(batch, ledger, record.block_number)
                run.confirmed.append(batch.root)
                return
            raise
    else:
        raise LedgerError("nonce kept colliding; will retry")
    batch.state, batch.tx_hash, batch.nonce = AnchorState.submitted, sent.tx_hash, sent.nonce
    batch.chain_id, batch.contract = chain_id, ledger.contract_address
    batch.submitter, batch.submitted_at = ledger.address, utcnow()
    batch.attempts += 1
    batch.block_number = batch.block_hash = None
    run.sent.append(batch.root)


def follow(ledger: Web3Ledger, batch: AnchorBatch, confirmations: int, run: AnchorRun) -> None:
    """Advance a submitted or confirmed batch by what the chain says now."""
    if batch.state == AnchorState.submitted:
        receipt = ledger.get_receipt(batch.tx_hash or "")
        if receipt is None:
            age = (utcnow() - (batch.submitted_at or utcnow())).total_seconds()
            if age > RESEND_AFTER_S:
                _back_to_pending(batch, "no receipt: transaction dropped, resending")
            return
        if not receipt.status:
            record = ledger.get_anchor(bytes.fromhex(batch.root))
            if record is None:
                _back_to_pending(batch, "transaction reverted")
                return
            receipt_block = record.block_number
        else:
            receipt_block = receipt.block_number
        _mark_on_chain(batch, ledger, receipt_block)
        run.confirmed.append(batch.root)
    if batch.state == AnchorState.confirmed and batch.block_number is not None:
        if ledger.block_hash(batch.block_number) != batch.block_hash:
            # Reorged away: the root may or may not be in the new canonical chain.
            _back_to_pending(batch, "reorged away")
            return
        if ledger.block_number() - batch.block_number >= confirmations:
            batch.state = AnchorState.final
            run.final.append(batch.root)


def recheck(ledger: Web3Ledger, batch: AnchorBatch, run: AnchorRun) -> None:
    """A confirmed or final root must still be on chain; one that vanished is lost.

    This catches what the genesis/contract checks cannot: a node that lost its
    last blocks (crash before its state dump, a deep reorg) on the same chain.
    """
    if ledger.get_anchor(bytes.fromhex(batch.root)) is None:
        log.warning(
            "anchor %s (block %s) is no longer on chain: re-anchoring",
            batch.root,
            batch.block_number,
        )
        _back_to_pending(batch, "lost: root vanished from the chain")
        batch.state = AnchorState.lost
        run.lost.append(batch.root)


# -- the database side: short reads and conditional writes ---------------------


def _read(session: Session, states: tuple[str, ...], *, newest: int | None = None) -> list[Any]:
    """Batches in ``states``, detached, with the read transaction ended."""
    query = select(AnchorBatch).where(col(AnchorBatch.state).in_(states))
    if newest is None:
        query = query.order_by(col(AnchorBatch.id))
    else:
        query = query.order_by(col(AnchorBatch.id).desc()).limit(newest)
    batches = list(session.exec(query))
    for batch in batches:
        session.expunge(batch)
    session.commit()
    return batches


def _record(
    session: Session, batch: AnchorBatch, read_state: str, *, lease_owner: str | None = None
) -> bool:
    """Write the chain's outcome, only if nobody moved the batch since it was read."""
    begin_write(session)
    query = update(AnchorBatch).where(
        col(AnchorBatch.id) == batch.id, col(AnchorBatch.state) == read_state
    )
    if lease_owner is not None:
        query = query.where(col(AnchorBatch.lease_owner) == lease_owner)
    values = {name: getattr(batch, name) for name in _OUTCOME}
    values["last_error"] = (values["last_error"] or None) and values["last_error"][:500]
    result = session.execute(query.values(**values, lease_owner=None, lease_until=None))
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _lease(session: Session, batch: AnchorBatch, owner: str, lease_s: float) -> bool:
    """Claim a batch for sending (committed at once); False if another worker holds it."""
    now = utcnow()
    begin_write(session)
    result = session.execute(
        update(AnchorBatch)
        .where(
            col(AnchorBatch.id) == batch.id,
            col(AnchorBatch.state) == batch.state,
            or_(col(AnchorBatch.lease_until).is_(None), col(AnchorBatch.lease_until) < now),
        )
        .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=lease_s))
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _release(session: Session, batch: AnchorBatch, owner: str, error: str) -> None:
    begin_write(session)
    session.execute(
        update(AnchorBatch)
        .where(col(AnchorBatch.id) == batch.id, col(AnchorBatch.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None, last_error=error[:500])
    )
    session.commit()


def _advance(
    session: Session,
    batches: list[AnchorBatch],
    step: Callable[[AnchorBatch], None],
) -> None:
    """Apply a chain step to each batch and record the ones it changed."""
    for batch in batches:
        read_state = batch.state
        before = {name: getattr(batch, name) for name in _OUTCOME}
        step(batch)
        if {name: getattr(batch, name) for name in _OUTCOME} != before:
            _record(session, batch, read_state)


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
) -> AnchorRun:
    """One pass: check the chain, advance open batches, cut and send new ones."""
    run = AnchorRun()
    owner = _worker_id()
    with Session(engine, expire_on_commit=False) as session:
        ensure_ready(session, handle)
        session.commit()
        ledger = handle.submitter

        recent = _read(session, (AnchorState.confirmed, AnchorState.final), newest=RECHECK_LIMIT)
        _advance(session, recent, lambda b: recheck(ledger, b, run))
        open_batches = _read(session, (AnchorState.submitted, AnchorState.confirmed))
        _advance(session, open_batches, lambda b: follow(ledger, b, confirmations, run))

        while cut_batch(session, max_size) is not None:
            run.batches_cut += 1

        mine: list[AnchorBatch] = []
        for batch in _read(session, (AnchorState.pending, AnchorState.lost)):
            if not _lease(session, batch, owner, lease_s):
                continue  # another worker is sending it
            read_state = batch.state
            try:
                submit(ledger, batch, run)
            except LedgerError as exc:
                _release(session, batch, owner, str(exc))
                run.errors.append(str(exc))
                raise
            _record(session, batch, read_state, lease_owner=owner)  # a crash loses one at most
            run.events_anchored += batch.size
            run.last = batch
            if batch.state == AnchorState.submitted:
                mine.append(batch)

        for batch in mine:
            # Local nodes mine at once; waiting here lets POST /anchors answer
            # with the block. A slow chain is simply followed on the next pass.
            with contextlib.suppress(LedgerError):
                ledger.wait_receipt(batch.tx_hash or "", timeout=receipt_timeout_s)
            _advance(session, [batch], lambda b: follow(ledger, b, confirmations, run))
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
