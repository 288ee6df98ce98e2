"""Browser sign-in: attempt limiting shared by every worker, and revocable sessions.

Both live in the database, so every gunicorn worker sees the same failures
and a sign-out (or a disabled user) ends the session on all of them at once.
Services only: the HTML views in ``traceability.web.auth`` call them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import Session, select

from traceability.accounts.models import BrowserSession, LoginAttempt, Organisation, Principal, User
from traceability.accounts.services import _principal, authenticate_password, hash_token
from traceability.db import utcnow
from traceability.errors import TraceabilityError, Unauthorised

#: Longest username or address kept for an attempt (longer input is cut, never stored whole).
KEY_LENGTH = 64


@dataclass(frozen=True)
class LoginPolicy:
    """How many failed sign-ins, within ``window``, lock a username or a client address out."""

    max_failures_per_user: int
    max_failures_per_address: int
    window: dt.timedelta
    lockout: dt.timedelta


class LoginLocked(TraceabilityError):
    """Too many failed sign-ins: no password is checked until ``until``."""

    code = "login_locked"
    status = 429

    def __init__(self, scope: str, until: dt.datetime) -> None:
        super().__init__(
            f"too many failed sign-ins for this {scope}; try again after {until:%H:%M} UTC",
            field="username" if scope == "account" else None,
            scope=scope,
            until=until,
        )
        self.scope = scope
        self.until = until


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    #: The secret the browser's session cookie carries; only its hash is stored.
    token: str
    expires_at: dt.datetime


def username_key(username: str) -> str:
    return username.strip().lower()[:KEY_LENGTH]


def sign_in(
    *,
    session: Session,
    username: str,
    password: str,
    address: str,
    policy: LoginPolicy,
    session_ttl: dt.timedelta,
    now: dt.datetime | None = None,
) -> SignedIn:
    """Check the password unless locked out, record the attempt, open a browser session.

    A failure is recorded (flushed) before ``Unauthorised`` is raised: the
    caller commits in both cases, or the failure would not count.
    """
    now = now or utcnow()
    user_key, address = username_key(username), address[:KEY_LENGTH]
    _forget_old_attempts(session, policy, now)
    _check_not_locked(session, user_key, address, policy, now)
    try:
        principal = authenticate_password(session=session, username=user_key, password=password)
    except Unauthorised:
        session.add(LoginAttempt(username=user_key, address=address, succeeded=False, at=now))
        session.flush()
        raise
    session.add(LoginAttempt(username=user_key, address=address, succeeded=True, at=now))
    token = secrets.token_urlsafe(32)
    row = BrowserSession(
        token_hash=hash_token(token),
        user_id=principal.user_id,
        created_at=now,
        expires_at=now + session_ttl,
    )
    session.add(row)
    session.flush()
    return SignedIn(principal=principal, token=token, expires_at=row.expires_at)


def _check_not_locked(
    session: Session, user_key: str, address: str, policy: LoginPolicy, now: dt.datetime
) -> None:
    since = now - policy.window
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == user_key,
            LoginAttempt.succeeded == True,  # noqa: E712 (SQL, not Python)
        )
    ).one()
    # A successful sign-in starts the account's count afresh, not the address's.
    user_since = max(since, last_success) if last_success is not None else since
    for scope, column, value, start, limit in (
        ("account", LoginAttempt.username, user_key, user_since, policy.max_failures_per_user),
        ("address", LoginAttempt.address, address, since, policy.max_failures_per_address),
    ):
        count, latest = session.exec(
            select(func.count(), func.max(LoginAttempt.at)).where(
                column == value,
                LoginAttempt.succeeded == False,  # noqa: E712
                LoginAttempt.at > start,
            )
        ).one()
        if count >= limit and latest is not None:
            until = _aware(latest) + policy.lockout
            if now < until:
                raise LoginLocked(scope, until)


def _aware(value: dt.datetime) -> dt.datetime:
    # Aggregates skip the column type's conversion: SQLite hands back naive UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _forget_old_attempts(session: Session, policy: LoginPolicy, now: dt.datetime) -> None:
    """Attempts older than any window or lock-out that could still need them."""
    horizon = now - 2 * max(policy.window, policy.lockout) - dt.timedelta(days=1)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < horizon))  # type: ignore[arg-type]


def load_session(
    *, session: Session, token: str, now: dt.datetime | None = None
) -> Principal | None:
    """The signed-in user of a browser session, or None once revoked, expired or disabled."""
    row = session.exec(
        select(BrowserSession, User, Organisation)
        .join(User, BrowserSession.user_id == User.id)  # type: ignore[arg-type]
        .join(Organisation, User.org_id == Organisation.id)  # type: ignore[arg-type]
        .where(BrowserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    browser_session, user, org = row
    if browser_session.revoked_at is not None or not user.is_active:
        return None
    if browser_session.expires_at <= (now or utcnow()):
        return None
    return _principal(user, org)


def sign_out(*, session: Session, token: str, now: dt.datetime | None = None) -> None:
    """Revoke the browser session: its cookie, even a copy of it, no longer signs anyone in."""
    row = session.exec(
        select(BrowserSession).where(BrowserSession.token_hash == hash_token(token))
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.add(row)
        session.flush()
