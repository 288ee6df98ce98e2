"""Claims in the browser (/portal/claims, SPEC §2.6, issue 18 item 7).

A plant's managers list their claims, create one for a closed quarter,
recompute the draft, inspect it (lines, flagged rows first, exclusions by
reason down to the device), submit it and download the exports; the region's
auditors list the submitted claims, review them per line and per device with a
reason code (each review a ``claim_reviewed`` event, anchored) and print the
审核核定 table. Views parse the form, call the claims services, render.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from ledger.errors import LedgerError
from traceability.accounts.models import Role
from traceability.anchoring.service import anchor_now
from traceability.app import current_trace, get_session
from traceability.audit.claim_view import audit_view
from traceability.claims.eligibility import REASONS
from traceability.claims.models import ClaimItem
from traceability.claims.policy import FLAGS, claim_policy_of
from traceability.claims.reasons import load_review_reasons
from traceability.claims.review import ReviewRequest, review_claim
from traceability.claims.screen import claim_screen, claims_of
from traceability.claims.services import (
    create_claim,
    draft_to_recompute,
    get_claim,
    submit_claim,
    window_days,
)
from traceability.errors import TraceabilityError, ValidationFailed
from traceability.periods import last_closed_quarter
from traceability.reports.devices import open_reader
from traceability.web.auth import browser_login_required
from traceability.web.i18n import current_language
from traceability.web.portal.cases import claim_open_cases
from traceability.web.portal.scope import (
    PORTAL_ROLES,
    current_scope,
    recent_quarters,
    requested_paging,
)
from traceability.web.portal.views import category_name

PER_PAGE = 50
#: A claim's states and events as people read them.
STATE_NAMES = {
    "draft": lazy_gettext("draft (not submitted)"),
    "submitted": lazy_gettext("submitted, under review"),
    "approved": lazy_gettext("approved in full"),
    "partially_approved": lazy_gettext("partially approved"),
    "rejected": lazy_gettext("rejected in full"),
}
EVENT_NAMES = {
    "claim_submitted": lazy_gettext("claim submitted"),
    "claim_reviewed": lazy_gettext("claim reviewed"),
}


def _list(error: str | None = None, status: int = 200) -> tuple[str, int]:
    if error:
        get_session().rollback()  # what the refused request began is not read on
    manager = g.principal.role == Role.manager
    claims = claims_of(
        get_session(), [o.code for o in current_scope().plants], submitted_only=not manager
    )
    now = current_trace().now()
    closed = last_closed_quarter(now).name
    quarters = [q for q in recent_quarters(now, count=8) if q <= closed]
    return render_template(
        "portal/claims.html", claims=claims, manager=manager, quarters=quarters, error=error,
        window=window_days(current_trace().settings),
        state_name=lambda state: str(STATE_NAMES.get(state, state)),
    ), status  # fmt: skip


def claim_list() -> tuple[str, int]:
    return _list()


def create() -> Response | tuple[str, int]:
    period = (request.form.get("period") or "")[:16]
    try:
        claim = _create(period, supplementary=request.form.get("supplementary") == "1")
    except TraceabilityError as exc:
        return _list(problem(exc), exc.status)
    return redirect(url_for("portal.claim", claim_id=claim.id))


def _create(period: str, *, supplementary: bool) -> Any:
    session, trace = get_session(), current_trace()
    claim, _created = create_claim(
        session=session, catalog=trace.catalog, principal=g.principal, period=period,
        ledger=open_reader(session, trace.ledger), settings=trace.settings, now=trace.now(),
        supplementary=supplementary, policy=claim_policy_of(trace.settings, trace.catalog),
        audit=audit_view(session, trace),
    )  # fmt: skip
    return claim


def recompute(claim_id: int) -> Response | tuple[str, int]:
    claim = draft_to_recompute(get_session(), g.principal, claim_id)
    try:
        _create(claim.period, supplementary=bool(claim.supplements))
    except TraceabilityError as exc:
        return _page(claim_id, problem(exc), exc.status)
    return redirect(url_for("portal.claim", claim_id=claim_id, done="recomputed"))


def submit(claim_id: int) -> Response | tuple[str, int]:
    trace = current_trace()
    try:
        submit_claim(session=get_session(), principal=g.principal, claim_id=claim_id,
                     now=trace.now(), settings=trace.settings)  # fmt: skip
    except TraceabilityError as exc:
        return _page(claim_id, problem(exc), exc.status)
    _anchor()
    return redirect(url_for("portal.claim", claim_id=claim_id, done="submitted"))


def review(claim_id: int) -> Response | tuple[str, int]:
    try:
        request_ = _review_request(request.form)
        review_claim(session=get_session(), principal=g.principal, claim_id=claim_id,
                     request=request_, now=current_trace().now())  # fmt: skip
    except TraceabilityError as exc:
        return _page(claim_id, problem(exc), exc.status)
    _anchor()
    return redirect(url_for("portal.claim", claim_id=claim_id, done="reviewed") + "#review")


def _review_request(form: Any) -> ReviewRequest:
    """One decision from the form's fields; what the API would refuse, a 422 naming it."""
    kind = form.get("decision", "")
    decision = {
        "decision": kind,
        "qr_id": form.get("qr_id") or None,
        "tier": form.get("tier") or None,
        # The form's reason list is the rejection's: an approval from the same row takes none.
        "reason": (form.get("reason") or None) if kind != "approve" else None,
        "note": (form.get("note") or "").strip() or None,
        "pending_only": form.get("pending_only") == "1",
    }
    try:
        return ReviewRequest(decisions=[decision])  # type: ignore[list-item]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = [str(p) for p in first["loc"] if p not in ("decisions", 0)]
        raise ValidationFailed(
            str(first["msg"]).removeprefix("Value error, "), field=loc[-1] if loc else "decision"
        ) from None


def _anchor() -> None:
    with contextlib.suppress(LedgerError):  # else it stays pending: the worker anchors it
        anchor_now(current_trace().engine, current_trace().ledger, from_request=True)


def claim_page(claim_id: int) -> tuple[str, int]:
    return _page(claim_id)


def _page(claim_id: int, error: str | None = None, status: int = 200) -> tuple[str, int]:
    session, trace = get_session(), current_trace()
    if error:
        session.rollback()  # what the refused request began is not read on
    claim = get_claim(session, g.principal, claim_id)
    paging = requested_paging(PER_PAGE)
    tier = (request.args.get("tier") or "")[:64] or None
    reason = (request.args.get("reason") or "")[:64] or None
    screen = claim_screen(session, open_reader(session, trace.ledger), trace.catalog, claim,
                          paging=paging, tier=tier, reason=reason)  # fmt: skip
    return render_template(
        "portal/claim.html", claim=claim, screen=screen, c=screen.public, error=error,
        paging=paging, tier=tier, reason=reason, done=request.args.get("done"),
        **{**claim_open_cases(claim.org, claim.code, claim_devices(session, claim)), **_words()},
    ), status  # fmt: skip


def claim_devices(session: Any, claim: Any) -> Callable[[set[str]], set[str]]:
    """Which of some QR IDs the claim holds (for the open cases that name a device)."""
    item = ClaimItem.__table__.c  # type: ignore[attr-defined]

    def held(qr_ids: set[str]) -> set[str]:
        query = select(item.qr_id).where(
            item.claim_id == claim.id, item.qr_id.in_(sorted(qr_ids)[:1000])
        )
        return {str(q) for q in session.execute(query).scalars()}

    return held


def approval(claim_id: int) -> str:
    """The 审核核定 table, print-friendly."""
    session, trace = get_session(), current_trace()
    claim = get_claim(session, g.principal, claim_id)
    screen = claim_screen(session, open_reader(session, trace.ledger), trace.catalog, claim,
                          paging=requested_paging(1))  # fmt: skip
    return render_template("portal/claim_approval.html", claim=claim, c=screen.public,
                           screen=screen, **_words())  # fmt: skip


def _words() -> dict[str, Any]:
    """What the claim pages name in the reader's language."""
    zh = current_language() == "zh-CN"
    reasons = load_review_reasons()
    return {
        "zh": zh,
        "category_name": category_name,
        "flag_name": lambda f: FLAGS[f][0 if zh else 1] if f in FLAGS else f,
        "excluded_name": lambda r: REASONS[r][0 if zh else 1] if r in REASONS else r,
        "review_reasons": reasons.reasons,
        "reject_reasons": reasons.for_decision("reject"),
        "state_name": lambda state: str(STATE_NAMES.get(state, state)),
        "event_name": lambda kind: str(EVENT_NAMES.get(kind, kind)),
        "is_auditor": g.principal.role == Role.auditor,
        "is_manager": g.principal.role == Role.manager,
    }


def problem(exc: TraceabilityError) -> str:
    """Why a claim request was refused, in the page's language (the domain says it in
    English): the known cases by what the error says they are, else the field named."""
    why = exc.data.get("why")
    known = {
        "quarter_open": _("That quarter is still open: a quarter can be claimed once it has "
                          "closed (Beijing time)."),
        "window_closed": _("The claim window of that quarter has closed."),
        "already_submitted": _("The claim of that quarter has been submitted: a further claim "
                               "is a supplement (补报); tick “Supplementary claim”."),
        "nothing_to_supplement": _("There is no submitted claim of that quarter to supplement."),
        "submitted": _("This claim was submitted: it is frozen."),
    }  # fmt: skip
    if why in known:
        return known[why]
    field = exc.field or ""
    if field.endswith("reason"):
        return _("Choose a reason code for this decision.")
    if field.endswith("note"):
        return _("This reason needs a note.")
    return _("The request was refused (%(field)s): %(message)s", field=field, message=exc.message)


def register(bp: Blueprint) -> None:
    readers = browser_login_required(roles=PORTAL_ROLES)
    managers = browser_login_required(roles=(Role.manager,))
    auditors = browser_login_required(roles=(Role.auditor,))
    bp.add_url_rule("/claims", "claims", readers(claim_list))
    bp.add_url_rule("/claims", "claim_create", managers(create), methods=["POST"])
    bp.add_url_rule("/claims/<int:claim_id>", "claim", readers(claim_page))
    bp.add_url_rule("/claims/<int:claim_id>/approval", "claim_approval", readers(approval))
    bp.add_url_rule("/claims/<int:claim_id>/recompute", "claim_recompute", managers(recompute),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/claims/<int:claim_id>/submit", "claim_submit", managers(submit),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/claims/<int:claim_id>/review", "claim_review", auditors(review),
                    methods=["POST"])  # fmt: skip
