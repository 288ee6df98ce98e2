"""GET /health and GET /catalog."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from traceability.anchoring.service import redact_url
from traceability.catalog.services import catalog_public
from traceability.db import get_session


def health() -> tuple[Response, int]:
    session = get_session()
    try:
        session.execute(text("SELECT 1"))
        db = "ok"
    except Exception as exc:  # the point of /health is to report, not to raise
        db = f"error: {type(exc).__name__}"
    ledger: dict[str, Any]
    status_fn = current_app.extensions.get("trace.ledger_status")
    ledger = status_fn(session) if status_fn and db == "ok" else {"status": "off"}
    if ledger.get("rpc_url"):  # a provider key must never reach an anonymous caller
        ledger["rpc_url"] = redact_url(ledger["rpc_url"])
    ok = db == "ok"
    return jsonify({"status": "ok" if ok else "degraded", "db": db, "ledger": ledger}), (
        200 if ok else 503
    )


def catalog() -> Response:
    return jsonify(catalog_public(current_app.extensions["trace.catalog"]))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/health", "health", health)
    bp.add_url_rule("/catalog", "catalog", catalog)
