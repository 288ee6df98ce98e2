"""One figure per device: as recorded by the close of the quarter it was dismantled in
(issue 17 item 8).

A quarter's figures are what the plant reported (拆解处理情况表) and what the
regulator audits; a correction recorded after the quarter closed must not move
them silently. So every page, export and audit reads a dismantled device the
same way:

- dismantled in a quarter that has closed (its end is at or before ``as_of``):
  its log **as recorded by the close** — every event, except the corrections
  recorded (or claiming to have happened) at or after the close;
- those corrections are **shown separately**, with the change they would make;
- dismantled in a quarter still open (or never dismantled): its log as
  recorded so far.

"Recorded" is the server's ``recorded_at`` (a correction cannot be written into
a closed quarter by back-dating its ``occurred_at``). Pure: no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from traceability.custody.facts import Correction, DeviceFacts, EventLike, replay
from traceability.custody.models import EventType
from traceability.periods import quarter_of


def close_of(dismantled_at: dt.datetime) -> dt.datetime:
    """The close of the quarter (China time) a device was dismantled in."""
    return quarter_of(dismantled_at).end


def after_close(event: EventLike, close: dt.datetime) -> bool:
    """A correction recorded, or claiming to have happened, at or after ``close``."""
    if event.type != EventType.corrected:
        return False
    recorded = getattr(event, "recorded_at", None)
    return event.occurred_at >= close or (isinstance(recorded, dt.datetime) and recorded >= close)


@dataclass(frozen=True)
class AsClosed:
    """A device as its figures read it (see the module), and what came after the close."""

    facts: DeviceFacts  # as recorded by ``close`` (or so far: ``close`` is None)
    close: dt.datetime | None  # the close of its dismantling's quarter, if it has closed
    late: tuple[Correction, ...] = ()  # corrections recorded at or after the close
    current: DeviceFacts | None = None  # with them applied (None: there are none)

    @property
    def late_weight_g(self) -> int:
        """What the corrections after the close would change its intake weight by."""
        if self.current is None:
            return 0
        return (self.current.received_weight_g or 0) - (self.facts.received_weight_g or 0)


def _dismantled_at(events: Sequence[EventLike]) -> dt.datetime | None:
    for event in reversed(events):
        if event.type == EventType.dismantled and isinstance(event.occurred_at, dt.datetime):
            return event.occurred_at
    return None


def as_closed(
    qr_id: str,
    events: Sequence[EventLike],
    *,
    as_of: dt.datetime,
    later: Sequence[EventLike] = (),
) -> AsClosed:
    """Device ``qr_id`` read by the rule of this module at ``as_of``.

    ``events``: its log up to ``as_of`` in recording order; ``later``: what the
    log holds after it (only its corrections count: they are shown separately).
    """
    dismantled = _dismantled_at(events)
    close = close_of(dismantled) if dismantled is not None else None
    if close is None or close > as_of:
        return AsClosed(replay(qr_id, events), None)
    kept = [e for e in events if not after_close(e, close)]
    late_events = [e for e in (*events, *later) if after_close(e, close)]
    facts = replay(qr_id, kept)
    if not late_events:
        return AsClosed(facts, close)
    current = replay(qr_id, _in_log_order([*kept, *late_events]))
    late_ids = {e.id for e in late_events}
    late = tuple(c for c in current.corrections if c.id in late_ids)
    return AsClosed(facts, close, late, current)


def _in_log_order(events: list[EventLike]) -> list[EventLike]:
    """By ``seq`` (the log's order) where every event has one, else as given."""
    seqs = [getattr(e, "seq", None) for e in events]
    if any(not isinstance(s, int) for s in seqs):
        return events
    order = sorted(range(len(events)), key=lambda i: int(seqs[i]))  # type: ignore[arg-type]
    return [events[i] for i in order]
