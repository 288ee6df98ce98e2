"""Organisations, users and API tokens: creating, disabling, expiring, revoking, authenticating."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from traceability.accounts.models import ApiToken, Organisation, OrgKind, Principal, Role, User
from traceability.db import utcnow
from traceability.errors import Conflict, NotFound, Unauthorised, ValidationFailed

TOKEN_PREFIX = "trc_"
_ORG_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_REGION = re.compile(r"^[1-9]\d{5}$")
# Longer lifetimes defeat the point of expiry (and far dates overflow).
MAX_TOKEN_TTL_DAYS = 3650
# The roles a regulator's users hold; every other organisation's users hold the rest.
REGULATOR_ROLES = frozenset({Role.auditor, Role.admin})


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the secret is here once and never stored."""

    id: int
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the secret nor its hash."""

    id: int
    username: str
    label: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    user_active: bool

    def status(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if not self.user_active:
            return "user disabled"
        if self.expires_at <= now:
            return "expired"
        return "active"


def add_org(
    *,
    session: Session,
    code: str,
    kind: str,
    name: str,
    region: str,
    license_no: str | None = None,
    capacity_units: int | None = None,
) -> Organisation:
    if not _ORG_CODE.match(code):
        raise ValidationFailed(
            "code must be 2–32 upper-case letters, digits, '-' or '_'", field="code"
        )
    if kind not in OrgKind.__members__:
        raise ValidationFailed(f"kind must be one of {', '.join(OrgKind)}", field="kind")
    if not _REGION.match(region):
        raise ValidationFailed("region must be a 6-digit GB/T 2260 code", field="region")
    if kind == OrgKind.dismantler and not license_no:
        raise ValidationFailed("a dismantler needs its licence number", field="license")
    if capacity_units is not None and capacity_units <= 0:
        raise ValidationFailed("capacity must be a positive number of units", field="capacity")
    if session.exec(select(Organisation).where(Organisation.code == code)).first():
        raise Conflict(f"organisation {code} already exists", field="code")
    org = Organisation(
        code=code,
        kind=kind,
        name=name,
        region=region,
        license_no=license_no,
        capacity_units=capacity_units,
    )
    session.add(org)
    session.flush()
    return org


def get_org(session: Session, code: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.code == code)).first()
    if org is None:
        raise NotFound(f"no organisation {code}", field="org")
    return org


def list_orgs(session: Session, kinds: Sequence[str]) -> list[Organisation]:
    """Organisations of these kinds, by code (e.g. where a handheld may ship to)."""
    query = select(Organisation).where(col(Organisation.kind).in_(kinds))
    return list(session.exec(query.order_by(col(Organisation.code))).all())


def add_user(
    *, session: Session, username: str, org_code: str, role: str, password: str | None = None
) -> User:
    if not _USERNAME.match(username):
        raise ValidationFailed(
            "username must be 2–64 lower-case letters, digits, '.', '-' or '_'", field="username"
        )
    if role not in Role.__members__:
        raise ValidationFailed(f"role must be one of {', '.join(Role)}", field="role")
    org = get_org(session, org_code)
    # An admin reads a region's records like an auditor, so it must belong to
    # the regulator of that region, never to a plant that could read its rivals.
    if role in REGULATOR_ROLES and org.kind != OrgKind.regulator:
        raise ValidationFailed(f"{role}s belong to a regulator organisation", field="role")
    if role not in REGULATOR_ROLES and org.kind == OrgKind.regulator:
        raise ValidationFailed("a regulator's users are auditors or admins", field="role")
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"user {username} already exists", field="username")
    if password is not None and len(password) < 8:
        raise ValidationFailed("password must have at least 8 characters", field="password")
    assert org.id is not None
    user = User(
        username=username,
        org_id=org.id,
        role=role,
        password_hash=generate_password_hash(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username}", field="username")
    return user


def disable_user(*, session: Session, username: str) -> User:
    """The user can no longer sign in, and none of its tokens work, from now on."""
    return _set_active(session, username, active=False)


def enable_user(*, session: Session, username: str) -> User:
    """Undo ``disable_user``: its tokens that are neither revoked nor expired work again."""
    return _set_active(session, username, active=True)


def _set_active(session: Session, username: str, *, active: bool) -> User:
    user = get_user(session, username)
    user.is_active = active
    session.add(user)
    session.flush()
    return user


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no brute force).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    *,
    session: Session,
    username: str,
    ttl_days: int,
    label: str | None = None,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """A new bearer token for the user, valid for ``ttl_days``; only its hash is kept."""
    if not 0 < ttl_days <= MAX_TOKEN_TTL_DAYS:
        raise ValidationFailed(
            f"a token lives between 1 and {MAX_TOKEN_TTL_DAYS} days", field="ttl_days"
        )
    user = get_user(session, username)
    if not user.is_active:
        raise ValidationFailed(f"user {username} is disabled", field="username")
    assert user.id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    created_at = now or utcnow()
    row = ApiToken(
        user_id=user.id,
        token_hash=hash_token(token),
        label=label,
        created_at=created_at,
        expires_at=created_at + dt.timedelta(days=ttl_days),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return IssuedToken(id=row.id, token=token, expires_at=row.expires_at)


def list_tokens(*, session: Session, username: str | None = None) -> list[TokenInfo]:
    """Every token (of one user, if named), oldest first."""
    query = select(ApiToken, User).join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
    if username is not None:
        query = query.where(User.id == get_user(session, username).id)
    rows = session.exec(query.order_by(ApiToken.id)).all()  # type: ignore[arg-type]
    return [
        TokenInfo(
            id=t.id,
            username=u.username,
            label=t.label,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            user_active=u.is_active,
        )
        for t, u in rows
        if t.id is not None
    ]


def revoke_token(*, session: Session, token: str) -> ApiToken:
    """Revoke a token given the secret itself (e.g. one found leaked in a log)."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None:
        raise NotFound("no such token", field="token")
    return _revoke(session, row)


def revoke_token_id(*, session: Session, token_id: int) -> ApiToken:
    """Revoke a token by the id ``list_tokens`` shows."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token with id {token_id}", field="token_id")
    return _revoke(session, row)


def _revoke(session: Session, row: ApiToken) -> ApiToken:
    # Revoking twice keeps the first date: that is when the token stopped working.
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    return row


def _principal(user: User, org: Organisation) -> Principal:
    assert user.id is not None and org.id is not None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        org_id=org.id,
        org_code=org.code,
        org_kind=OrgKind(org.kind),
        org_region=org.region,
    )


def principal_for(*, session: Session, username: str) -> Principal:
    """The principal of an active user, for commands run on the server (``traceability claims``)."""
    user = get_user(session, username)
    if not user.is_active:
        raise Unauthorised(f"user {username} is disabled", field="username")
    org = session.get(Organisation, user.org_id)
    assert org is not None
    return _principal(user, org)


def authenticate_token(
    *, session: Session, token: str, now: dt.datetime | None = None
) -> Principal:
    row = session.exec(
        select(ApiToken, User, Organisation)
        .join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .join(Organisation, User.org_id == Organisation.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise Unauthorised("invalid API token")
    api_token, user, org = row
    if api_token.revoked_at is not None:
        raise Unauthorised("this API token has been revoked")
    if not user.is_active:
        raise Unauthorised(f"user {user.username} is disabled")
    if api_token.expires_at <= (now or utcnow()):
        raise Unauthorised(
            f"this API token expired on {api_token.expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask for a new one"
        )
    return _principal(user, org)


def authenticate_password(*, session: Session, username: str, password: str) -> Principal:
    row = session.exec(
        select(User, Organisation)
        .join(Organisation, User.org_id == Organisation.id)  # type: ignore[arg-type]
        .where(User.username == username)
    ).first()
    stored = row[0].password_hash if row is not None and row[0].is_active else None
    # An unknown (or disabled) username costs the same hashing as a known one:
    # the answer's timing must not tell which usernames exist.
    matches = check_password_hash(stored or _dummy_hash(), password)
    if row is None or stored is None or not matches:
        raise Unauthorised("wrong username or password")
    return _principal(*row)


@functools.cache
def _dummy_hash() -> str:
    """A hash of no one's password, in the scheme (and cost) new passwords get."""
    return generate_password_hash(secrets.token_urlsafe(16))


def region_prefix(region: str) -> str:
    """Significant prefix of an administrative code: 110000 → 11, 320500 → 3205."""
    prefix = region
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def in_region_scope(regulator_region: str, region: str) -> bool:
    return region.startswith(region_prefix(regulator_region))


def can_read_region(principal: Principal, region: str) -> bool:
    """Whether a regulator's user (auditor or admin) may read records of ``region``.

    Both read only within their regulator's scope (SPEC §2.1); everyone else
    reads by custody, never by region, so this is False for them.
    """
    if principal.role not in REGULATOR_ROLES or principal.org_kind != OrgKind.regulator:
        return False
    return in_region_scope(principal.org_region, region)
