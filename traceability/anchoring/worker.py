"""The anchoring worker: one state machine per batch, kept in the database.

pending ──send──▶ submitted(nonce, tx) ──mined──▶ confirmed(block) ──N blocks──▶ final
   ▲                                   │ reverted/dropped/reorged
   └───────────────────────────────────┘

Membership and root are committed before anything is sent, and the chain is
read before every (re)send: a root already on chain is never sent again
(and the contract would refuse it anyway). Safe to run in several processes:
leaf rows make an event's batch unique, and batches are claimed with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger import merkle
from ledger.chain import Web3Ledger
from ledger.errors import DuplicateRoot, LedgerError, NonceTooLow
from traceability.anchoring.connection import LedgerHandle, ensure_ready
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, AnchorState
from traceability.custody.models import Event
from traceability.db import begin_write, utcnow

log = logging.getLogger(__name__)

#: A submitted transaction with no receipt after this long is resent.
RESEND_AFTER_S = 60.0


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


def pending_count(session: Session) -> int:
    anchored = select(AnchorLeaf.event_seq)
    return int(
        session.exec(
            select(func.count()).select_from(Event).where(col(Event.seq).not_in(anchored))
        ).one()
    )


def cut_batch(session: Session, max_size: int) -> AnchorBatch | None:
    """Put the oldest unanchored events into a new pending batch (committed)."""
    begin_write(session)
    anchored = select(AnchorLeaf.event_seq)
    rows = session.exec(
        select(Event.seq, Event.digest)
        .where(col(Event.seq).not_in(anchored))
        .order_by(col(Event.seq))
        .limit(max_size)
    ).all()
    if not rows:
        session.rollback()
        return None
    digests = [bytes.fromhex(d) for _, d in rows]
    batch = AnchorBatch(
        root=merkle.root(digests).hex(),
        size=len(rows),
        leaves=b"".join(digests),
        first_seq=int(rows[0][0] or 0),
        state=AnchorState.pending,
        created_at=utcnow(),
    )
    session.add(batch)
    try:
        session.flush()
        session.execute(
            insert(AnchorLeaf),
            [
                {"event_seq": seq, "batch_id": batch.id, "leaf_index": i}
                for i, (seq, _) in enumerate(rows)
            ],
        )
        session.commit()
    except IntegrityError:
        session.rollback()  # another worker took these events first
        return None
    return batch


def _claim(session: Session, states: tuple[str, ...]) -> list[AnchorBatch]:
    begin_write(session)
    return list(
        session.exec(
            select(AnchorBatch)
            .where(col(AnchorBatch.state).in_(states))
            .order_by(col(AnchorBatch.id))
            .with_for_update(skip_locked=True)
        )
    )


def _mark_on_chain(batch: AnchorBatch, ledger: Web3Ledger, block_number: int) -> None:
    if batch.tx_hash is None:  # sent by a worker that died before noting it
        batch.tx_hash = ledger.anchor_transaction(bytes.fromhex(batch.root), block_number)
        batch.chain_id, batch.contract = ledger.chain_id(), ledger.contract_address
        batch.submitter = batch.submitter or ledger.address
    batch.state = AnchorState.confirmed
    batch.block_number = block_number
    batch.block_hash = ledger.block_hash(block_number)
    batch.confirmed_at = utcnow()


def submit(session: Session, ledger: Web3Ledger, batch: AnchorBatch, run: AnchorRun) -> None:
    """Send a pending batch's root, unless the chain already holds it."""
    root = bytes.fromhex(batch.root)
    existing = ledger.get_anchor(root)
    if existing is not None:
        _mark_on_chain(batch, ledger, existing.block_number)
        run.confirmed.append(batch.root)
        return
    info = ledger.info()
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
    batch.chain_id, batch.contract = info.chain_id, ledger.contract_address
    batch.submitter, batch.submitted_at = ledger.address, utcnow()
    batch.attempts += 1
    run.sent.append(batch.root)


def follow(
    session: Session, ledger: Web3Ledger, batch: AnchorBatch, confirmations: int, run: AnchorRun
) -> None:
    """Advance a submitted or confirmed batch by what the chain says now."""
    if batch.state == AnchorState.submitted:
        receipt = ledger.get_receipt(batch.tx_hash or "")
        if receipt is None:
            age = (utcnow() - (batch.submitted_at or utcnow())).total_seconds()
            if age > RESEND_AFTER_S:
                batch.state, batch.tx_hash = AnchorState.pending, None  # dropped: resend
            return
        if not receipt.status:
            record = ledger.get_anchor(bytes.fromhex(batch.root))
            if record is None:
                batch.state, batch.last_error = AnchorState.pending, "transaction reverted"
                return
            receipt_block = record.block_number
        else:
            receipt_block = receipt.block_number
        _mark_on_chain(batch, ledger, receipt_block)
        run.confirmed.append(batch.root)
    if batch.state == AnchorState.confirmed and batch.block_number is not None:
        if ledger.block_hash(batch.block_number) != batch.block_hash:
            # Reorged away: the root may or may not be in the new canonical chain.
            batch.state, batch.tx_hash, batch.block_hash = AnchorState.pending, None, None
            return
        if ledger.block_number() - batch.block_number >= confirmations:
            batch.state = AnchorState.final
            run.final.append(batch.root)


def recheck_recent(session: Session, ledger: Web3Ledger, run: AnchorRun, limit: int = 20) -> None:
    """Recent anchors must still be on chain; a root that vanished is lost, then resent.

    This catches what the genesis/contract checks cannot: a node that lost its
    last blocks (crash before its state dump, a deep reorg) on the same chain.
    """
    recent = session.exec(
        select(AnchorBatch)
        .where(col(AnchorBatch.state).in_((AnchorState.confirmed, AnchorState.final)))
        .order_by(col(AnchorBatch.id).desc())
        .limit(limit)
    ).all()
    for batch in recent:
        if ledger.get_anchor(bytes.fromhex(batch.root)) is None:
            log.warning(
                "anchor %s (block %s) is no longer on chain: re-anchoring",
                batch.root,
                batch.block_number,
            )
            batch.state = AnchorState.lost
            session.flush()
            batch.state, batch.tx_hash, batch.nonce = AnchorState.pending, None, None
            batch.block_number, batch.block_hash = None, None
            batch.last_error = "lost: root vanished from the chain"
            run.lost.append(batch.root)


def run_once(
    engine: Engine,
    handle: LedgerHandle,
    *,
    max_size: int,
    confirmations: int,
    receipt_timeout_s: float = 15,
) -> AnchorRun:
    """One pass: check the chain, advance open batches, cut and send new ones."""
    run = AnchorRun()
    with Session(engine, expire_on_commit=False) as session:
        ensure_ready(session, handle)
        ledger = handle.submitter
        begin_write(session)
        recheck_recent(session, ledger, run)
        session.commit()
        for batch in _claim(session, (AnchorState.submitted, AnchorState.confirmed)):
            follow(session, ledger, batch, confirmations, run)
        session.commit()
        while cut_batch(session, max_size) is not None:
            run.batches_cut += 1
        for batch in _claim(session, (AnchorState.pending,)):
            try:
                submit(session, ledger, batch, run)
            except LedgerError as exc:
                batch.last_error = str(exc)[:500]
                run.errors.append(str(exc))
                session.commit()
                raise
            session.commit()  # record each send at once: a crash loses at most one
            run.events_anchored += batch.size
            run.last = batch
        for batch in _claim(session, (AnchorState.submitted,)):
            # Local nodes mine at once; waiting here lets POST /anchors answer
            # with the block. A slow chain is simply followed on the next pass.
            with contextlib.suppress(LedgerError):
                ledger.wait_receipt(batch.tx_hash or "", timeout=receipt_timeout_s)
            follow(session, ledger, batch, confirmations, run)
        session.commit()
    return run


def repair(engine: Engine, handle: LedgerHandle, *, confirmations: int) -> AnchorRun:
    """After a chain reset: redeploy if needed and re-anchor every batch missing on chain."""
    from traceability.anchoring.connection import deploy, read_meta

    with Session(engine, expire_on_commit=False) as session:
        meta = read_meta(session)
        ledger = handle.submitter
        if meta.get("contract"):
            ledger = ledger.at_address(meta["contract"])
        info = ledger.info()
        stale = (
            str(info.chain_id) != meta.get("chain_id")
            or info.genesis_hash != meta.get("genesis_hash")
            or not ledger.contract_code_matches()
        )
        if stale:
            if handle.owner is None:
                raise LedgerError("the registry is gone and this deployment cannot redeploy it")
            deploy(session, handle)
        else:
            handle.submitter = ledger
        begin_write(session)
        for batch in session.exec(select(AnchorBatch)):
            if handle.submitter.get_anchor(bytes.fromhex(batch.root)) is None:
                batch.state, batch.tx_hash, batch.block_number = AnchorState.pending, None, None
                batch.block_hash, batch.nonce = None, None
        session.commit()
    return run_once(engine, handle, max_size=10_000, confirmations=confirmations)


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
) -> None:
    """Anchor forever (until ``stop.is_set()``); a down node only delays anchoring."""
    while stop is None or not stop.is_set():
        try:
            run = run_once(engine, handle, max_size=max_size, confirmations=confirmations)
            if run.sent or run.final:
                log.info("anchored %d events in %d batch(es)", run.events_anchored, len(run.sent))
        except LedgerError as exc:
            log.warning("ledger unavailable, events stay pending: %s", exc)
        time.sleep(interval_s)
