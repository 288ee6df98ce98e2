"""What the application may ask of a chain: the ``Ledger`` protocol and its values.

Callers (the anchoring worker, the verifiers, the CLI) are typed against
``Ledger``; ``ledger.chain.Web3Ledger`` is the one implementation, over any
web3 provider (``Web3Ledger.in_process()`` is the in-process eth-tester chain
for unit tests). Every method returns these frozen dataclasses holding plain
``str``/``int``/``bool`` values, never web3's types, and fails with
``LedgerError`` subclasses (``ledger.errors``).

Named ``interface`` rather than ``types`` so that no file of this package, run
as a script, shadows the standard library's ``types``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ChainInfo:
    chain_id: int
    genesis_hash: str
    block_number: int
    rpc_url: str


@dataclass(frozen=True)
class BlockInfo:
    """One block: number, hash (0x-hex) and timestamp (Unix seconds)."""

    number: int
    hash: str
    timestamp: int


@dataclass(frozen=True)
class AnchorRecord:
    """One root as the registry's storage holds it (``root``, ``prev_root``: 0x-hex)."""

    root: str
    block_number: int
    timestamp: int
    submitter: str
    size: int
    seq: int
    prev_root: str


@dataclass(frozen=True)
class SentTransaction:
    tx_hash: str
    nonce: int


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    status: bool
    block_number: int
    block_hash: str


class Ledger(Protocol):
    """A client of one AnchorRegistry on one chain, signing (if at all) with one key."""

    @property
    def address(self) -> str:
        """The signer's address; empty for a read-only client."""
        ...

    @property
    def contract_address(self) -> str | None:
        """The registry this client reads and writes; None before one is deployed."""
        ...

    @property
    def rpc_url(self) -> str: ...

    # -- the same node, seen differently ---------------------------------------

    def with_timeout(self, timeout: float) -> Ledger:
        """The same node, registry and signer, each call given at most ``timeout`` seconds."""
        ...

    def with_key(self, private_key: str) -> Ledger:
        """The same node and registry seen by another signer."""
        ...

    def at_address(self, contract_address: str) -> Ledger:
        """The same node and signer, pointed at another registry."""
        ...

    # -- chain state -------------------------------------------------------------

    def chain_id(self) -> int: ...
    def info(self) -> ChainInfo: ...
    def block_number(self) -> int: ...
    def block_hash(self, number: int) -> str | None: ...
    def block(self, number: int) -> BlockInfo | None: ...
    def balance(self, address: str) -> int:
        """What ``address`` holds, in wei."""
        ...

    def pending_nonce(self) -> int: ...
    def contract_code_matches(self) -> bool: ...

    # -- transactions ------------------------------------------------------------

    def deploy_registry(self) -> str: ...
    def grant_submitter(self, address: str) -> Receipt: ...
    def revoke_submitter(self, address: str) -> Receipt: ...
    def send_anchor(
        self, root: bytes, size: int, *, nonce: int | None = None, gas: int | None = None
    ) -> SentTransaction: ...
    def get_receipt(self, tx_hash: str) -> Receipt | None: ...
    def wait_receipt(self, tx_hash: str, timeout: float = 30) -> Receipt: ...

    # -- registry reads: contract storage, never logs ------------------------------

    def owner(self) -> str: ...
    def is_submitter(self, address: str) -> bool: ...
    def get_anchor(self, root: bytes | str) -> AnchorRecord | None: ...
    def anchor_count(self, submitter: str) -> int: ...
    def anchors_of(
        self, submitter: str, *, start: int = 0, block: int | None = None
    ) -> list[AnchorRecord]:
        """The submitter's anchors from the ``start``-th on, read at ``block`` (default latest)."""
        ...

    def anchor_transaction(self, root: bytes | str, block_number: int) -> str | None:
        """The hash of the transaction that anchored ``root`` (to fill in records only)."""
        ...
