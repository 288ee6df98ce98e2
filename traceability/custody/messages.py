"""What a handheld sends and gets back: one declaration per message.

The field types (custody/fields.py) carry the limits of traceability/limits.py
and today's wording; ``problem_of`` turns a pydantic ``ValidationError`` into
the API's error shape: ``{"code", "message", "field"}`` with the full path
(``outputs[0].weight_kg``, ``attributes.screen_in``, ``fields.weight_kg``).

What the declaration cannot decide (a category's maximum weight, whether an
organisation exists, whether a device may take this step) is checked by the
handlers, against the catalogue and the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from traceability.custody.fields import (
    Area,
    Category,
    Code,
    EventId,
    Fraction,
    HwCode,
    JsonObject,
    Kilograms,
    LotCode,
    ManifestNumber,
    Method,
    Nameplate,
    OccurredAt,
    OptionalCode,
    OrgCode,
    QrId,
    Reason,
    Source,
    Transporter,
    problem,
)
from traceability.custody.models import EventType
from traceability.errors import TraceabilityError, ValidationFailed
from traceability.lots.manifests import MAX_MANIFESTS

MAX_OUTPUTS = 50


class Message(BaseModel):
    """A submitted message: unknown fields are ignored (but their strings were checked)."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    #: What to add to "X is required" for a field people tend to forget.
    HINTS: ClassVar[dict[str, str]] = {}


class Recorder(Message):
    """Who recorded a queued item (a handheld sends it with each): checked by
    custody/parsing.py before this declaration is read; never part of the event."""

    username: str
    user_id: int | None = None


#: Optional for API token clients; the handheld always sends it (issue 15 finding 7).
RecordedBy = Annotated[
    Recorder | None,
    Field(description="the recorder; an item naming anyone but the caller is refused"),
]


class _Event(Message):
    id: EventId
    occurred_at: OccurredAt = None
    recorded_by: RecordedBy = None


# -- device events --------------------------------------------------------------


class _Collection(Message):
    """A device as the collector describes it (``collected`` and POST /devices)."""

    qr_id: QrId | None = Field(None, description="a pre-minted label; omitted: one is minted")
    category: Category
    attributes: JsonObject = Field(default_factory=dict)
    weight_kg: Kilograms | None = None
    brand: Nameplate = None
    model: Nameplate = None
    serial: Nameplate = None
    source: Source = None
    occurred_at: OccurredAt = None
    recorded_by: RecordedBy = None


class CollectRequest(_Collection):
    """POST /devices: a ``collected`` event whose client id is optional."""

    id: EventId | None = Field(None, description="makes a retried request idempotent")


class Collected(_Collection):
    type: Literal[EventType.collected]
    id: EventId


class Shipped(_Event):
    type: Literal[EventType.shipped]
    qr_id: QrId
    to: OrgCode
    manifest_no: OptionalCode = None


class Received(_Event):
    HINTS: ClassVar[dict[str, str]] = {"weight_kg": "weigh the device at intake"}

    type: Literal[EventType.received]
    qr_id: QrId
    weight_kg: Kilograms
    #: Why a device outside the shipment being received was taken in (an "over").
    note: Reason | None = None


class Stored(_Event):
    type: Literal[EventType.stored]
    qr_id: QrId
    area: Area


class Output(Message):
    fraction: Fraction
    weight_kg: Kilograms


def _outputs(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        problem("must be a non-empty list of {fraction, weight_kg}")
    if len(value) > MAX_OUTPUTS:
        problem(f"may list at most {MAX_OUTPUTS} outputs")
    return value


class Dismantled(_Event):
    """A device taken apart: its outputs weighed, or (batch dismantling, SPEC §2.4) none,
    naming the batch whose closing weighs them."""

    HINTS: ClassVar[dict[str, str]] = {
        "outputs": "list them [{fraction, weight_kg}], or name the batch that weighs them"
    }

    type: Literal[EventType.dismantled]
    qr_id: QrId
    outputs: Annotated[
        list[Output] | None,
        BeforeValidator(lambda v: v if v is None else _outputs(v)),
        Field(max_length=MAX_OUTPUTS),
    ] = None
    batch: OptionalCode = None
    line: OptionalCode = None


class BatchClosed(_Event):
    """A processing batch closes: its outputs weighed per fraction (SPEC §2.4)."""

    HINTS: ClassVar[dict[str, str]] = {"outputs": "weigh each fraction of the batch"}

    type: Literal[EventType.batch_closed]
    batch: Code
    outputs: Annotated[
        list[Output], BeforeValidator(_outputs), Field(min_length=1, max_length=MAX_OUTPUTS)
    ]


class Refused(_Event):
    type: Literal[EventType.refused]
    qr_id: QrId
    reason: Reason


def _changes(value: Any) -> Any:
    if not isinstance(value, dict):
        problem("must be an object naming the corrected fields")
    if not value:
        problem("must name at least one corrected field")
    return value


class Corrected(_Event):
    """Corrects fields of an earlier event; which fields, and their types, depend on it."""

    HINTS: ClassVar[dict[str, str]] = {"corrects": "the id of the event to correct"}

    type: Literal[EventType.corrected]
    corrects: EventId
    reason: Reason
    fields: Annotated[dict[str, Any], BeforeValidator(_changes), Field(min_length=1)]


# -- lot events -------------------------------------------------------------------


class ShippedManifest(Message):
    """One truck of a lot shipment and its transfer manifest (转移联单), weighed at dispatch."""

    number: ManifestNumber
    hw_code: HwCode = None
    transporter: Transporter
    weight_kg: Kilograms


class ReceivedManifest(Message):
    """One manifest of a lot as the processor weighs it in."""

    number: ManifestNumber
    weight_kg: Kilograms


def _manifests(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        problem("must be a non-empty list of manifests")
    if len(value) > MAX_MANIFESTS:
        problem(f"may list at most {MAX_MANIFESTS} manifests")
    return value


class LotShipped(_Event):
    HINTS: ClassVar[dict[str, str]] = {
        "manifests": "list each truck's transfer manifest (转移联单): "
        "[{number, hw_code, transporter, weight_kg}]"
    }

    type: Literal[EventType.lot_shipped]
    lot: LotCode
    to: OrgCode
    manifests: Annotated[
        list[ShippedManifest],
        BeforeValidator(_manifests),
        Field(min_length=1, max_length=MAX_MANIFESTS),
    ]


class LotReceived(_Event):
    """Weighed per manifest (``manifests``); a lot shipped before manifests were lists
    (one ``manifest_no``, no weights) is weighed as a whole (``weight_kg``)."""

    type: Literal[EventType.lot_received]
    lot: LotCode
    manifests: Annotated[
        list[ReceivedManifest] | None,
        BeforeValidator(lambda v: v if v is None else _manifests(v)),
        Field(max_length=MAX_MANIFESTS),
    ] = None
    weight_kg: Kilograms | None = None


class Stocktake(_Event):
    """The weighed stock of an open output lot (盘点), by the plant that fills it."""

    HINTS: ClassVar[dict[str, str]] = {"weight_kg": "weigh what is in store of the lot"}

    type: Literal[EventType.stocktake]
    lot: LotCode
    weight_kg: Kilograms


class LotTreated(_Event):
    type: Literal[EventType.lot_treated]
    lot: LotCode
    method: Method


EventItem = Annotated[
    Collected
    | Shipped
    | Received
    | Stored
    | Dismantled
    | Refused
    | Corrected
    | LotShipped
    | LotReceived
    | LotTreated
    | Stocktake
    | BatchClosed,
    Field(discriminator="type"),
]
DeviceMessage = Collected | Shipped | Received | Stored | Dismantled | Refused
LotMessage = LotShipped | LotReceived | LotTreated | Stocktake
AnyEvent = DeviceMessage | Corrected | LotMessage | BatchClosed

#: The message declared for each event type.
MESSAGES: dict[str, type[AnyEvent]] = {
    EventType.collected: Collected,
    EventType.shipped: Shipped,
    EventType.received: Received,
    EventType.stored: Stored,
    EventType.dismantled: Dismantled,
    EventType.refused: Refused,
    EventType.corrected: Corrected,
    EventType.lot_shipped: LotShipped,
    EventType.lot_received: LotReceived,
    EventType.lot_treated: LotTreated,
    EventType.stocktake: Stocktake,
    EventType.batch_closed: BatchClosed,
}


class EventsRequest(Message):
    """POST /events. Items are validated one by one (one bad item never fails the
    others); the most per request is a setting, checked by the view."""

    events: Annotated[list[EventItem], Field(min_length=1)]


# -- results ----------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str = Field(description="stable, for machines: invalid, not_custodian, …")
    message: str = Field(description="for people")
    field: str | None = Field(None, description="the offending field's path")


def _left_out() -> Any:
    """A field left out of the result when it is None (``id`` never is: it is required)."""
    return Field(default=None, exclude_if=lambda value: value is None)


class ItemResult(BaseModel):
    """The outcome of one event item."""

    id: str | None
    status: Literal["created", "duplicate", "conflict", "rejected"] = Field(
        description="conflict: the id was used before for other content (HTTP 409 on its own)"
    )
    digest: str | None = _left_out()
    qr_id: str | None = _left_out()
    lot: str | None = _left_out()
    error: ErrorBody | None = _left_out()

    @classmethod
    def rejected(cls, raw_id: Any, error: TraceabilityError) -> ItemResult:
        result = _Rejected(
            id=raw_id if isinstance(raw_id, str) else None,
            status="rejected",
            error=ErrorBody(**error.to_dict()),
        )
        result._http_status = error.status
        return result

    @classmethod
    def conflict(cls, event_id: str, error: TraceabilityError) -> ItemResult:
        """The id was already used for another event: the item is not recorded."""
        result = _Rejected(id=event_id, status="conflict", error=ErrorBody(**error.to_dict()))
        result._http_status = 409
        return result

    @property
    def http_status(self) -> int:
        """For a single-item endpoint (POST /devices): the status its response takes."""
        return 201 if self.status == "created" else 200


class _Rejected(ItemResult):
    """A rejected item also knows its error's HTTP status. (Only these carry a private
    attribute: initialising one costs more than the rest of a result.)"""

    _http_status: int = PrivateAttr(default=422)

    @property
    def http_status(self) -> int:
        return self._http_status


# -- errors -----------------------------------------------------------------------

_TYPES = frozenset(EventType)

# Pydantic's own checks, in our words (the custom ones carry their own: fields.py).
_WORDING: dict[str, str] = {
    "missing": "is required",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "too_short": "must not be empty",
    "literal_error": "must be {expected}",
    "union_tag_invalid": f"must be one of {', '.join(EventType)}",
    "union_tag_not_found": "is required",
}


def _path(loc: Sequence[int | str], prefix: str) -> str:
    path = prefix
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _TYPES and (index == 0 or isinstance(loc[index - 1], int)):
            continue  # the tag of a discriminated union, not a field
        else:
            path = f"{path}.{part}" if path else part
    return path


def problem_of(
    exc: ValidationError, *, prefix: str = "", hints: Mapping[str, str] | None = None
) -> TraceabilityError:
    """The first problem of ``exc`` as a domain error naming the field's full path."""
    error = exc.errors(include_url=False)[0]
    context = error.get("ctx") or {}
    path = _path(error["loc"], prefix) or prefix or "body"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        path = f"{path}.type" if error["loc"] else "type"
    domain = context.get("error")
    if isinstance(domain, TraceabilityError):  # e.g. InvalidQrId: its code, its message
        domain.field = path
        return domain
    if "problem" in context:
        text = str(context["problem"])
    elif error["type"] in _WORDING:
        text = _WORDING[error["type"]].format(**context)
    else:
        text = f"is not valid ({error['msg']})"
    if error["type"] == "missing" and hints and path in hints:
        text = f"{text}: {hints[path]}"
    return ValidationFailed(f"{path} {text}", field=path)
