"""The JSON API under /api/v1 (SPEC §4.1)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from traceability.api import batches, devices, errors, events, health, labels, openapi

    for module in (batches, devices, events, health, labels, openapi):
        module.register(bp)
    errors.register(app, bp)
    app.register_blueprint(bp)
