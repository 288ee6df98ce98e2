"""The JSON API under /api/v1 (SPEC §4.1): every route, its messages and who may call it."""

from __future__ import annotations

import functools

from flask import Blueprint, Flask

from traceability.accounts.models import Role
from traceability.api import (
    anchors,
    audit,
    batches,
    claims,
    devices,
    epcis,
    errors,
    events,
    health,
    labels,
    ledger,
    licences,
    openapi,
    shipments,
)
from traceability.api.auth import READERS, RECORDERS
from traceability.api.routes import Route, register
from traceability.api.schemas import (
    AnchorsResult,
    CatalogPublic,
    CollectedDevice,
    DeviceVerificationResult,
    EventsResult,
    Health,
    LabelSheet,
    LabelsRequest,
    LedgerInfo,
    OpenApiDocument,
    ProofBundle,
)
from traceability.app import register_service
from traceability.audit.schemas import AnomalyList
from traceability.claims.review import ReviewRequest
from traceability.claims.schemas import ClaimPublic, ClaimRequest
from traceability.custody.messages import CollectRequest, EventsRequest
from traceability.reports.custody import CustodyList
from traceability.reports.incoming import IncomingShipments
from traceability.reports.schemas import BatchReport, DeviceDetail

# Claims: a plant's managers prepare them, the region's auditors (and admins) read them,
# auditors review them (SPEC §2.6).
_CLAIM_READERS = (Role.manager, Role.auditor, Role.admin)
_PAGING = {"page": "page of devices and exclusions (from 1)", "per_page": "at most 1000"}
CLAIM_ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/claims", "claims_create", claims.create,
        summary="Create (or recompute the draft of) the caller's plant's claim for a quarter",
        request=ClaimRequest, response=ClaimPublic, status=201, also=(200,),
        roles=(Role.manager,),
    ),
    Route(
        "GET", "/claims/<int:claim_id>", "claim_show", claims.show,
        summary="Claim: state, lines, devices and exclusions with reasons (paged), anchor",
        response=ClaimPublic, roles=_CLAIM_READERS, query=_PAGING,
    ),
    Route(
        "GET", "/claims/<int:claim_id>/export.xlsx", "claim_export_xlsx", claims.export_xlsx,
        summary="XLSX: summary (拆解处理情况表), device detail, exclusions",
        response=None, media=claims.XLSX, roles=_CLAIM_READERS,
    ),
    Route(
        "GET", "/claims/<int:claim_id>/export.csv", "claim_export_csv", claims.export_csv,
        summary="CSV device detail (UTF-8 with BOM)",
        response=None, media="text/csv", roles=_CLAIM_READERS,
    ),
    Route(
        "GET", "/claims/<int:claim_id>/export.pdf", "claim_export_pdf", claims.export_pdf,
        summary="PDF summary with a QR of the claim digest",
        response=None, media="application/pdf", roles=_CLAIM_READERS,
    ),
    Route(
        "POST", "/claims/<int:claim_id>/submit", "claim_submit", claims.submit,
        summary="Freeze the draft and anchor its digest",
        response=ClaimPublic, roles=(Role.manager,),
    ),
    Route(
        "POST", "/claims/<int:claim_id>/review", "claim_review", claims.review,
        summary="Auditor: approve, reject or reinstate lines or devices, with reasons",
        request=ReviewRequest, response=ClaimPublic, roles=(Role.auditor,),
    ),
)  # fmt: skip

ROUTES: tuple[Route, ...] = (
    Route(
        "GET", "/health", "health", health.health,
        summary="Service, database and ledger status",
        response=Health, also=(503,),
    ),
    Route(
        "GET", "/ledger", "ledger", ledger.ledger,
        summary="Trust anchors, accepted submitters and the last completeness check",
        response=LedgerInfo,
    ),
    Route(
        "GET", "/ledger/batches/<root>", "ledger_batch", ledger.batch,
        summary="One anchored batch as this deployment holds it: its leaves and the records at "
        "them (the regulator's instance accounts for every leaf its submitter anchored)",
        response=ledger.AnchoredBatchPublic, roles=(Role.manager, Role.auditor, Role.admin),
    ),
    Route(
        "GET", "/catalog", "catalog", health.catalog,
        summary="Categories, attributes, fractions, rules, rate schedules, factor sets",
        response=CatalogPublic,
    ),
    Route(
        "GET", "/openapi.json", "openapi", openapi.openapi,
        summary="This document", response=OpenApiDocument,
    ),
    Route(
        "POST", "/devices", "devices_collect", devices.collect,
        summary="Collect a device (idempotent with a client id)",
        request=CollectRequest, response=CollectedDevice, status=201, also=(200,),
        roles=RECORDERS, reads_body=True,
    ),
    Route(
        "POST", "/events", "events_post", events.post_events,
        summary="Record up to 1000 events, each all-or-nothing",
        request=EventsRequest, response=EventsResult, roles=RECORDERS, reads_body=True,
    ),
    Route(
        "GET", "/devices/<qr_id>", "device_show", devices.show,
        summary="Device with its events, digests and anchors",
        response=DeviceDetail, roles=READERS,
    ),
    Route(
        "GET", "/devices/<qr_id>/verify", "device_verify", devices.verify,
        summary="Verification status of every event of the device",
        response=DeviceVerificationResult, roles=READERS,
    ),
    Route(
        "GET", "/devices/<qr_id>/proof", "device_proof", devices.proof,
        summary="Proof bundle for python -m ledger.verify",
        response=ProofBundle, roles=READERS,
    ),
    Route(
        "GET", "/devices/<qr_id>/label.png", "device_label_png", devices.label_as_png,
        summary="QR label (PNG)", response=None, media="image/png", roles=READERS,
    ),
    Route(
        "GET", "/devices/<qr_id>/label.svg", "device_label_svg", devices.label_as_svg,
        summary="QR label (SVG)", response=None, media="image/svg+xml", roles=READERS,
    ),
    Route(
        "POST", "/labels", "labels_create", labels.create,
        summary="Pre-mint a sheet of label IDs",
        request=LabelsRequest, response=LabelSheet, status=201, roles=RECORDERS,
    ),
    Route(
        "GET", "/labels/<sheet>.pdf", "labels_pdf", labels.pdf,
        summary="Label sheet PDF", response=None, media="application/pdf", roles=RECORDERS,
        query={"layout": "a4 (default) or thermal"},
    ),
    Route(
        "GET", "/shipments/incoming", "shipments_incoming", shipments.incoming,
        summary="Devices in transit to the caller's plant, by shipment (sender and manifest, "
        "or the Beijing day of shipping without one): what the receive screen checks against",
        response=IncomingShipments, roles=RECORDERS,
    ),
    Route(
        "GET", "/custody", "custody", shipments.custody,
        summary="The caller's organisation's devices not yet dismantled (held, or on their way "
        "to or from it) with state, category, attributes and weight: what a handheld keeps to "
        "check a step offline",
        response=CustodyList, roles=RECORDERS,
    ),
    Route(
        "GET", "/batches/<code>", "batch_show", batches.show,
        summary="Batch with devices, mass and savings", response=BatchReport, roles=READERS,
        query={"org": "the plant (default: the caller's)", "factors": "a factor set id"},
    ),
    # Anchoring is the background worker's job; on demand it is for the people
    # who answer for the ledger, not every handheld (it holds a web worker).
    Route(
        "POST", "/anchors", "anchors_post", anchors.anchor,
        summary="Anchor all pending events now",
        response=AnchorsResult, roles=(Role.manager, Role.admin),
    ),
    *CLAIM_ROUTES,
    Route(
        "GET", "/orgs/<code>/licences", "licences_show", licences.show,
        summary="An organisation's licences (处理资格证书, 危险废物经营许可证) from the register",
        response=licences.LicenceList, roles=READERS,
        query={"on": "a date (YYYY-MM-DD, Beijing): the terms in force and whether valid then"},
    ),
    Route(
        "POST", "/orgs/<code>/licences", "licences_issue", licences.issue,
        summary="Regulator admin: register a licence (a licence_issued register event)",
        request=licences.LicenceIssue, response=licences.LicencePublic, status=201,
        roles=(Role.admin,),
    ),
    Route(
        "POST", "/orgs/<code>/licences/amendments", "licences_amend", licences.amend,
        summary="Regulator admin: amend a licence from a day on (a licence_amended event)",
        request=licences.LicenceAmendment, response=licences.LicencePublic, roles=(Role.admin,),
    ),
    Route(
        "GET", "/audit/anomalies", "audit_anomalies", audit.anomalies,
        summary="Audit findings (SPEC §2.7) of the records the caller may read, worst first",
        response=AnomalyList, roles=(Role.manager, Role.auditor, Role.admin), also=(503,),
        query={
            "plant": "an organisation code",
            "period": "a quarter like 2026Q3 (China time): the current one or a recent closed "
            "one; none: everything so far. 503 with Retry-After while being computed",
            "rule": "a rule id", "severity": "high, medium or low",
            "page": "from 1", "per_page": "1-500 (default 50)",
        },
    ),
    Route(
        "GET", "/epcis/events", "epcis_events", epcis.events,
        summary="EPCIS 2.0 query: the caller's events as an EPCISQueryDocument (JSON-LD), "
        "each identified by its GS1 event hash, their proofs in trace:proofs; the next page "
        "in the Link header",
        response=None, media="application/ld+json", roles=(Role.manager, Role.auditor, Role.admin),
        query=epcis.PARAMETERS,
    ),
    Route(
        "POST", "/epcis/capture", "epcis_capture", epcis.capture_post,
        summary="EPCIS 2.0 capture: another system's EPCIS document recorded under the caller's "
        "organisation, CBV steps mapped to this system's events, idempotent by eventID; "
        "GS1-Capture-Error-Behaviour: rollback (default, all or none) or proceed. 202 with "
        "the capture job (Location)",
        request=epcis.CaptureRequest, response=epcis.CaptureJobPublic, status=202,
        roles=RECORDERS, reads_body=True,
    ),
    Route(
        "GET", "/epcis/capture/<capture_id>", "epcis_capture_show", epcis.capture_show,
        summary="A capture job of the caller's organisation: each event's outcome",
        response=epcis.CaptureJobPublic, roles=RECORDERS,
    ),
)  # fmt: skip


@functools.cache
def _openapi_document() -> OpenApiDocument:
    """The document of ROUTES, which never change: built once per process, not once per app."""
    return OpenApiDocument.model_validate(openapi.document(ROUTES))


def init_app(app: Flask) -> None:
    # A blueprint per app: routes cannot be added to one already registered
    # with an earlier app (every test builds its own app).
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    register(bp, ROUTES)
    register_service(app, _openapi_document())
    errors.register(app, bp)
    app.register_blueprint(bp)
