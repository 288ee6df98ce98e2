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


class ImportRecord(SQLModel, table=True):
    """What the regulator's import (``traceability import``) found of one anchored record of a
    plant: stored as a fact (``imported``, ``late``), refused with its reason (``refused``),
    accounted for but not an EPCIS event (``accounted``: the plant's register and claim
    records), or anchored on chain and not produced by the plant (``missing``).

    ``key`` makes a re-import idempotent: ``ROOT:INDEX`` for a leaf of an anchored batch,
    ``event:ID:DIGEST`` for a record that names no leaf or changed after it was imported.
    A refusal or a missing leaf is a finding (``import_refused``), never a fact.
    """

    __tablename__ = "import_record"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    plant: str = Field(max_length=32, index=True)
    status: str = Field(max_length=16, index=True)
    event_id: str | None = Field(default=None, max_length=64)
    #: The device or lot the record is about (None: unknown, e.g. a missing leaf).
    subject: str | None = Field(default=None, max_length=64)
    #: The digest recomputed from the record's content (a missing leaf: the anchored one).
    digest: str | None = Field(default=None, max_length=64)
    root: str | None = Field(default=None, max_length=64, index=True)
    leaf_index: int | None = None
    reason: str | None = Field(default=None, max_length=1000)
    #: When the record says it was recorded (a missing leaf: its anchor's block time).
    at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    first_seen: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
