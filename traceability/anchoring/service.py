"""Anchoring as the app uses it: on demand, health, and the ledger for readers."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from ledger.errors import LedgerError
from traceability.anchoring.connection import LedgerSource, configured_trust, open_ledger, reader
from traceability.anchoring.trust import TrustedLedger
from traceability.anchoring.worker import AnchorRun, run_once

log = logging.getLogger(__name__)


def anchor_now(
    engine: Engine, ledger: LedgerSource, *, from_request: bool = False, recheck: bool = True
) -> AnchorRun:
    """Anchor everything pending now.

    ``from_request``: a web request is waiting, so every chain call (and the
    wait for the receipt) gets ``ledger_request_timeout_s``, not the worker's
    patience; whatever is left is finished by the background worker.
    ``recheck``: see :func:`run_once`.
    """
    settings = ledger.settings
    handle = open_ledger(ledger)
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
        engine,
        handle,
        max_size=settings.anchor_batch_max,
        confirmations=settings.ledger_confirmations,
        receipt_timeout_s=receipt_timeout_s,
        lease_s=settings.anchor_lease_s,
        recheck=recheck,
    )


def reader_ledger(session: Session, ledger: LedgerSource) -> TrustedLedger:
    """The trusted registry to verify against (``TrustedLedger.off()`` when the ledger is off).

    A reset, replaced or untrusted chain is no reason to refuse to verify: the
    reader then carries the problem, and no event it checks is "verified".
    Chain calls use short timeouts; LedgerUnavailable propagates.
    """
    if ledger.settings.ledger_mode == "off":
        return TrustedLedger.off()
    found = reader(session, open_ledger(ledger))
    if found.problem:
        log.warning("verifying against a ledger that is not trusted: %s", found.problem)
    return found


def public_trust(ledger: LedgerSource) -> dict[str, Any]:
    """The trust anchors and this deployment's submitter, without asking the chain."""
    settings = ledger.settings
    if settings.ledger_mode == "off":
        return {"mode": "off", "trust": None, "submitter": None}
    handle = open_ledger(ledger)
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
