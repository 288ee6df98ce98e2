"""Verifying many devices' logs at once, for reports: one leaf query, one chain
lookup per batch, and the same checks as ``verify_device``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from ledger.errors import LedgerError
from traceability.anchoring.trust import TrustedLedger
from traceability.custody.facts import DeviceFacts
from traceability.custody.models import Event
from traceability.verification.services import (
    LATE,
    PENDING,
    VERIFIED,
    Verifier,
    leaf_positions,
    log_problems,
    shared_problems,
)

FAILED, UNKNOWN = "failed", "unknown"


@dataclass(frozen=True)
class Verification:
    """Whether one device's events verify: ``verified``, ``late``, ``pending``, ``failed``
    or ``unknown``.

    ``late``: every event is intact, but one or more was anchored outside the
    allowance of its recorded time (possibly back-dated; SPEC §3 "Time");
    ``pending``: nothing is wrong but not every event is anchored yet;
    ``unknown``: the ledger could not be asked.
    """

    status: str
    events: tuple[tuple[str, str], ...] = ()  # (event id, status)
    problem: str | None = None
    # The block time (Unix seconds) each event was first anchored at, in the same
    # order (None: not anchored); what the back-dating rule measures to.
    anchored: tuple[int | None, ...] = ()

    def anchored_at(self, event_id: str) -> dt.datetime | None:
        for (id_, _status), stamp in zip(self.events, self.anchored, strict=False):
            if id_ == event_id:
                return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)
        return None

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "verification": self.status,
            "unverified_events": [{"id": i, "status": s} for i, s in self.events if s != VERIFIED],
            **({"verification_problem": self.problem} if self.problem else {}),
        }


def verify_logs(
    session: Session,
    ledger: TrustedLedger,
    logs: Mapping[str, Sequence[Event]],
    heads: Mapping[str, str | None],
    *,
    positions: Mapping[int, tuple[int, int]] | None = None,
    facts: Mapping[str, DeviceFacts] | None = None,
    verifier: Verifier | None = None,
) -> dict[str, Verification]:
    """Verify many devices' events in one pass: one leaf query, one chain lookup per batch.

    The same checks as ``verify_device``, shared across devices: ``heads``
    holds each device's recorded chain head (deleting the latest event is
    noticed), anchor batches short of rows and a failed completeness check
    make their devices fail. ``positions`` may be passed when already read,
    ``facts`` when the logs were already replayed, and ``verifier`` to share
    its per-batch checks (Merkle root, chain read, row count) across calls. A
    ledger that could not be asked makes every device ``unknown``.
    """
    if ledger.is_unavailable:
        return {qr_id: Verification(UNKNOWN, problem=ledger.problem) for qr_id in logs}
    leaves = (
        dict(positions)
        if positions is not None
        else leaf_positions(session, [e.seq for rows in logs.values() for e in rows if e.seq])
    )
    verifier = verifier or Verifier.for_ledger(session, ledger)
    short = verifier.short(batch_id for batch_id, _ in leaves.values())
    shared = shared_problems(session, ledger)
    out: dict[str, Verification] = {}
    try:
        for qr_id, rows in logs.items():
            statuses = verifier.statuses(rows, leaves)
            problems = list(shared)
            head = heads.get(qr_id)
            if not rows or (head is not None and rows[-1].digest != head):
                problems.append("the latest recorded event is missing from the log")
            problems += log_problems(
                verifier, qr_id, rows, statuses, leaves, short, (facts or {}).get(qr_id)
            )
            out[qr_id] = Verification(
                log_status(statuses, failed=bool(problems)),
                tuple((r.id, s) for r, s in zip(rows, statuses, strict=True)),
                "; ".join(problems) or None,
                tuple(verifier.block_time(leaves.get(r.seq) if r.seq else None) for r in rows),
            )
    except LedgerError as exc:
        return {qr_id: Verification(UNKNOWN, problem=f"ledger: {exc}") for qr_id in logs}
    return out


def log_status(statuses: Sequence[str], *, failed: bool) -> str:
    """A whole log's status from its events' and whether anything else failed it."""
    seen = set(statuses)
    if failed or not seen <= {VERIFIED, PENDING, LATE}:
        return FAILED
    if LATE in seen:
        return LATE
    return VERIFIED if seen == {VERIFIED} else PENDING
