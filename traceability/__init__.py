"""E-waste (WEEE) recycling traceability: the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from traceability import clock as clocks
from traceability.clock import Clock
from traceability.config import Settings
from traceability.jsonio import TraceJSONProvider

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


class TraceFlask(Flask):
    json_provider_class = TraceJSONProvider


def create_app(
    config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> Flask:
    """Build an application. ``config`` overrides what ``TRACE_*`` variables say;
    ``clock`` is the time the app lives in (the machine's by default)."""
    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))

    app = TraceFlask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(
        TRACE_SETTINGS=settings,
        SECRET_KEY=settings.resolved_secret_key,
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
    return app
