"""``corrected`` events: a new event naming the one it corrects, and why.

Nothing is updated in the log; the correction joins the subject's chain and
its fields are applied to the projection (device or lot).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select

from traceability.catalog.services import kg_to_grams, validate_attributes
from traceability.custody.checks import MAX_LOT_KG, check_mass_balance, record, when_after
from traceability.custody.fields import Area, Code, Method, Reason, RequiredNameplate, Source
from traceability.custody.manifest_steps import (
    manifest_rows,
    parse_manifests,
    received_manifests,
    shipped_manifests,
)
from traceability.custody.messages import Corrected, problem_of
from traceability.custody.models import EventType
from traceability.custody.workspace import (
    LOT_ITEM_TABLE,
    DeviceRecord,
    EventRef,
    LotRecord,
    Subject,
    Workspace,
)
from traceability.devices.models import DeviceState
from traceability.errors import Forbidden, NotCustodian, NotFound, ValidationFailed
from traceability.lots.models import LotState

# For each corrected event type, the fields a correction may change and how
# each is validated: (workspace, subject projection, raw value, path) → stored value.
Validator = Callable[[Workspace, Any, Any, str], Any]


def _typed(kind: Any) -> Validator:
    """The field's own declared type (the one its event message uses); never empty."""
    adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def check(_ws: Workspace, _subject: Any, value: Any, field: str) -> Any:
        try:
            clean = adapter.validate_python(value)
        except ValidationError as exc:
            raise problem_of(exc, prefix=field) from None
        if clean is None:
            raise ValidationFailed(f"{field} must not be empty", field=field)
        return clean

    return check


def _device_weight(ws: Workspace, device: Any, value: Any, field: str) -> int:
    max_kg = ws.catalog.categories[device.category].max_weight_kg
    return kg_to_grams(value, field=field, max_kg=max_kg)


def _lot_weight(_ws: Workspace, _lot: Any, value: Any, field: str) -> int:
    return kg_to_grams(value, field=field, max_kg=MAX_LOT_KG)


def _shape(ws: Workspace, lot: LotRecord, field: str, *, listed: bool) -> None:
    """A shipment with a manifest list corrects ``manifests``; one from before, its one number
    (``manifest_no``) and its receipt's one weight."""
    if (lot.code in ws.lot_manifests) != listed:
        use = "fields.manifests" if not listed else "manifest_no / weight_kg"
        raise ValidationFailed(
            f"{field} does not fit this lot's shipment: correct {use}", field=field
        )


def _legacy_manifest_no(ws: Workspace, lot: LotRecord, value: Any, field: str) -> str:
    _shape(ws, lot, field, listed=False)
    clean: str = _typed(Code)(ws, lot, value, field)
    return clean


def _legacy_lot_weight(ws: Workspace, lot: LotRecord, value: Any, field: str) -> int:
    _shape(ws, lot, field, listed=False)
    return _lot_weight(ws, lot, value, field)


def _shipped(ws: Workspace, lot: LotRecord, value: Any, field: str) -> list[dict[str, Any]]:
    """The manifest list again, checked as when first sent (day: the shipping day)."""
    _shape(ws, lot, field, listed=True)
    parsed = parse_manifests(value, received=False, field=field)
    assert lot.destination is not None and lot.shipped_at is not None  # shipped
    return shipped_manifests(ws, lot, parsed, to=lot.destination, when=lot.shipped_at, where=field)


def _received(ws: Workspace, lot: LotRecord, value: Any, field: str) -> list[dict[str, Any]]:
    _shape(ws, lot, field, listed=True)
    parsed = parse_manifests(value, received=True, field=field)
    return received_manifests(ws, lot, parsed, where=field)


def _attributes(ws: Workspace, device: Any, value: Any, field: str) -> dict[str, Any]:
    try:
        return validate_attributes(ws.catalog.categories[device.category], value)
    except ValidationFailed as exc:
        exc.field = f"fields.{exc.field}"
        raise


_NAMEPLATE = _typed(RequiredNameplate)

CORRECTABLE: dict[EventType, dict[str, Validator]] = {
    EventType.collected: {
        "attributes": _attributes,
        "weight_kg": _device_weight,
        "brand": _NAMEPLATE,
        "model": _NAMEPLATE,
        "serial": _NAMEPLATE,
        "source": _typed(Source),
    },
    EventType.shipped: {"manifest_no": _typed(Code)},
    EventType.received: {"weight_kg": _device_weight},
    EventType.stored: {"area": _typed(Area)},
    EventType.dismantled: {"line": _typed(Code)},
    EventType.refused: {"reason": _typed(Reason)},
    EventType.lot_shipped: {"manifests": _shipped, "manifest_no": _legacy_manifest_no},
    EventType.lot_received: {"manifests": _received, "weight_kg": _legacy_lot_weight},
    EventType.lot_treated: {"method": _typed(Method)},
    EventType.stocktake: {"weight_kg": _lot_weight},
}

# What a device's custodian may correct in a `collected` event another
# organisation recorded: what it can see and weigh on the device in its hands
# (not, say, where the device came from).
OBSERVABLE = frozenset({"attributes", "weight_kg", "brand", "model", "serial"})

# Fields that decide the subsidy tier or the mass; changing one after the
# device was dismantled (nothing left to re-inspect) is flagged for the auditor.
AFTER_DISMANTLING_FLAG = "after_dismantling"
_TIER_OR_MASS: dict[tuple[EventType, str], str] = {
    (EventType.collected, "attributes"): "attributes",
    (EventType.collected, "weight_kg"): "collected_weight_g",
    (EventType.received, "weight_kg"): "received_weight_g",
}

# How a corrected field lands on the projection (attribute of Device/Lot;
# None: the field lives only in the log).
_PROJECTION: dict[tuple[EventType, str], str | None] = {
    (EventType.shipped, "manifest_no"): None,
    (EventType.refused, "reason"): None,
    (EventType.collected, "weight_kg"): "collected_weight_g",
    (EventType.received, "weight_kg"): "received_weight_g",
    (EventType.lot_received, "weight_kg"): "received_weight_g",
    (EventType.stored, "area"): "storage_area",
    (EventType.lot_treated, "method"): "treatment",
    (EventType.stocktake, "weight_kg"): None,
    (EventType.lot_shipped, "manifests"): None,  # _apply_manifests
    (EventType.lot_received, "manifests"): None,
}


def _apply_manifests(ws: Workspace, target: EventRef, lot: Subject, clean: dict[str, Any]) -> None:
    """A corrected manifest list on the lot and its manifest rows."""
    manifests = clean.get("manifests")
    if manifests is None or not isinstance(lot, LotRecord):
        return
    if target.type == EventType.lot_shipped:
        ws.set_manifests(lot, manifest_rows(lot, manifests))
        lot.manifest_no = manifests[0]["number"]
    else:
        lot.received_weight_g = sum(m["weight_g"] for m in manifests)
        ws.weigh_manifests(lot, {m["number"]: m["weight_g"] for m in manifests})


def holder(subject: Subject) -> str:
    """The organisation that holds a device or lot now (a lot: its plant until received)."""
    if isinstance(subject, DeviceRecord):
        return subject.custodian
    if subject.state in (LotState.received, LotState.treated) and subject.destination:
        return subject.destination
    return subject.org


def _check_authority(ws: Workspace, target: EventRef, subject: Subject) -> None:
    """Only the current holder corrects, and only its own records or what it can observe.

    Once a device has changed hands, its former custodian cannot rewrite what
    the new one took over (and claims on); the new custodian may correct the
    device's description in another organisation's `collected` event, under
    its own name in the log.
    """
    org = ws.principal.org_code
    current = holder(subject)
    if current != org:
        name = (
            f"device {subject.qr_id}"
            if isinstance(subject, DeviceRecord)
            else f"lot {subject.code}"
        )
        raise NotCustodian(
            f"{name} is in the custody of {current}: only its custodian may correct its records",
            field="corrects",
        )
    if target.org != org and not (
        isinstance(subject, DeviceRecord) and target.type == EventType.collected
    ):
        raise Forbidden(
            "only the organisation that recorded an event may correct it", field="corrects"
        )


def _output_g(ws: Workspace, device: DeviceRecord) -> int:
    committed = (
        ws.session.connection()
        .execute(
            select(func.coalesce(func.sum(LOT_ITEM_TABLE.c.weight_g), 0)).where(
                LOT_ITEM_TABLE.c.device == device.qr_id
            )
        )
        .scalar_one()
    )
    queued = sum(i["weight_g"] for i in ws.new_lot_items if i["device"] == device.qr_id)
    return int(committed) + queued


def _changes_tier_or_mass(
    ws: Workspace, target: EventRef, device: DeviceRecord, clean: dict[str, Any]
) -> bool:
    """For a dismantled device: whether the correction changes its tier or its mass."""
    if target.type == EventType.received and "weight_kg" in clean:
        # A lighter intake must still carry the outputs already recorded.
        check_mass_balance(
            ws,
            intake_g=clean["weight_kg"],
            output_g=_output_g(ws, device),
            field="fields.weight_kg",
        )
    return any(
        getattr(device, attribute) != clean[name]
        for (event_type, name), attribute in _TIER_OR_MASS.items()
        if event_type == target.type and name in clean
    )


def corrected(ws: Workspace, msg: Corrected, event_id: str) -> str:
    target = ws.events.get(msg.corrects)
    if target is None:
        raise NotFound(f"no event {msg.corrects}", field="corrects")
    subject: Subject | None = (
        ws.devices.get(target.device) if target.device else ws.lots.get(target.lot or "")
    )
    if subject is None:  # pragma: no cover - the event's subject always exists
        raise NotFound("the corrected event's device or lot is missing", field="corrects")
    _check_authority(ws, target, subject)
    if target.type == EventType.corrected:
        raise ValidationFailed("correct the original event, not a correction", field="corrects")
    allowed = CORRECTABLE[EventType(target.type)]
    clean: dict[str, Any] = {}
    for name, value in msg.fields.items():
        if name not in allowed:
            raise ValidationFailed(
                f"a '{target.type}' event's {name!r} cannot be corrected "
                f"(correctable: {', '.join(allowed)})",
                field=f"fields.{name}",
            )
        if target.org != ws.principal.org_code and name not in OBSERVABLE:
            raise Forbidden(
                f"{name} of another organisation's '{target.type}' event can only be "
                "corrected by that organisation",
                field=f"fields.{name}",
            )
        clean[name] = allowed[name](ws, subject, value, f"fields.{name}")
    when = when_after(ws, msg.occurred_at, subject.head_occurred_at)
    flagged = (
        isinstance(subject, DeviceRecord)
        and subject.state == DeviceState.dismantled
        and _changes_tier_or_mass(ws, target, subject, clean)
    )
    payload_fields = {
        (name.removesuffix("_kg") + "_g" if name == "weight_kg" else name): value
        for name, value in clean.items()
    }
    if target.type == EventType.lot_received and "manifests" in clean:
        # The receipt's total follows its manifests (what the flows and claims read).
        payload_fields["weight_g"] = sum(m["weight_g"] for m in clean["manifests"])
    payload: dict[str, Any] = {
        "corrects": msg.corrects,
        "reason": msg.reason,
        "fields": payload_fields,
    }
    if flagged:
        # Hashed with the event: the flag cannot be dropped without detection.
        payload["flag"] = AFTER_DISMANTLING_FLAG

    digest = record(ws, subject, event_id, EventType.corrected, when, payload)
    _apply_manifests(ws, target, subject, clean)
    for name, value in clean.items():
        attribute = _PROJECTION.get((EventType(target.type), name), name)
        if attribute is not None:
            setattr(subject, attribute, value)
    return digest
