"""What the reports return: one declaration per message (the API document is built from these).

Models are closed (``extra="forbid"``): a key a report adds without declaring
it fails loudly instead of leaking into a response the document does not
describe. Weights, masses and savings stay ``Decimal`` in the models; the
app's JSON provider (``traceability.app.TraceJSONProvider``) writes them as JSON numbers,
and the schema says ``number``. Timestamps are the one ISO text of
``traceability.db.iso``.

A field declared with ``omitted()`` is left out of the body when it is None
(as ``problem`` is when there is none); every other field is always present,
null or not. The API dumps bodies with ``exclude_unset`` (``api.routes``), so
a model validated from a service's dict keeps exactly the keys that dict had.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from traceability import limits
from traceability.devices.models import DeviceState


def _is_none(value: Any) -> bool:
    return value is None


def omitted() -> Any:
    """A field left out of the body when it is None."""
    return Field(default=None, exclude_if=_is_none)


def text(max_length: int) -> Any:
    """Text the API accepted under ``max_length`` (``traceability.limits``).

    Stated in the schema, not enforced on the way out: a report on a log
    someone edited in the database must still be given, to say so.
    """
    return Field(json_schema_extra={"maxLength": max_length})


#: Exact decimals (kg, tonnes): ``Decimal`` in Python, a JSON number on the wire.
Number = Annotated[Decimal, WithJsonSchema({"type": "number"})]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
QrId = Annotated[str, text(limits.QR_ID)]
EventId = Annotated[str, text(limits.EVENT_ID)]
OrgCode = Annotated[str, text(limits.ORG_CODE)]
Category = Annotated[str, text(limits.CATEGORY)]
Code = Annotated[str, text(limits.CODE)]
#: Hex SHA-256 of an event's canonical content.
Digest = str

#: A device's verification as reports give it (``verification.logs``).
DeviceVerificationStatus = Literal["verified", "late", "pending", "failed", "unknown"]
#: One event's verification status (the constants of ``verification.services``).
EventStatus = Literal[
    "verified", "late", "pending", "tampered", "broken_chain", "missing_on_chain", "untrusted"
]


class Out(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="forbid")


# -- devices ----------------------------------------------------------------


class DevicePublic(Out):
    """What anyone may see of a device (the public page, and the head of the detail)."""

    qr_id: QrId
    display_id: str
    category: Category | None
    state: DeviceState | None
    collected_at: Timestamp | None
    dismantled_at: Timestamp | None
    event_count: int
    verified: bool
    verification: DeviceVerificationStatus


class OutputPublic(Out):
    fraction: Annotated[str, text(limits.FRACTION)]
    weight_kg: Number


class CorrectionPublic(Out):
    id: EventId
    corrects: EventId
    reason: Annotated[str, text(limits.REASON)] | None
    fields: dict[str, Any]
    flag: Any = omitted()


class FactsPublic(Out):
    """The facts staff and auditors may read (weights in kg, as the API takes them)."""

    attributes: dict[str, Any]
    brand: Annotated[str, text(limits.NAMEPLATE)] | None
    model: Annotated[str, text(limits.NAMEPLATE)] | None
    serial: Annotated[str, text(limits.NAMEPLATE)] | None
    source: Annotated[str, text(limits.SOURCE)] | None
    collected_weight_kg: Number | None
    received_weight_kg: Number | None
    custodian: OrgCode | None
    destination: OrgCode | None
    collected_by: OrgCode | None
    received_by: OrgCode | None
    received_at: Timestamp | None
    dismantled_by: OrgCode | None
    batch: Code | None
    line: Code | None
    storage_area: Annotated[str, text(limits.AREA)] | None
    outputs: list[OutputPublic]
    corrections: list[CorrectionPublic]
    anomalies: list[str]
    head_digest: Digest | None


class EventVerification(Out):
    id: EventId
    status: EventStatus


class AnchorInfo(Out):
    """Where an event was anchored: its batch's root, its leaf, the transaction."""

    root: str
    leaf_index: int
    size: int
    state: str
    tx_hash: str | None
    block_number: int | None


class EventPublic(Out):
    id: EventId
    seq: int | None
    type: str
    device: QrId | None
    lot: Annotated[str, text(limits.LOT_CODE)] | None
    org: OrgCode
    actor: str
    # None only for a malformed row (``malformed``) whose time cannot be read
    occurred_at: Timestamp | None
    recorded_at: Timestamp | None
    payload: dict[str, Any]
    prev: Digest | None
    digest: Digest
    anchor: AnchorInfo | None
    #: What is wrong with a row of a shape the log does not allow (it verifies as tampered).
    malformed: str | None = omitted()


class DeviceDetail(FactsPublic, DevicePublic):
    """GET /devices/{qr_id}: the device from its log, whether that verifies, the row's drift."""

    unverified_events: list[EventVerification]
    verification_problem: str | None = omitted()
    projection_mismatch: list[str]
    events: list[EventPublic]


# -- batches ----------------------------------------------------------------


class FactorSetRef(Out):
    id: str
    source: str
    sha256: str


class SavingsPublic(Out):
    """Treated mass in tonnes and what it saved, naming the factor set and its hash."""

    mass_t: Number
    co2_t: Number
    so2_t: Number
    standard_coal_t: Number
    wastewater_t: Number
    solid_waste_t: Number
    factor_set: FactorSetRef


class UnverifiedDevice(Out):
    qr_id: QrId
    verification: DeviceVerificationStatus
    problem: str | None = omitted()


class MismatchedDevice(Out):
    qr_id: QrId
    fields: list[str]
    verification: DeviceVerificationStatus
    problem: str | None = omitted()


class BatchDevice(Out):
    qr_id: QrId
    category: Category | None
    weight_kg: Number | None
    dismantled_at: Timestamp | None
    verification: DeviceVerificationStatus
    problem: str | None = omitted()
    verified: bool


class CorrectionAfterClose(Out):
    """A correction of a device recorded after the close of the quarter it was dismantled
    in: not in the figures, listed beside them."""

    qr_id: QrId
    event: EventId = Field(description="the correction's id")
    corrects: EventId = Field(description="the event it corrects")
    fields: list[str] = Field(description="the fields it changes")
    reason: str | None
    occurred_at: Timestamp | None


class BatchClosingPublic(Out):
    """A batch's closing (batch dismantling, SPEC §2.4): its outputs weighed per fraction."""

    event: EventId
    closed_at: Timestamp
    outputs: list[OutputPublic]
    outputs_kg: Number = Field(description="the weighed outputs' total")
    verification: str = Field(description="the closing event's status: verified, pending, …")


class BatchReport(Out):
    """GET /batches/{code}: devices, treated mass and savings, from the verified log.

    One figure on every page and export: a device dismantled in a quarter that has
    closed counts as recorded by that close; corrections recorded after it are
    listed in ``corrections_after_close``, not folded into the figures.
    """

    org: OrgCode
    code: Code
    device_count: int
    mass_kg: Number
    as_recorded_by: Timestamp | None = Field(
        description="the close of the quarter its devices were dismantled in, when it has "
        "closed: the figures are the log as recorded by then (null: the quarter is open, the "
        "figures are the log so far)"
    )
    corrections_after_close: list[CorrectionAfterClose]
    mass_change_after_close_kg: Number = Field(
        description="what the corrections after the close would change the mass by"
    )
    savings: SavingsPublic
    verified: bool
    unverified: list[UnverifiedDevice]
    projection_mismatch: list[MismatchedDevice]
    devices: list[BatchDevice]
    closing: BatchClosingPublic | None = Field(
        None,
        description="the batch's closing, when its devices were dismantled by scan and its "
        "outputs weighed at close (null: not closed, or dismantled one by one)",
    )
