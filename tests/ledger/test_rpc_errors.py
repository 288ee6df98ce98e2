"""Node error messages that mean "another transaction took this nonce" are retried as such."""

from __future__ import annotations

import pytest

from ledger.errors import LedgerError, NonceTooLow
from ledger.rpc_errors import rpc_error


@pytest.mark.parametrize(
    "message",
    [
        "nonce too low",  # geth, anvil: the nonce was mined
        "Nonce too low: next nonce 5, tx nonce 4",
        "replacement transaction underpriced",  # another worker's tx holds it in the pool
        "the tx doesn't have the correct nonce. account has nonce of: 7 tx has nonce of: 6",
    ],
)
def test_a_taken_nonce_is_retried_with_a_fresh_one(message: str) -> None:
    assert isinstance(rpc_error("anchor", message), NonceTooLow)


@pytest.mark.parametrize(
    "message",
    [
        "insufficient funds for gas * price + value",
        "the tx doesn't have the correct nonce. account has nonce of: 6 tx has nonce of: 9",
        "execution reverted",
    ],
)
def test_other_refusals_are_not_nonce_collisions(message: str) -> None:
    error = rpc_error("anchor", message)
    assert isinstance(error, LedgerError) and not isinstance(error, NonceTooLow)
