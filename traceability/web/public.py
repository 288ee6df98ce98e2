"""The page a phone camera opens from a QR label: /d/{ID}. Nothing personal on it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from traceability.db import get_session
from traceability.devices.services import device_public, get_device
from traceability.errors import TraceabilityError

bp = Blueprint("public", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/d/<raw_id>")
def device_page(raw_id: str) -> tuple[str, int]:
    catalog = current_app.extensions["trace.catalog"]
    try:
        device = get_device(get_session(), raw_id)
    except TraceabilityError as exc:
        return render_template("device.html", device=None, error=exc), exc.status
    category = catalog.categories[device.category]
    return render_template("device.html", device=device_public(device), category=category,
                           error=None), 200
