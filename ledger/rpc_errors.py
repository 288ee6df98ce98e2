"""Turning node, web3 and contract failures into ``LedgerError`` subclasses.

Nodes disagree on how they report the same failure: the revert payload may be
a string or nested in a dict, eth-tester raises its own exceptions, and a
stale nonce is worded differently by geth, ganache and eth-tester. Everything
that knows those shapes lives here, so ``chain`` only says which action failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth_utils import keccak
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    Web3Exception,
    Web3RPCError,
)

from ledger.errors import (
    ContractMissing,
    ContractRejected,
    DuplicateRoot,
    LedgerError,
    LedgerUnavailable,
    NonceTooLow,
    NotAuthorised,
    TransactionFailed,
)
from ledger.redact import redact_text

# Solidity custom errors that have a dedicated Python class; the rest become
# ContractRejected(reason=<error name>).
ERROR_CLASSES: dict[str, type[LedgerError]] = {
    "NotSubmitter": NotAuthorised,
    "NotOwner": NotAuthorised,
    "SelfGrant": NotAuthorised,
    "DuplicateRoot": DuplicateRoot,
}

# How nodes that do not say "nonce too low" report a stale nonce: (expected, given).
_NONCE_MISMATCH = (
    re.compile(r"account has nonce of: (\d+) tx has nonce of: (\d+)"),  # ganache
    re.compile(r"invalid transaction nonce: expected (\d+), but got (\d+)"),  # eth-tester
)


@contextmanager
def translated_errors(
    action: str, *, rpc_url: str, contract_address: str | None, selectors: dict[str, str]
) -> Iterator[None]:
    """Turn web3/requests (and eth-tester) failures inside the block into LedgerErrors."""
    try:
        yield
    except LedgerError:
        raise
    except OSError as exc:  # requests' ConnectionError/Timeout are OSErrors
        # The URL (and the HTTP library's text, which quotes its path) may hold a key.
        shown = redact_text(f"{rpc_url} unreachable ({exc})", rpc_url)
        raise LedgerUnavailable(f"{action}: {shown}") from exc
    except ContractLogicError as exc:
        raise revert_error(action, selectors, revert_data(exc), exc.message) from exc
    except BadFunctionCallOutput as exc:
        raise ContractMissing(f"{action}: no registry at {contract_address}") from exc
    except Web3RPCError as exc:
        raise rpc_error(action, rpc_message(exc)) from exc
    except (Web3Exception, ValueError) as exc:
        raise rpc_error(action, str(exc)) from exc
    except Exception as exc:
        # EthereumTesterProvider lets eth-tester's (and py-evm's) own exceptions through.
        if not type(exc).__module__.startswith(("eth_tester", "eth_utils", "eth.")):
            raise
        if type(exc).__name__ == "TransactionFailed":
            raise revert_error(action, selectors, eth_tester_revert(exc), str(exc)) from exc
        raise rpc_error(action, str(exc)) from exc


def error_selectors(abi: list[dict[str, Any]]) -> dict[str, str]:
    """Map 4-byte selectors (0x-hex) of the ABI's custom errors to their names."""
    selectors = {}
    for item in abi:
        if item.get("type") == "error":
            types = ",".join(arg["type"] for arg in item["inputs"])
            selectors["0x" + keccak(text=f"{item['name']}({types})")[:4].hex()] = item["name"]
    return selectors


def revert_error(
    action: str, selectors: dict[str, str], data: str, message: str | None
) -> LedgerError:
    """Name the registry's custom error from the revert data's 4-byte selector."""
    name = selectors.get(data[:10])
    if name is None:
        return TransactionFailed(f"{action} reverted: {message or data or 'no reason'}")
    text = f"{action} rejected by the registry: {name}"
    error_class = ERROR_CLASSES.get(name)
    return ContractRejected(text, reason=name) if error_class is None else error_class(text)


def revert_data(exc: ContractLogicError) -> str:
    """The revert payload, whichever shape the node used (some nest it in a dict)."""
    data: Any = exc.data
    if isinstance(data, dict):
        data = data.get("data") or data.get("result") or ""
    return data if isinstance(data, str) else ""


def eth_tester_revert(exc: BaseException) -> str:
    """Dig the raw revert bytes out of eth-tester's nested TransactionFailed/Revert."""
    seen: BaseException | None = exc
    while seen is not None:
        for arg in seen.args:
            if isinstance(arg, bytes):
                return "0x" + arg.hex()
            if isinstance(arg, BaseException) and arg.args and isinstance(arg.args[0], bytes):
                return "0x" + arg.args[0].hex()
        seen = seen.__cause__ or seen.__context__
    return ""


def rpc_message(exc: Web3RPCError) -> str:
    """The node's own error text (web3 stringifies the whole error object)."""
    error = (exc.rpc_response or {}).get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return str(exc.message)


def already_known(message: str) -> bool:
    """The node already holds this exact signed transaction (a harmless resend)."""
    lowered = message.lower()
    return "already known" in lowered or "already imported" in lowered


def rpc_error(action: str, message: str) -> LedgerError:
    """A NonceTooLow when the node says so (in any of its wordings), else a LedgerError."""
    lowered = message.lower()
    # A transaction of another worker with the same nonce is still in the pool:
    # geth and anvil refuse ours as a replacement that does not outbid it.
    if "nonce too low" in lowered or "replacement transaction underpriced" in lowered:
        return NonceTooLow(f"{action}: {message}")
    for pattern in _NONCE_MISMATCH:
        match = pattern.search(lowered)
        if match and int(match.group(2)) < int(match.group(1)):
            return NonceTooLow(f"{action}: {message}")
    return LedgerError(f"{action}: {message}")
