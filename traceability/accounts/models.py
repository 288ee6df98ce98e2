"""Organisations, users and their API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from traceability.db import UTCDateTime, utcnow


class OrgKind(StrEnum):
    collector = "collector"
    dismantler = "dismantler"
    processor = "processor"
    regulator = "regulator"


class Role(StrEnum):
    operator = "operator"
    manager = "manager"
    auditor = "auditor"
    admin = "admin"


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=200)
    region: str = Field(max_length=6, index=True)
    license_no: str | None = Field(default=None, max_length=64)
    capacity_units: int | None = Field(default=None)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    role: str = Field(max_length=16)
    password_hash: str | None = Field(default=None, max_length=256)
    is_active: bool = Field(default=True)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ApiToken(SQLModel, table=True):
    """A handheld's bearer token. Only its SHA-256 is stored; every token expires."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    label: str | None = Field(default=None, max_length=100)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user and their organisation, detached from the session."""

    user_id: int
    username: str
    role: Role
    org_id: int
    org_code: str
    org_kind: OrgKind
    org_region: str


class LoginAttempt(SQLModel, table=True):
    """One browser sign-in attempt; failures count toward a lock-out shared by every worker."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    # Lower-cased as typed (also for names that do not exist: guessing is limited too).
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    succeeded: bool = Field(default=False)
    at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class BrowserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds ``token``; signing out revokes the row.

    Flask's session cookie is signed, not stored, so without a row a copied
    cookie would outlive the sign-out; with it, sign-out, expiry and a
    disabled user end the session on every worker at once.
    """

    __tablename__ = "browser_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
