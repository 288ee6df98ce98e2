"""E-waste (WEEE) recycling traceability: the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request

from ledger.recursion import restore_recursion_limit
from traceability import clock as clocks
from traceability.clock import Clock
from traceability.config import Settings
from traceability.jsonio import TraceJSONProvider

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


class TraceFlask(Flask):
    json_provider_class = TraceJSONProvider

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
        public_url: str = self.config["TRACE_SETTINGS"].public_url
        return public_url.rstrip("/") + path


def create_app(
    config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> Flask:
    """Build an application. ``config`` overrides what ``TRACE_*`` variables say;
    ``clock`` is the time the app lives in (the machine's by default)."""
    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))

    app = TraceFlask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(
        TRACE_SETTINGS=settings,
        SECRET_KEY=settings.resolved_secret_key(),
        MAX_CONTENT_LENGTH=settings.max_content_length,
    )

    from traceability.catalog import load_catalog
    from traceability.db import Database

    clocks.init_app(app, clock)
    Database(app)
    app.extensions["trace.catalog"] = load_catalog(settings.rate_files)

    from traceability import api, web

    api.init_app(app)
    web.init_app(app)
    # After everything that imports web3 (whose py_ecc sets 100,000): a request
    # must not be able to recurse deep enough to overflow the C stack.
    restore_recursion_limit()
    return app
