"""Device search (typed or scanned ID) and the device timeline with a badge per event."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from traceability.app import current_trace, get_session
from traceability.devices.services import get_device
from traceability.errors import TraceabilityError
from traceability.labels.ids import format_id
from traceability.reports.devices import (
    check_can_read,
    device_events,
    event_public,
    facts_public,
    open_reader,
    read_device,
)
from traceability.reports.lots import find_lot
from traceability.web.auth import browser_login_required
from traceability.web.portal.scope import PORTAL_ROLES
from traceability.web.portal.views import category_name

#: Badge class of each event status (anything else: failed).
BADGES = {"verified": "ok", "pending": "wait", "late": "warn"}


def search() -> str | Response | tuple[str, int]:
    """A device ID, or a lot's code or one of its manifest numbers (SPEC §4.4)."""
    raw = (request.args.get("q") or "").strip()[:300]
    error = None
    if raw:
        lot = find_lot(get_session(), raw)
        if lot is not None:
            return redirect(url_for("portal.lot", code=lot.code))
        try:
            device = get_device(get_session(), raw)
        except TraceabilityError as exc:
            error = exc.message
        else:
            return redirect(url_for("portal.device", qr_id=device.qr_id))
    return render_template("portal/search.html", q=raw, error=error), 200 if not error else 404


def device_page(qr_id: str) -> str:
    session = get_session()
    device = get_device(session, qr_id)
    events = device_events(session, device.qr_id)
    check_can_read(session, g.principal, device, events)
    view = read_device(session, open_reader(session, current_trace().ledger), device, events)
    statuses = dict(view.verification.events)
    timeline = [
        (event_public(e, view.anchors.get(e.seq or -1)), statuses.get(e.id, "unknown"))
        for e in events
    ]
    fractions = current_trace().catalog.fractions
    return render_template(
        "portal/device.html",
        view=view,
        facts=facts_public(view.facts),
        display_id=format_id(device.qr_id),
        timeline=timeline,
        badges=BADGES,
        category_name=category_name,
        fractions=fractions,
    )


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/devices", "search", guard(search))
    bp.add_url_rule("/devices/<qr_id>", "device", guard(device_page))
