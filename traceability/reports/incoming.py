"""Shipments on their way to a plant (issue 19, "receiving against the shipment").

What the plant's receive screen lists: every device in transit to the plant,
grouped into shipments by sender and transfer manifest (or, without one, by
the sender's Beijing day of shipping), each with what the handheld needs to
receive it offline — the device's category and its weight at collection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from sqlalchemy import func
from sqlmodel import Session, col, select

from traceability import limits
from traceability.accounts.models import Organisation
from traceability.catalog.services import grams_to_kg
from traceability.custody.models import Event, EventType
from traceability.db import iso
from traceability.devices.models import Device, DeviceState
from traceability.reports.schemas import Category, Number, OrgCode, Out, QrId, Timestamp, text

#: At most this many devices are listed (the oldest shipments first).
MAX_DEVICES = 5000
BEIJING = dt.timezone(dt.timedelta(hours=8))


class IncomingDevice(Out):
    qr_id: QrId
    category: Category
    collected_weight_kg: Number | None
    shipped_at: Timestamp


class IncomingShipment(Out):
    """Devices one sender shipped to the plant under one manifest (or on one day without)."""

    key: Annotated[str, text(limits.ORG_CODE + limits.CODE + 16)]
    sender: OrgCode
    sender_name: str
    manifest_no: Annotated[str, text(limits.CODE)] | None
    shipped_at: Timestamp
    devices: list[IncomingDevice]


class IncomingShipments(Out):
    """GET /shipments/incoming: what is in transit to the caller's plant, oldest first."""

    org: OrgCode
    as_of: Timestamp
    truncated: bool
    shipments: list[IncomingShipment]


def _last_shipments(session: Session, qr_ids: Sequence[str]) -> dict[str, Event]:
    """Each device's latest ``shipped`` event (the one it is travelling under)."""
    if not qr_ids:
        return {}
    latest = (
        select(Event.device, func.max(Event.seq).label("seq"))
        .where(Event.type == EventType.shipped, col(Event.device).in_(qr_ids))
        .group_by(Event.device)
        .subquery()
    )
    rows = session.exec(select(Event).join(latest, col(Event.seq) == latest.c.seq)).all()
    return {e.device: e for e in rows if e.device is not None}


def _key(event: Event) -> tuple[str, str | None]:
    manifest = event.payload.get("manifest_no")
    if manifest:
        return f"{event.org}/{manifest}", manifest
    day = event.occurred_at.astimezone(BEIJING).date().isoformat()
    return f"{event.org}/{day}", None


def incoming_shipments(session: Session, org: str, *, now: dt.datetime) -> IncomingShipments:
    devices = session.exec(
        select(Device)
        .where(Device.state == DeviceState.in_transit, Device.destination == org)
        .order_by(col(Device.head_occurred_at), col(Device.qr_id))
        .limit(MAX_DEVICES + 1)
    ).all()
    truncated = len(devices) > MAX_DEVICES
    devices = devices[:MAX_DEVICES]
    shipped = _last_shipments(session, [d.qr_id for d in devices])
    names = {o.code: o.name for o in session.exec(select(Organisation)).all()}
    groups: dict[str, IncomingShipment] = {}
    # In the order they were shipped: the order of the manifest, as people load a pallet.
    for device in sorted(
        (d for d in devices if d.qr_id in shipped), key=lambda d: shipped[d.qr_id].seq or 0
    ):
        event = shipped[device.qr_id]
        key, manifest = _key(event)
        item = IncomingDevice(
            qr_id=device.qr_id,
            category=device.category,
            collected_weight_kg=grams_to_kg(device.collected_weight_g),
            shipped_at=iso(event.occurred_at),
        )
        group = groups.get(key)
        if group is None:
            group = groups[key] = IncomingShipment(
                key=key, sender=event.org, sender_name=names.get(event.org, event.org),
                manifest_no=manifest, shipped_at=item.shipped_at, devices=[],
            )  # fmt: skip
        group.devices.append(item)
        group.shipped_at = min(group.shipped_at, item.shipped_at)
    shipments = sorted(groups.values(), key=lambda s: (s.shipped_at, s.key))
    return IncomingShipments(org=org, as_of=iso(now), truncated=truncated, shipments=shipments)
