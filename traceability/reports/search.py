"""Trace search beyond IDs (issue 20 item 4): a serial number, a brand and model, a model,
or a processing batch's code, within the organisations the reader may read.

The ``device`` and ``batch`` tables serve as the index; each hit's page then
shows the device or batch as its verified log says.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select
from sqlmodel import Session, col

from traceability.devices.models import Device
from traceability.savings.models import Batch

_SPACE: ColumnElement[str] = literal_column("' '")

#: At most so many hits of each kind are listed (the page says when there are more).
LIMIT = 100


@dataclass(frozen=True)
class Hits:
    devices: list[Device]
    batches: list[Batch]
    more: bool  # there were more than ``LIMIT`` of a kind

    @property
    def count(self) -> int:
        return len(self.devices) + len(self.batches)


def device_query(wanted: str, codes: list[str]) -> Select[Device]:
    """Devices of ``codes`` whose serial, model or "brand model" lowered is ``wanted``:
    each comparison spelled as its index (``devices.models.SEARCH_INDEXES``)."""
    return (
        select(Device)
        .where(
            or_(
                func.lower(col(Device.serial)) == wanted,
                func.lower(col(Device.model)) == wanted,
                func.lower(col(Device.brand).op("||")(_SPACE).op("||")(col(Device.model)))
                == wanted,
            ),
            or_(
                col(Device.custodian).in_(codes),
                col(Device.collected_by).in_(codes),
                col(Device.received_by).in_(codes),
            ),
        )
        .order_by(col(Device.qr_id))
        .limit(LIMIT + 1)
    )


def batch_query(wanted: str, codes: list[str]) -> Select[Batch]:
    return (
        select(Batch)
        .where(func.lower(col(Batch.code)) == wanted, col(Batch.org).in_(codes))
        .order_by(col(Batch.org))
        .limit(LIMIT + 1)
    )


def find(session: Session, text: str, orgs: Collection[str]) -> Hits:
    """Devices whose serial, model or "brand model" is ``text`` and batches coded ``text``,
    case-insensitively, of the organisations ``orgs``."""
    wanted = text.strip().lower()
    if not wanted or not orgs:
        return Hits([], [], False)
    codes = list(orgs)
    devices = session.execute(device_query(wanted, codes)).scalars().all()
    batches = session.execute(batch_query(wanted, codes)).scalars().all()
    return Hits(
        list(devices[:LIMIT]), list(batches[:LIMIT]), max(len(devices), len(batches)) > LIMIT
    )
