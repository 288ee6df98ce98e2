"""E-waste (WEEE) recycling traceability: the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from ledger.recursion import restore_recursion_limit
from traceability.config import Settings
from traceability.jsonio import TraceJSONProvider

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


class TraceFlask(Flask):
    json_provider_class = TraceJSONProvider


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build an application. ``config`` overrides what ``TRACE_*`` variables say."""
    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))

    app = TraceFlask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(
        TRACE_SETTINGS=settings,
        SECRET_KEY=settings.resolved_secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
    )

    from traceability.catalog import load_catalog
    from traceability.db import Database

    Database(app)
    app.extensions["trace.catalog"] = load_catalog(settings.rate_files)

    from traceability import api, web

    api.init_app(app)
    web.init_app(app)
    # After everything that imports web3 (whose py_ecc sets 100,000): a request
    # must not be able to recurse deep enough to overflow the C stack.
    restore_recursion_limit()
    return app
