"""The Flask side of the app factory: the app class, its typed accessors, the request's session.

Only the edges (``api/``, ``web/``, ``server.py``) and the factory import Flask
(an import-linter contract says so). A view reaches the deployment's context
through ``current_trace()``; a test or a tool given an app, through
``trace_of(app)``. Per-app objects of the edges themselves (the OpenAPI
document, the public views' cache) are registered once by type and found by
type (``register_service``/``current_service``), never by a string key.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from sqlmodel import Session

from traceability.context import Trace
from traceability.db import iso

S = TypeVar("S")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Exact decimals (weights, tonnes) render as the shortest float
        # literal; money never reaches here (integer yuan/fen).
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class TraceJSONProvider(DefaultJSONProvider):
    """JSON responses: decimals as numbers, timestamps in the one ISO form."""

    ensure_ascii = False
    sort_keys = False
    default = staticmethod(_default)


class TraceFlask(Flask):
    """The app: a Flask app that holds its deployment's context (``trace``)."""

    json_provider_class = TraceJSONProvider

    def __init__(self, import_name: str, *, trace: Trace, **options: Any) -> None:
        super().__init__(import_name, **options)
        self.trace = trace
        self.services: dict[type[Any], Any] = {}

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """As Flask's, but an external URL starts with ``TRACE_PUBLIC_URL``.

        Never with the request's Host header, which any client sets: a link
        in an API answer, a label or a QR code must point at this site.
        """
        if not (_external and has_request_context()):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        path = super().url_for(endpoint, _anchor=_anchor, _method=_method, **values)
        # The public URL names the application's root, mount point included.
        root = request.script_root
        if root and path.startswith(root):
            path = path[len(root) :]
        return self.trace.settings.public_url.rstrip("/") + path


def _trace_app(app: Flask) -> TraceFlask:
    if not isinstance(app, TraceFlask):
        raise TypeError(f"{app!r} was not built by traceability.create_app")
    return app


def trace_of(app: Flask) -> Trace:
    """The context ``create_app`` built ``app`` with (for tests, tools and the factory)."""
    return _trace_app(app).trace


def current_trace() -> Trace:
    """The context of the app handling the current request."""
    return trace_of(current_app)


def register_service(app: Flask, service: object) -> None:
    """Make ``service`` the app's one object of its type (the edges' per-app objects)."""
    _trace_app(app).services[type(service)] = service


def service_of(app: Flask, kind: type[S]) -> S:
    """The app's ``kind`` (made with ``kind()`` on first use when none was registered)."""
    services = _trace_app(app).services
    found = services.get(kind)
    if found is None:
        found = services.setdefault(kind, kind())
    if not isinstance(found, kind):  # pragma: no cover - registered by type
        raise TypeError(f"{found!r} is not a {kind.__name__}")
    return found


def current_service(kind: type[S]) -> S:
    """``service_of`` the app handling the current request."""
    return service_of(current_app, kind)


def get_session() -> Session:
    """The request's session (created on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = Session(current_trace().engine, expire_on_commit=False)
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
