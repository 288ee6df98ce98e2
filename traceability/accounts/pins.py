"""Quick user switch on a shared handheld (issue 19, "Shift work"; SPEC §4.4).

After a full sign-in on a handheld, a user may set a PIN there. The PIN never
leaves the phone in clear: the phone derives a verifier from it (WebCrypto
PBKDF2-SHA-256 with a random salt kept on the phone) and sends only that. The
server keeps nothing: it hands the phone a signed key (``pin_key``) naming
the user, the browser session the PIN was set in, and a keyed hash of the
verifier (HMAC under the server's secret, so the key read off the phone does
not let anyone test PINs offline).

Switching to that user takes the key and the PIN's verifier. It is refused
once the session the PIN was set in has ended (signed out, expired, user
disabled): the PIN expires with that session, and the session it opens ends
when that one would. Wrong PINs count as failed sign-ins of the account from
that address, under the same growing delays as the password form (logins.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlmodel import Session, select

from traceability.accounts.logins import (
    LoginPolicy,
    SignedIn,
    check_not_delayed,
    forget_old_attempts,
    username_key,
)
from traceability.accounts.models import BrowserSession, LoginAttempt, Organisation, User
from traceability.accounts.services import _principal, hash_token
from traceability.db import utcnow
from traceability.errors import TraceabilityError, Unauthorised, ValidationFailed

#: The phone's PBKDF2 output, hex (256 bits).
VERIFIER = re.compile(r"^[0-9a-f]{64}$")


class PinExpired(TraceabilityError):
    """The session the PIN was set in has ended: a full sign-in is needed."""

    code = "pin_expired"
    status = 401


def _checked(verifier: Any) -> str:
    if not isinstance(verifier, str) or not VERIFIER.match(verifier):
        raise ValidationFailed("verifier must be 64 hexadecimal characters", field="verifier")
    return verifier


def keyed(secret: bytes, verifier: str) -> str:
    return hmac.new(secret, b"scan-pin\0" + verifier.encode(), hashlib.sha256).hexdigest()


def pin_key(
    *, secret: bytes, token: str, user_id: int, username: str, verifier: Any
) -> dict[str, Any]:
    """What the phone keeps (signed by the caller) for the user signed in with ``token``."""
    return {
        "u": user_id,
        "n": username_key(username),
        "s": hash_token(token),
        "c": keyed(secret, _checked(verifier)),
    }


def _live_session(session: Session, key: dict[str, Any], now: dt.datetime) -> BrowserSession:
    row = session.exec(
        select(BrowserSession, User, Organisation)
        .join(User, BrowserSession.user_id == User.id)  # type: ignore[arg-type]
        .join(Organisation, User.org_id == Organisation.id)  # type: ignore[arg-type]
        .where(BrowserSession.token_hash == key["s"])
    ).first()
    if row is None:
        raise PinExpired("the session this PIN was set in is unknown: sign in with your password")
    browser_session, user, _org = row
    expires = browser_session.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    if (
        browser_session.revoked_at is not None
        or not user.is_active
        or expires <= now
        or user.id != key["u"]
    ):
        raise PinExpired("the session this PIN was set in has ended: sign in with your password")
    return browser_session


def switch_in(
    *,
    session: Session,
    secret: bytes,
    key: dict[str, Any],
    verifier: Any,
    address: str,
    policy: LoginPolicy,
    now: dt.datetime | None = None,
) -> SignedIn:
    """Open a browser session for the key's user if the PIN is right and not delayed.

    A wrong PIN is recorded (flushed) as a failed sign-in before ``Unauthorised``
    is raised: the caller commits in both cases.
    """
    now = now or utcnow()
    verifier = _checked(verifier)
    user_key, address = str(key["n"]), address[:64]
    forget_old_attempts(session, policy, now)
    check_not_delayed(session, user_key, address, policy, now)
    original = _live_session(session, key, now)
    if not hmac.compare_digest(keyed(secret, verifier), str(key["c"])):
        session.add(LoginAttempt(username=user_key, address=address, succeeded=False, at=now))
        session.flush()
        raise Unauthorised("wrong PIN")
    session.add(LoginAttempt(username=user_key, address=address, succeeded=True, at=now))
    token = secrets.token_urlsafe(32)
    row = BrowserSession(
        token_hash=hash_token(token),
        user_id=original.user_id,
        created_at=now,
        expires_at=original.expires_at,
    )
    session.add(row)
    session.flush()
    user = session.get(User, original.user_id)
    assert user is not None  # checked by _live_session
    org = session.get(Organisation, user.org_id)
    assert org is not None
    return SignedIn(principal=_principal(user, org), token=token, expires_at=row.expires_at)
