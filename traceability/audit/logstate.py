"""The log state an audit snapshot names, and the seal binding its content to it (SPEC §3
"Every figure is a replay": audit snapshots are bound to the log state they were computed from).

A snapshot is a cache of a replay, stored in a table anyone with database
access can rewrite. So it names what it was computed from — the number of
events, the last one's ``seq``, the anchor roots final by then (their count,
the highest batch id among them and a SHA-256 over them) — and carries a
seal: an HMAC, keyed by the deployment's secret, over that state and its own
content. Before it is shown, served or trusted by the refresher:

- its ``computed_at`` must not lie in the future (beyond ``FUTURE_SKEW``):
  such a snapshot would never look due again;
- the state it names must still be what the log holds up to that point —
  the same number of events up to its ``seq``, the same final roots up to its
  batch id (a log that has only grown since keeps its snapshot, shown "as of"
  its time, until the refresher's next pass);
- its seal must verify.

A snapshot failing any of these is not used, whatever ``computed_at`` says: the
refresher recomputes it, and readers are told it is being recomputed. The seal
stops a forger who holds the database but not the deployment's secret; against
one who holds both, ``traceability audit refresh --check`` recomputes every
kept period from the log and compares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col

from traceability.anchoring.models import AnchorBatch, AnchorState
from traceability.audit.models import AuditSnapshot
from traceability.custody.models import Event
from traceability.db import iso

#: How far in the future a snapshot's ``computed_at`` may be (clocks of two hosts differ).
FUTURE_SKEW = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class LogState:
    """What a snapshot was computed from: the events and the final anchor roots."""

    events: int  # event rows
    last_seq: int  # the newest one's seq
    roots: int  # anchor batches final
    anchors_upto: int  # the highest id among them
    roots_digest: str  # SHA-256 over their roots, in id order


def _roots(session: Session, upto: int | None = None) -> tuple[int, int, str]:
    query = select(col(AnchorBatch.id), col(AnchorBatch.root)).where(
        col(AnchorBatch.state) == AnchorState.final
    )
    if upto is not None:
        query = query.where(col(AnchorBatch.id) <= upto)
    digest, count, highest = hashlib.sha256(), 0, 0
    for batch_id, root in session.execute(query.order_by(col(AnchorBatch.id))):
        digest.update(f"{batch_id}:{root}\n".encode())
        count, highest = count + 1, batch_id
    return count, highest, digest.hexdigest()


def current_state(session: Session) -> LogState:
    """The log as it stands: two index lookups and the final roots."""
    events, last_seq = session.execute(select(func.count(), func.max(Event.seq))).one()
    roots, upto, digest = _roots(session)
    return LogState(int(events), int(last_seq or 0), roots, upto, digest)


def state_of(row: AuditSnapshot) -> LogState:
    return LogState(row.events, row.last_seq, row.roots, row.anchors_upto, row.roots_digest)


def state_problem(session: Session, named: LogState) -> str | None:
    """Why the log does not hold the state a snapshot names (None: it does, or grew since)."""
    events = session.execute(
        select(func.count()).select_from(Event).where(col(Event.seq) <= named.last_seq)
    ).scalar_one()
    if int(events) != named.events:
        return f"it names {named.events} events up to seq {named.last_seq}; the log holds {events}"
    roots, _upto, digest = _roots(session, named.anchors_upto)
    if (roots, digest) != (named.roots, named.roots_digest):
        return f"it names {named.roots} final anchor roots the log no longer holds as named"
    return None


def seal(key: bytes, row: AuditSnapshot) -> str:
    """The HMAC binding a snapshot's content to its period, times and named state."""
    fields = {
        "period": row.period,
        "since": iso(row.since) if row.since else None,
        "as_of": iso(row.as_of),
        "computed_at": iso(row.computed_at),
        "ruleset": row.ruleset,
        "log_state": row.log_state,
        "findings": row.findings,
        "state": asdict(state_of(row)),
        "content": hashlib.sha256(row.content).hexdigest(),
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def seal_key(secret: str) -> bytes:
    """The seal's key, derived from the deployment's secret (never the secret itself)."""
    return hashlib.sha256(b"trace-audit-snapshot\0" + secret.encode()).digest()


def untrusted(session: Session, row: AuditSnapshot, *, key: bytes, now: dt.datetime) -> str | None:
    """Why snapshot ``row`` must not be used (None: it may)."""
    if row.computed_at > now + FUTURE_SKEW:
        return f"its computed_at {iso(row.computed_at)} lies in the future"
    if not hmac.compare_digest(row.seal or "", seal(key, row)):
        return "its content or the state it names was changed after it was computed"
    return state_problem(session, state_of(row))
