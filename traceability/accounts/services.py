"""Creating organisations, users and tokens; authenticating a bearer token."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from traceability.accounts.models import ApiToken, Organisation, OrgKind, Role, User
from traceability.db import utcnow
from traceability.errors import Conflict, NotFound, Unauthorised, ValidationFailed

TOKEN_PREFIX = "trc_"
_ORG_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_REGION = re.compile(r"^[1-9]\d{5}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user and their organisation, detached from the session."""

    user_id: int
    username: str
    role: str
    org_id: int
    org_code: str
    org_kind: str
    org_region: str


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
    if role == Role.auditor and org.kind != OrgKind.regulator:
        raise ValidationFailed("auditors belong to a regulator organisation", field="role")
    if role in (Role.operator, Role.manager) and org.kind == OrgKind.regulator:
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


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no brute force).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, session: Session, username: str, label: str | None = None) -> str:
    """A new bearer token for the user; only its hash is kept."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username}", field="username")
    assert user.id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label))
    session.flush()
    return token


def revoke_token(*, session: Session, token: str) -> None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None:
        raise NotFound("no such token", field="token")
    row.revoked_at = utcnow()
    session.add(row)


def _principal(user: User, org: Organisation) -> Principal:
    assert user.id is not None and org.id is not None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        org_id=org.id,
        org_code=org.code,
        org_kind=org.kind,
        org_region=org.region,
    )


def authenticate_token(*, session: Session, token: str) -> Principal:
    row = session.exec(
        select(ApiToken, User, Organisation)
        .join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .join(Organisation, User.org_id == Organisation.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise Unauthorised("invalid API token")
    api_token, user, org = row
    if api_token.revoked_at is not None or not user.is_active:
        raise Unauthorised("this API token has been revoked")
    return _principal(user, org)


def authenticate_password(*, session: Session, username: str, password: str) -> Principal:
    row = session.exec(
        select(User, Organisation)
        .join(Organisation, User.org_id == Organisation.id)  # type: ignore[arg-type]
        .where(User.username == username)
    ).first()
    if row is None or not row[0].password_hash or not row[0].is_active:
        raise Unauthorised("wrong username or password")
    if not check_password_hash(row[0].password_hash, password):
        raise Unauthorised("wrong username or password")
    return _principal(*row)


def region_prefix(region: str) -> str:
    """Significant prefix of an administrative code: 110000 → 11, 320500 → 3205."""
    prefix = region
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def in_region_scope(regulator_region: str, region: str) -> bool:
    return region.startswith(region_prefix(regulator_region))
