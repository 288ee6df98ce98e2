"""A claim's own events (submitted, reviewed), chained and anchored like every other event.

Each is a row of the event log whose subject is the claim (``Event.claim``):
its digest covers the content as for devices and lots, ``prev`` names the
claim's previous event, and the anchoring worker puts it in a Merkle batch
with the rest. Verifying them uses the same ``Verifier``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from ledger.canonical import digest_hex, event_content
from traceability.accounts.models import Principal
from traceability.anchoring.trust import TrustedLedger
from traceability.claims.models import Claim
from traceability.custody.models import Event
from traceability.db import iso
from traceability.reports.devices import anchor_rows
from traceability.reports.schemas import AnchorInfo
from traceability.verification.services import Verifier

CLAIM_SUBMITTED = "claim_submitted"
CLAIM_REVIEWED = "claim_reviewed"

_EVENT = Event.__table__  # type: ignore[attr-defined]


def record_claim_event(
    session: Session,
    claim: Claim,
    principal: Principal,
    event_type: str,
    payload: dict[str, Any],
    now: dt.datetime,
) -> str:
    """Append an event to the claim's chain (in the caller's transaction); its digest."""
    event_id = str(uuid.uuid4())
    content = event_content(
        id=event_id,
        type=event_type,
        org=principal.org_code,
        actor=principal.username,
        occurred_at=iso(now),
        recorded_at=iso(now),
        payload=payload,
        prev=claim.head_digest,
        claim=claim.code,
    )
    digest = digest_hex(content)
    session.execute(
        insert(_EVENT).values(
            id=event_id,
            type=event_type,
            device=None,
            lot=None,
            claim=claim.code,
            org=principal.org_code,
            actor=principal.username,
            occurred_at=now,
            recorded_at=now,
            payload=payload,
            prev=claim.head_digest,
            digest=digest,
        )
    )
    claim.head_digest = digest
    return digest


@dataclass(frozen=True)
class ClaimEvent:
    id: str
    type: str
    org: str
    actor: str
    occurred_at: dt.datetime
    payload: dict[str, Any]
    digest: str
    status: str
    anchor: AnchorInfo | None


def claim_events(session: Session, ledger: TrustedLedger, claim: Claim) -> list[ClaimEvent]:
    """The claim's events with their verification status and anchor, in recording order."""
    rows = list(
        session.execute(select(_EVENT).where(_EVENT.c.claim == claim.code).order_by(_EVENT.c.seq))
    )
    positions, anchors = anchor_rows(session, [r.seq for r in rows])
    statuses = Verifier.for_ledger(session, ledger).statuses(rows, positions)
    if rows and claim.head_digest is not None and rows[-1].digest != claim.head_digest:
        statuses[-1] = "broken_chain"  # the latest event was deleted
    return [
        ClaimEvent(
            r.id,
            r.type,
            r.org,
            r.actor,
            r.occurred_at,
            dict(r.payload),
            r.digest,
            s,
            anchors.get(r.seq),
        )
        for r, s in zip(rows, statuses, strict=True)
    ]
