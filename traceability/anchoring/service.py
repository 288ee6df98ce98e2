"""Anchoring as the app uses it: on demand, health, and the ledger for readers."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app
from sqlmodel import Session

from ledger.errors import LedgerError
from traceability.anchoring.connection import (
    TrustedReader,
    configured_trust,
    open_ledger,
    reader,
)
from traceability.anchoring.worker import AnchorRun, run_once
from traceability.config import Settings
from traceability.db import Database

log = logging.getLogger(__name__)


def anchor_now(app: Flask | None = None, *, from_request: bool = False) -> AnchorRun:
    """Anchor everything pending now.

    ``from_request``: a web request is waiting, so every chain call (and the
    wait for the receipt) gets ``ledger_request_timeout_s``, not the worker's
    patience; whatever is left is finished by the background worker.
    """
    app = app or current_app
    settings: Settings = app.config["TRACE_SETTINGS"]
    handle = open_ledger(app)
    receipt_timeout_s = 15.0
    if from_request:
        timeout = settings.ledger_request_timeout_s
        handle = dataclasses.replace(
            handle,
            submitter=handle.submitter.with_timeout(timeout),
            owner=handle.owner.with_timeout(timeout) if handle.owner else None,
        )
        receipt_timeout_s = timeout
    return run_once(
        Database.engine(app),
        handle,
        max_size=settings.anchor_batch_max,
        confirmations=settings.ledger_confirmations,
        receipt_timeout_s=receipt_timeout_s,
        lease_s=settings.anchor_lease_s,
    )


def reader_ledger(session: Session, app: Flask | None = None) -> TrustedReader | None:
    """The trusted registry to verify against (None when the ledger is off).

    A reset, replaced or untrusted chain is no reason to refuse to verify: the
    reader then carries the problem, and no event it checks is "verified".
    Chain calls use short timeouts; LedgerUnavailable propagates.
    """
    app = app or current_app
    if app.config["TRACE_SETTINGS"].ledger_mode == "off":
        return None
    found = reader(session, open_ledger(app))
    if found.problem:
        log.warning("verifying against a ledger that is not trusted: %s", found.problem)
    return found


def redact_url(url: str | None) -> str | None:
    """An RPC URL without credentials (user:password@) or query string (?apikey=…).

    Providers also put keys in the path (…/v3/KEY), so long path segments go too.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    path = "/".join("***" if len(seg) >= 20 else seg for seg in parts.path.split("/"))
    return urlunsplit((parts.scheme, host, path, "***" if parts.query else "", ""))


def redact_text(text: str, url: str | None) -> str:
    """``text`` (an error message) with ``url`` and any other URL in it redacted."""
    if url:
        text = text.replace(url, str(redact_url(url)))
    return re.sub(r"[a-z][a-z0-9+.-]*://\S+", lambda m: str(redact_url(m.group(0))), text)


def public_trust(app: Flask) -> dict[str, Any]:
    """The trust anchors and this deployment's submitter, without asking the chain."""
    settings: Settings = app.config["TRACE_SETTINGS"]
    if settings.ledger_mode == "off":
        return {"mode": "off", "trust": None, "submitter": None}
    handle = open_ledger(app)
    try:
        trust = handle.trust or configured_trust(handle)
        problem = None
    except LedgerError as exc:
        trust, problem = None, str(exc)
    return {
        "mode": settings.ledger_mode,
        "trust": trust.to_dict() if trust else None,
        "submitter": handle.submitter.address or None,
        **({"problem": problem} if problem else {}),
    }
