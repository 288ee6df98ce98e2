"""EPCIS capture jobs (SPEC §4.2): what one ``POST /epcis/capture`` did with each event.

A job is written once, when its document has been processed, and read back
by ``GET /epcis/capture/{id}`` (the caller's organisation only). It is a
receipt, not a fact: the events it recorded are in the event log, hashed,
chained and anchored like every other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from traceability import limits
from traceability.db import UTCDateTime


class CaptureJob(SQLModel, table=True):
    __tablename__ = "epcis_capture"

    id: str = Field(primary_key=True, max_length=32)
    org: str = Field(max_length=limits.ORG_CODE, index=True)
    actor: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime(timezone=True), nullable=False))
    finished_at: dt.datetime = Field(sa_column=Column(UTCDateTime(timezone=True), nullable=False))
    #: GS1-Capture-Error-Behaviour: ``rollback`` (all or nothing) or ``proceed``.
    behaviour: str = Field(max_length=8)
    success: bool
    #: Each event's outcome, in document order (``epcis.capture.Outcome``).
    outcomes: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
