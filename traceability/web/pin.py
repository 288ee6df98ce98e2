"""The handheld's quick user switch (issue 19, "Shift work"): set a PIN, switch by PIN.

``POST /scan/pin`` (signed in): ``{"verifier"}`` → ``{"key", "username",
"user_id", "expires_at"}``, the signed key the phone keeps with its salt.
``POST /scan/pin/switch``: ``{"key", "verifier"}`` → the key's user is signed
in on this browser (the session cookie changes hands; the page reloads as
them). Wrong PIN 401 ``wrong_pin``; delayed 429 with ``Retry-After``; the
PIN's session ended 401 ``pin_expired``; malformed input 400 naming the field.
Rules: traceability/accounts/pins.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from traceability.accounts.logins import SignInDelayed, session_expiry
from traceability.accounts.pins import PinExpired, pin_key, switch_in
from traceability.app import get_session
from traceability.db import begin_write
from traceability.errors import TraceabilityError, Unauthorised
from traceability.web.auth import PIN_ORIGIN, BrowserUser, current_browser_principal, login_policy

bp = Blueprint("scan_pin", __name__, url_prefix="/scan/pin")


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="scan-pin")  # type: ignore[arg-type]


def _secret() -> bytes:
    return str(current_app.secret_key).encode()


def _error(code: str, message: str, status: int, field: str | None = None) -> tuple[Response, int]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return jsonify({"error": error}), status


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("")
def set_pin() -> tuple[Response, int]:
    principal = current_browser_principal()
    token = getattr(current_user, "token", None)
    if principal is None or token is None:
        return _error("signed_out", _("Signed out"), 401)
    try:
        key = pin_key(
            secret=_secret(),
            token=token,
            user_id=principal.user_id,
            username=principal.username,
            verifier=_body().get("verifier"),
        )
    except TraceabilityError as exc:
        return _error(exc.code, str(exc), 400, exc.field)
    expires = session_expiry(session=get_session(), token=token)
    return jsonify(
        {
            "key": _signer().dumps(key),
            "username": principal.username,
            "user_id": principal.user_id,
            "expires_at": expires.astimezone(dt.UTC).isoformat() if expires else None,
        }
    ), 200


@bp.post("/switch")
def switch() -> tuple[Response, int]:
    body = _body()
    raw = body.get("key")
    try:
        key = _signer().loads(raw if isinstance(raw, str) else "")
    except BadSignature:
        return _error("invalid", "key is not one this server gave", 400, "key")
    db = get_session()
    begin_write(db)
    try:
        signed_in = switch_in(
            session=db,
            secret=_secret(),
            key=key,
            verifier=body.get("verifier"),
            address=request.remote_addr or "unknown",
            policy=login_policy(),
        )
    except SignInDelayed as exc:
        db.rollback()
        response = jsonify(
            {
                "error": {
                    "code": "delayed",
                    "message": "too many wrong PINs",
                    "retry_after": exc.retry_after,
                }
            }
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, 429
    except (Unauthorised, PinExpired) as exc:
        db.commit()  # a wrong PIN counts toward the delays
        return _error("wrong_pin" if isinstance(exc, Unauthorised) else exc.code, str(exc), 401)
    except TraceabilityError as exc:
        db.rollback()
        return _error(exc.code, str(exc), 400, exc.field)
    db.commit()
    session.clear()  # nothing of the previous user's session survives (no fixation)
    session.permanent = True
    login_user(BrowserUser(signed_in.principal, signed_in.token))
    # Signing out of this session ends the one the PIN was set in too (auth.logout): a copy
    # of the phone's key switches no one in after its user has signed out.
    session[PIN_ORIGIN] = str(key["s"])
    return jsonify({"username": signed_in.principal.username}), 200
