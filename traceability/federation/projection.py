"""The regulator's device projection of imported events, replayed from its own log.

The ``device`` table is a projection (``devices.models``): the import keeps
it the way ingest does, so the portal's lists and searches find the
imported devices. It is written from the replay of the events the regulator
stored — never from anything the plant says about the device.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from traceability.custody.facts import PROJECTED, replay
from traceability.custody.models import Event
from traceability.db import utcnow
from traceability.devices.models import Device
from traceability.savings.models import Batch

_EVENT = Event.__table__  # type: ignore[attr-defined]
_DEVICE = Device.__table__  # type: ignore[attr-defined]


def _batch_ids(session: Session, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The regulator's processing batches (org, code) → id, made the first time one is named."""
    table = Batch.__table__  # type: ignore[attr-defined]
    ids: dict[tuple[str, str], int] = {}
    codes = sorted({code for _, code in wanted})
    for start in range(0, len(codes), 5000):
        for org, code, id_ in session.execute(
            select(table.c.org, table.c.code, table.c.id).where(
                table.c.code.in_(codes[start : start + 5000])
            )
        ):
            if (org, code) in wanted:
                ids[(org, code)] = int(id_)
    missing = sorted(wanted - set(ids))
    if missing:
        now = utcnow()
        made = session.connection().execute(
            insert(table).returning(
                table.c.org, table.c.code, table.c.id, sort_by_parameter_order=True
            ),
            [{"org": org, "code": code, "created_at": now} for org, code in missing],
        )
        ids.update({(org, code): int(id_) for org, code, id_ in made})
    return ids


def project(session: Session, devices: Iterable[str]) -> None:
    """Write each device's projection row from its log as the regulator holds it."""
    wanted = sorted(set(devices))
    logs: dict[str, list[Any]] = {qr_id: [] for qr_id in wanted}
    for start in range(0, len(wanted), 5000):
        query = select(_EVENT).where(_EVENT.c.device.in_(wanted[start : start + 5000]))
        for row in session.execute(query.order_by(_EVENT.c.seq)):
            logs[row.device].append(row)
    existing = {
        str(qr_id)
        for start in range(0, len(wanted), 5000)
        for (qr_id,) in session.execute(
            select(_DEVICE.c.qr_id).where(_DEVICE.c.qr_id.in_(wanted[start : start + 5000]))
        )
    }
    replayed = [replay(qr_id, logs[qr_id]) for qr_id in wanted]
    batches = _batch_ids(
        session, {(f.dismantled_by, f.batch) for f in replayed if f.dismantled_by and f.batch}
    )
    new: list[dict[str, Any]] = []
    known: list[dict[str, Any]] = []
    for facts in replayed:
        if facts.state is None or facts.collected_at is None or facts.custodian is None:
            continue  # a log that does not start with a collection has nothing to project
        values = {name: getattr(facts, name) for name in PROJECTED}
        values["head_occurred_at"] = facts.head_occurred_at
        values["batch_id"] = batches.get((facts.dismantled_by or "", facts.batch or ""))
        if facts.qr_id in existing:
            known.append({"b_qr_id": facts.qr_id, **values})
        else:
            new.append({"qr_id": facts.qr_id, **values})
    conn = session.connection()  # Core statements, one per kind for all the devices
    if new:
        conn.execute(insert(_DEVICE), new)
    if known:
        conn.execute(
            update(_DEVICE)
            .where(_DEVICE.c.qr_id == bindparam("b_qr_id"))
            .values({name: bindparam(name) for name in known[0] if name != "b_qr_id"}),
            known,
        )
