"""Anchoring as the app uses it: on demand, health, and the ledger for readers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from sqlmodel import Session

from ledger.chain import Web3Ledger
from ledger.errors import ChainMismatch, ContractMissing, LedgerError
from traceability.anchoring.connection import ensure_ready, open_ledger, read_meta
from traceability.anchoring.worker import AnchorRun, pending_count, run_once
from traceability.config import Settings
from traceability.db import Database

log = logging.getLogger(__name__)


def anchor_now(app: Flask | None = None) -> AnchorRun:
    app = app or current_app
    settings: Settings = app.config["TRACE_SETTINGS"]
    return run_once(
        Database.engine(app),
        open_ledger(app),
        max_size=settings.anchor_batch_max,
        confirmations=settings.ledger_confirmations,
    )


def reader_ledger(session: Session, app: Flask | None = None) -> Web3Ledger | None:
    """A ledger client pointed at the recorded registry, or None when the ledger is off.

    A reset or replaced chain is no reason to refuse to verify: readers then
    see every anchored root as ``missing_on_chain`` (and are told to repair).
    """
    app = app or current_app
    if app.config["TRACE_SETTINGS"].ledger_mode == "off":
        return None
    handle = open_ledger(app)
    try:
        ensure_ready(session, handle)
    except (ChainMismatch, ContractMissing) as exc:
        log.warning("verifying against a chain that lost our anchors: %s", exc)
    return handle.submitter


def ledger_status(session: Session) -> dict[str, Any]:
    settings: Settings = current_app.config["TRACE_SETTINGS"]
    pending = pending_count(session)
    if settings.ledger_mode == "off":
        return {"status": "off", "pending": pending}
    meta = read_meta(session)
    try:
        handle = open_ledger(current_app)
        info = handle.submitter.info()
        status = (
            "ok"
            if not meta.get("genesis_hash") or (meta["genesis_hash"] == info.genesis_hash)
            else "chain_reset"
        )
        return {
            "status": status,
            "chain_id": info.chain_id,
            "contract": meta.get("contract"),
            "rpc_url": info.rpc_url,
            "block_number": info.block_number,
            "pending": pending,
        }
    except LedgerError as exc:
        return {
            "status": "unavailable",
            "error": str(exc),
            "contract": meta.get("contract"),
            "pending": pending,
        }


def init_app(app: Flask) -> None:
    app.extensions["trace.ledger_status"] = ledger_status
