"""The real app served over HTTP on a free port (for browsers and other processes)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from tests.support.accounts import PASSWORD, Actor, add_actor
from tests.support.databases import default_settings, fresh_database
from traceability import create_app, demo, migrate
from traceability.anchoring.service import anchor_now
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.clock import Clock


@dataclass
class LiveServer:
    """The real app (its own database, migrated by Alembic) served over HTTP on a free port."""

    app: Flask
    url: str

    def client(self) -> FlaskClient:
        """A test client of the same app, for setting up and checking through the API."""
        return self.app.test_client()

    def actor(self, org: str, kind: str, role: str = "operator", **kwargs: Any) -> Actor:
        """A user who can sign in (password ``PASSWORD``) and call the API (token)."""
        return add_actor(self.app, org, kind, role, password=PASSWORD, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _whole_bodies(app: Any) -> Any:
    """``app`` answering with bodies read whole and their files closed.

    Werkzeug's development server (3.1) skips closing a response whose client
    reset the connection (the reset surfaces while it drains the request), so a
    browser leaving a page mid-download would leave a static file open, and
    ``filterwarnings = error`` turns its ResourceWarning into a failure of
    whichever test the garbage collector happens to run in. No route streams.
    """

    def whole(environ: Any, start_response: Any) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return whole


@contextmanager
def live_server(
    directory: Path, clock: Clock | None = None, **overrides: Any
) -> Iterator[LiveServer]:
    """Serve a fresh app on 127.0.0.1 (a secure context for service workers and the camera);
    ``clock``: the time the app lives in."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fresh_database(directory) as database_url:
        app = create_app(
            {**default_settings(database_url, directory), "public_url": url, **overrides},
            clock=clock,
        )
        migrate.upgrade(trace_of(app).engine)
        server = make_server("127.0.0.1", port, _whole_bodies(app), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(app, url)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            trace_of(app).engine.dispose()


@contextmanager
def live_demo(directory: Path, devices: int) -> Iterator[LiveServer]:
    """The demo quarter served on the in-process chain, anchored and audited: badges can
    say "verified", pages have their snapshots.

    The in-process chain cannot time blocks in the past, so it anchors the quarter
    today: the allowance for lateness (tested in tests/integration/test_backdating.py)
    is set wide enough for the tests that use it to be about the pages, on any date.
    Users' passwords are hashed cheaply (the demo creates dozens).
    """
    with (
        live_server(directory, ledger_mode="memory", anchor_max_delay_s=100 * 365 * 86_400) as live,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(
            "traceability.accounts.services.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        demo.load(trace_of(live.app), devices=devices, seed=2026)
        assert anchor_now(trace_of(live.app).engine, trace_of(live.app).ledger).events_anchored > 0
        refresh(trace_of(live.app), force=True)  # serve's refresher does this in the background
        yield live
