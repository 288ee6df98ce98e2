"""Bearer-token authentication and role checks for the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from traceability.accounts.models import Principal, Role
from traceability.accounts.services import authenticate_token
from traceability.app import get_session
from traceability.errors import Forbidden, Unauthorised

F = TypeVar("F", bound=Callable[..., Any])

RECORDERS = (Role.operator, Role.manager)
READERS = (Role.operator, Role.manager, Role.auditor, Role.admin)


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def _caller() -> Principal:
    """The bearer token's user or, without an Authorization header, the browser's session."""
    header = request.headers.get("Authorization", "")
    if not header:
        principal = _browser_principal()
        if principal is not None:
            return principal
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("send 'Authorization: Bearer <token>'", field="Authorization")
    try:
        return authenticate_token(session=get_session(), token=token.strip())
    except Unauthorised as exc:
        # Name the header for an unknown, revoked or expired token or a
        # disabled user too, as for a missing one.
        exc.field = exc.field or "Authorization"
        raise


def _browser_principal() -> Principal | None:
    """A signed-in browser (web.auth's Flask-Login user); its writes need the CSRF token.

    A cookie rides along with any cross-site form or fetch, so a write on
    the strength of a cookie alone is refused; a bearer token cannot be
    forged that way and needs no CSRF token.
    """
    principal: Principal | None = getattr(current_user, "principal", None)
    if principal is None:
        return None
    csrf = current_app.extensions.get("csrf")
    if csrf is None:
        return None  # no browser sign-in on this app
    try:
        csrf.protect()
    except CSRFError as exc:
        raise CsrfFailed(
            f"a signed-in browser must send its CSRF token: {exc.description}",
            field="X-CSRFToken",
        ) from None
    return principal


def require(*roles: str) -> Callable[[F], F]:
    """The view needs a valid bearer token whose user has one of ``roles``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = _caller()
            if principal.role not in roles:
                raise Forbidden(
                    f"role '{principal.role}' may not do this (needs {' or '.join(roles)})",
                    field="role",
                )
            g.principal = principal
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
