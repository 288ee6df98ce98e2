"""GET /health and GET /catalog."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from ledger.redact import redact_url
from traceability.api.schemas import CatalogPublic, Health
from traceability.app import current_trace, get_session
from traceability.catalog.services import catalog_public
from traceability.verification.status import ledger_status


def health() -> tuple[Health, int]:
    session = get_session()
    try:
        session.execute(text("SELECT 1"))
        db = "ok"
    except Exception as exc:  # the point of /health is to report, not to raise
        db = f"error: {type(exc).__name__}"
    ledger: dict[str, Any] = (
        ledger_status(session, current_trace().ledger) if db == "ok" else {"status": "unknown"}
    )
    if ledger.get("rpc_url"):  # a provider key must never reach an anonymous caller
        ledger["rpc_url"] = redact_url(ledger["rpc_url"])
    ok = db == "ok"
    body = Health.model_validate({"status": "ok" if ok else "degraded", "db": db, "ledger": ledger})
    return body, 200 if ok else 503


def catalog() -> CatalogPublic:
    return CatalogPublic.model_validate(catalog_public(current_trace().catalog))
