"""The page a phone camera opens from a QR label: /d/{ID}. Nothing personal on it."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _

from traceability.app import current_service, current_trace, get_session
from traceability.devices.models import Device
from traceability.devices.services import get_device
from traceability.errors import TraceabilityError
from traceability.labels.ids import InvalidQrId
from traceability.reports.devices import device_public
from traceability.web.typed import mistyped
from traceability.web.typed import shown as typed

bp = Blueprint("public", __name__, template_folder="templates")

PENDING_TTL_S = 5.0


class PublicCache:
    """Recent public views per device and chain head, so anonymous views cost no chain call.

    A new event moves the head, so new records are never hidden behind a
    cached view; a chain-side change (a lost anchor) shows within ``ttl_s``.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: dict[tuple[str, str, int], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> dict[str, Any] | None:
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: tuple[str, str, int], view: dict[str, Any], ttl_s: float) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
                while len(self._entries) >= self.max_entries:  # all fresh: drop the oldest
                    self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic() + min(ttl_s, self.ttl_s), view)


def _public_view(device: Device) -> dict[str, Any]:
    """The device as anyone may see it, from its verified log, cached per chain head."""
    cache = current_service(PublicCache)
    key = (device.qr_id, device.head_digest, device.event_count)
    view = cache.get(key)
    if view is None:
        view = device_public(device, current_trace().ledger)
        if current_trace().settings.ledger_mode == "off":
            view["verification"] = "off"  # nothing to check against: say so, not "unreachable"
        if view["verification"] == "pending":  # anchoring takes seconds: look again soon
            cache.put(key, view, PENDING_TTL_S)
        elif view["verification"] not in ("unknown", "off"):  # unreachable: asked again
            cache.put(key, view, cache.ttl_s)
    return view


def _id_problem(raw: str, error: TraceabilityError) -> str:
    """Why no device is shown, in the page's language (the domain's message is English)."""
    problem, shown = mistyped(raw, error), typed(raw)
    if problem is not None:
        return problem
    if isinstance(error, InvalidQrId):
        return _("“%(q)s” is not a device ID: a device ID has 14 letters and digits.", q=shown)
    return _("No device has the ID “%(q)s”.", q=shown)


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/d/<raw_id>")
def device_page(raw_id: str) -> tuple[str, int]:
    catalog = current_trace().catalog
    try:
        device = get_device(get_session(), raw_id)
    except TraceabilityError as exc:
        return render_template(
            "device.html", device=None, error=exc, error_text=_id_problem(raw_id, exc)
        ), exc.status
    view = _public_view(device)
    return render_template(
        "device.html",
        device=view,
        # The category as the log says (never the editable row's).
        category=catalog.categories.get(view["category"]),
        badge=view["verification"],
        error=None,
    ), 200
