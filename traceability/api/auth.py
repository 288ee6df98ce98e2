"""Bearer-token authentication and role checks for the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from traceability.accounts.models import Principal, Role
from traceability.accounts.services import authenticate_token
from traceability.db import get_session
from traceability.errors import Forbidden, Unauthorised

F = TypeVar("F", bound=Callable[..., Any])

RECORDERS = (Role.operator, Role.manager)
READERS = (Role.operator, Role.manager, Role.auditor, Role.admin)


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def require(*roles: str) -> Callable[[F], F]:
    """The view needs a valid bearer token whose user has one of ``roles``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorised("send 'Authorization: Bearer <token>'", field="Authorization")
            try:
                principal = authenticate_token(session=get_session(), token=token.strip())
            except Unauthorised as exc:
                # Name the header for an unknown, revoked or expired token or a
                # disabled user too, as for a missing one.
                exc.field = exc.field or "Authorization"
                raise
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
