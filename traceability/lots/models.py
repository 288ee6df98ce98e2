"""Output lots and what went into them."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from traceability import limits
from traceability.db import UTCDateTime


class LotState(StrEnum):
    open = "open"
    shipped = "shipped"
    received = "received"
    treated = "treated"


def lot_code(org: str, fraction: str, number: int) -> str:
    """``{plant}-{fraction}-{number}``: hashed into every event of the lot."""
    return f"{org}-{fraction}-{number:05d}"


_LOT_CODE = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*)-([A-Za-z_]+)-(\d{5})")


def parse_lot_code(raw: str) -> str | None:
    """A lot code read in any case, in the canonical case (``lot_code``'s), or None.

    Scanners and phone keyboards change the case of what they read; the
    plant's code is upper case and the fraction's lower case, so the code is
    the same whatever case it arrives in (issue 19, item 2).
    """
    match = _LOT_CODE.fullmatch(raw.strip())
    if match is None:
        return None
    org, fraction, number = match.groups()
    return f"{org.upper()}-{fraction.lower()}-{number}"


def fraction_of(code: str, org: str) -> str:
    """A lot's fraction read from its code (hashed), not from the ``lot`` row."""
    return code.removeprefix(f"{org}-").rpartition("-")[0] or "?"


class Lot(SQLModel, table=True):
    """One open lot per fraction per plant; closed (shipped) as a whole."""

    __tablename__ = "lot"

    code: str = Field(primary_key=True, max_length=limits.LOT_CODE)
    org: str = Field(max_length=limits.ORG_CODE, index=True)
    fraction: str = Field(max_length=limits.FRACTION)
    number: int
    state: str = Field(max_length=16, index=True)
    # Its receipt must be confirmed: hazardous waste or a controlled substance
    # (refrigerant); catalog Fraction.receipt_required.
    hazardous: bool = False
    weight_g: int = 0
    device_count: int = 0
    destination: str | None = Field(default=None, max_length=limits.ORG_CODE, index=True)
    #: The first manifest's number (lots shipped before manifests were lists: their only one).
    manifest_no: str | None = Field(default=None, max_length=limits.CODE)
    #: Whether the shipment crossed a provincial border (None: not shipped, or shipped before
    #: the register said so).
    cross_province: bool | None = None
    received_weight_g: int | None = None
    treatment: str | None = Field(default=None, max_length=limits.METHOD)
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    shipped_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    received_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    head_digest: str | None = Field(default=None, max_length=64)
    head_occurred_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    event_count: int = 0


class LotItem(SQLModel, table=True):
    """A device's output of one fraction, placed in a lot by a ``dismantled`` event."""

    __tablename__ = "lot_item"

    id: int | None = Field(default=None, primary_key=True)
    lot: str = Field(foreign_key="lot.code", max_length=limits.LOT_CODE, index=True)
    device: str = Field(max_length=limits.QR_ID, index=True)
    event_id: str = Field(max_length=limits.EVENT_ID, index=True)
    weight_g: int


class LotManifest(SQLModel, table=True):
    """One transfer manifest (转移联单) of a lot shipment: a projection of its lot's events.

    For finding a lot by its manifest and refusing a number used twice (the
    unique index); what the pages and the audit show is read from the log
    (``lots.manifests.shipment_of``).
    """

    __tablename__ = "lot_manifest"

    id: int | None = Field(default=None, primary_key=True)
    lot: str = Field(foreign_key="lot.code", max_length=limits.LOT_CODE, index=True)
    number: str = Field(max_length=limits.MANIFEST_NO, unique=True, index=True)
    hw_code: str | None = Field(default=None, max_length=limits.HW_CODE)
    transporter: str = Field(max_length=limits.TRANSPORTER)
    shipped_weight_g: int
    received_weight_g: int | None = None
