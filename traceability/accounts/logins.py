"""Browser sign-in: growing delays after failures, shared by every worker; revocable sessions.

Both live in the database, so every gunicorn worker sees the same failures
and a sign-out (or a disabled user) ends the session on all of them at once.
Services only: the HTML views in ``traceability.web.auth`` call them.
"""

from __future__ import annotations

import datetime as dt
import math
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
    """How failed sign-ins slow the next attempts down (SPEC §4.4 "limited attempts").

    Failures within ``window`` are counted per (username, address) and per
    address. Past its free failures, each scope waits ``base_delay`` doubled
    for every further failure, at most ``max_delay``, after its latest
    failure. Nothing is counted per account alone: failures from one address
    never keep the user out from another (issue 15, finding 6).
    """

    free_failures: int  # per (username, address)
    free_failures_per_address: int
    base_delay: dt.timedelta
    max_delay: dt.timedelta
    window: dt.timedelta

    def delay(self, failures: int, free: int) -> dt.timedelta:
        """The wait after the latest of ``failures`` when ``free`` of them cost nothing."""
        if failures < free:
            return dt.timedelta(0)
        # The exponent is bounded before it is used: 2**huge is a slow big integer.
        doubled = self.base_delay * 2 ** min(failures - free, 32)
        return min(doubled, self.max_delay)


_SCOPES = {"account": "for this account from this address", "address": "from this address"}


class SignInDelayed(TraceabilityError):
    """Too many failed sign-ins: no password is checked for ``retry_after`` seconds."""

    code = "sign_in_delayed"
    status = 429

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins {_SCOPES[scope]}; try again in {retry_after} s",
            field="username" if scope == "account" else None,
            scope=scope,
            retry_after=retry_after,
        )
        #: "account" (this username from this address) or "address" (any username from it).
        self.scope = scope
        #: Whole seconds until the next attempt is looked at.
        self.retry_after = retry_after


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
    """Check the password unless delayed, record the attempt, open a browser session.

    A failure is recorded (flushed) before ``Unauthorised`` is raised: the
    caller commits in both cases, or the failure would not count.
    """
    now = now or utcnow()
    user_key, address = username_key(username), address[:KEY_LENGTH]
    forget_old_attempts(session, policy, now)
    check_not_delayed(session, user_key, address, policy, now)
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


def check_not_delayed(
    session: Session, user_key: str, address: str, policy: LoginPolicy, now: dt.datetime
) -> None:
    since = now - policy.window
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == user_key,
            LoginAttempt.address == address,
            LoginAttempt.succeeded == True,  # noqa: E712 (SQL, not Python)
        )
    ).one()
    # The right password from this address starts this pair's count afresh.
    # Not the address's: one user signing in must not wipe out the failures
    # of someone at the same address guessing other users' passwords.
    pair_since = max(since, _aware(last_success)) if last_success is not None else since
    scopes = (
        ("account", (LoginAttempt.username == user_key), pair_since, policy.free_failures),
        ("address", None, since, policy.free_failures_per_address),
    )
    for scope, also, start, free in scopes:
        query = select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.address == address,
            LoginAttempt.succeeded == False,  # noqa: E712
            LoginAttempt.at > start,
        )
        if also is not None:
            query = query.where(also)
        count, latest = session.exec(query).one()
        if latest is None:
            continue
        until = _aware(latest) + policy.delay(count, free)
        if now < until:
            raise SignInDelayed(scope, math.ceil((until - now).total_seconds()))


def _aware(value: dt.datetime) -> dt.datetime:
    # Aggregates skip the column type's conversion: SQLite hands back naive UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def forget_old_attempts(session: Session, policy: LoginPolicy, now: dt.datetime) -> None:
    """Attempts older than any window or delay that could still need them."""
    horizon = now - 2 * max(policy.window, policy.max_delay) - dt.timedelta(days=1)
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


def session_expiry(*, session: Session, token: str) -> dt.datetime | None:
    """When the browser session ``token`` ends (UTC), or None if there is none."""
    row = session.exec(
        select(BrowserSession).where(BrowserSession.token_hash == hash_token(token))
    ).first()
    return None if row is None else _aware(row.expires_at)


def sign_out(*, session: Session, token: str, now: dt.datetime | None = None) -> None:
    """Revoke the browser session: its cookie, even a copy of it, no longer signs anyone in."""
    revoke_session(session=session, token_hash=hash_token(token), now=now)


def revoke_session(*, session: Session, token_hash: str, now: dt.datetime | None = None) -> None:
    """Revoke the browser session whose token hashes to ``token_hash`` (if it is live)."""
    row = session.exec(
        select(BrowserSession).where(BrowserSession.token_hash == token_hash)
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.add(row)
        session.flush()
