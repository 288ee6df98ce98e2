"""The JSON API under /api/v1 (SPEC §4.1)."""

from __future__ import annotations

from flask import Blueprint, Flask


def init_app(app: Flask) -> None:
    # A blueprint per app: routes cannot be added to one already registered
    # with an earlier app (every test builds its own app).
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    from traceability.api import (
        anchors,
        batches,
        devices,
        errors,
        events,
        health,
        labels,
        ledger,
        openapi,
    )

    for module in (anchors, batches, devices, events, health, labels, ledger, openapi):
        module.register(bp)
    errors.register(app, bp)
    app.register_blueprint(bp)
