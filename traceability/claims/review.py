"""A regulator's review of a submitted claim: approve or reject lines or devices, with reasons.

Decisions apply in order (approve a whole line, then reject one device of
it). A rejected device stays claimed — no later claim may count it — until
the auditor reinstates it, which frees it for a later claim. Each review is a
``claim_reviewed`` event on the claim's chain, anchored like every other.

A reinstated device has left this claim for good (issue 15, finding 5): a
decision on the whole claim or a line leaves it as it is (the event counts
it under ``left_alone``), one naming it is a conflict. The rule reads only
this claim's own decisions, so a replay of its events reaches the same
outcomes; the database's unique index on approvals is the last guard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from traceability import limits
from traceability.accounts.models import Principal, Role
from traceability.claims.events import CLAIM_REVIEWED, record_claim_event
from traceability.claims.models import Claim, ClaimedDevice, ClaimItem, ClaimState, Review
from traceability.claims.outcomes import review_outcomes
from traceability.claims.reasons import load_review_reasons
from traceability.claims.services import get_claim
from traceability.db import begin_write, utcnow
from traceability.errors import Conflict, Forbidden, ValidationFailed

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_CLAIMED = ClaimedDevice.__table__  # type: ignore[attr-defined]


class Decision(BaseModel):
    """One decision: on a device (``qr_id``), a line (``tier``), or every device (neither).

    ``reason``: a review reason code (``claims.reasons``: 核减原因), required to reject
    or reinstate; ``note``: free text that may accompany it; ``pending_only``: the
    decision leaves devices that already have an outcome alone ("approve the rest").
    """

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "reinstate"]
    qr_id: str | None = Field(default=None, max_length=limits.QR_ID)
    tier: str | None = Field(default=None, max_length=limits.CODE)
    reason: str | None = Field(default=None, max_length=limits.CODE)
    note: str | None = Field(default=None, max_length=limits.REASON)
    pending_only: bool = False

    @model_validator(mode="after")
    def _check(self) -> Decision:
        if self.qr_id is not None and self.tier is not None:
            raise ValueError("name a device (qr_id) or a line (tier), not both")
        if self.decision != "approve" and not (self.reason or "").strip():
            raise ValueError(f"a decision to {self.decision} needs a reason code")
        return self


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[Decision] = Field(min_length=1, max_length=1000)


_RESULT = {"approve": Review.approved, "reject": Review.rejected, "reinstate": Review.reinstated}


#: A device's review outcome and its reason (None, None: not reviewed yet).
Outcome = tuple[str | None, str | None]


def review_claim(
    *,
    session: Session,
    principal: Principal,
    claim_id: int,
    request: ReviewRequest,
    now: dt.datetime | None = None,
) -> Claim:
    """Apply an auditor's decisions to a submitted claim and record them (SPEC §2.6)."""
    check_reasons(request.decisions)
    claim = _claim_to_review(session, principal, claim_id)
    items = {
        row.qr_id: row
        for row in session.execute(
            select(_ITEM.c.qr_id, _ITEM.c.tier, _ITEM.c.review, _ITEM.c.review_reason).where(
                _ITEM.c.claim_id == claim.id
            )
        )
    }
    # The outcomes so far are the earlier reviews' events replayed, not the rows (SPEC §3):
    # an edited row neither decides what may be reinstated nor the state written now.
    outcomes = review_outcomes(session, claim)
    before = {q: outcomes.of(q, r.tier) for q, r in items.items()}
    review, applied = _decide(claim, request.decisions, items, before)
    # A decision without a reason that leaves the outcome as it was keeps the earlier reason.
    final = {
        q: v if v[1] is not None or v[0] != before[q][0] else before[q] for q, v in review.items()
    }
    changed = {q: v for q, v in final.items() if v != (items[q].review, items[q].review_reason)}
    _write_outcomes(session, claim, changed)
    state, approved, decided = _state_after(session, claim, review)
    claim.state = state
    claim.approved_yuan = approved if decided else None
    record_claim_event(
        session,
        claim,
        principal,
        CLAIM_REVIEWED,
        {"decisions": applied, "state": str(state), "approved_yuan": approved},
        now or utcnow(),
    )
    session.add(claim)
    session.commit()
    return claim


def check_reasons(decisions: list[Decision]) -> None:
    """Every reason is a code the decision may give; a code that needs a note has one."""
    reasons = load_review_reasons()
    for index, d in enumerate(decisions):
        where = f"decisions[{index}]"
        if d.reason is None:
            continue
        reason = reasons.reasons.get(d.reason)
        if reason is None:
            raise ValidationFailed(
                f"{d.reason[:40]!r} is not a review reason code "
                f"(one of {', '.join(reasons.reasons)})",
                field=f"{where}.reason",
            )
        if d.decision not in reason.decisions:
            raise ValidationFailed(
                f"reason {d.reason} is not one a decision to {d.decision} gives "
                f"(one of {', '.join(reasons.for_decision(d.decision)) or 'none'})",
                field=f"{where}.reason",
            )
        if reason.note_required and not (d.note or "").strip():
            raise ValidationFailed(f"reason {d.reason} needs a note", field=f"{where}.note")


def _claim_to_review(session: Session, principal: Principal, claim_id: int) -> Claim:
    """The submitted claim, read under the write lock, if ``principal`` is its region's auditor."""
    if principal.role != Role.auditor:
        raise Forbidden("only a regulator's auditor reviews claims", field="role")
    get_claim(session, principal, claim_id)  # region scope
    begin_write(session)
    claim = session.get(Claim, claim_id, populate_existing=True)
    assert claim is not None
    if claim.state == ClaimState.draft:
        raise Conflict(f"claim {claim.code} is a draft: it has not been submitted", field="id")
    return claim


def _decide(
    claim: Claim,
    decisions: list[Decision],
    items: dict[str, Any],
    before: dict[str, Outcome],
) -> tuple[dict[str, Outcome], list[dict[str, Any]]]:
    """Each device's outcome after the decisions in order, and what each decision did."""
    review: dict[str, Outcome] = {q: (v[0], None) for q, v in before.items()}
    applied: list[dict[str, Any]] = []
    for index, d in enumerate(decisions):
        where = f"decisions[{index}]"
        targets = _targets(claim, d, where, items)
        if d.decision == "reinstate":
            wrong = [q for q in targets if review[q][0] != Review.rejected]
            if wrong:
                raise ValidationFailed(
                    f"only a rejected device can be reinstated ({wrong[0]} is not)", field=where
                )
        left = [q for q in targets if review[q][0] == Review.reinstated]
        if left and d.decision != "reinstate":
            if d.qr_id is not None:
                raise Conflict(
                    f"{d.qr_id} was reinstated: it has left claim {claim.code} "
                    "and only a later claim may count it",
                    field=f"{where}.qr_id",
                )
            targets = [q for q in targets if review[q][0] != Review.reinstated]
        if d.pending_only:
            targets = [q for q in targets if review[q][0] is None]
        for qr_id in targets:
            review[qr_id] = (_RESULT[d.decision], d.reason)
        applied.append(_applied(d, targets, left))
    return review, applied


def _targets(claim: Claim, d: Decision, where: str, items: dict[str, Any]) -> list[str]:
    """The devices a decision names: one device, a line's devices, or every device."""
    if d.qr_id is not None:
        if d.qr_id not in items:
            raise ValidationFailed(
                f"{d.qr_id} is not in claim {claim.code}", field=f"{where}.qr_id"
            )
        return [d.qr_id]
    if d.tier is not None:
        targets = [q for q, r in items.items() if r.tier == d.tier]
        if not targets:
            raise ValidationFailed(
                f"claim {claim.code} has no line {d.tier}", field=f"{where}.tier"
            )
        return targets
    return list(items)


def _applied(d: Decision, targets: list[str], left: list[str]) -> dict[str, Any]:
    """What the review event records of one decision."""
    return {
        "decision": d.decision,
        **({"qr_id": d.qr_id} if d.qr_id else {}),
        **({"tier": d.tier} if d.tier else {}),
        "devices": len(targets),
        **({"left_alone": len(left)} if left and d.decision != "reinstate" else {}),
        # Any reason given, even empty: the replay folds it as applied here.
        **({"reason": d.reason} if d.reason is not None else {}),
        **({"note": d.note} if d.note else {}),
        **({"pending_only": True} if d.pending_only else {}),
    }


def _write_outcomes(session: Session, claim: Claim, changed: dict[str, Outcome]) -> None:
    """``_apply``; a device approved in another claim meanwhile is a conflict."""
    try:
        _apply(session, claim, changed)
    except IntegrityError:
        # Only a device approved in another claim meanwhile can get here.
        session.rollback()
        raise Conflict(
            f"a device of claim {claim.code} is already approved in another claim",
            field="decisions",
        ) from None


def _state_after(
    session: Session, claim: Claim, review: dict[str, Outcome]
) -> tuple[ClaimState, int, bool]:
    """The claim's state, the amount approved, and whether any device is decided."""
    rates = dict(
        session.execute(
            select(_ITEM.c.qr_id, _ITEM.c.rate_yuan).where(_ITEM.c.claim_id == claim.id)
        ).all()
    )
    results = {q: v[0] for q, v in review.items()}
    decided = [r for r in results.values() if r is not None]
    approved = sum(rates[q] for q, r in results.items() if r == Review.approved)
    if len(decided) < len(results):
        state = ClaimState.submitted
    elif all(r == Review.approved for r in decided):
        state = ClaimState.approved
    elif not any(r == Review.approved for r in decided):
        state = ClaimState.rejected
    else:
        state = ClaimState.partially_approved
    return state, approved, bool(decided)


def _apply(session: Session, claim: Claim, changed: dict[str, Outcome]) -> None:
    """Write the outcomes: a rejected device stays claimed, a reinstated one is freed."""
    for qr_id, (result, reason) in changed.items():
        session.execute(
            update(_ITEM)
            .where(_ITEM.c.claim_id == claim.id, _ITEM.c.qr_id == qr_id)
            .values(review=result, review_reason=reason)
        )
        if result == Review.reinstated:
            session.execute(
                delete(_CLAIMED).where(_CLAIMED.c.claim_id == claim.id, _CLAIMED.c.qr_id == qr_id)
            )
        else:
            session.execute(
                update(_CLAIMED)
                .where(_CLAIMED.c.claim_id == claim.id, _CLAIMED.c.qr_id == qr_id)
                .values(rejected=result == Review.rejected)
            )
