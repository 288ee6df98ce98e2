"""E-waste (WEEE) recycling traceability: the Flask application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from ledger.recursion import restore_recursion_limit
from traceability.app import TraceFlask, close_session
from traceability.audit.startup import check_audit_files
from traceability.claims.policy import claim_policy_of
from traceability.clock import Clock
from traceability.config import Settings
from traceability.context import build_trace

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def create_app(
    config: Settings | Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> Flask:
    """Build an application. ``config`` overrides what ``TRACE_*`` variables say;
    ``clock`` is the time the app lives in (the machine's by default).

    The deployment's context (``traceability.context.Trace``) is built once here
    and kept on the app; views reach it with ``traceability.app.current_trace()``.
    """
    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))
    trace = build_trace(settings, clock=clock)
    check_audit_files(settings)  # a malformed rules or operations file stops the start
    claim_policy_of(settings, trace.catalog)  # so does a malformed claim policy

    app = TraceFlask(
        __name__, trace=trace, static_folder=str(STATIC_DIR), static_url_path="/static"
    )
    app.config.update(SECRET_KEY=trace.secret_key, MAX_CONTENT_LENGTH=settings.max_content_length)
    app.teardown_appcontext(close_session)

    from traceability import api, web

    api.init_app(app)
    web.init_app(app)
    # After everything that imports web3 (whose py_ecc sets 100,000): a request
    # must not be able to recurse deep enough to overflow the C stack.
    restore_recursion_limit()
    return app
