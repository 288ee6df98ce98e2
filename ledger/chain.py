"""Chain client for the AnchorRegistry contract: the ``Ledger`` implementation over web3.

Everything web3-specific stays in this module (and ``rpc_errors``, which
translates failures): callers are typed against ``ledger.interface.Ledger`` and
get its frozen dataclasses holding plain ``str``/``int``/``bool`` values and
``LedgerError`` subclasses, so the worker, the verifier and the tests do not
depend on web3's types or on which node (anvil, ganache, geth, Besu,
eth-tester) answers.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import BlockNotFound, TransactionNotFound, Web3Exception, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from ledger.errors import ContractMissing, NotAuthorised, ReceiptTimeout, TransactionFailed
from ledger.interface import (
    AnchorRecord,
    BlockInfo,
    ChainInfo,
    Ledger,
    Receipt,
    SentTransaction,
)
from ledger.rpc_errors import already_known, error_selectors, rpc_message, translated_errors

# The values and the protocol live in ``ledger.interface``; importing them from
# here keeps working.
__all__ = [
    "ZERO_HASH",
    "AnchorRecord",
    "ChainInfo",
    "Ledger",
    "Receipt",
    "SentTransaction",
    "Web3Ledger",
    "default_artifact_path",
    "eth_tester_keys",
    "load_artifact",
]

ZERO_HASH = "0x" + "00" * 32
DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei, when the node cannot suggest a tip


def default_artifact_path() -> Path:
    """The committed compiler output, located from the source tree (never copied)."""
    return Path(__file__).resolve().parents[1] / "contracts" / "build" / "AnchorRegistry.json"


def load_artifact(path: Path | None = None) -> dict[str, Any]:
    """Read the compiled AnchorRegistry artifact written by ``contracts/compile.js``."""
    artifact_path = path or default_artifact_path()
    try:
        return json.loads(artifact_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ContractMissing(
            f"no compiled registry at {artifact_path}: run node contracts/compile.js"
        ) from exc


class Web3Ledger:
    """The AnchorRegistry client over any web3 provider, signing locally with one key.

    The one implementation of ``ledger.interface.Ledger`` (structurally: mypy
    checks it wherever a ``Web3Ledger`` is used as a ``Ledger``).
    """

    def __init__(
        self,
        w3: Web3,
        *,
        private_key: str | None,
        contract_address: str | None,
        rpc_url: str,
        artifact: dict[str, Any] | None = None,
    ) -> None:
        self._w3 = w3
        self._private_key = private_key
        self._account: LocalAccount | None = Account.from_key(private_key) if private_key else None
        self.address: str = self._account.address if self._account else ""
        self.rpc_url = rpc_url
        self._artifact = artifact or load_artifact()
        self._selectors = error_selectors(self._artifact["abi"])
        self._chain_id: int | None = None
        self.contract_address: str | None = None
        if contract_address:
            self._use_contract(contract_address)

    @classmethod
    def from_rpc(
        cls,
        url: str,
        *,
        private_key: str | None,
        contract_address: str | None,
        timeout: float = 10,
    ) -> Web3Ledger:
        """Connect to a JSON-RPC endpoint. Retries are few so a dead node fails fast.

        A refused connection is retried; a node that accepted the call and did
        not answer within ``timeout`` is not (a hung node must cost one timeout).
        """
        retry = ExceptionRetryConfiguration(
            errors=(requests.ConnectionError,), retries=2, backoff_factor=0.05
        )
        provider = HTTPProvider(
            url, request_kwargs={"timeout": timeout}, exception_retry_configuration=retry
        )
        w3 = Web3(provider)
        # Consortium chains (clique/QBFT) put more than 32 bytes in extraData.
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        return cls(w3, private_key=private_key, contract_address=contract_address, rpc_url=url)

    @classmethod
    def in_process(
        cls, *, account_index: int = 0, artifact: dict[str, Any] | None = None
    ) -> Web3Ledger:
        """An eth-tester chain in this process: fast unit tests only, gone on exit."""
        from web3 import EthereumTesterProvider  # the test extra: imported only when used

        return cls(
            Web3(EthereumTesterProvider()),
            private_key=eth_tester_keys()[account_index],
            contract_address=None,
            rpc_url="eth-tester://in-process",
            artifact=artifact,
        )

    def with_timeout(self, timeout: float) -> Web3Ledger:
        """The same node, registry and signer, each call given at most ``timeout`` seconds."""
        if not self.rpc_url.startswith(("http://", "https://")):
            return self  # an in-process chain answers at once
        ledger = Web3Ledger.from_rpc(
            self.rpc_url,
            private_key=self._private_key,
            contract_address=self.contract_address,
            timeout=timeout,
        )
        ledger._chain_id = self._chain_id
        return ledger

    def with_key(self, private_key: str) -> Web3Ledger:
        """The same node and registry seen by another signer (regulator vs plant)."""
        return Web3Ledger(
            self._w3,
            private_key=private_key,
            contract_address=self.contract_address,
            rpc_url=self.rpc_url,
            artifact=self._artifact,
        )

    def at_address(self, contract_address: str) -> Web3Ledger:
        """The same node and signer, pointed at another registry address."""
        return Web3Ledger(
            self._w3,
            private_key=self._private_key,
            contract_address=contract_address,
            rpc_url=self.rpc_url,
            artifact=self._artifact,
        )

    def _rpc(self, action: str) -> AbstractContextManager[None]:
        """Turn web3/requests (and eth-tester) failures into LedgerError subclasses."""
        return translated_errors(
            action,
            rpc_url=self.rpc_url,
            contract_address=self.contract_address,
            selectors=self._selectors,
        )

    # -- chain state ---------------------------------------------------------

    def _use_contract(self, address: str) -> None:
        self.contract_address = to_checksum_address(address)
        self._contract = self._w3.eth.contract(
            address=self.contract_address, abi=self._artifact["abi"]
        )

    def _registry(self) -> Any:
        if self.contract_address is None:
            raise ContractMissing("no registry address configured: deploy_registry() first")
        return self._contract

    def chain_id(self) -> int:
        if self._chain_id is None:
            with self._rpc("eth_chainId"):
                self._chain_id = int(self._w3.eth.chain_id)
        return self._chain_id

    def info(self) -> ChainInfo:
        """Identity of the chain: a different genesis hash means it was reset or replaced."""
        with self._rpc("chain info"):
            genesis = self._w3.eth.get_block(0)
            number = self._w3.eth.block_number
        return ChainInfo(
            chain_id=self.chain_id(),
            genesis_hash=_hex(genesis["hash"]),
            block_number=int(number),
            rpc_url=self.rpc_url,
        )

    def block_number(self) -> int:
        with self._rpc("eth_blockNumber"):
            return int(self._w3.eth.block_number)

    def block_hash(self, number: int) -> str | None:
        with self._rpc("eth_getBlockByNumber"):
            try:
                return _hex(self._w3.eth.get_block(number)["hash"])
            except BlockNotFound:
                return None

    def block(self, number: int) -> BlockInfo | None:
        with self._rpc("eth_getBlockByNumber"):
            try:
                raw = self._w3.eth.get_block(number)
            except BlockNotFound:
                return None
        return BlockInfo(int(raw["number"]), _hex(raw["hash"]), int(raw["timestamp"]))

    def balance(self, address: str) -> int:
        """What ``address`` holds on this chain, in wei (what it can pay for transactions)."""
        with self._rpc("eth_getBalance"):
            return int(self._w3.eth.get_balance(to_checksum_address(address)))

    def pending_nonce(self) -> int:
        """Counts transactions still in the pool, so consecutive sends never collide."""
        with self._rpc("eth_getTransactionCount"):
            return int(self._w3.eth.get_transaction_count(self._signer().address, "pending"))

    def contract_code_matches(self) -> bool:
        with self._rpc("eth_getCode"):
            code = self._w3.eth.get_code(self._registry().address)
        return _hex(code) == self._artifact["deployedBytecode"].lower()

    # -- transactions --------------------------------------------------------

    def _signer(self) -> LocalAccount:
        if self._account is None:
            raise NotAuthorised("this ledger has no signing key configured")
        return self._account

    def _fee_fields(self) -> dict[str, int]:
        """EIP-1559 fees when the node has a base fee, a legacy gas price otherwise."""
        base_fee = self._w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": int(self._w3.eth.gas_price)}
        try:
            tip = int(self._w3.eth.max_priority_fee)
        except (Web3Exception, ValueError):  # not every node implements it
            tip = DEFAULT_PRIORITY_FEE
        return {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * int(base_fee) + tip}

    def _send(
        self, action: str, call: dict[str, Any], *, nonce: int | None, gas: int | None
    ) -> SentTransaction:
        """Estimate (surfacing reverts as domain errors), sign locally, send raw."""
        account = self._signer()
        with self._rpc(action):
            tx: dict[str, Any] = {**call, "from": account.address, "value": 0}
            if gas is None:
                estimate = int(self._w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
                gas = estimate + estimate // 5  # headroom: storage costs vary by slot
            if nonce is None:
                nonce = int(self._w3.eth.get_transaction_count(account.address, "pending"))
            tx.update(gas=gas, nonce=nonce, chainId=self.chain_id(), **self._fee_fields())
            signed = account.sign_transaction(tx)
            try:
                self._w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as exc:
                if not already_known(rpc_message(exc)):
                    raise
        return SentTransaction(tx_hash=_hex(signed.hash), nonce=nonce)

    def _transact(self, action: str, call: dict[str, Any]) -> Receipt:
        receipt = self.wait_receipt(self._send(action, call, nonce=None, gas=None).tx_hash)
        if not receipt.status:
            raise TransactionFailed(f"{action} reverted in block {receipt.block_number}")
        return receipt

    def _call_data(self, function: str, *args: Any) -> dict[str, Any]:
        registry = self._registry()
        return {"to": registry.address, "data": registry.encode_abi(function, args=list(args))}

    def deploy_registry(self) -> str:
        """Deploy a fresh registry owned by the signer; remember and return its address."""
        call = {"data": self._artifact["bytecode"]}
        receipt = self._transact("deploy registry", call)
        with self._rpc("eth_getTransactionReceipt"):
            raw = self._w3.eth.get_transaction_receipt(receipt.tx_hash)  # type: ignore[arg-type]
        address = raw.get("contractAddress")
        if not address:
            raise ContractMissing(f"deployment {receipt.tx_hash} created no contract")
        self._use_contract(address)
        return str(self.contract_address)

    def grant_submitter(self, address: str) -> Receipt:
        call = self._call_data("grantSubmitter", to_checksum_address(address))
        return self._transact("grantSubmitter", call)

    def revoke_submitter(self, address: str) -> Receipt:
        call = self._call_data("revokeSubmitter", to_checksum_address(address))
        return self._transact("revokeSubmitter", call)

    def send_anchor(
        self, root: bytes, size: int, *, nonce: int | None = None, gas: int | None = None
    ) -> SentTransaction:
        """Send anchor(root, size) without waiting for it to be mined.

        With ``gas`` given nothing is estimated, so a contract rejection then
        shows only as a failed receipt (status False).
        """
        call = self._call_data("anchor", _root_bytes(root), size)
        return self._send("anchor", call, nonce=nonce, gas=gas)

    def get_receipt(self, tx_hash: str) -> Receipt | None:
        with self._rpc("eth_getTransactionReceipt"):
            try:
                raw = self._w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None
        if raw is None or raw.get("blockNumber") is None:
            return None
        return Receipt(
            tx_hash=_hex(raw["transactionHash"]),
            status=raw["status"] == 1,
            block_number=int(raw["blockNumber"]),
            block_hash=_hex(raw["blockHash"]),
        )

    def wait_receipt(self, tx_hash: str, timeout: float = 30) -> Receipt:
        deadline = time.monotonic() + timeout
        delay = 0.02
        while (receipt := self.get_receipt(tx_hash)) is None:
            if time.monotonic() >= deadline:
                raise ReceiptTimeout(f"{tx_hash} not mined after {timeout}s", tx_hash=tx_hash)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        return receipt

    # -- registry reads: eth_call on contract storage, never logs -------------

    def _view(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        with self._rpc(function):
            return self._registry().functions[function](*args).call(block_identifier=block)

    def is_submitter(self, address: str) -> bool:
        return bool(self._view("isSubmitter", to_checksum_address(address)))

    def owner(self) -> str:
        return str(self._view("owner"))

    def get_anchor(self, root: bytes | str) -> AnchorRecord | None:
        raw_root = _root_bytes(root)
        block, stamp, submitter, *rest = self._view("getAnchor", raw_root)
        return None if block == 0 else _record(raw_root, block, stamp, submitter, *rest)

    def anchor_transaction(self, root: bytes | str, block_number: int) -> str | None:
        """The hash of the transaction that anchored ``root`` in ``block_number``.

        Only to fill in records (a worker that died before noting its tx);
        whether a root is anchored is always read from storage, never logs.
        """
        with self._rpc("Anchored log"):
            logs = (
                self._registry()
                .events.Anchored()
                .get_logs(
                    from_block=block_number,
                    to_block=block_number,
                    argument_filters={"root": _root_bytes(root)},
                )
            )
        return _hex(logs[0]["transactionHash"]) if logs else None

    def anchor_count(self, submitter: str) -> int:
        return int(self._view("anchorCount", to_checksum_address(submitter)))

    def anchors_of(
        self, submitter: str, *, start: int = 0, block: int | None = None
    ) -> list[AnchorRecord]:
        """The anchors ``submitter`` made from the ``start``-th on, in order, read at one block.

        ``block`` (default: the latest) is where every read is made, for a
        consistent list; the registry's lists only grow, so a caller who holds
        the first ``start`` (read at a block still in the chain) asks for the rest.
        """
        account = to_checksum_address(submitter)
        at = self.block_number() if block is None else block
        count = self._view("anchorCount", account, block=at)
        rows = [self._view("anchorAt", account, index, block=at) for index in range(start, count)]
        return [_record(root, block, stamp, account, *rest) for root, block, stamp, *rest in rows]


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _root_bytes(root: bytes | str) -> bytes:
    raw = bytes.fromhex(root.removeprefix("0x")) if isinstance(root, str) else bytes(root)
    if len(raw) != 32:
        raise ValueError(f"a Merkle root is 32 bytes, got {len(raw)}")
    return raw


def _record(
    root: bytes, block: int, stamp: int, submitter: str, size: int, seq: int, prev: bytes
) -> AnchorRecord:
    return AnchorRecord(
        root=_hex(root),
        block_number=int(block),
        timestamp=int(stamp),
        submitter=str(submitter),
        size=int(size),
        seq=int(seq),
        prev_root=_hex(prev),
    )


def eth_tester_keys() -> list[str]:
    """Private keys of eth-tester's funded default accounts (in-process chain only)."""
    from eth_tester.backends.pyevm.main import get_default_account_keys

    return [_hex(key.to_bytes()) for key in get_default_account_keys()]
