"""Anchor batches and their state machine, kept in the database.

pending → submitted(nonce, tx) → confirmed(block) → final; a confirmed or
final batch whose root vanished from the chain is ``lost`` until resent.
Membership (AnchorLeaf) and root are stored before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary
from sqlmodel import Field, SQLModel

from traceability.db import UTCDateTime


class AnchorState(StrEnum):
    pending = "pending"
    submitted = "submitted"
    confirmed = "confirmed"
    final = "final"
    lost = "lost"


class AnchorBatch(SQLModel, table=True):
    __tablename__ = "anchor_batch"

    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(max_length=64, unique=True)
    size: int
    # The leaf digests in order (32 bytes each): the batch stays provable even
    # if an event row is later deleted, and a deletion shows as a gap.
    leaves: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    first_seq: int = Field(
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    )
    state: str = Field(max_length=16, index=True)
    chain_id: int | None = Field(default=None, sa_column=Column(BigInteger()))
    contract: str | None = Field(default=None, max_length=42)
    submitter: str | None = Field(default=None, max_length=42)
    nonce: int | None = None
    tx_hash: str | None = Field(default=None, max_length=66)
    block_number: int | None = None
    block_hash: str | None = Field(default=None, max_length=66)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    submitted_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    confirmed_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # A worker sending this batch holds a lease (a short committed claim, never a
    # transaction held open across the chain call); an expired lease is taken over.
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AnchorLeaf(SQLModel, table=True):
    """Which batch anchors an event, at which leaf index.

    The event's primary key is this table's primary key, so one event can
    never sit in two batches, even with several workers racing.
    """

    __tablename__ = "anchor_leaf"

    event_seq: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("event.seq"),
            primary_key=True,
        )
    )
    batch_id: int = Field(foreign_key="anchor_batch.id", index=True)
    leaf_index: int


class LedgerMeta(SQLModel, table=True):
    """What the database believes about the chain: id, genesis, contract address."""

    __tablename__ = "ledger_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
