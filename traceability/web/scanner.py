"""The handheld app at /scan (SPEC §4.4): floor staff of collectors, plants and processors.

The page is an app shell; the JavaScript (static/src/scan/) records every
step through POST /api/v1/events with the session cookie and the CSRF token,
queued in IndexedDB while offline. The service worker is served from
/scan/sw.js so that its scope covers /scan/ (a worker under /static/ could
not control it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    send_from_directory,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlmodel import Session

from traceability.accounts.models import OrgKind, Principal, Role
from traceability.accounts.services import list_orgs
from traceability.app import current_trace, get_session
from traceability.devices.models import Device
from traceability.labels.ids import InvalidQrId, format_id, normalise_id
from traceability.labels.models import MintedId
from traceability.labels.render import device_url, label_svg
from traceability.lots.models import Lot, parse_lot_code
from traceability.lots.queries import actionable_lots, manifest_numbers
from traceability.web.auth import (
    LoginForm,
    browser_login_required,
    current_browser_principal,
)
from traceability.web.i18n import current_language

bp = Blueprint("scanner", __name__, url_prefix="/scan", template_folder="templates")

#: Who records floor steps: the staff of organisations that hold devices or lots.
FLOOR_KINDS = (OrgKind.collector, OrgKind.dismantler, OrgKind.processor)
FLOOR_ROLES = (Role.operator, Role.manager)
#: Where each kind ships devices (plants) and lots (processors).
DEVICE_DESTINATIONS = (OrgKind.dismantler,)
LOT_DESTINATIONS = (OrgKind.processor,)

# Camera decoding compiles WebAssembly; the camera stream is a blob/mediastream.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@bp.after_request
def _policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers.setdefault("Permissions-Policy", "camera=(self)")
    return response


@bp.get("/")
@browser_login_required(kinds=FLOOR_KINDS, roles=FLOOR_ROLES)
def index() -> str:
    return render_template("scan/app.html", public_url=current_trace().settings.public_url)


@bp.get("/sign-in")
def sign_in_screen() -> str:
    """The sign-in screen the service worker shows when /scan/ is opened offline, signed out.

    Cached by the service worker, so it names nobody (``signed_in=None``: no
    user in the header, no sign-out button) and says what waits on the
    phone from the queue itself (static/src/scan/signin.js). The form posts
    to /login; the script fetches a fresh CSRF token first (the cached one is
    stale) and says so when there is no network.
    """
    return render_template("scan/sign_in.html", signed_in=None, form=LoginForm())


def _lot(lot: Lot, manifests: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "code": lot.code,
        "org": lot.org,
        "fraction": lot.fraction,
        "hazardous": lot.hazardous,
        "weight_g": lot.weight_g,
        "device_count": lot.device_count,
        "destination": lot.destination,
        "manifest_no": lot.manifest_no,
        # The shipment's manifest numbers: the processor weighs each on receipt.
        "manifests": manifests.get(lot.code, []),
    }


def _context(principal: Principal) -> dict[str, Any]:
    session = get_session()
    actionable = actionable_lots(session, principal.org_code)
    manifests = manifest_numbers(session, [lot.code for lot in actionable["incoming"]])
    return {
        "user": {
            "id": principal.user_id,
            "username": principal.username,
            "org": principal.org_code,
            "kind": principal.org_kind.value,
            "role": principal.role.value,
        },
        "csrf_token": generate_csrf(),
        "destinations": {
            "device": [
                {"code": o.code, "name": o.name}
                for o in list_orgs(session, DEVICE_DESTINATIONS)
                if o.code != principal.org_code
            ],
            "lot": [{"code": o.code, "name": o.name} for o in list_orgs(session, LOT_DESTINATIONS)],
        },
        "lots": {
            state: [_lot(lot, manifests) for lot in lots] for state, lots in actionable.items()
        },
    }


@bp.get("/context.json")
def context() -> tuple[Response, int]:
    """Who is signed in, a fresh CSRF token, destinations and lots; 401 when signed out.

    JSON rather than a redirect: the app keeps its queue and asks the user
    to sign in again, instead of navigating away from unsent work.
    """
    principal = current_browser_principal()
    if principal is None:
        return jsonify({"error": {"code": "signed_out", "message": _("Signed out")}}), 401
    if principal.org_kind not in FLOOR_KINDS or principal.role not in FLOOR_ROLES:
        return jsonify({"error": {"code": "forbidden", "message": _("No access")}}), 403
    response = jsonify(_context(principal))
    response.headers["Cache-Control"] = "no-store"
    return response, 200


@bp.get("/ids/<qr_id>.json")
def id_state(qr_id: str) -> tuple[Response, int]:
    """Whether a device ID was issued as a label, and to this organisation (issue 19, item 3).

    The handheld asks when a scanned ID is not (yet) a device it can read:
    ``issued`` is "yours" (a label of this organisation, to collect), "other"
    (another organisation's label) or "never" (an invented or misprinted ID);
    ``collected`` whether a device carries it. Nothing else of the ID is said.
    """
    principal = current_browser_principal()
    if principal is None:
        return jsonify({"error": {"code": "signed_out", "message": _("Signed out")}}), 401
    if principal.org_kind not in FLOOR_KINDS or principal.role not in FLOOR_ROLES:
        return jsonify({"error": {"code": "forbidden", "message": _("No access")}}), 403
    try:
        canonical = normalise_id(qr_id)
    except InvalidQrId as error:
        return jsonify({"error": error.to_dict()}), 400
    session = get_session()
    minted = session.get(MintedId, canonical)
    issued = "never" if minted is None else "yours" if minted.org == principal.org_code else "other"
    collected = session.get(Device, canonical) is not None
    response = jsonify({"qr_id": canonical, "issued": issued, "collected": collected})
    response.headers["Cache-Control"] = "no-store"
    return response, 200


@bp.get("/label/<code>")
@browser_login_required(kinds=FLOOR_KINDS, roles=FLOOR_ROLES)
def label(code: str) -> str:
    """A printable QR label (issue 19, items 2 and 5): a device ID minted for this
    organisation (at collection or on its label roll) or one of its output lots.

    The device's QR encodes its public URL (SPEC §2.2); a lot's, the bare lot
    code, which the handheld reads as a lot. The SVG is the one the API serves
    (labels.render.label_svg), in millimetres, so it prints at a known size.
    """
    principal = current_browser_principal()
    assert principal is not None  # browser_login_required
    session = get_session()
    lot = _visible_lot(session, principal, code)
    if lot is not None:
        svg = label_svg(lot.code, lot.code)
        fraction = current_trace().catalog.fractions.get(lot.fraction)
        name = (fraction.zh if current_language() == "zh-CN" else fraction.en) if fraction else ""
        return render_template(
            "scan/label.html", svg=Markup(svg.decode()), code=lot.code, lot=lot, fraction_name=name
        )
    try:
        qr_id = normalise_id(code)
    except InvalidQrId:
        abort(404)
    minted = session.get(MintedId, qr_id)
    if minted is None or minted.org != principal.org_code:
        abort(404)
    url = device_url(current_trace().settings.public_url, qr_id)
    svg = label_svg(url, format_id(qr_id))
    return render_template(
        "scan/label.html", svg=Markup(svg.decode()), code=format_id(qr_id), lot=None
    )


@bp.get("/label/<code>.svg")
@browser_login_required(kinds=FLOOR_KINDS, roles=FLOOR_ROLES)
def label_image(code: str) -> Response:
    """The QR label of a device ID minted for this organisation, alone: what the handheld
    keeps with each ID of its label roll, to print it offline (issue 19, item 5)."""
    principal = current_browser_principal()
    assert principal is not None  # browser_login_required
    try:
        qr_id = normalise_id(code)
    except InvalidQrId:
        abort(404)
    minted = get_session().get(MintedId, qr_id)
    if minted is None or minted.org != principal.org_code:
        abort(404)
    url = device_url(current_trace().settings.public_url, qr_id)
    response = Response(label_svg(url, format_id(qr_id)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _visible_lot(session: Session, principal: Principal, code: str) -> Lot | None:
    parsed = parse_lot_code(code)
    lot = session.get(Lot, parsed) if parsed else None
    if lot is None or principal.org_code not in (lot.org, lot.destination):
        return None
    return lot


@bp.get("/sw.js")
def service_worker() -> Response:
    dist = Path(current_app.static_folder or "static") / "dist" / "scan"
    response = send_from_directory(dist, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/scan/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    response = jsonify(
        {
            "name": _("WEEE scanner"),
            "short_name": _("Scanner"),
            "lang": "zh-CN",
            "start_url": "/scan/",
            "scope": "/scan/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#f3f5f3",
            "theme_color": "#1f6f43",
            "icons": [
                {"src": f"/static/icons/{name}", "sizes": size, "type": kind, "purpose": purpose}
                for name, size, kind, purpose in (
                    ("scan.svg", "any", "image/svg+xml", "any"),
                    ("scan-192.png", "192x192", "image/png", "any maskable"),
                    ("scan-512.png", "512x512", "image/png", "any maskable"),
                )
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    return response
