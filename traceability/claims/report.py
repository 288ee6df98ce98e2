"""A claim as the API and the CLI show it: figures, lines, a page of devices and exclusions,
and its events with their anchors and verification.

Every figure is the claim's replay from its anchored events (``claims.replay``,
SPEC §3 "Every figure is a replay"); where a row disagrees it is listed under
``projection_mismatch`` and the claim does not verify.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlmodel import Session

from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import Catalog
from traceability.claims.discipline import changed_after_submission
from traceability.claims.events import CLAIM_SUBMITTED, ClaimEvent, claim_events
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem
from traceability.claims.replay import Mismatch, claim_status, replay_claim
from traceability.claims.schemas import (
    ClaimedDevicePublic,
    ClaimEventPublic,
    ClaimLine,
    ClaimMismatch,
    ClaimPublic,
    Condition,
    ExcludedDevice,
    Flag,
    Page,
    PolicyRef,
    Reason,
    ScheduleRef,
)
from traceability.db import iso

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]

PER_PAGE = 100
MAX_PER_PAGE = 1000


def claim_public(
    session: Session,
    ledger: TrustedLedger,
    catalog: Catalog,
    claim: Claim,
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    exports: dict[str, str] | None = None,
) -> ClaimPublic:
    """The claim as the API shows it: its replayed figures, events and one page of devices."""
    devices, excluded, devices_total = _page_rows(session, claim, page, per_page)
    events = claim_events(session, ledger, claim)
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    replay = replay_claim(session, catalog, claim, events)
    changed = changed_after_submission(session, claim)
    flagged = dict(replay.flagged_by_flag)
    if changed:
        flagged["evidence_changed_after_submission"] = len(changed)
    return ClaimPublic(
        id=claim.id or 0,
        code=claim.code,
        org=claim.org,
        region=claim.region,
        period=claim.period,
        state=replay.state,  # type: ignore[arg-type]
        created_by=claim.created_by,
        created_at=iso(claim.created_at),
        computed_at=iso(claim.computed_at),
        submitted_by=replay.submitted_by,
        submitted_at=iso(replay.submitted_at) if replay.submitted_at else None,
        digest=replay.digest,
        units=replay.units,
        total_yuan=replay.total_yuan,
        approved_yuan=replay.approved_yuan,
        mode="quantity" if claim.mode == "quantity" else "yuan",
        supplements=claim.supplements,
        conditions=_conditions(claim),
        policy=PolicyRef.model_validate(claim.policy) if claim.policy else None,
        schedules=[ScheduleRef.model_validate(s) for s in replay.schedules],
        lines=[ClaimLine.model_validate(line) for line in replay.lines],
        excluded_by_reason=dict(sorted(replay.excluded_by_reason.items())),
        flagged=dict(sorted(flagged.items())),
        anchor=submitted.anchor if submitted else None,
        anchor_status=claim_status(events, replay),
        projection_mismatch=[_mismatch(m) for m in replay.mismatches],
        events=[_event(e) for e in events],
        page=Page(
            page=page,
            per_page=per_page,
            devices_total=devices_total,
            excluded_total=replay.excluded,
        ),
        devices=[
            _device(d, replay.outcomes.of(d.qr_id, d.tier), changed.get(d.qr_id)) for d in devices
        ],
        excluded=[_excluded(e) for e in excluded],
        exports=exports or {},
    )


def _conditions(claim: Claim) -> dict[str, Condition]:
    """The enterprise conditions as stated when the claim was computed."""
    return {
        name: Condition(met=c.get("met"), detail=str(c.get("detail", "")))
        for name, c in (claim.conditions or {}).items()
        if isinstance(c, dict)
    }


def _page_rows(
    session: Session, claim: Claim, page: int, per_page: int
) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]], int]:
    """One page of the claim's devices and of its exclusions, and how many devices it has."""
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
    return devices, excluded, devices_total


def _mismatch(m: Mismatch) -> ClaimMismatch:
    """Where a stored row disagrees with the replay, as the API lists it."""
    return ClaimMismatch(
        claim=m.claim,
        field=m.field,
        device=m.device,
        stored=_json(m.stored),
        replayed=_json(m.replayed),
        text=m.text,
    )


def _event(e: ClaimEvent) -> ClaimEventPublic:
    """One claim event with its anchor and verification status."""
    return ClaimEventPublic(
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


def _device(
    d: Any, outcome: tuple[str | None, str | None], changed: str | None
) -> ClaimedDevicePublic:
    """A claimed device's row, with its review outcome as the review events say and its
    flags (``changed``: what was recorded of it after the submission)."""
    flags = [Flag(code=code, detail=detail) for code, detail in d.flags or ()]
    if changed:
        flags.append(Flag(code="evidence_changed_after_submission", detail=changed))
    return ClaimedDevicePublic(
        qr_id=d.qr_id,
        category=d.category,
        tier=d.tier,
        schedule=d.schedule,
        rate_yuan=d.rate_yuan,
        dismantled_at=iso(d.dismantled_at),
        review=outcome[0],  # type: ignore[arg-type]
        review_reason=outcome[1],
        flags=flags,
    )


def _excluded(e: Any) -> ExcludedDevice:
    """A device left out of the claim, with every reason."""
    return ExcludedDevice(
        qr_id=e.qr_id,
        category=e.category,
        reasons=[Reason(code=c, detail=t) for c, t in e.reasons],
    )


def _json(value: object) -> object:
    """A mismatch's value as JSON holds it (times as RFC 3339)."""
    return iso(value) if isinstance(value, dt.datetime) else value
