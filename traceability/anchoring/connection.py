"""Which chain the app anchors to, and what the database remembers about it.

On first use the registry is deployed (managed and in-process chains) and
the chain id, genesis hash and contract address are stored in ``ledger_meta``.
Every later start compares them: a reset chain is reported loudly and
``traceability anchor --repair`` re-anchors everything from the database.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ledger.chain import Web3Ledger
from ledger.errors import ChainMismatch, ContractMissing, LedgerError
from ledger.node import ANVIL_DEV_KEYS, ManagedNode
from traceability.anchoring.models import LedgerMeta
from traceability.config import Settings
from traceability.db import begin_write

log = logging.getLogger(__name__)


@dataclass
class LedgerHandle:
    """The submitter's client, and the owner's where this deployment holds that key."""

    submitter: Web3Ledger
    owner: Web3Ledger | None


def read_meta(session: Session) -> dict[str, str]:
    return {m.key: m.value for m in session.exec(select(LedgerMeta))}


def write_meta(session: Session, values: dict[str, str]) -> None:
    for key, value in values.items():
        row = session.get(LedgerMeta, key) or LedgerMeta(key=key, value=value)
        row.value = value
        session.add(row)
    session.commit()


def open_ledger(app: Flask) -> LedgerHandle:
    """The app's ledger clients (one per app; in-process chains live as long as the app)."""
    cached: LedgerHandle | None = app.extensions.get("trace.ledger")
    if cached is not None:
        return cached
    settings: Settings = app.config["TRACE_SETTINGS"]
    if settings.ledger_mode == "off":
        raise LedgerError("the ledger is switched off (TRACE_LEDGER_MODE=off)")
    owner: Web3Ledger | None
    owner_key: str | None
    submitter_key: str | None
    if settings.ledger_mode == "memory":
        owner = Web3Ledger.in_process(account_index=0)
        submitter = owner.with_key(_eth_tester_key(1))
    else:
        url = settings.ledger_url or f"http://127.0.0.1:{settings.ledger_port}"
        if settings.ledger_mode == "managed":
            owner_key, submitter_key = ANVIL_DEV_KEYS[0], ANVIL_DEV_KEYS[1]
        else:
            owner_key, submitter_key = settings.ledger_owner_key, settings.ledger_key
        submitter = Web3Ledger.from_rpc(
            url, private_key=submitter_key, contract_address=settings.ledger_contract
        )
        owner = (
            Web3Ledger.from_rpc(
                url, private_key=owner_key, contract_address=settings.ledger_contract
            )
            if owner_key
            else None
        )
    handle = LedgerHandle(submitter=submitter, owner=owner)
    app.extensions["trace.ledger"] = handle
    return handle


def _eth_tester_key(index: int) -> str:
    from ledger.chain import eth_tester_keys

    return eth_tester_keys()[index]


def deploy(session: Session, handle: LedgerHandle) -> str:
    """Deploy a registry with the owner key, authorise the submitter, remember it all."""
    if handle.owner is None:
        raise LedgerError("deploying needs the registry owner's key (TRACE_LEDGER_OWNER_KEY)")
    address = handle.owner.deploy_registry()
    handle.owner.grant_submitter(handle.submitter.address)
    handle.submitter = handle.submitter.at_address(address)
    info = handle.submitter.info()
    write_meta(
        session,
        {"chain_id": str(info.chain_id), "genesis_hash": info.genesis_hash, "contract": address},
    )
    log.info("registry deployed at %s on chain %s", address, info.chain_id)
    return address


def _set_up_once(session: Session, handle: LedgerHandle) -> dict[str, str]:
    """Record (or deploy) the registry, with a lock row so two workers never both deploy."""
    begin_write(session)
    try:
        # On PostgreSQL a concurrent insert of the same key waits for this
        # transaction and then fails; on SQLite the write lock serialises us.
        session.add(LedgerMeta(key="setup_lock", value="deploying"))
        session.flush()
    except IntegrityError:
        session.rollback()
        return read_meta(session)
    meta = read_meta(session)
    if not meta.get("contract"):
        if handle.submitter.contract_address:
            info = handle.submitter.info()
            meta = {
                "chain_id": str(info.chain_id),
                "genesis_hash": info.genesis_hash,
                "contract": handle.submitter.contract_address,
            }
            write_meta(session, meta)
        else:
            deploy(session, handle)
            meta = read_meta(session)
    lock = session.get(LedgerMeta, "setup_lock")
    if lock is not None:
        session.delete(lock)
    session.commit()
    return meta


def ensure_ready(session: Session, handle: LedgerHandle) -> None:
    """Check (or, on first use, set up) the chain; raise ChainMismatch if it was reset."""
    meta = read_meta(session)
    if not meta.get("contract"):
        meta = _set_up_once(session, handle)
    if handle.submitter.contract_address != meta["contract"]:
        handle.submitter = handle.submitter.at_address(meta["contract"])
        if handle.owner is not None:
            handle.owner = handle.owner.at_address(meta["contract"])
    info = handle.submitter.info()
    if str(info.chain_id) != meta["chain_id"] or info.genesis_hash != meta["genesis_hash"]:
        raise ChainMismatch(
            f"the chain at {info.rpc_url} is not the one this database anchored to "
            f"(chain id {info.chain_id} vs {meta['chain_id']}, genesis {info.genesis_hash[:12]}… "
            f"vs {meta['genesis_hash'][:12]}…): it was reset or replaced. "
            "Run `traceability anchor --repair` to re-anchor every batch."
        )
    if not handle.submitter.contract_code_matches():
        raise ContractMissing(
            f"no AnchorRegistry code at {meta['contract']}: the chain was reset. "
            "Run `traceability anchor --repair`."
        )


@contextlib.contextmanager
def managed_node(settings: Settings) -> Iterator[ManagedNode | None]:
    """Run the managed anvil node for as long as the block lasts.

    Only in managed mode, and only if nothing already answers on the port
    (``serve`` may be running it): the chain lives in ``data_dir/ledger``.
    """
    if settings.ledger_mode != "managed" or settings.ledger_url:
        yield None
        return
    node = ManagedNode("anvil", data_dir=settings.data_dir / "ledger", port=settings.ledger_port)
    if node_answers(node.url):
        yield None
        return
    node.start()
    try:
        yield node
    finally:
        node.stop()


def node_answers(url: str) -> bool:
    try:
        Web3Ledger.from_rpc(url, private_key=None, contract_address=None, timeout=2).info()
        return True
    except LedgerError:
        return False
