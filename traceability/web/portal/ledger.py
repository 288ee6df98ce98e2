"""The ledger page: trust anchors, the anchors on chain enumerated, the completeness checks."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from traceability.anchoring.anchor_lists import anchor_lists
from traceability.anchoring.service import reader_ledger
from traceability.db import get_session
from traceability.verification.anchor_listing import anchor_listing, recent_checks
from traceability.verification.status import ledger_status
from traceability.web.auth import browser_login_required
from traceability.web.portal.scope import PORTAL_ROLES, page_number

PER_PAGE = 50


def ledger_page() -> str:
    """The trust anchors, the anchors on chain and the completeness checks (SPEC §3)."""
    session = get_session()
    status = ledger_status(session)
    page = page_number()
    listing = anchor_listing(
        session,
        lambda: reader_ledger(session),
        anchor_lists(current_app),  # read once per chain head (issue 15, finding 10)
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
