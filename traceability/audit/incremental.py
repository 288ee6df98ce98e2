"""Which closed periods the events recorded since their snapshot cannot change (issue 20 item 9).

A closed quarter's snapshot is a replay of the log up to the quarter's end.
When the log has grown since, the refresher asks, before replaying it again,
whether anything new can reach that replay; if nothing can, the stored
content is carried forward: sealed again, naming the log as it stands now,
without reading the log (work in proportion to the new events, not to the
log). What a period's replay reads (``dataset.audit_data``), and therefore
what makes a new event reach it:

- the logs of the devices and lots with an event before the period's end —
  a new event of such a device (a correction of one dismantled in the
  quarter, a late receipt, a refusal elsewhere) changes its facts as
  closed, its ``late`` corrections or its verification; so does any new
  event that says it happened before the end (backdated);
- the register (licences are read as they stand), the claims holding each
  device, the regulator's import outcomes, event rows of no subject: a new
  event of an organisation or a claim, or a change in the claims' or the
  imports' rows, reaches every period;
- the anchors of the events the snapshot covers (a batch final or failed
  since changes their verification) and whether the ledger could be asked;
- whether the log held anything after the end (``current``: only then is
  the plant's own stock count compared).

A device or lot whose every event lies after the end is not in the period's
replay at all, so the rules that compare devices with each other (the same
serial, a refusal elsewhere, the plants' output shares) cannot see it there.
Everything else is replayed as before; ``--force`` replays every kept period,
and ``audit_recheck_s`` still bounds how long a carried snapshot goes
without one (a row edited by hand changes no count).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from traceability.anchoring.models import AnchorBatch
from traceability.claims.models import ClaimItem
from traceability.custody.models import Event
from traceability.verification.models import ImportRecord

_EVENT = Event.__table__  # type: ignore[attr-defined]
_BATCH = AnchorBatch.__table__  # type: ignore[attr-defined]
_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_IMPORT = ImportRecord.__table__  # type: ignore[attr-defined]

#: Subjects looked up per query (an IN list).
CHUNK = 500


def side_inputs(session: Session, *, upto_seq: int, ledger: str) -> str:
    """A digest of what a replay reads beside the events: the anchor batches over events up to
    ``upto_seq`` and their states, the claims' items, the import outcomes, the ledger's answer."""
    digest = hashlib.sha256(f"ledger={ledger}\n".encode())
    batches = select(_BATCH.c.id, _BATCH.c.state).where(_BATCH.c.first_seq <= upto_seq)
    for batch_id, state in session.execute(batches.order_by(_BATCH.c.id)):
        digest.update(f"b{batch_id}:{state}\n".encode())
    for name, table in (("claims", _ITEM), ("imports", _IMPORT)):
        count, highest = session.execute(select(func.count(), func.max(table.c.id))).one()
        digest.update(f"{name}={count}:{highest}\n".encode())
    return digest.hexdigest()[:32]


def inputs_of(log_state: str) -> str | None:
    """The side-inputs digest a stored snapshot's log state names (None: an older snapshot)."""
    for part in log_state.split(";"):
        if part.startswith("inputs="):
            return part.removeprefix("inputs=")
    return None


@dataclass
class NewEvents:
    """The events after a snapshot's ``seq``: their subjects and their earliest time."""

    devices: set[str]
    lots: set[str]
    earliest: dt.datetime | None = None
    everywhere: bool = False  # one reaches every period: the register, a claim, no subject

    @classmethod
    def read(cls, session: Session, since_seq: int) -> NewEvents:
        new = cls(set(), set())
        # a claim's, an organisation's event or a row of no subject: neither device nor lot
        query = select(_EVENT.c.device, _EVENT.c.lot, _EVENT.c.occurred_at).where(
            _EVENT.c.seq > since_seq
        )
        for device, lot, occurred in session.execute(query):
            if device is not None:
                new.devices.add(device)
            elif lot is not None:
                new.lots.add(lot)
            else:
                new.everywhere = True
            if new.earliest is None or occurred < new.earliest:
                new.earliest = occurred
        return new


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def _first_events(session: Session, column: Any, subjects: set[str]) -> list[dt.datetime]:
    """The earliest event of each subject (over its whole log)."""
    out: list[dt.datetime] = []
    for chunk in _chunks(subjects):
        query = select(func.min(_EVENT.c.occurred_at)).where(column.in_(chunk)).group_by(column)
        out += [when for (when,) in session.execute(query) if when is not None]
    return out


@dataclass
class Reach:
    """How far back the new events reach: a closed period ending after ``earliest`` is
    reached (None: none is); ``everywhere``: every period is."""

    earliest: dt.datetime | None
    everywhere: bool

    def reaches(self, end: dt.datetime) -> bool:
        return self.everywhere or (self.earliest is not None and self.earliest < end)


def reach_of(session: Session, since_seq: int) -> Reach:
    """The earliest event of any subject the events after ``since_seq`` belong to."""
    new = NewEvents.read(session, since_seq)
    times = [new.earliest] if new.earliest is not None else []
    times += _first_events(session, _EVENT.c.device, new.devices)
    times += _first_events(session, _EVENT.c.lot, new.lots)
    return Reach(min(times) if times else None, new.everywhere)


def logged_after(session: Session, *, upto_seq: int, end: dt.datetime) -> bool:
    """Whether the log up to ``upto_seq`` held a device event at or after ``end`` (the
    period's replay then was not ``current``; newest first, so it is found at once)."""
    query = (
        select(_EVENT.c.seq)
        .where(
            _EVENT.c.device.is_not(None),
            _EVENT.c.seq <= upto_seq,
            _EVENT.c.occurred_at >= end,
        )
        .order_by(_EVENT.c.seq.desc())
        .limit(1)
    )
    return session.execute(query).first() is not None
