"""The append-only event log."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from traceability import limits
from traceability.db import LogDateTime, LogJSON


class EventType(StrEnum):
    collected = "collected"
    shipped = "shipped"
    received = "received"
    stored = "stored"
    dismantled = "dismantled"
    refused = "refused"
    corrected = "corrected"
    lot_shipped = "lot_shipped"
    lot_received = "lot_received"
    lot_treated = "lot_treated"
    stocktake = "stocktake"
    batch_closed = "batch_closed"


class Event(SQLModel, table=True):
    """One recorded step. Rows are inserted, never updated or deleted.

    Its subject is exactly one device, output lot, subsidy claim, organisation or batch.

    ``org`` and ``actor`` hold the organisation code and username exactly as
    hashed, so the digest can be recomputed from the row alone.
    """

    __tablename__ = "event"

    seq: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    id: str = Field(max_length=limits.EVENT_ID, unique=True, index=True)
    type: str = Field(max_length=16, index=True)
    device: str | None = Field(default=None, max_length=limits.QR_ID, index=True)
    lot: str | None = Field(default=None, max_length=limits.LOT_CODE, index=True)
    #: A subsidy claim's code, for its submission and review events (``claims.events``).
    claim: str | None = Field(default=None, max_length=64, index=True)
    #: An organisation's code, for the register's events (``register.events``, SPEC §2.8).
    organisation: str | None = Field(default=None, max_length=limits.ORG_CODE, index=True)
    #: A processing batch, ``{org}/{code}``, for its closing (``batch_closed``, SPEC §2.4):
    #: unique, as a batch closes once.
    batch: str | None = Field(
        default=None, max_length=limits.BATCH_SUBJECT, index=True, unique=True
    )
    org: str = Field(max_length=limits.ORG_CODE, index=True)
    actor: str = Field(max_length=64)
    # Log types: a value written by hand that cannot be decoded reads back as a malformed
    # row (verified as tampered, ``custody.wellformed``) rather than failing the query.
    occurred_at: dt.datetime = Field(sa_column=Column(LogDateTime(), nullable=False, index=True))
    recorded_at: dt.datetime = Field(sa_column=Column(LogDateTime(), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(LogJSON(), nullable=False))
    prev: str | None = Field(default=None, max_length=64)
    digest: str = Field(max_length=64, unique=True)
