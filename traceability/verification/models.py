"""What the completeness checks found (SPEC §3): the chain's anchors against the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from traceability.db import UTCDateTime


class TrustCheck(SQLModel, table=True):
    """One enumeration of the accepted submitters' anchors on chain, compared with the DB."""

    __tablename__ = "trust_check"

    id: int | None = Field(default=None, primary_key=True)
    checked_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    contract: str | None = Field(default=None, max_length=42)
    # The submitter addresses enumerated, comma separated.
    submitters: str = Field(max_length=2000)
    anchors_on_chain: int = 0
    missing_batches: int = 0
    missing_events: int = 0
    ok: bool
    # Why it failed, in words (missing roots, or the trust problem that stopped the check).
    detail: str | None = Field(default=None, max_length=2000)
