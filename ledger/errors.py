"""Errors raised by the ledger package. web3 exceptions never leak past it."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class for everything that goes wrong on the ledger side."""

    code = "ledger_error"


class LedgerUnavailable(LedgerError):
    """The JSON-RPC node cannot be reached (down, refused, timed out)."""

    code = "ledger_unavailable"


class NonceTooLow(LedgerError):
    """The node refused a transaction because its nonce was already used, or is held by
    another pending transaction of the account (which this one would have to outbid):
    either way another sender took it, and a fresh pending nonce is the answer."""

    code = "nonce_too_low"


class DuplicateRoot(LedgerError):
    """The contract already holds this Merkle root."""

    code = "duplicate_root"


class NotAuthorised(LedgerError):
    """The sending address may not anchor (no submitter role)."""

    code = "not_authorised"


class TransactionFailed(LedgerError):
    """A mined transaction reverted (receipt.status == 0)."""

    code = "transaction_failed"


class ContractMissing(LedgerError):
    """No contract code (or different code) at the configured address."""

    code = "contract_missing"


class ChainMismatch(LedgerError):
    """The node's chain id or genesis hash differ from what was recorded: reset or wrong node."""

    code = "chain_mismatch"


class ContractRejected(LedgerError):
    """The contract refused a call with a custom error no more specific class covers
    (ZeroRoot, ZeroSize, ZeroAddress...). ``reason`` is the Solidity error name."""

    code = "contract_rejected"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ReceiptTimeout(LedgerError):
    """A sent transaction was not mined within the wait; it may still be pending."""

    code = "receipt_timeout"

    def __init__(self, message: str, *, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class NodeBinaryMissing(LedgerError):
    """The managed node's executable (anvil/ganache from contracts/node_modules) is absent."""

    code = "node_binary_missing"


class TrustMismatch(LedgerError):
    """The chain, registry, owner, submitter or the database's record of them differ
    from the trust anchors (configuration or the regulator's trust file)."""

    code = "trust_mismatch"


class TrustMissing(LedgerError):
    """No trust anchors are configured or recorded, so nothing can be verified."""

    code = "trust_missing"
