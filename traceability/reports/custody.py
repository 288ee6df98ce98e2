"""The devices an organisation holds or is about to receive: what a handheld keeps to
check a step offline (issue 19, "check before submit, offline too").

Each device not yet dismantled whose custodian is the organisation (collected,
received, or shipped and still on its way elsewhere) or that is on its way to
it, with what the steps' checks need: its state, its category and attributes
(the dismantling rules), its weight (the mass balance) and its destination.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from traceability.catalog.services import grams_to_kg
from traceability.db import iso
from traceability.devices.models import Device, DeviceState
from traceability.reports.schemas import Category, Number, OrgCode, Out, QrId, Timestamp

#: At most this many devices (the most recently active first).
MAX_DEVICES = 20_000


class CustodyDevice(Out):
    qr_id: QrId
    state: DeviceState
    category: Category
    attributes: dict[str, Any]
    #: At intake if received, else at collection.
    weight_kg: Number | None
    custodian: OrgCode
    destination: OrgCode | None


class CustodyList(Out):
    """GET /custody: the caller's organisation's devices, as of ``as_of``."""

    org: OrgCode
    as_of: Timestamp
    truncated: bool
    devices: list[CustodyDevice]


def custody_list(session: Session, org: str, *, now: dt.datetime) -> CustodyList:
    rows = session.exec(
        select(Device)
        .where(
            Device.state != DeviceState.dismantled,
            or_(col(Device.custodian) == org, col(Device.destination) == org),
        )
        .order_by(col(Device.head_occurred_at).desc(), col(Device.qr_id))
        .limit(MAX_DEVICES + 1)
    ).all()
    devices = [
        CustodyDevice(
            qr_id=d.qr_id,
            state=DeviceState(d.state),
            category=d.category,
            attributes=d.attributes,
            weight_kg=grams_to_kg(d.received_weight_g or d.collected_weight_g),
            custodian=d.custodian,
            destination=d.destination,
        )
        for d in rows[:MAX_DEVICES]
    ]
    return CustodyList(org=org, as_of=iso(now), truncated=len(rows) > MAX_DEVICES, devices=devices)
