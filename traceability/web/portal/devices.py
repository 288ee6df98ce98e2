"""Device search (typed or scanned ID) and the device timeline with a badge per event."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import Session
from werkzeug.wrappers import Response

from traceability.app import current_service, current_trace, get_session
from traceability.audit.listing import anomaly_public, app_ruleset, snapshot_for
from traceability.audit.schemas import AnomalyPublic
from traceability.audit.snapshots import AuditPending, SnapshotCache
from traceability.devices.services import get_device
from traceability.errors import TraceabilityError, UnknownDevice
from traceability.labels.ids import InvalidQrId, format_id
from traceability.lots.models import parse_lot_code
from traceability.register.log import register_of
from traceability.reports.devices import (
    DeviceView,
    check_can_read,
    device_events,
    facts_public,
    open_reader,
    read_device,
)
from traceability.reports.lots import find_lot
from traceability.reports.outputs import OutputLot, output_lots
from traceability.reports.search import Hits, find
from traceability.reports.timeline import device_timeline
from traceability.web.auth import browser_login_required
from traceability.web.portal.cases import device_case_words
from traceability.web.portal.scope import PORTAL_ROLES, current_scope
from traceability.web.portal.views import category_name
from traceability.web.portal.words import attribute_words, field_name, value_words
from traceability.web.typed import mistyped
from traceability.web.typed import shown as typed

#: Badge class of each event status (anything else: failed).
BADGES = {"verified": "ok", "pending": "wait", "late": "warn"}


def search() -> str | Response | tuple[str, int]:
    """A device ID, a lot's code or manifest number, a serial, a model or a batch code."""
    raw = (request.args.get("q") or "").strip()[:300]
    error, hits = None, None
    if raw:
        lot = find_lot(get_session(), parse_lot_code(raw) or raw)
        if lot is not None:
            return redirect(url_for("portal.lot", code=lot.code))
        try:
            device = get_device(get_session(), raw)
        except TraceabilityError as exc:
            hits = find(get_session(), raw, current_scope().orgs)
            if hits.count == 1:
                return redirect(_hit_url(hits))
            error = search_problem(raw, exc) if not hits.count else None
        else:
            return redirect(url_for("portal.device", qr_id=device.qr_id))
    page = render_template("portal/search.html", q=raw, error=error, hits=hits,
                           category_name=category_name)  # fmt: skip
    return page, 200 if not error else 404


def _hit_url(hits: Hits) -> str:
    if hits.devices:
        return url_for("portal.device", qr_id=hits.devices[0].qr_id)
    batch = hits.batches[0]
    return url_for("portal.batch", plant=batch.org, code=batch.code)


def search_problem(raw: str, error: TraceabilityError) -> str:
    """Why a search found nothing, in the page's language (the domain's message is English)."""
    problem, shown = mistyped(raw, error), typed(raw)
    if problem is not None:
        return problem
    if isinstance(error, InvalidQrId):
        return _(
            "“%(q)s” is neither a device ID (14 characters), a lot code nor a manifest number.",
            q=shown,
        )
    if isinstance(error, UnknownDevice):
        return _("No device, lot or manifest has the number “%(q)s”.", q=shown)
    return _("Nothing found for “%(q)s”.", q=shown)


def public_rpc() -> str | None:
    """The JSON-RPC URL a browser verifies through (``ledger_public_rpc``), if any."""
    settings = current_trace().settings
    if settings.ledger_public_rpc:
        return settings.ledger_public_rpc
    if settings.ledger_mode == "rpc":
        return settings.ledger_url
    if settings.ledger_mode == "managed":
        return f"http://127.0.0.1:{settings.ledger_port}"
    return None


def with_rpc_allowed(page: str) -> Response:
    """The page, its CSP letting scripts reach the public RPC (and nothing else besides)."""
    from traceability.web import CSP  # the package imports this module

    response = make_response(page)
    rpc = public_rpc()
    if rpc:
        origin = urlsplit(rpc)
        response.headers["Content-Security-Policy"] = (
            f"{CSP}; connect-src 'self' {origin.scheme}://{origin.netloc}"
        )
    return response


def device_page(qr_id: str) -> Response:
    session = get_session()
    device = get_device(session, qr_id)
    events = device_events(session, device.qr_id)
    check_can_read(session, g.principal, device, events)
    view = read_device(session, open_reader(session, current_trace().ledger), device, events)
    outputs = _outputs(session, view)
    findings = _findings(device.qr_id)
    return with_rpc_allowed(
        render_template(
            "portal/device.html",
            public_rpc=public_rpc(),
            max_delay_s=current_trace().settings.anchor_max_delay_s,
            view=view,
            facts=facts_public(view.facts),
            attributes=attribute_words(view.facts.attributes),
            display_id=format_id(device.qr_id),
            timeline=device_timeline(view),
            badges=BADGES,
            category_name=category_name,
            fractions=current_trace().catalog.fractions,
            names=_names(session, view, {o.destination for o in outputs if o.destination}),
            outputs=outputs,
            findings=findings,
            field_name=field_name,
            value_words=value_words,
            **device_case_words(findings, device.qr_id, {e.org for e in view.events}),
        )
    )


def _names(session: Session, view: DeviceView, more: set[str]) -> dict[str, str]:
    """Organisation names as the register's events give them, by code."""
    codes = (
        more
        | {e.org for e in view.events}
        | {c for c in (view.facts.custodian, view.facts.destination) if c}
    )
    codes |= {
        str(e.payload["to"])
        for e in view.events
        if isinstance(e.payload, dict) and e.payload.get("to")
    }
    return {code: facts.name for code, facts in register_of(session, codes).items()}


def _outputs(session: Session, view: DeviceView) -> list[OutputLot]:
    dismantled = [e for e in view.events if e.type == "dismantled" and e.seq is not None]
    if not dismantled or not view.facts.outputs:
        return []
    last = dismantled[-1]
    return output_lots(session, last.org, last.seq or 0, view.facts.outputs)


def _findings(qr_id: str) -> list[AnomalyPublic] | None:
    """The audit's findings naming the device (None: the audit is being computed)."""
    try:
        cache = current_service(SnapshotCache)
        snapshot = snapshot_for(get_session(), current_trace(), cache, None)
    except AuditPending:
        return None
    ruleset = app_ruleset()
    return [
        anomaly_public(f, ruleset)
        for f in snapshot.findings
        if qr_id in f.devices or f.subject == qr_id
    ]


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/devices", "search", guard(search))
    bp.add_url_rule("/devices/<qr_id>", "device", guard(device_page))
