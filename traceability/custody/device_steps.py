"""Device events: collected, shipped, received, stored, dismantled, refused.

A dismantling lists its outputs, or names the batch whose closing weighs them
(batch dismantling, custody/batch_steps.py).

Each handler checks everything first, then changes the workspace and returns
the event digest; a check that fails raises having changed nothing.
"""

from __future__ import annotations

from typing import Any

from traceability.accounts.models import OrgKind
from traceability.catalog.services import get_category, kg_to_grams, validate_attributes
from traceability.custody.batch_steps import check_open, weighed_outputs
from traceability.custody.checks import (
    check_mass_balance,
    destination,
    device_max_kg,
    device_of,
    in_custody,
    record,
    require_kind,
    when_after,
)
from traceability.custody.licence_checks import check_dismantling
from traceability.custody.messages import (
    Collected,
    Dismantled,
    Received,
    Refused,
    Shipped,
    Stored,
)
from traceability.custody.models import EventType
from traceability.custody.workspace import DeviceRecord, Workspace, open_lot
from traceability.devices.models import DeviceState
from traceability.errors import (
    AlreadyReceived,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotCustodian,
    ValidationFailed,
)
from traceability.labels.ids import mint_id


def collected(ws: Workspace, msg: Collected, event_id: str) -> str:
    require_kind(ws, OrgKind.collector, OrgKind.dismantler, action=EventType.collected)
    org = ws.principal.org_code
    qr_id = msg.qr_id
    if qr_id is not None:
        owner = ws.minted.get(qr_id)
        if owner is None:
            raise ValidationFailed(
                f"{qr_id} was never issued: use a pre-minted label or omit qr_id",
                field="qr_id",
            )
        if owner != org:
            raise Forbidden(f"label {qr_id} belongs to another organisation", field="qr_id")
        if qr_id in ws.devices:
            raise Conflict(f"device {qr_id} has already been collected", field="qr_id")
    category = get_category(ws.catalog, msg.category)
    attributes = validate_attributes(category, msg.attributes)
    payload: dict[str, Any] = {"category": category.code, "attributes": attributes}
    if msg.weight_kg is not None:
        payload["weight_g"] = kg_to_grams(
            msg.weight_kg, field="weight_kg", max_kg=category.max_weight_kg
        )
    for name in ("brand", "model", "serial", "source"):
        value = getattr(msg, name)
        if value is not None:
            payload[name] = value
    when = when_after(ws, msg.occurred_at, None)

    if qr_id is None:
        qr_id = mint_id()
        ws.new_minted.append({"qr_id": qr_id, "org": org, "sheet_id": None, "minted_at": ws.now})
        ws.minted[qr_id] = org
    digest = ws.append(
        event_id=event_id,
        type=EventType.collected,
        occurred_at=when,
        payload=payload,
        prev=None,
        device=qr_id,
    )
    device = DeviceRecord(
        qr_id=qr_id,
        category=category.code,
        attributes=attributes,
        brand=payload.get("brand"),
        model=payload.get("model"),
        serial=payload.get("serial"),
        source=payload.get("source"),
        collected_weight_g=payload.get("weight_g"),
        state=DeviceState.collected,
        custodian=org,
        collected_by=org,
        collected_at=when,
        head_digest=digest,
        head_occurred_at=when,
        event_count=1,
    )
    ws.add(device)
    ws.devices[qr_id] = device
    return digest


def shipped(ws: Workspace, msg: Shipped, event_id: str) -> str:
    device = device_of(ws, msg.qr_id)
    in_custody(ws, device)
    if device.state not in (DeviceState.collected, DeviceState.received):
        raise InvalidTransition(device.qr_id, device.state, EventType.shipped)
    # Only a licensed plant can receive (and weigh) a device, or refuse it:
    # a shipment anywhere else could never be finished (SPEC §2.4).
    to = destination(ws, msg.to, OrgKind.dismantler)
    payload: dict[str, Any] = {"to": to}
    if msg.manifest_no is not None:
        payload["manifest_no"] = msg.manifest_no
    when = when_after(ws, msg.occurred_at, device.head_occurred_at)

    digest = record(ws, device, event_id, EventType.shipped, when, payload)
    device.state, device.destination = DeviceState.in_transit, to
    return digest


def received(ws: Workspace, msg: Received, event_id: str) -> str:
    require_kind(ws, OrgKind.dismantler, action=EventType.received)
    device = device_of(ws, msg.qr_id)
    org = ws.principal.org_code
    if device.custodian != org and device.destination != org:
        raise NotCustodian(f"device {device.qr_id} is not shipped to {org}", field="qr_id")
    ok = (device.state == DeviceState.collected and device.custodian == org) or (
        device.state == DeviceState.in_transit and device.destination == org
    )
    if not ok:
        raise InvalidTransition(device.qr_id, device.state, EventType.received)
    weight_g = kg_to_grams(msg.weight_kg, field="weight_kg", max_kg=device_max_kg(ws, device))
    when = when_after(ws, msg.occurred_at, device.head_occurred_at)

    payload: dict[str, Any] = {"weight_g": weight_g}
    if msg.note is not None:
        payload["note"] = msg.note
    digest = record(ws, device, event_id, EventType.received, when, payload)
    device.state, device.custodian, device.destination = DeviceState.received, org, None
    device.received_weight_g, device.received_by, device.received_at = weight_g, org, when
    return digest


def stored(ws: Workspace, msg: Stored, event_id: str) -> str:
    require_kind(ws, OrgKind.dismantler, action=EventType.stored)
    device = device_of(ws, msg.qr_id)
    in_custody(ws, device)
    if device.state != DeviceState.received:
        raise InvalidTransition(device.qr_id, device.state, EventType.stored)
    when = when_after(ws, msg.occurred_at, device.head_occurred_at)

    digest = record(ws, device, event_id, EventType.stored, when, {"area": msg.area})
    device.storage_area = msg.area
    return digest


def dismantled(ws: Workspace, msg: Dismantled, event_id: str) -> str:
    require_kind(ws, OrgKind.dismantler, action=EventType.dismantled)
    device = device_of(ws, msg.qr_id)
    in_custody(ws, device)
    if device.state != DeviceState.received:
        raise InvalidTransition(device.qr_id, device.state, EventType.dismantled)
    if msg.batch is not None:
        check_open(ws, msg.batch)
    payload: dict[str, Any] = {}
    outputs: list[dict[str, Any]] = []
    if msg.outputs is not None:  # weighed per device; else by the batch's closing (§2.4)
        outputs = weighed_outputs(ws, msg.outputs, max_kg=device_max_kg(ws, device))
        output_g = sum(o["weight_g"] for o in outputs)
        check_mass_balance(
            ws, intake_g=device.received_weight_g, output_g=output_g, field="outputs"
        )
        payload["outputs"] = outputs
    elif msg.batch is None:
        raise ValidationFailed(
            "outputs is required: list them [{fraction, weight_kg}], "
            "or name the batch whose closing weighs them",
            field="outputs",
        )
    if msg.batch is not None:
        payload["batch"] = msg.batch
    if msg.line is not None:
        payload["line"] = msg.line
    when = when_after(ws, msg.occurred_at, device.head_occurred_at)
    check_dismantling(ws, device.category, when)

    digest = record(ws, device, event_id, EventType.dismantled, when, payload)
    if msg.batch is not None:
        ws.assign_batch(device, msg.batch, when)
    for output in outputs:
        lot = open_lot(ws, output["fraction"], when)
        lot.weight_g += output["weight_g"]
        lot.device_count += 1
        ws.touch(lot)
        ws.new_lot_items.append(
            {
                "lot": lot.code,
                "device": device.qr_id,
                "event_id": event_id,
                "weight_g": output["weight_g"],
            }
        )
    device.state = DeviceState.dismantled
    device.dismantled_by, device.dismantled_at = ws.principal.org_code, when
    device.line = msg.line
    return digest


def refused(ws: Workspace, msg: Refused, event_id: str) -> str:
    """The destination turns a shipment away; the device stays with its sender."""
    device = device_of(ws, msg.qr_id)
    org = ws.principal.org_code
    if device.destination != org and device.custodian == org and device.received_at:
        raise AlreadyReceived(
            f"device {device.qr_id} was already received by {org}: "
            "only a shipment in transit to you can be refused",
            field="qr_id",
        )
    if device.destination != org:
        raise NotCustodian(f"device {device.qr_id} is not shipped to {org}", field="qr_id")
    if device.state != DeviceState.in_transit:  # pragma: no cover - destination implies transit
        raise InvalidTransition(device.qr_id, device.state, EventType.refused)
    when = when_after(ws, msg.occurred_at, device.head_occurred_at)

    digest = record(ws, device, event_id, EventType.refused, when, {"reason": msg.reason})
    # Back to the state it was shipped from: a device once received stays received.
    device.state = DeviceState.received if device.received_at else DeviceState.collected
    device.destination = None
    return digest
