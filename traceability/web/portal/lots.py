"""An output lot (/portal/lots/<code>): its manifests, weights, cross-province mark and history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, render_template
from flask_babel import gettext as _

from traceability.app import current_trace, get_session
from traceability.audit.listing import app_ruleset
from traceability.catalog.services import grams_to_kg
from traceability.lots.manifests import Manifest
from traceability.reports.devices import event_public, open_reader
from traceability.reports.lots import LotView, check_can_read_lot, get_lot, lot_events, read_lot
from traceability.web.auth import browser_login_required
from traceability.web.portal.devices import BADGES
from traceability.web.portal.exports import table_response
from traceability.web.portal.scope import PORTAL_ROLES


def _row(manifest: Manifest, tolerance: float) -> dict[str, Any]:
    """One manifest as the page shows it: weights in kg, the difference and whether it is
    beyond the audit's tolerance (``lot_weight_mismatch``)."""
    difference = manifest.difference_g
    share = (
        difference / manifest.shipped_g if difference is not None and manifest.shipped_g else None
    )
    return {
        "number": manifest.number,
        "hw_code": manifest.hw_code,
        "transporter": manifest.transporter,
        "shipped_kg": grams_to_kg(manifest.shipped_g),
        "received_kg": grams_to_kg(manifest.received_g),
        "difference_pct": f"{share * 100:+.1f}" if share is not None else None,
        "beyond": share is not None and abs(share) > tolerance,
    }


#: Devices listed on the page; the export holds them all.
SHOWN_MEMBERS = 100


def _read(code: str) -> LotView:
    session = get_session()
    lot = get_lot(session, code)
    events = lot_events(session, lot.code)
    check_can_read_lot(session, g.principal, lot, events)
    return read_lot(session, open_reader(session, current_trace().ledger), lot, events)


def lot_page(code: str) -> str:
    view = _read(code)
    events = view.events
    tolerance = app_ruleset().thresholds.lot_weight_tolerance
    return render_template(
        "portal/lot.html",
        view=view,
        fraction=current_trace().catalog.fractions.get(view.lot.fraction),
        manifests=[_row(m, tolerance) for m in view.manifests],
        tolerance_pct=f"{tolerance * 100:g}",
        kg=grams_to_kg,
        timeline=[
            (event_public(e, view.anchors.get(e.seq or -1)), view.statuses.get(e.id, "unknown"))
            for e in events
        ],
        badges=BADGES,
        members=view.members[:SHOWN_MEMBERS],
    )


def lot_devices_export(code: str, fmt: str) -> Response:
    """The backward trace of a lot: every device whose output went into it."""
    view = _read(code)
    header = ["#", _("Device"), _("Weight (kg)"), _("Dismantled (Beijing time, UTC+8)")]
    rows = [
        [n, m.qr_id, grams_to_kg(m.weight_g), m.dismantled_at]
        for n, m in enumerate(view.members, start=1)
    ]
    return table_response(f"{view.lot.code}-devices", fmt, header, rows, title=view.lot.code)


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/lots/<code>", "lot", guard(lot_page))
    bp.add_url_rule("/lots/<code>/devices.<any(csv, xlsx):fmt>", "lot_devices",
                    guard(lot_devices_export))  # fmt: skip
