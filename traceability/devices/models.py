"""The device projection.

The events are the truth; a ``Device`` row is their projection, updated in
the same transaction as each event so reads stay cheap.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from traceability import limits
from traceability.db import UTCDateTime


class DeviceState(StrEnum):
    collected = "collected"
    in_transit = "in_transit"
    received = "received"
    dismantled = "dismantled"


#: What the trace search compares (``reports.search``: case-insensitive), indexed so that a
#: search stays an index lookup on a province's devices (issue 20 item 9).
SEARCH_INDEXES = {
    "ix_device_serial_lower": "lower(serial)",
    "ix_device_model_lower": "lower(model)",
    "ix_device_brand_model_lower": "lower((brand || ' ') || model)",
}


class Device(SQLModel, table=True):
    __tablename__ = "device"
    __table_args__ = tuple(Index(name, text(expr)) for name, expr in SEARCH_INDEXES.items())

    qr_id: str = Field(primary_key=True, max_length=limits.QR_ID)
    category: str = Field(max_length=limits.CATEGORY, index=True)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    brand: str | None = Field(default=None, max_length=limits.NAMEPLATE)
    model: str | None = Field(default=None, max_length=limits.NAMEPLATE)
    serial: str | None = Field(default=None, max_length=limits.NAMEPLATE, index=True)
    source: str | None = Field(default=None, max_length=limits.SOURCE)
    collected_weight_g: int | None = None
    received_weight_g: int | None = None
    state: str = Field(max_length=16, index=True)
    custodian: str = Field(max_length=limits.ORG_CODE, index=True)
    destination: str | None = Field(default=None, max_length=limits.ORG_CODE)
    collected_by: str = Field(max_length=limits.ORG_CODE)
    collected_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_by: str | None = Field(default=None, max_length=limits.ORG_CODE)
    received_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    dismantled_by: str | None = Field(default=None, max_length=limits.ORG_CODE, index=True)
    dismantled_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), index=True)
    )
    batch_id: int | None = Field(default=None, foreign_key="batch.id", index=True)
    line: str | None = Field(default=None, max_length=limits.CODE)
    storage_area: str | None = Field(default=None, max_length=limits.AREA)
    head_digest: str = Field(max_length=64)
    head_occurred_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    event_count: int = 0
