"""Where a dismantled device's outputs went: the output lot each fraction joined and that
lot's way on (SPEC §2.4, issue 20 item 3), read from the plant's lot events.

A plant keeps one open lot per fraction and ships it whole (``lots.models``):
an output joins the lot of its fraction that was open when the dismantling was
recorded — number one more than the last lot of that fraction shipped before
it. Where the lot went is its ``lot_shipped`` event's destination, and how far
it got is its latest lot event. The ``lot`` table (a projection) is not read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from traceability.custody.facts import Output
from traceability.custody.models import Event, EventType
from traceability.lots.models import fraction_of, lot_code

_EVENT = Event.__table__  # type: ignore[attr-defined]
#: How far a lot got, by its latest lot event.
_STATE: dict[str, str] = {
    EventType.lot_shipped: "shipped",
    EventType.lot_received: "received",
    EventType.lot_treated: "treated",
}


@dataclass(frozen=True)
class OutputLot:
    fraction: str
    weight_g: int
    lot: str
    state: str  # open, shipped, received or treated
    destination: str | None = None  # the processor it was shipped to


def _number(code: str) -> int:
    return int(code.rsplit("-", 1)[1])


def _lot_events(session: Session, codes: Iterable[str]) -> dict[str, list[tuple[str, dict]]]:
    rows = session.execute(
        select(_EVENT.c.lot, _EVENT.c.type, _EVENT.c.payload)
        .where(_EVENT.c.lot.in_(list(codes)))
        .order_by(_EVENT.c.seq)
    )
    found: dict[str, list[tuple[str, dict]]] = {}
    for lot, type_, payload in rows:
        found.setdefault(lot, []).append((type_, payload if isinstance(payload, dict) else {}))
    return found


def output_lots(
    session: Session, plant: str, dismantled_seq: int, outputs: Iterable[Output]
) -> list[OutputLot]:
    """The lot each of ``outputs`` (of the dismantling recorded as ``dismantled_seq``) joined."""
    shipped_before: dict[str, int] = {}
    rows = session.execute(
        select(_EVENT.c.lot).where(
            _EVENT.c.org == plant,
            _EVENT.c.type == EventType.lot_shipped,
            _EVENT.c.seq < dismantled_seq,
        )
    )
    for (code,) in rows:
        try:
            fraction, number = fraction_of(code, plant), _number(code)
        except (ValueError, IndexError):
            continue  # not a lot code of this plant's: the lot rules report it
        shipped_before[fraction] = max(shipped_before.get(fraction, 0), number)
    outputs = list(outputs)
    codes = {
        o.fraction: lot_code(plant, o.fraction, shipped_before.get(o.fraction, 0) + 1)
        for o in outputs
    }
    events = _lot_events(session, codes.values())
    found = []
    for output in outputs:
        code = codes[output.fraction]
        state, destination = "open", None
        for type_, payload in events.get(code, []):
            state = _STATE.get(type_, state)
            if type_ == EventType.lot_shipped:
                destination = payload.get("to")
        found.append(OutputLot(output.fraction, output.weight_g, code, state, destination))
    return found


@dataclass(frozen=True)
class LotMember:
    """A device whose output went into a lot: the backward trace of a lot."""

    qr_id: str
    weight_g: int  # of the lot's fraction
    dismantled_at: dt.datetime | None
    event: str  # the dismantling event's id


def lot_devices(
    session: Session, plant: str, fraction: str, number: int, shipped_seq: int | None
) -> list[LotMember]:
    """The devices ``plant`` dismantled into its lot ``number`` of ``fraction``: dismantlings
    recorded after the previous lot of the fraction shipped and before this one did
    (``shipped_seq``; None: still open), with an output of the fraction."""
    before = session.execute(
        select(func.min(_EVENT.c.seq)).where(
            _EVENT.c.lot == lot_code(plant, fraction, number - 1),
            _EVENT.c.type == EventType.lot_shipped,
        )
    ).scalar()
    query = select(_EVENT.c.device, _EVENT.c.payload, _EVENT.c.occurred_at, _EVENT.c.id).where(
        _EVENT.c.org == plant, _EVENT.c.type == EventType.dismantled
    )
    if before is not None:
        query = query.where(_EVENT.c.seq > before)
    if shipped_seq is not None:
        query = query.where(_EVENT.c.seq < shipped_seq)
    members = []
    for device, payload, occurred_at, event_id in session.execute(query.order_by(_EVENT.c.seq)):
        outputs = payload.get("outputs") if isinstance(payload, dict) else None
        for output in outputs if isinstance(outputs, list) else ():
            if isinstance(output, dict) and output.get("fraction") == fraction:
                weight = output.get("weight_g")
                grams = weight if type(weight) is int else 0
                members.append(LotMember(str(device), grams, occurred_at, str(event_id)))
    return members
