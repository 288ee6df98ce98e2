"""Completeness (SPEC §3): every anchor the accepted submitters made is still in the database.

The chain keeps each submitter's anchors as an ordered list, so anyone with
the trust anchors — a regulator without any key — can enumerate them and see
whether the database still holds every anchored batch and event. The
anchoring worker runs ``check_and_record`` every ``completeness_interval_s``;
the latest result is shown in ``/health`` and fails every device
verification while anchored events are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from ledger.errors import ChainMismatch, ContractMissing, TrustMismatch, TrustMissing
from traceability.anchoring.connection import LedgerHandle, reader
from traceability.config import Settings
from traceability.db import iso, utcnow
from traceability.verification.models import TrustCheck
from traceability.verification.reconciliation import AnchorAudit, audit_anchors


@dataclass
class CompletenessResult:
    """The accepted submitters' anchors on chain against the database."""

    submitters: list[str]
    registry: str | None = None
    audits: dict[str, AnchorAudit] = field(default_factory=dict)
    problem: str | None = None  # the check could not be trusted (the chain is not the trusted one)

    @property
    def anchors_on_chain(self) -> int:
        return sum(a.on_chain for a in self.audits.values())

    @property
    def missing_batches(self) -> list[str]:
        return [root for a in self.audits.values() for root in a.missing_batches]

    @property
    def missing_events(self) -> dict[str, int]:
        return {root: n for a in self.audits.values() for root, n in a.missing_events.items()}

    @property
    def ok(self) -> bool:
        return self.problem is None and all(a.ok for a in self.audits.values())

    def detail(self) -> str | None:
        parts = [self.problem] if self.problem else []
        parts += [
            f"batch {root} is on chain but not in the database" for root in self.missing_batches
        ]
        parts += [f"batch {root} lacks {n} event(s)" for root, n in self.missing_events.items()]
        return "; ".join(parts)[:2000] or None


def check_completeness(
    session: Session, handle: LedgerHandle, submitters: list[str] | None = None
) -> CompletenessResult:
    """Enumerate the trusted (or given) submitters' anchors and compare with the database."""
    found = reader(session, handle)
    trust = found.trust
    accepted = list(submitters or (trust.submitters if trust else ()))
    result = CompletenessResult(submitters=accepted, registry=trust.registry if trust else None)
    if found.problem or found.chain is None:
        result.problem = found.problem or "no trusted registry"
        return result
    try:
        for submitter in accepted:
            result.audits[submitter] = audit_anchors(session, found.chain, submitter)
    except (ChainMismatch, ContractMissing, TrustMismatch, TrustMissing) as exc:
        result.problem = str(exc)
    return result


def check_and_record(
    engine: Engine, handle: LedgerHandle, settings: Settings
) -> CompletenessResult:
    """Run the completeness check and store its result (LedgerUnavailable propagates)."""
    with Session(engine, expire_on_commit=False) as session:
        result = check_completeness(session, handle, list(settings.ledger_submitters) or None)
        session.rollback()  # end the read before writing: no transaction across chain calls
        session.add(
            TrustCheck(
                checked_at=utcnow(),
                contract=result.registry,
                submitters=",".join(result.submitters)[:2000],
                anchors_on_chain=result.anchors_on_chain,
                missing_batches=len(result.missing_batches),
                missing_events=sum(result.missing_events.values()),
                ok=result.ok,
                detail=result.detail(),
            )
        )
        session.commit()
    return result


def last_check(session: Session) -> dict[str, Any] | None:
    """The latest completeness check, as /health and the portal show it."""
    check = session.exec(select(TrustCheck).order_by(col(TrustCheck.id).desc()).limit(1)).first()
    if check is None:
        return None
    return {
        "checked_at": iso(check.checked_at),
        "ok": check.ok,
        "registry": check.contract,
        "submitters": [s for s in check.submitters.split(",") if s],
        "anchors_on_chain": check.anchors_on_chain,
        "missing_batches": check.missing_batches,
        "missing_events": check.missing_events,
        "detail": check.detail,
    }
