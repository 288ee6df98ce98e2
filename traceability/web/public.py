"""The page a phone camera opens from a QR label: /d/{ID}. Nothing personal on it."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, render_template

from ledger.errors import LedgerError
from traceability.anchoring.service import reader_ledger
from traceability.db import get_session
from traceability.devices.models import Device
from traceability.devices.services import device_public, get_device
from traceability.errors import TraceabilityError
from traceability.verification.services import PENDING, VERIFIED, verify_device

bp = Blueprint("public", __name__, template_folder="templates")

CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")


@bp.app_template_filter("china_time")
def china_time(value: str | dt.datetime | None) -> str:
    """Timestamps as people in the plants read them: Beijing time, to the minute."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M (UTC+8)")


def _badge(device: Device) -> str:
    """verified / pending / failed / unknown (ledger off or unreachable)."""
    session = get_session()
    try:
        ledger = reader_ledger(session)
        if ledger is None:
            return "unknown"
        result = verify_device(session, ledger, device.qr_id, device.head_digest)
    except LedgerError:
        return "unknown"
    statuses = {status for _, status in result.events}
    if result.verified:
        return "verified"
    if statuses <= {VERIFIED, PENDING} and result.head_matches:
        return "pending"
    return "failed"


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
    return render_template(
        "device.html",
        device=device_public(device),
        category=category,
        badge=_badge(device),
        error=None,
    ), 200
