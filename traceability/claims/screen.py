"""What the claims pages show beyond the API's claim (SPEC §2.6, issue 18 item 7): the
claims a reader may list, the flagged rows first, the exclusions of one reason, and the
regulator's 审核核定 table (per line: claimed, approved, deducted, reason codes).

Outcomes are the replay of the claim's review events (``claims.outcomes``), as
every figure the API shows; no Flask here (the portal's views call these).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import Catalog
from traceability.claims.discipline import changed_after_submission
from traceability.claims.events import claim_events
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem, ClaimState, Review
from traceability.claims.outcomes import Outcomes
from traceability.claims.replay import replay_claim
from traceability.claims.report import claim_public
from traceability.claims.schemas import ClaimPublic
from traceability.paging import Paging

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]


def claims_of(session: Session, orgs: Collection[str], *, submitted_only: bool) -> list[Claim]:
    """The claims of the plants ``orgs``, newest quarter first; ``submitted_only``: not drafts
    (what an auditor reviews)."""
    query = select(Claim).where(col(Claim.org).in_(list(orgs)))
    if submitted_only:
        query = query.where(col(Claim.state) != ClaimState.draft)
    query = query.order_by(col(Claim.period).desc(), col(Claim.org), col(Claim.id).desc())
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class DeviceRow:
    """A claimed device as the review screen lists it, with its replayed outcome."""

    qr_id: str
    category: str
    tier: str
    rate_yuan: int
    dismantled_at: dt.datetime
    review: str | None
    reason: str | None
    #: [(flag, detail)]: the policy's marks and, after submission, changed evidence.
    flags: list[tuple[str, str]]


def _row(r: Any, outcomes: Outcomes, changed: dict[str, str]) -> DeviceRow:
    flags = [(str(f), str(d)) for f, d in r.flags or ()]
    if r.qr_id in changed:
        flags.append(("evidence_changed_after_submission", changed[r.qr_id]))
    review, reason = outcomes.of(r.qr_id, r.tier)
    return DeviceRow(r.qr_id, r.category, r.tier, r.rate_yuan, r.dismantled_at, review,
                     reason, flags)  # fmt: skip


def device_rows(
    session: Session,
    claim: Claim,
    outcomes: Outcomes,
    changed: dict[str, str],
    *,
    offset: int,
    limit: int,
    tier: str | None = None,
) -> tuple[list[DeviceRow], int, int]:
    """One page of the claim's devices (of line ``tier``): the flagged ones first, each part
    in QR ID order; and how many devices and flagged devices there are."""
    where = [_ITEM.c.claim_id == claim.id]
    if tier is not None:
        where.append(_ITEM.c.tier == tier)
    keys = session.execute(select(_ITEM.c.qr_id, _ITEM.c.flags).where(*where)).all()
    flagged = sorted(q for q, flags in keys if flags or q in changed)
    marked = set(flagged)
    order = (flagged + sorted(q for q, _flags in keys if q not in marked))[offset : offset + limit]
    rows = {
        r.qr_id: r
        for r in session.execute(
            select(_ITEM).where(_ITEM.c.claim_id == claim.id, _ITEM.c.qr_id.in_(order))
        )
    }
    return [_row(rows[q], outcomes, changed) for q in order], len(keys), len(flagged)


@dataclass(frozen=True)
class ExcludedRow:
    qr_id: str
    category: str | None
    #: [(code, detail)], the first the one a summary counts.
    reasons: list[tuple[str, str]]


def excluded_rows(
    session: Session, claim: Claim, *, reason: str | None, offset: int, limit: int
) -> tuple[list[ExcludedRow], int]:
    """One page of the devices the claim left out (whose first reason is ``reason``)."""
    rows = session.execute(
        select(_EXCLUSION.c.qr_id, _EXCLUSION.c.category, _EXCLUSION.c.reasons)
        .where(_EXCLUSION.c.claim_id == claim.id)
        .order_by(_EXCLUSION.c.qr_id)
    )
    found = [
        ExcludedRow(q, c, [(str(a), str(b)) for a, b in reasons])
        for q, c, reasons in rows
        if reason is None or (reasons and reasons[0][0] == reason)
    ]
    return found[offset : offset + limit], len(found)


@dataclass
class ApprovalLine:
    """One line of the 审核核定 table: what was claimed, approved and deducted, and why."""

    category: str
    tier: str
    rate: int
    claimed: int = 0
    approved: int = 0
    deducted: int = 0
    pending: int = 0
    claimed_yuan: int = 0
    approved_yuan: int = 0
    deducted_yuan: int = 0
    #: Deducted devices by reason code (a reason recorded before the codes: as recorded).
    reasons: Counter[str] = field(default_factory=Counter)


def approval_table(session: Session, claim: Claim, outcomes: Outcomes) -> list[ApprovalLine]:
    """The 审核核定 table: per line (category, tier) of the claim, its devices claimed,
    approved, deducted (rejected, or reinstated: not paid by this claim) and not yet
    decided, in units and yuan, with the deducted devices' reason codes."""
    lines: dict[tuple[str, str], ApprovalLine] = {
        (str(line["category"]), str(line["tier"])): ApprovalLine(
            str(line["category"]), str(line["tier"]), int(line["rate"])
        )
        for line in claim.lines
    }
    rows = session.execute(
        select(_ITEM.c.qr_id, _ITEM.c.category, _ITEM.c.tier, _ITEM.c.rate_yuan).where(
            _ITEM.c.claim_id == claim.id
        )
    )
    for qr_id, category, tier, rate in rows:
        line = lines.setdefault((category, tier), ApprovalLine(category, tier, rate))
        review, reason = outcomes.of(qr_id, tier)
        line.claimed += 1
        line.claimed_yuan += rate
        if review == Review.approved:
            line.approved += 1
            line.approved_yuan += rate
        elif review in (Review.rejected, Review.reinstated):
            line.deducted += 1
            line.deducted_yuan += rate
            line.reasons[reason or "—"] += 1
        else:
            line.pending += 1
    return list(lines.values())


@dataclass(frozen=True)
class ClaimScreen:
    """A claim as its page shows it: the API's claim (replayed figures, events), the flagged
    rows, a page of devices and of exclusions, and the 审核核定 table."""

    public: ClaimPublic
    devices: list[DeviceRow]
    devices_total: int
    flagged_total: int
    excluded: list[ExcludedRow]
    excluded_total: int
    approval: list[ApprovalLine]


def claim_screen(
    session: Session,
    ledger: TrustedLedger,
    catalog: Catalog,
    claim: Claim,
    *,
    paging: Paging,
    tier: str | None = None,
    reason: str | None = None,
) -> ClaimScreen:
    """The claim's page: page ``paging`` of its devices (of line ``tier``) and of its
    exclusions (whose first reason is ``reason``)."""
    public = claim_public(session, ledger, catalog, claim, page=1, per_page=1)
    outcomes = replay_claim(session, catalog, claim, claim_events(session, ledger, claim)).outcomes
    changed = changed_after_submission(session, claim)
    devices, devices_total, flagged_total = device_rows(
        session, claim, outcomes, changed, tier=tier, offset=paging.offset, limit=paging.per_page
    )
    excluded, excluded_total = excluded_rows(
        session, claim, reason=reason, offset=paging.offset, limit=paging.per_page
    )
    return ClaimScreen(public, devices, devices_total, flagged_total, excluded, excluded_total,
                       approval_table(session, claim, outcomes))  # fmt: skip
