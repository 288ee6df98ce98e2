"""A claim as the API and the CLI show it: figures, lines, a page of devices and exclusions,
and its events with their anchors and verification."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlmodel import Session

from traceability.claims.events import CLAIM_SUBMITTED, claim_events
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem
from traceability.claims.schemas import (
    ClaimedDevicePublic,
    ClaimEventPublic,
    ClaimLine,
    ClaimPublic,
    ExcludedDevice,
    Page,
    Reason,
    ScheduleRef,
)
from traceability.db import iso
from traceability.verification.services import AnyLedger

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]

PER_PAGE = 100
MAX_PER_PAGE = 1000


def claim_public(
    session: Session,
    ledger: AnyLedger,
    claim: Claim,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    exports: dict[str, str] | None = None,
) -> ClaimPublic:
    offset = (page - 1) * per_page
    devices = session.execute(
        select(_ITEM)
        .where(_ITEM.c.claim_id == claim.id)
        .order_by(_ITEM.c.qr_id)
        .offset(offset)
        .limit(per_page)
    ).all()
    excluded = session.execute(
        select(_EXCLUSION)
        .where(_EXCLUSION.c.claim_id == claim.id)
        .order_by(_EXCLUSION.c.qr_id)
        .offset(offset)
        .limit(per_page)
    ).all()
    devices_total = session.execute(
        select(func.count()).where(_ITEM.c.claim_id == claim.id)
    ).scalar_one()
    by_reason: Counter[str] = Counter()
    for (reasons,) in session.execute(
        select(_EXCLUSION.c.reasons).where(_EXCLUSION.c.claim_id == claim.id)
    ):
        by_reason[reasons[0][0]] += 1
    events = claim_events(session, ledger, claim)
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    return ClaimPublic(
        id=claim.id or 0,
        code=claim.code,
        org=claim.org,
        region=claim.region,
        period=claim.period,
        state=claim.state,  # type: ignore[arg-type]
        created_by=claim.created_by,
        created_at=iso(claim.created_at),
        computed_at=iso(claim.computed_at),
        submitted_by=claim.submitted_by,
        submitted_at=iso(claim.submitted_at) if claim.submitted_at else None,
        digest=claim.digest,
        units=claim.units,
        total_yuan=claim.total_yuan,
        approved_yuan=claim.approved_yuan,
        schedules=[ScheduleRef.model_validate(s) for s in claim.schedules],
        lines=[ClaimLine.model_validate(line) for line in claim.lines],
        excluded_by_reason=dict(sorted(by_reason.items())),
        anchor=submitted.anchor if submitted else None,
        anchor_status=submitted.status if submitted else None,
        events=[
            ClaimEventPublic(
                id=e.id,
                type=e.type,  # type: ignore[arg-type]
                org=e.org,
                actor=e.actor,
                occurred_at=iso(e.occurred_at),
                digest=e.digest,
                status=e.status,
                anchor=e.anchor,
                payload=e.payload,
            )
            for e in events
        ],
        page=Page(
            page=page, per_page=per_page, devices_total=devices_total, excluded_total=claim.excluded
        ),
        devices=[
            ClaimedDevicePublic(
                qr_id=d.qr_id,
                category=d.category,
                tier=d.tier,
                schedule=d.schedule,
                rate_yuan=d.rate_yuan,
                dismantled_at=iso(d.dismantled_at),
                review=d.review,
                review_reason=d.review_reason,
            )
            for d in devices
        ],
        excluded=[
            ExcludedDevice(
                qr_id=e.qr_id,
                category=e.category,
                reasons=[Reason(code=c, detail=t) for c, t in e.reasons],
            )
            for e in excluded
        ],
        exports=exports or {},
    )
