"""Subsidy claims (拆解处理情况表): one plant, one quarter, the devices it counts and why not.

``claimed_device`` holds one row per device ever claimed (its primary key is
the device): the database itself refuses a second claim of a device, so two
claims computed at the same moment cannot both count it. A review that
rejects a device keeps its row (it stays unclaimable); reinstating deletes it.
A reinstated device can be claimed again, so its old ``claim_item`` stays
behind: a partial unique index on ``claim_item`` makes an approval unique
across all claims (issue 15, finding 5: a device is never paid twice).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, text
from sqlmodel import Field, SQLModel

from traceability import limits
from traceability.db import UTCDateTime

CLAIM_CODE = 64


class ClaimState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    partially_approved = "partially_approved"
    rejected = "rejected"


class Review(StrEnum):
    approved = "approved"
    rejected = "rejected"
    reinstated = "reinstated"  # rejected, then made claimable again (not paid here)


class Claim(SQLModel, table=True):
    __tablename__ = "claim"

    id: int | None = Field(default=None, primary_key=True)
    #: ``{plant}-{period}-{n}``: the subject of the claim's own events.
    code: str = Field(max_length=CLAIM_CODE, unique=True)
    org: str = Field(max_length=limits.ORG_CODE, index=True)
    region: str = Field(max_length=6)
    period: str = Field(max_length=6, index=True)
    state: str = Field(max_length=20, index=True)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    computed_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    submitted_by: str | None = Field(default=None, max_length=64)
    submitted_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: SHA-256 of the canonical claim (``claims.digest``), recomputed with every draft.
    digest: str = Field(max_length=64)
    units: int = 0
    total_yuan: int = 0
    excluded: int = 0
    approved_yuan: int | None = None
    #: [{id, sha256, source, label}] of every schedule a line applied.
    schedules: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    #: The summary (拆解处理情况表): [{category, tier, schedule, rate, units, amount}].
    lines: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    #: Digest of the claim's latest event (submission, reviews): its chain head.
    head_digest: str | None = Field(default=None, max_length=64)
    #: ``yuan``, or ``quantity``: a certification of units by category and tier, no yuan.
    mode: str = Field(default="yuan", max_length=16)
    #: The earlier claims of the quarter this one supplements (补报); None: the quarter's claim.
    supplements: list[str] | None = Field(default=None, sa_column=Column(JSON))
    #: The enterprise conditions as stated when computed (licence, open findings).
    conditions: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    #: The claim policy applied: {version, sha256}.
    policy: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ClaimItem(SQLModel, table=True):
    """A device a claim counts, with the evidence the exports show."""

    __tablename__ = "claim_item"
    __table_args__ = (
        # One approval per device, ever, whatever the claim (SPEC §2.6 "never claimed before").
        Index(
            "uq_claim_item_approved_device",
            "qr_id",
            unique=True,
            sqlite_where=text("review = 'approved'"),
            postgresql_where=text("review = 'approved'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    qr_id: str = Field(max_length=limits.QR_ID, index=True)
    category: str = Field(max_length=limits.CATEGORY)
    tier: str = Field(max_length=limits.CODE)
    schedule: str = Field(max_length=limits.CODE)
    rate_yuan: int
    dismantled_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    received_weight_g: int | None = None
    #: [[fraction, grams], ...] as the dismantled event (corrected) reports them.
    outputs: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The digests of every event of the device, in recording order.
    event_digests: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Where the device's latest event was anchored: {root, tx_hash, block_number}.
    anchor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    review: str | None = Field(default=None, max_length=16)
    review_reason: str | None = Field(default=None, max_length=limits.REASON)
    #: [[flag, detail], ...] the policy marks (claimed, shown to the reviewer); None: none.
    flags: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    #: {attributes, brand, model, serial, source, collector, received_at, batch, line,
    #: operator} as replayed when computed; None: computed before these were kept.
    facts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ClaimExclusion(SQLModel, table=True):
    """A device the claim considered and did not count, with every reason."""

    __tablename__ = "claim_exclusion"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    qr_id: str = Field(max_length=limits.QR_ID)
    category: str | None = Field(default=None, max_length=limits.CATEGORY)
    #: [[code, detail], ...]; the first is the one a summary shows.
    reasons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ClaimedDevice(SQLModel, table=True):
    """A device is claimed once, ever: the primary key is the guarantee."""

    __tablename__ = "claimed_device"

    qr_id: str = Field(primary_key=True, max_length=limits.QR_ID)
    claim_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    rejected: bool = False
