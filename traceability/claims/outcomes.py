"""A claim's review outcomes, folded from its ``claim_reviewed`` events (SPEC §2.6, §3).

Each review event names its decisions in the order they were applied; the
outcome of every device is replayed from them, as ``custody.facts`` replays a
device, so a ``claim_item`` row edited in the database is never the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.claims.events import CLAIM_REVIEWED
from traceability.claims.models import Claim, Review
from traceability.custody.models import Event

_EVENT = Event.__table__  # type: ignore[attr-defined]
_RESULT = {"approve": Review.approved, "reject": Review.rejected, "reinstate": Review.reinstated}


class Outcomes:
    """Every device's review outcome, folded from the ``claim_reviewed`` events in order.

    Within one review the decisions naming a device (by QR ID, by its line's
    tier, or every device) apply in order, except that a decision on a tier or
    on every device leaves a reinstated device alone (it has left the claim:
    finding 5 of issue 15), and a ``pending_only`` decision leaves a device that has an
    outcome already alone; across reviews a decision without a reason that
    leaves the outcome unchanged keeps the earlier reason — what
    ``review_claim`` writes. Memory is per decision, not per device.
    """

    def __init__(self, reviews: Iterable[Mapping[str, Any]]) -> None:
        self._reviews: list[
            tuple[list[Mapping[str, Any]], list[int], dict[str, list[int]], dict[str, list[int]]]
        ] = []
        for payload in reviews:
            decisions = [d for d in payload.get("decisions", []) if d.get("decision") in _RESULT]
            every: list[int] = []
            by_tier: dict[str, list[int]] = {}
            by_device: dict[str, list[int]] = {}
            for n, d in enumerate(decisions):
                if d.get("qr_id"):
                    by_device.setdefault(str(d["qr_id"]), []).append(n)
                elif d.get("tier"):
                    by_tier.setdefault(str(d["tier"]), []).append(n)
                else:
                    every.append(n)
            self._reviews.append((decisions, every, by_tier, by_device))

    def __bool__(self) -> bool:
        return bool(self._reviews)

    def of(self, qr_id: str, tier: str) -> tuple[str | None, str | None]:
        """(outcome, reason) of the device ``qr_id`` of line ``tier``."""
        result: str | None = None
        reason: str | None = None
        for decisions, every, by_tier, by_device in self._reviews:
            applicable = sorted(every + by_tier.get(tier, []) + by_device.get(qr_id, []))
            now, why, touched = result, None, False
            for n in applicable:
                decision = decisions[n]
                new = str(_RESULT[decision["decision"]])
                bulk = not decision.get("qr_id")
                if bulk and new != Review.reinstated and now == Review.reinstated:
                    continue  # left alone: it has left this claim
                if decision.get("pending_only") and now is not None:
                    continue  # "approve the rest": it had an outcome already
                now, why, touched = new, decision.get("reason"), True
            if touched and (why is not None or now != result):
                result, reason = now, why
        return result, reason


def review_outcomes(session: Session, claim: Claim) -> Outcomes:
    """The outcomes the claim's ``claim_reviewed`` events give (one query, no verification:
    for the review service, which appends to them)."""
    return Outcomes(
        payload
        for (payload,) in session.execute(
            select(_EVENT.c.payload)
            .where(_EVENT.c.claim == claim.code, _EVENT.c.type == CLAIM_REVIEWED)
            .order_by(_EVENT.c.seq)
        )
    )
