"""A plant's claim of a quarter created and submitted on the server, as its manager would."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col

from traceability.accounts.services import principal_for
from traceability.anchoring.service import anchor_now
from traceability.app import trace_of
from traceability.audit.claim_view import audit_view
from traceability.claims.models import ClaimItem
from traceability.claims.policy import claim_policy_of
from traceability.claims.review import ReviewRequest, review_claim
from traceability.claims.services import create_claim, submit_claim
from traceability.reports.devices import open_reader


def submitted_claim(app: Flask, manager: str, period: str = "2026Q3") -> int:
    """The id of ``manager``'s plant's claim of ``period``, submitted and anchored."""
    trace = trace_of(app)
    with Session(trace.engine) as session:
        principal = principal_for(session=session, username=manager)
        claim, _ = create_claim(
            session=session, catalog=trace.catalog, principal=principal, period=period,
            ledger=open_reader(session, trace.ledger), now=trace.now(), settings=trace.settings,
            policy=claim_policy_of(trace.settings, trace.catalog), audit=audit_view(session, trace),
        )  # fmt: skip
        claim_id = claim.id
        assert claim_id is not None
        submit_claim(session=session, principal=principal, claim_id=claim_id, now=trace.now(),
                     settings=trace.settings)  # fmt: skip
    anchor_now(trace.engine, trace.ledger)
    return claim_id


def reviewed(app: Flask, claim_id: int, auditor: str) -> str:
    """Reject the claim's first device (a reason code and a note), approve the rest; the
    rejected device's ID."""
    trace = trace_of(app)
    with Session(trace.engine) as session:
        principal = principal_for(session=session, username=auditor)
        first = (
            session.execute(
                select(ClaimItem.qr_id)
                .where(col(ClaimItem.claim_id) == claim_id)
                .order_by(col(ClaimItem.qr_id))
            )
            .scalars()
            .first()
        )
        assert first is not None
        for decision in (
            {"decision": "reject", "qr_id": first, "reason": "video_missing", "note": "第3号工位"},
            {"decision": "approve", "pending_only": True},
        ):
            request = ReviewRequest.model_validate({"decisions": [decision]})
            review_claim(session=session, principal=principal, claim_id=claim_id,
                         request=request, now=trace.now())  # fmt: skip
    anchor_now(trace.engine, trace.ledger)
    return str(first)
