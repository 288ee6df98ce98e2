"""The anchoring worker's database side: short reads, leases and conditional writes.

Every function here opens and ends its own transaction, so the worker can
call the chain in between with nothing held: batches are read detached, a
batch to be sent is claimed with a committed lease, and an outcome is written
only if the batch is still in the state it was read in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from traceability.anchoring.models import AnchorBatch
from traceability.db import begin_write, utcnow

# The columns a chain outcome may change (never membership, root or leaves).
OUTCOME = (
    "state",
    "chain_id",
    "contract",
    "submitter",
    "nonce",
    "tx_hash",
    "block_number",
    "block_hash",
    "attempts",
    "last_error",
    "submitted_at",
    "confirmed_at",
)


def outcome_of(batch: AnchorBatch) -> dict[str, Any]:
    """The batch's chain outcome, to tell whether a step changed it."""
    return {name: getattr(batch, name) for name in OUTCOME}


def read_batches(
    session: Session, states: tuple[str, ...], *, newest: int | None = None
) -> list[AnchorBatch]:
    """Batches in ``states`` (oldest first, or the ``newest`` few), detached, read ended."""
    query = select(AnchorBatch).where(col(AnchorBatch.state).in_(states))
    if newest is None:
        query = query.order_by(col(AnchorBatch.id))
    else:
        query = query.order_by(col(AnchorBatch.id).desc()).limit(newest)
    batches = list(session.exec(query))
    for batch in batches:
        session.expunge(batch)
    session.commit()
    return batches


def record_outcome(
    session: Session, batch: AnchorBatch, read_state: str, *, lease_owner: str | None = None
) -> bool:
    """Write the chain's outcome, only if nobody moved the batch since it was read."""
    begin_write(session)
    query = update(AnchorBatch).where(
        col(AnchorBatch.id) == batch.id, col(AnchorBatch.state) == read_state
    )
    if lease_owner is not None:
        query = query.where(col(AnchorBatch.lease_owner) == lease_owner)
    values = outcome_of(batch)
    values["last_error"] = (values["last_error"] or None) and values["last_error"][:500]
    result = session.execute(query.values(**values, lease_owner=None, lease_until=None))
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def take_lease(session: Session, batch: AnchorBatch, owner: str, lease_s: float) -> bool:
    """Claim a batch for sending (committed at once); False if another worker holds it."""
    now = utcnow()
    begin_write(session)
    result = session.execute(
        update(AnchorBatch)
        .where(
            col(AnchorBatch.id) == batch.id,
            col(AnchorBatch.state) == batch.state,
            or_(col(AnchorBatch.lease_until).is_(None), col(AnchorBatch.lease_until) < now),
        )
        .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=lease_s))
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_lease(session: Session, batch: AnchorBatch, owner: str, error: str) -> None:
    """Give up a claim after a failed send, noting why."""
    begin_write(session)
    session.execute(
        update(AnchorBatch)
        .where(col(AnchorBatch.id) == batch.id, col(AnchorBatch.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None, last_error=error[:500])
    )
    session.commit()
