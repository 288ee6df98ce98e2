"""Messages only the API has: errors, health, the ledger, the catalogue, labels, anchors,
verification and proof bundles (the reports' are in ``traceability.reports.schemas``,
the handhelds' in ``traceability.custody.messages``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from traceability.catalog.models import DismantlingRules, Fraction, UnitExclusion
from traceability.custody.fields import problem
from traceability.custody.messages import ErrorBody, ItemResult, Message
from traceability.labels.services import MAX_SHEET
from traceability.reports.schemas import (
    AnchorInfo,
    EventVerification,
    Out,
    QrId,
    Timestamp,
    omitted,
)

# -- errors -----------------------------------------------------------------


class ErrorResponse(Out):
    """Every error the API returns: ``{"error": {"code", "message", "field"?}}``."""

    error: ErrorBody


# -- health and the ledger --------------------------------------------------


class CompletenessCheck(Out):
    """The latest check that every anchor on chain has its events in the database."""

    checked_at: Timestamp
    ok: bool
    registry: str | None
    submitters: list[str]
    anchors_on_chain: int
    missing_batches: int
    missing_events: int
    detail: str | None


class TrustAnchorsPublic(Out):
    """What a verifier trusts (``ledger.verify.TrustAnchors``)."""

    format: Literal["weee-trace-trust/1"]
    chain_id: int | None
    genesis_hash: str | None
    registry: str
    owner: str | None
    submitters: list[str]


class LedgerStatus(Out):
    """The ledger as /health reports it; which fields are present depends on ``status``."""

    status: Literal["off", "ok", "chain_reset", "untrusted", "unavailable", "unknown"]
    problem: str | None = None
    error: str | None = None
    chain_id: int | None = None
    contract: str | None = None
    trust: TrustAnchorsPublic | None = None
    rpc_url: str | None = Field(None, description="without credentials, keys or query")
    block_number: int | None = None
    pending: int | None = None
    last_completeness_check: CompletenessCheck | None = None


class Health(Out):
    """GET /health: 200 when the database answers, 503 (``degraded``) when it does not."""

    status: Literal["ok", "degraded"]
    db: str
    ledger: LedgerStatus


class LedgerInfo(Out):
    """GET /ledger: the trust anchors and this deployment's submitter, public."""

    mode: str
    trust: TrustAnchorsPublic | None
    submitter: str | None
    problem: str | None = omitted()
    last_completeness_check: CompletenessCheck | None


# -- the catalogue ----------------------------------------------------------


class AttributePublic(Out):
    """An attribute of a category; only what differs from the defaults is listed."""

    kind: Literal["enum", "int", "decimal", "bool"]
    values: list[str] = Field(default_factory=list)
    #: Values old records hold, refused on new input (a TV's "flat").
    legacy: list[str] = Field(default_factory=list)
    min: str | None = Field(None, description="a decimal, as text")
    max: str | None = Field(None, description="a decimal, as text")
    places: int = 0
    required: bool = False
    unit: str | None = None
    #: When it applies (a condition on the other attributes): asked and required only then.
    applies: dict[str, Any] = Field(default_factory=dict)


class CategoryPublic(Out):
    code: str
    zh: str
    en: str
    subsidised: bool
    max_weight_kg: int
    attributes: dict[str, AttributePublic]
    #: The catalogue's own limits (e.g. refrigerator volume_l ≤ 800): outside them, out of scope.
    scope: dict[str, Any]
    #: Devices that are not the catalogue's unit, never paid (a desktop host alone).
    not_the_unit: list[UnitExclusion]


class FactorSetPublic(Out):
    """Savings per tonne treated (decimals as text), cited by its content hash."""

    id: str
    source: str
    default: bool
    co2_t: str
    so2_t: str
    wastewater_t: str
    solid_waste_t: str
    standard_coal_t: str
    sha256: str


class RateTierPublic(Out):
    id: str
    zh: str
    category: str
    #: A condition, or a list of them any of which matches.
    when: dict[str, Any] | list[dict[str, Any]]
    rates: list[int | Literal["not_eligible", "set_separately"]]


class RateSchedulePublic(Out):
    id: str
    source: str
    effective_dates: list[str]
    #: The last dismantling date (Beijing) it covers; None: open-ended.
    until: str | None
    #: GB/T 2260 region prefixes it is limited to; empty: everywhere.
    regions: list[str]
    #: Shown on every claim that applies it (e.g. that it is an example).
    label: str | None
    default: bool
    tiers: list[RateTierPublic]
    sha256: str


class ShareBandPublic(Out):
    """The share of a unit's intake weight some fractions make up together (decimals as
    text, 0.35 = 35 %), over a plant's units in a period: what the audit holds it to."""

    fractions: list[str]
    min: str | None
    max: str | None
    source: str | None


class BandPublic(Out):
    """A unit's weight, its key fractions' least weights (kg, decimals as text) and the
    shares of its weight its fractions make up."""

    category: str
    match: dict[str, Any]
    unit_kg: dict[str, str | None]
    min_kg: dict[str, str]
    shares: list[ShareBandPublic]
    note: str | None


class BandsPublic(Out):
    version: str
    source: str
    label: str
    bands: list[BandPublic]


class CatalogPublic(Out):
    """GET /catalog: categories, attributes, fractions, rules, factor sets, rate schedules."""

    version: str
    source: str
    #: The day the catalogue's limits (``scope``) hold from.
    scope_from: str
    categories: list[CategoryPublic]
    fractions: list[Fraction]
    dismantling_rules: DismantlingRules
    #: Unit weights and least key-fraction weights (practice defaults).
    bands: BandsPublic
    factor_sets: list[FactorSetPublic]
    rate_schedules: list[RateSchedulePublic]


# -- devices and events -----------------------------------------------------


class CollectedDevice(Out):
    """POST /devices: 201 for a new device, 200 when the client id was recorded before."""

    id: str | None
    qr_id: QrId
    display_id: str
    state: str | None
    digest: str | None
    status: Literal["created", "duplicate"]
    label_url: str
    url: str


class EventsResult(Out):
    """POST /events: one result per item, in the order sent."""

    results: list[ItemResult]


class DeviceVerificationResult(Out):
    """GET /devices/{qr_id}/verify."""

    qr_id: QrId
    verified: bool
    events: list[EventVerification]
    problem: str | None = omitted()
    ledger_problem: str | None = omitted()


class BundleAnchor(AnchorInfo):
    proof: list[str] = Field(description="sibling hashes, leaf to root")


class BundleEvent(Out):
    content: dict[str, Any] = Field(description="what the digest is the hash of")
    digest: str
    anchor: BundleAnchor | None


class BundleChain(Out):
    """Informative only: a verifier takes what it trusts from the trust file."""

    chain_id: int | None
    genesis_hash: str | None
    contract: str | None


class BundleHistory(Out):
    """What the plant says the whole history is: the verifier fails a bundle holding less."""

    events: int
    head: str | None


class ProofBundle(Out):
    """GET /devices/{qr_id}/proof: checked by ``python -m ledger.verify``."""

    format: Literal["weee-trace-proof/1"]
    subject: dict[str, str]
    chain: BundleChain
    history: BundleHistory
    events: list[BundleEvent]


# -- labels and anchors -----------------------------------------------------


def _sheet_size(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHEET:
        problem(f"must be a whole number from 1 to {MAX_SHEET}")
    return value


class LabelsRequest(Message):
    """POST /labels: pre-mint a sheet of device IDs."""

    count: Annotated[int, Field(ge=1, le=MAX_SHEET), BeforeValidator(_sheet_size)]


class LabelSheet(Out):
    sheet: Annotated[str, Field(max_length=16)]
    count: int
    pdf_url: str
    #: The IDs minted, canonical: what a handheld keeps as its label roll (issue 19, item 5).
    ids: list[QrId]


class AnchorsResult(Out):
    """POST /anchors: what this pass anchored; the last batch it sent or confirmed."""

    anchored: int
    batches: int
    root: str | None
    tx_hash: str | None
    block_number: int | None


class OpenApiDocument(Out):
    """GET /openapi.json: this document (OpenAPI 3.1)."""

    openapi: str
    info: dict[str, Any]
    security: list[dict[str, list[str]]]
    components: dict[str, Any]
    paths: dict[str, Any]
