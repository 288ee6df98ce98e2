"""QR IDs handed out (so invented IDs are refused) and the label sheets they were printed on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from traceability.db import UTCDateTime, utcnow


class MintedId(SQLModel, table=True):
    """Every QR ID the system handed out, so invented IDs are refused."""

    __tablename__ = "minted_id"

    qr_id: str = Field(primary_key=True, max_length=14)
    org: str = Field(max_length=32, index=True)
    sheet_id: str | None = Field(default=None, max_length=32, index=True)
    minted_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class LabelSheet(SQLModel, table=True):
    __tablename__ = "label_sheet"

    id: str = Field(primary_key=True, max_length=32)
    org: str = Field(max_length=32, index=True)
    count: int
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class LabelRender(SQLModel, table=True):
    """A label sheet PDF being made or made: what ``labels.throttle`` counts per user."""

    __tablename__ = "label_render"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    labels: int
    started_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
