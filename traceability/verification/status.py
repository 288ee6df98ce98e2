"""The ledger's status as /health and ``traceability ledger status`` report it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from ledger.errors import LedgerError
from ledger.redact import redact_text, redact_url
from traceability.anchoring.batching import pending_count
from traceability.anchoring.connection import LedgerSource, open_ledger, read_meta, reader
from traceability.anchoring.trust import TrustedLedger
from traceability.verification.completeness import last_check


def ledger_status(session: Session, ledger: LedgerSource) -> dict[str, Any]:
    settings = ledger.settings
    pending = pending_count(session)
    completeness = last_check(session)
    if settings.ledger_mode == "off":
        return {"status": "off", "pending": pending, "last_completeness_check": completeness}
    meta = read_meta(session)
    url = settings.ledger_url
    try:
        handle = open_ledger(ledger)
        url = handle.submitter.rpc_url
        found = reader(session, handle)
        info = (found.chain or handle.submitter).info()
        status = _status(found)
        trust = found.trust
        return {
            "status": status,
            **({"problem": redact_text(found.problem, url)} if found.problem else {}),
            "chain_id": info.chain_id,
            "contract": trust.registry if trust else meta.get("contract"),
            "trust": trust.to_dict() if trust else None,
            "rpc_url": redact_url(info.rpc_url),
            "block_number": info.block_number,
            "pending": pending,
            "last_completeness_check": completeness,
        }
    except LedgerError as exc:
        return {
            "status": "unavailable",
            "error": redact_text(str(exc), url),
            "contract": meta.get("contract"),
            "rpc_url": redact_url(url),
            "pending": pending,
            "last_completeness_check": completeness,
        }


def _status(ledger: TrustedLedger) -> str:
    """``chain_reset`` when the chain lost the anchors (whatever else is wrong), ``untrusted``
    for any other problem, else ``ok``."""
    if ledger.is_reset:
        return "chain_reset"
    return "untrusted" if ledger.problems else "ok"
