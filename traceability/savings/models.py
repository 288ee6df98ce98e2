"""Processing batches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from traceability import limits
from traceability.db import UTCDateTime


class Batch(SQLModel, table=True):
    """A named processing lot at one plant, e.g. a shift on a line."""

    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("org", "code", name="uq_batch_org_code"),
        Index("ix_batch_code_lower", text("lower(code)")),  # the trace search's
    )

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(max_length=limits.ORG_CODE, index=True)
    code: str = Field(max_length=limits.CODE)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
