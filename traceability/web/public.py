"""The page a phone camera opens from a QR label: /d/{ID}. Nothing personal on it."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlmodel import Session

from traceability.app import current_service, current_trace, get_session
from traceability.claims.events import CLAIM_REVIEWED, CLAIM_SUBMITTED, claim_events
from traceability.claims.services import get_claim_by_code
from traceability.devices.models import Device
from traceability.devices.services import get_device
from traceability.errors import TraceabilityError
from traceability.labels.ids import InvalidQrId, normalise_id
from traceability.labels.models import MintedId
from traceability.reports.devices import device_summary, open_reader, read_device
from traceability.reports.story import Step, device_story
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
    """The device as anyone may see it (``device``) and its journey (``story``), from its
    verified log, cached per chain head."""
    cache = current_service(PublicCache)
    key = (device.qr_id, device.head_digest, device.event_count)
    cached = cache.get(key)
    if cached is not None:
        return cached
    session, trace = get_session(), current_trace()
    read = read_device(session, open_reader(session, trace.ledger), device)
    view = device_summary(read).model_dump(mode="json")
    if trace.settings.ledger_mode == "off":
        view["verification"] = "off"  # nothing to check against: say so, not "unreachable"
    cached = {
        "device": view,
        "story": device_story(session, read, trace.catalog.default_factor_set),
    }
    if view["verification"] == "pending":  # anchoring takes seconds: look again soon
        cache.put(key, cached, PENDING_TTL_S)
    elif view["verification"] not in ("unknown", "off"):  # unreachable: asked again
        cache.put(key, cached, cache.ttl_s)
    return cached


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
    session = get_session()
    try:
        device = get_device(session, raw_id)
    except TraceabilityError as exc:
        if (minted := _unused_label(session, raw_id)) is not None:
            return render_template("device.html", device=None, error=None, minted=minted), 200
        return render_template(
            "device.html", device=None, error=exc, error_text=_id_problem(raw_id, exc)
        ), exc.status
    found = _public_view(device)
    view = found["device"]
    return render_template(
        "device.html",
        device=view,
        story=found["story"],
        # The category as the log says (never the editable row's).
        category=catalog.categories.get(view["category"]),
        badge=view["verification"],
        report_url=current_trace().settings.public_report_url,
        step_name=_step_names(),
        step_text=_step_text,
        error=None,
    ), 200


def _step_names() -> dict[str, str]:
    return {
        "collected": _("handed in"), "shipped": _("sent"), "received": _("arrival"),
        "refused": _("refusal"), "stored": _("storage"), "dismantled": _("dismantling"),
        "corrected": _("correction"),
    }  # fmt: skip


def _step_text(step: Step) -> str:
    """One step of the journey in plain words."""
    plant = step.plant or _("a licensed dismantling plant")
    if step.kind == "received" and step.weight_kg is not None:
        return _("Arrived at %(plant)s and weighed %(kg)s kg.", plant=plant, kg=step.weight_kg)
    texts = {
        "collected": _("Handed in for recycling at a collection point."),
        "shipped": _("Sent to %(plant)s.", plant=plant),
        "received": _("Arrived at %(plant)s.", plant=plant),
        "refused": _("Refused by the plant and sent back to the collection point."),
        "stored": _("Stored at the plant until dismantling."),
        "dismantled": _(
            "Dismantled at %(plant)s; its materials went on to licensed treatment.", plant=plant
        ),
    }
    return texts.get(step.kind, _("A record was corrected; the original stays in the log."))


def _unused_label(session: Session, raw_id: str) -> MintedId | None:
    """A label this system printed that no device has been registered under yet."""
    try:
        qr_id = normalise_id(raw_id)
    except TraceabilityError:
        return None
    return session.get(MintedId, qr_id)


#: The claim events' checks as one badge: any failure fails it, else any pending.
_FAILED = frozenset({"tampered", "broken_chain", "missing_on_chain", "failed"})


def _claim_badge(statuses: list[str], ledger_off: bool) -> str:
    if ledger_off:
        return "off"
    if not statuses:
        return "pending"
    if any(s in _FAILED for s in statuses):
        return "failed"
    for status in ("unknown", "pending", "late"):
        if status in statuses:
            return status
    return "verified"


@bp.get("/verify/claims/<code>")
def claim_check(code: str) -> tuple[str, int]:
    """What a reviewer's phone opens from a claim PDF's QR: the digest the submission
    anchored, where, whether its events verify against the chain, and whether the file's
    digest (``?digest=``) is that one. Public: the claim's figures, nothing personal."""
    session, trace = get_session(), current_trace()
    given = request.args.get("digest", "")[:128].strip().lower()
    try:
        claim = get_claim_by_code(session, code[:64])
    except TraceabilityError:
        return render_template("claim_check.html", claim=None, code=code[:64]), 404
    events = claim_events(session, open_reader(session, trace.ledger), claim)
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    anchored = str(submitted.payload.get("digest")) if submitted else None
    reviews = [e for e in events if e.type == CLAIM_REVIEWED]
    return render_template(
        "claim_check.html",
        claim=claim,
        code=claim.code,
        submitted=submitted,
        anchored=anchored,
        reviews=reviews,
        events=events,
        badge=_claim_badge([e.status for e in events], trace.settings.ledger_mode == "off"),
        given=given,
        matches=None if not given or anchored is None else given == anchored,
    ), 200
