"""Cutting anchor batches: the oldest unanchored events, their leaves and root.

Only the database is touched here; no chain call is ever made while the
batch's write transaction is open.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger import merkle
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, AnchorState
from traceability.custody.models import Event
from traceability.db import begin_write, utcnow


def _unanchored() -> Any:
    """Events with no leaf: an anti-join (PostgreSQL runs ``NOT IN (subquery)`` over a
    large leaf table without hashing, row by row; 400,000 events took minutes)."""
    return ~exists().where(col(AnchorLeaf.event_seq) == col(Event.seq))


def pending_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Event).where(_unanchored())).one())


def cut_batch(session: Session, max_size: int) -> AnchorBatch | None:
    """Put the oldest unanchored events into a new pending batch (committed)."""
    begin_write(session)
    rows = session.exec(
        select(Event.seq, Event.digest)
        .where(_unanchored())
        .order_by(col(Event.seq))
        .limit(max_size)
    ).all()
    if not rows:
        session.rollback()
        return None
    digests = [bytes.fromhex(d) for _, d in rows]
    batch = AnchorBatch(
        root=merkle.root(digests).hex(),
        size=len(rows),
        leaves=b"".join(digests),
        first_seq=int(rows[0][0] or 0),
        state=AnchorState.pending,
        created_at=utcnow(),
    )
    session.add(batch)
    try:
        session.flush()
        session.execute(
            insert(AnchorLeaf),
            [
                {"event_seq": seq, "batch_id": batch.id, "leaf_index": i}
                for i, (seq, _) in enumerate(rows)
            ],
        )
        session.commit()
    except IntegrityError:
        session.rollback()  # another worker took these events first
        return None
    session.expunge(batch)
    return batch
