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

    Within one review the last decision naming a device (by QR ID, by its
    line's tier, or every device) decides it; across reviews a decision without
    a reason that leaves the outcome unchanged keeps the earlier reason — what
    ``review_claim`` writes. Memory is per decision, not per device.
    """

    def __init__(self, reviews: Iterable[Mapping[str, Any]]) -> None:
        self._reviews: list[tuple[list[Mapping[str, Any]], int, dict[str, int], dict[str, int]]]
        self._reviews = []
        for payload in reviews:
            decisions = [d for d in payload.get("decisions", []) if d.get("decision") in _RESULT]
            every, by_tier, by_device = -1, {}, {}
            for n, d in enumerate(decisions):
                if d.get("qr_id"):
                    by_device[str(d["qr_id"])] = n
                elif d.get("tier"):
                    by_tier[str(d["tier"])] = n
                else:
                    every = n
            self._reviews.append((decisions, every, by_tier, by_device))

    def __bool__(self) -> bool:
        return bool(self._reviews)

    def of(self, qr_id: str, tier: str) -> tuple[str | None, str | None]:
        """(outcome, reason) of the device ``qr_id`` of line ``tier``."""
        result: str | None = None
        reason: str | None = None
        for decisions, every, by_tier, by_device in self._reviews:
            last = max(every, by_tier.get(tier, -1), by_device.get(qr_id, -1))
            if last < 0:
                continue
            decision = decisions[last]
            new, why = _RESULT[decision["decision"]], decision.get("reason")
            if why is not None or new != result:
                result, reason = str(new), why
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
