"""Subsidy claims: POST /claims, GET /claims/{id}, exports, submit, review."""

from __future__ import annotations

import contextlib

from flask import Response, url_for

from ledger.errors import LedgerError
from traceability.anchoring.service import anchor_now
from traceability.api.auth import current_principal
from traceability.api.paging import requested_paging
from traceability.app import current_trace, get_session
from traceability.audit.claim_view import audit_view
from traceability.catalog.models import Catalog
from traceability.claims.events import claim_events
from traceability.claims.exports.csv import claim_csv
from traceability.claims.exports.pdf import claim_pdf
from traceability.claims.exports.summary import summarise
from traceability.claims.exports.xlsx import claim_xlsx
from traceability.claims.models import Claim
from traceability.claims.policy import claim_policy_of
from traceability.claims.report import MAX_PER_PAGE, PER_PAGE, claim_public
from traceability.claims.review import ReviewRequest, review_claim
from traceability.claims.schemas import ClaimPublic, ClaimRequest
from traceability.claims.services import create_claim, get_claim, submit_claim
from traceability.reports.devices import open_reader

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _catalog() -> Catalog:
    catalog: Catalog = current_trace().catalog
    return catalog


def _public(claim: Claim) -> ClaimPublic:
    session = get_session()
    ledger = open_reader(session, current_trace().ledger)
    paging = requested_paging(per_page=PER_PAGE, max_per_page=MAX_PER_PAGE)
    exports = {
        kind: url_for(f"api.claim_export_{kind}", claim_id=claim.id, _external=True)
        for kind in ("xlsx", "csv", "pdf")
    }
    return claim_public(
        session,
        ledger,
        _catalog(),
        claim,
        page=paging.page,
        per_page=paging.per_page,
        exports=exports,
    )


def create(body: ClaimRequest) -> tuple[ClaimPublic, int]:
    session = get_session()
    trace = current_trace()
    ledger = open_reader(session, trace.ledger)
    claim, created = create_claim(
        session=session,
        catalog=_catalog(),
        principal=current_principal(),
        period=body.period,
        ledger=ledger,
        settings=trace.settings,
        now=trace.now(),
        supplementary=body.supplementary,
        mode=body.mode,
        policy=claim_policy_of(trace.settings, trace.catalog),
        audit=audit_view(session, trace),
    )
    return _public(claim), 201 if created else 200


def show(claim_id: int) -> ClaimPublic:
    return _public(get_claim(get_session(), current_principal(), claim_id))


def submit(claim_id: int) -> ClaimPublic:
    trace = current_trace()
    claim = submit_claim(
        session=get_session(),
        principal=current_principal(),
        claim_id=claim_id,
        now=trace.now(),
        settings=trace.settings,
    )
    with contextlib.suppress(LedgerError):  # else it stays pending: the worker anchors it
        anchor_now(current_trace().engine, current_trace().ledger, from_request=True)
    return _public(claim)


def review(claim_id: int, body: ReviewRequest) -> ClaimPublic:
    claim = review_claim(
        session=get_session(), principal=current_principal(), claim_id=claim_id, request=body
    )
    with contextlib.suppress(LedgerError):
        anchor_now(current_trace().engine, current_trace().ledger, from_request=True)
    return _public(claim)


def _download(body: bytes | object, mimetype: str, claim: Claim, ext: str) -> Response:
    response = Response(body, mimetype=mimetype)  # type: ignore[arg-type]
    response.headers["Content-Disposition"] = f'attachment; filename="{claim.code}.{ext}"'
    return response


def export_xlsx(claim_id: int) -> Response:
    session = get_session()
    claim = get_claim(session, current_principal(), claim_id)
    ledger = open_reader(session, current_trace().ledger)
    summary = summarise(session, _catalog(), claim, claim_events(session, ledger, claim), ledger)
    return _download(claim_xlsx(session, _catalog(), summary), XLSX, claim, "xlsx")


def export_csv(claim_id: int) -> Response:
    session = get_session()
    claim = get_claim(session, current_principal(), claim_id)
    ledger = open_reader(session, current_trace().ledger)
    summary = summarise(session, _catalog(), claim, claim_events(session, ledger, claim), ledger)
    text = claim_csv(
        session, _catalog(), claim, summary.replay.outcomes, summary.changed, summary.proof
    )
    return _download(text, "text/csv; charset=utf-8", claim, "csv")


def export_pdf(claim_id: int) -> Response:
    session = get_session()
    claim = get_claim(session, current_principal(), claim_id)
    ledger = open_reader(session, current_trace().ledger)
    summary = summarise(session, _catalog(), claim, claim_events(session, ledger, claim), ledger)
    settings = current_trace().settings
    body = claim_pdf(summary, font_override=settings.cjk_font, public_url=settings.public_url)
    return _download(body, "application/pdf", claim, "pdf")
