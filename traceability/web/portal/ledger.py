"""The ledger page: trust anchors, the anchors on chain enumerated, the completeness checks."""

from __future__ import annotations

from flask import Blueprint, render_template

from traceability.anchoring.anchor_lists import AnchorLists
from traceability.anchoring.service import reader_ledger
from traceability.app import current_service, current_trace, get_session
from traceability.verification.anchor_listing import anchor_listing, recent_checks
from traceability.verification.status import ledger_status
from traceability.web.auth import browser_login_required
from traceability.web.portal.scope import PORTAL_ROLES, requested_paging

PER_PAGE = 50


def ledger_page() -> str:
    """The trust anchors, the anchors on chain and the completeness checks (SPEC §3)."""
    session = get_session()
    status = ledger_status(session, current_trace().ledger)
    page = requested_paging(PER_PAGE).page
    listing = anchor_listing(
        session,
        lambda: reader_ledger(session, current_trace().ledger),
        current_service(AnchorLists),  # read once per chain head (issue 15, finding 10)
    )
    anchors = listing.anchors
    pages = max(1, -(-len(anchors) // PER_PAGE))
    return render_template(
        "portal/ledger.html",
        status=status,
        anchors=anchors[(page - 1) * PER_PAGE : page * PER_PAGE],
        total=len(anchors),
        page=min(page, pages),
        pages=pages,
        audits=listing.audits,
        checks=recent_checks(session),
        problem=listing.problem,
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/ledger", "ledger", browser_login_required(roles=PORTAL_ROLES)(ledger_page))
