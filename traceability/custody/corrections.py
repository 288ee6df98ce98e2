"""``corrected`` events: a new event naming the one it corrects, and why.

Nothing is updated in the log; the correction joins the subject's chain and
its fields are applied to the projection (device or lot).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from traceability.catalog.services import kg_to_grams, validate_attributes
from traceability.custody import fields
from traceability.custody.handlers import MAX_LOT_KG, SOURCES, record, when_after
from traceability.custody.workspace import Workspace
from traceability.errors import Forbidden, NotFound, ValidationFailed

# For each corrected event type, the fields a correction may change and how
# each is validated: (workspace, subject projection, raw value) → stored value.
Validator = Callable[[Workspace, Any, Any, str], Any]


def _text(max_len: int) -> Validator:
    def check(_ws: Workspace, _subject: Any, value: Any, field: str) -> Any:
        return fields.text({field: value}, field, required=True, max_len=max_len)

    return check


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
        "brand": _text(100),
        "model": _text(100),
        "serial": _text(100),
        "source": _source,
    },
    "shipped": {"manifest_no": _text(64)},
    "received": {"weight_kg": _device_weight},
    "stored": {"area": _text(64)},
    "dismantled": {"line": _text(64)},
    "lot_shipped": {"manifest_no": _text(64)},
    "lot_received": {"weight_kg": _lot_weight},
    "lot_treated": {"method": _text(64)},
}

# How a corrected field lands on the projection (attribute of Device/Lot;
# None: the field lives only in the log).
_PROJECTION: dict[tuple[str, str], str | None] = {
    ("shipped", "manifest_no"): None,
    ("collected", "weight_kg"): "collected_weight_g",
    ("received", "weight_kg"): "received_weight_g",
    ("lot_received", "weight_kg"): "received_weight_g",
    ("stored", "area"): "storage_area",
    ("lot_treated", "method"): "treatment",
}


def corrected(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    target_id = fields.event_id({"id": item.get("corrects")}, required=False)
    if target_id is None:
        raise ValidationFailed(
            "corrects (the id of the event to correct) is required", field="corrects"
        )
    target = ws.events.get(target_id)
    if target is None:
        raise NotFound(f"no event {target_id}", field="corrects")
    if target.org != ws.principal.org_code:
        raise Forbidden(
            "only the organisation that recorded an event may correct it", field="corrects"
        )
    if target.type == "corrected":
        raise ValidationFailed("correct the original event, not a correction", field="corrects")
    reason = fields.text(item, "reason", required=True, max_len=500)
    changes = fields.mapping(item, "fields", required=True)
    allowed = CORRECTABLE[target.type]
    if not changes:
        raise ValidationFailed("fields must name at least one corrected field", field="fields")
    subject = ws.devices.get(target.device) if target.device else ws.lots.get(target.lot or "")
    if subject is None:  # pragma: no cover - the event's subject always exists
        raise NotFound("the corrected event's device or lot is missing", field="corrects")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in allowed:
            raise ValidationFailed(
                f"a '{target.type}' event's {name!r} cannot be corrected "
                f"(correctable: {', '.join(allowed)})",
                field=f"fields.{name}",
            )
        clean[name] = allowed[name](ws, subject, value, f"fields.{name}")
    when = when_after(ws, item, subject.head_occurred_at)
    payload_fields = {
        (name.removesuffix("_kg") + "_g" if name == "weight_kg" else name): value
        for name, value in clean.items()
    }
    payload = {"corrects": target_id, "reason": reason, "fields": payload_fields}

    digest = record(ws, subject, event_id, "corrected", when, payload)
    for name, value in clean.items():
        attribute = _PROJECTION.get((target.type, name), name)
        if attribute is not None:
            setattr(subject, attribute, value)
    return digest
