"""The ledger page: trust anchors, the anchors on chain enumerated, the completeness checks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from sqlmodel import col, select

from ledger.errors import LedgerError
from traceability.anchoring.anchor_lists import AnchorLists
from traceability.anchoring.models import AnchorBatch
from traceability.anchoring.service import reader_ledger
from traceability.app import current_service, current_trace, get_session
from traceability.verification.models import TrustCheck
from traceability.verification.reconciliation import audit_anchors
from traceability.verification.status import ledger_status
from traceability.web.auth import browser_login_required
from traceability.web.portal.scope import PORTAL_ROLES, requested_paging

PER_PAGE = 50


def ledger_page() -> str:
    session = get_session()
    status = ledger_status(session, current_trace().ledger)
    page = requested_paging(PER_PAGE).page
    anchors: list[dict[str, Any]] = []
    audits = []
    problem = None
    try:
        reader = reader_ledger(session, current_trace().ledger)
        if reader.chain is not None and reader.trust is not None:
            lists = current_service(AnchorLists)  # read once per chain head (issue 15, finding 10)
            for submitter in reader.trust.submitters:
                records = lists.anchors_of(reader.chain, submitter)
                audits.append(audit_anchors(session, reader.chain, submitter, records))
                known = {
                    b.root: b
                    for b in session.exec(
                        select(AnchorBatch).where(
                            col(AnchorBatch.root).in_([r.root.removeprefix("0x") for r in records])
                        )
                    )
                }
                for record in records:
                    batch = known.get(record.root.removeprefix("0x"))
                    anchors.append({"submitter": submitter, "record": record, "batch": batch})
    except LedgerError as exc:
        problem = str(exc)
    anchors.sort(key=lambda a: -a["record"].block_number)
    pages = max(1, -(-len(anchors) // PER_PAGE))
    checks = session.exec(
        select(TrustCheck).order_by(col(TrustCheck.checked_at).desc()).limit(10)
    ).all()
    return render_template(
        "portal/ledger.html",
        status=status,
        anchors=anchors[(page - 1) * PER_PAGE : page * PER_PAGE],
        total=len(anchors),
        page=min(page, pages),
        pages=pages,
        audits=audits,
        checks=checks,
        problem=problem,
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/ledger", "ledger", browser_login_required(roles=PORTAL_ROLES)(ledger_page))
