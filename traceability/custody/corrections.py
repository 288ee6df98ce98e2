"""``corrected`` events: a new event naming the one it corrects, and why.

Nothing is updated in the log; the correction joins the subject's chain and
its fields are applied to the projection (device or lot).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from traceability import limits
from traceability.catalog.services import kg_to_grams, validate_attributes
from traceability.custody import fields
from traceability.custody.handlers import (
    MAX_LOT_KG,
    SOURCES,
    check_mass_balance,
    record,
    when_after,
)
from traceability.custody.models import Event
from traceability.custody.workspace import EventRef, Workspace
from traceability.devices.models import Device, DeviceState
from traceability.errors import Forbidden, NotCustodian, NotFound, ValidationFailed
from traceability.lots.models import Lot, LotItem, LotState

# For each corrected event type, the fields a correction may change and how
# each is validated: (workspace, subject projection, raw value) → stored value.
Validator = Callable[[Workspace, Any, Any, str], Any]


def _text(max_len: int, *, multiline: bool = False) -> Validator:
    def check(_ws: Workspace, _subject: Any, value: Any, field: str) -> Any:
        return fields.text(
            {field: value}, field, required=True, max_len=max_len, multiline=multiline
        )

    return check


def _code(_ws: Workspace, _subject: Any, value: Any, field: str) -> Any:
    return fields.code({field: value}, field, required=True)


def _device_weight(ws: Workspace, device: Any, value: Any, field: str) -> int:
    max_kg = ws.catalog.categories[device.category].max_weight_kg
    return kg_to_grams(value, field=field, max_kg=max_kg)


def _lot_weight(_ws: Workspace, _lot: Any, value: Any, field: str) -> int:
    return kg_to_grams(value, field=field, max_kg=MAX_LOT_KG)


def _attributes(ws: Workspace, device: Any, value: Any, field: str) -> dict[str, Any]:
    try:
        return validate_attributes(ws.catalog.categories[device.category], value)
    except ValidationFailed as exc:
        exc.field = f"fields.{exc.field}"
        raise


def _source(_ws: Workspace, _device: Any, value: Any, field: str) -> str:
    if value not in SOURCES:
        raise ValidationFailed(f"source must be one of {', '.join(SOURCES)}", field=field)
    return str(value)


CORRECTABLE: dict[str, dict[str, Validator]] = {
    "collected": {
        "attributes": _attributes,
        "weight_kg": _device_weight,
        "brand": _text(limits.NAMEPLATE),
        "model": _text(limits.NAMEPLATE),
        "serial": _text(limits.NAMEPLATE),
        "source": _source,
    },
    "shipped": {"manifest_no": _code},
    "received": {"weight_kg": _device_weight},
    "stored": {"area": _text(limits.AREA)},
    "dismantled": {"line": _code},
    "refused": {"reason": _text(limits.REASON, multiline=True)},
    "lot_shipped": {"manifest_no": _code},
    "lot_received": {"weight_kg": _lot_weight},
    "lot_treated": {"method": _text(limits.METHOD)},
}

# What a device's custodian may correct in a `collected` event another
# organisation recorded: what it can see and weigh on the device in its hands
# (not, say, where the device came from).
OBSERVABLE = frozenset({"attributes", "weight_kg", "brand", "model", "serial"})

# Fields that decide the subsidy tier or the mass; changing one after the
# device was dismantled (nothing left to re-inspect) is flagged for the auditor.
AFTER_DISMANTLING_FLAG = "after_dismantling"
_TIER_OR_MASS: dict[tuple[str, str], str] = {
    ("collected", "attributes"): "attributes",
    ("collected", "weight_kg"): "collected_weight_g",
    ("received", "weight_kg"): "received_weight_g",
}

# How a corrected field lands on the projection (attribute of Device/Lot;
# None: the field lives only in the log).
_PROJECTION: dict[tuple[str, str], str | None] = {
    ("shipped", "manifest_no"): None,
    ("refused", "reason"): None,
    ("collected", "weight_kg"): "collected_weight_g",
    ("received", "weight_kg"): "received_weight_g",
    ("lot_received", "weight_kg"): "received_weight_g",
    ("stored", "area"): "storage_area",
    ("lot_treated", "method"): "treatment",
}


def holder(subject: Device | Lot) -> str:
    """The organisation that holds a device or lot now (a lot: its plant until received)."""
    if isinstance(subject, Device):
        return subject.custodian
    if subject.state in (LotState.received, LotState.treated) and subject.destination:
        return subject.destination
    return subject.org


def _check_authority(ws: Workspace, target: Event | EventRef, subject: Device | Lot) -> None:
    """Only the current holder corrects, and only its own records or what it can observe.

    Once a device has changed hands, its former custodian cannot rewrite what
    the new one took over (and claims on); the new custodian may correct the
    device's description in another organisation's `collected` event, under
    its own name in the log.
    """
    org = ws.principal.org_code
    current = holder(subject)
    if current != org:
        name = f"device {subject.qr_id}" if isinstance(subject, Device) else f"lot {subject.code}"
        raise NotCustodian(
            f"{name} is in the custody of {current}: only its custodian may correct its records",
            field="corrects",
        )
    if target.org != org and not (isinstance(subject, Device) and target.type == "collected"):
        raise Forbidden(
            "only the organisation that recorded an event may correct it", field="corrects"
        )


def _output_g(ws: Workspace, device: Device) -> int:
    committed = ws.session.exec(
        select(func.coalesce(func.sum(LotItem.weight_g), 0)).where(LotItem.device == device.qr_id)
    ).one()
    queued = sum(i["weight_g"] for i in ws.new_lot_items if i["device"] == device.qr_id)
    return int(committed) + queued


def _changes_tier_or_mass(
    ws: Workspace, target: Event | EventRef, device: Device, clean: dict[str, Any]
) -> bool:
    """For a dismantled device: whether the correction changes its tier or its mass."""
    if target.type == "received" and "weight_kg" in clean:
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


def corrected(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    target_id = fields.event_id(item, required=False, name="corrects")
    if target_id is None:
        raise ValidationFailed(
            "corrects (the id of the event to correct) is required", field="corrects"
        )
    target = ws.events.get(target_id)
    if target is None:
        raise NotFound(f"no event {target_id}", field="corrects")
    subject = ws.devices.get(target.device) if target.device else ws.lots.get(target.lot or "")
    if subject is None:  # pragma: no cover - the event's subject always exists
        raise NotFound("the corrected event's device or lot is missing", field="corrects")
    _check_authority(ws, target, subject)
    if target.type == "corrected":
        raise ValidationFailed("correct the original event, not a correction", field="corrects")
    reason = fields.text(item, "reason", required=True, max_len=limits.REASON, multiline=True)
    changes = fields.mapping(item, "fields", required=True)
    allowed = CORRECTABLE[target.type]
    if not changes:
        raise ValidationFailed("fields must name at least one corrected field", field="fields")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
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
    when = when_after(ws, item, subject.head_occurred_at)
    flagged = (
        isinstance(subject, Device)
        and subject.state == DeviceState.dismantled
        and _changes_tier_or_mass(ws, target, subject, clean)
    )
    payload_fields = {
        (name.removesuffix("_kg") + "_g" if name == "weight_kg" else name): value
        for name, value in clean.items()
    }
    payload: dict[str, Any] = {"corrects": target_id, "reason": reason, "fields": payload_fields}
    if flagged:
        # Hashed with the event: the flag cannot be dropped without detection.
        payload["flag"] = AFTER_DISMANTLING_FLAG

    digest = record(ws, subject, event_id, "corrected", when, payload)
    for name, value in clean.items():
        attribute = _PROJECTION.get((target.type, name), name)
        if attribute is not None:
            setattr(subject, attribute, value)
    return digest
