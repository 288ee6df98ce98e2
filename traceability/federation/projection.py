"""The regulator's device projection of imported events, replayed from its own log.

The ``device`` table is a projection (``devices.models``): the import keeps
it the way ingest does, so the portal's lists and searches find the
imported devices. It is written from the replay of the events the regulator
stored — never from anything the plant says about the device.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session

from traceability.custody.facts import PROJECTED, replay
from traceability.custody.models import Event
from traceability.db import utcnow
from traceability.devices.models import Device
from traceability.savings.models import Batch

_EVENT = Event.__table__  # type: ignore[attr-defined]


def _batch_id(session: Session, org: str | None, code: str | None) -> int | None:
    """The regulator's processing batch ``code`` of ``org`` (made the first time it is named)."""
    if org is None or code is None:
        return None
    found = session.execute(
        select(Batch.id).where(Batch.org == org, Batch.code == code)  # type: ignore[call-overload]
    ).scalar()
    if found is not None:
        return int(found)
    batch = Batch(org=org, code=code, created_at=utcnow())
    session.add(batch)
    session.flush()
    assert batch.id is not None
    return batch.id


def project(session: Session, devices: Iterable[str]) -> None:
    """Write each device's projection row from its log as the regulator holds it."""
    for qr_id in sorted(set(devices)):
        rows = list(session.execute(select(_EVENT).where(_EVENT.c.device == qr_id)
                                    .order_by(_EVENT.c.seq)))  # fmt: skip
        facts = replay(qr_id, rows)
        if facts.state is None or facts.collected_at is None or facts.custodian is None:
            continue  # a log that does not start with a collection has nothing to project
        values = {name: getattr(facts, name) for name in PROJECTED}
        values["head_occurred_at"] = facts.head_occurred_at
        values["batch_id"] = _batch_id(session, facts.dismantled_by, facts.batch)
        device = session.get(Device, qr_id)
        if device is None:
            session.add(Device(qr_id=qr_id, **values))
        else:
            for name, value in values.items():
                setattr(device, name, value)
    session.flush()
