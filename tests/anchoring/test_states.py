"""The anchoring state machine against the in-process chain: no database, no session."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from ledger.chain import Web3Ledger, eth_tester_keys
from ledger.interface import Ledger
from tests.ledger_fixtures import deploy_parties
from traceability.anchoring import states
from traceability.anchoring.models import AnchorBatch, AnchorState
from traceability.anchoring.worker import AnchorRun
from traceability.db import utcnow


@pytest.fixture
def ledger() -> Ledger:
    """An authorised submitter on a fresh in-process registry."""
    parties = deploy_parties("eth-tester", Web3Ledger.in_process(), eth_tester_keys())
    return parties.submitter


def new_batch(label: str, state: str = AnchorState.pending) -> AnchorBatch:
    leaf = hashlib.sha256(label.encode()).digest()
    return AnchorBatch(
        root=leaf.hex(), size=1, leaves=leaf, first_seq=1, state=state, created_at=utcnow()
    )


def test_submit_sends_the_root_and_notes_the_transaction(ledger: Ledger) -> None:
    batch = new_batch("a")
    states.submit(ledger, batch)
    assert batch.state == AnchorState.submitted
    assert batch.tx_hash and batch.nonce is not None
    assert (batch.submitter, batch.contract) == (ledger.address, ledger.contract_address)
    assert batch.attempts == 1


def test_submit_of_a_root_already_on_chain_confirms_it_without_sending(ledger: Ledger) -> None:
    first = new_batch("a")
    states.submit(ledger, first)
    ledger.wait_receipt(first.tx_hash or "")
    again = new_batch("a", AnchorState.lost)
    states.submit(ledger, again)
    assert again.state == AnchorState.confirmed
    assert again.attempts == 0
    assert again.tx_hash == first.tx_hash  # found from the chain, not sent again


def test_follow_confirms_a_mined_batch_and_finalises_it_after_enough_blocks(
    ledger: Ledger,
) -> None:
    batch = new_batch("a")
    states.submit(ledger, batch)
    ledger.wait_receipt(batch.tx_hash or "")
    states.follow(ledger, batch, confirmations=1000)
    assert batch.state == AnchorState.confirmed
    assert batch.block_hash == ledger.block_hash(batch.block_number or 0)
    states.follow(ledger, batch, confirmations=0)
    assert batch.state == AnchorState.final


def test_follow_resends_a_transaction_without_receipt_after_a_while(ledger: Ledger) -> None:
    batch = new_batch("a", AnchorState.submitted)
    batch.tx_hash, batch.nonce = "0x" + "ab" * 32, 7
    batch.submitted_at = utcnow() - dt.timedelta(seconds=states.RESEND_AFTER_S + 1)
    states.follow(ledger, batch, confirmations=0)
    assert (batch.state, batch.tx_hash, batch.nonce) == (AnchorState.pending, None, None)
    assert batch.last_error and "dropped" in batch.last_error


def test_follow_sends_a_reorged_batch_back_to_pending(ledger: Ledger) -> None:
    batch = new_batch("a")
    states.submit(ledger, batch)
    ledger.wait_receipt(batch.tx_hash or "")
    states.follow(ledger, batch, confirmations=1000)
    batch.block_hash = "0x" + "00" * 32  # the chain now has another block at that height
    states.follow(ledger, batch, confirmations=1000)
    assert batch.state == AnchorState.pending
    assert batch.last_error == "reorged away"


def test_recheck_marks_a_root_that_vanished_from_the_chain_lost(ledger: Ledger) -> None:
    batch = new_batch("never sent", AnchorState.final)
    batch.block_number = 1
    states.recheck(ledger, batch)
    assert batch.state == AnchorState.lost
    assert batch.block_number is None


@pytest.mark.parametrize(
    ("read", "now", "counted"),
    [
        (AnchorState.pending, AnchorState.submitted, ["sent"]),
        (AnchorState.pending, AnchorState.confirmed, ["confirmed"]),
        (AnchorState.lost, AnchorState.confirmed, ["confirmed"]),
        (AnchorState.submitted, AnchorState.final, ["confirmed", "final"]),
        (AnchorState.confirmed, AnchorState.final, ["final"]),
        (AnchorState.final, AnchorState.lost, ["lost"]),
        (AnchorState.submitted, AnchorState.pending, []),
        (AnchorState.confirmed, AnchorState.confirmed, []),
    ],
)
def test_a_run_counts_each_move_once(read: str, now: str, counted: list[str]) -> None:
    run = AnchorRun()
    run.note(new_batch("a", now), read)
    moves = {"sent": run.sent, "confirmed": run.confirmed, "final": run.final, "lost": run.lost}
    assert [name for name, roots in moves.items() if roots] == counted
