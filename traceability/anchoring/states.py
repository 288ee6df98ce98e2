"""The anchoring state machine: where a batch goes, decided from what the chain says.

pending ──send──▶ submitted(nonce, tx) ──mined──▶ confirmed(block) ──N blocks──▶ final
   ▲  ▲                                │ reverted/dropped/reorged        │
   │  └────────────────────────────────┘                                 │ root vanished
   └──────────────────────── lost ◀──────────────────────────────────────┘

Each step reads (or, for ``submit``, writes to) the chain and changes the
detached batch it is given; it never touches the database. The worker
(``anchoring.worker``) reads the batches, calls these with no transaction
open, and records the outcome.

The chain is read before every (re)send: a root already on chain is never
sent again (and the contract would refuse it anyway). ``lost`` is stored, so
a root that vanished stays visible until it is anchored again.
"""

from __future__ import annotations

import logging

from ledger.errors import DuplicateRoot, LedgerError, NonceTooLow
from ledger.interface import Ledger
from traceability.anchoring.models import AnchorBatch, AnchorState
from traceability.db import utcnow

log = logging.getLogger(__name__)

#: A submitted transaction with no receipt after this long is resent.
RESEND_AFTER_S = 60.0
#: How often a send is retried when another transaction took the nonce meanwhile.
NONCE_ATTEMPTS = 3


def submit(ledger: Ledger, batch: AnchorBatch) -> None:
    """Send a pending (or lost) batch's root, unless the chain already holds it."""
    root = bytes.fromhex(batch.root)
    existing = ledger.get_anchor(root)
    if existing is not None:
        _mark_on_chain(batch, ledger, existing.block_number)
        return
    chain_id = ledger.chain_id()
    for _ in range(NONCE_ATTEMPTS):
        try:
            sent = ledger.send_anchor(root, batch.size, nonce=ledger.pending_nonce())
            break
        except NonceTooLow:
            continue  # resynchronise from the node's pending count
        except DuplicateRoot:
            record = ledger.get_anchor(root)
            if record is not None:
                _mark_on_chain(batch, ledger, record.block_number)
                return
            raise
    else:
        raise LedgerError("nonce kept colliding; will retry")
    batch.state, batch.tx_hash, batch.nonce = AnchorState.submitted, sent.tx_hash, sent.nonce
    batch.chain_id, batch.contract = chain_id, ledger.contract_address
    batch.submitter, batch.submitted_at = ledger.address, utcnow()
    batch.attempts += 1
    batch.block_number = batch.block_hash = None


def follow(ledger: Ledger, batch: AnchorBatch, confirmations: int) -> None:
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
    if batch.state == AnchorState.confirmed and batch.block_number is not None:
        if ledger.block_hash(batch.block_number) != batch.block_hash:
            # Reorged away: the root may or may not be in the new canonical chain.
            _back_to_pending(batch, "reorged away")
            return
        if ledger.block_number() - batch.block_number >= confirmations:
            batch.state = AnchorState.final


def recheck(ledger: Ledger, batch: AnchorBatch) -> None:
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


def _mark_on_chain(batch: AnchorBatch, ledger: Ledger, block_number: int) -> None:
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
