"""One handler per event type: every check first, then the changes.

A handler either raises a ``TraceabilityError`` having changed nothing, or
applies its event to the workspace and returns the event digest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from traceability import limits
from traceability.accounts.models import OrgKind
from traceability.catalog.services import (
    get_category,
    grams_to_kg,
    kg_to_grams,
    validate_attributes,
)
from traceability.custody import fields
from traceability.custody.models import Event
from traceability.custody.workspace import EventRef, Workspace, open_lot
from traceability.devices.models import Device, DeviceState, MintedId
from traceability.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotCustodian,
    UnknownDevice,
    UnknownLot,
    ValidationFailed,
)
from traceability.labels.ids import mint_id
from traceability.lots.models import Lot, LotState
from traceability.savings.models import Batch

Handler = Callable[[Workspace, Mapping[str, Any], str], str]

SOURCES = ("household", "business", "public", "trade_in")
MAX_OUTPUTS = 50
MAX_LOT_KG = 100_000


class OutputsExceedIntake(ValidationFailed):
    """A dismantling that yields more mass than went in: physically impossible."""

    code = "outputs_exceed_intake"


def subject_of(event: Event | EventRef) -> tuple[str | None, str | None]:
    return event.device, event.lot


# -- shared checks ---------------------------------------------------------


def _require_kind(ws: Workspace, *kinds: OrgKind, action: str) -> None:
    if ws.principal.org_kind not in kinds:
        raise Forbidden(f"a {ws.principal.org_kind} cannot record '{action}'", field="type")


def _device(ws: Workspace, item: Mapping[str, Any]) -> Device:
    if item.get("qr_id") is None:
        raise ValidationFailed("qr_id is required", field="qr_id")
    qr_id = ws.parse_qr_id(item["qr_id"])
    device = ws.devices.get(qr_id)
    if device is None:
        raise UnknownDevice(f"no device {qr_id} has been collected", field="qr_id")
    return device


def _in_custody(ws: Workspace, device: Device) -> None:
    if device.custodian != ws.principal.org_code:
        raise NotCustodian(
            f"device {device.qr_id} is not in the custody of {ws.principal.org_code}",
            field="qr_id",
        )


def when_after(ws: Workspace, item: Mapping[str, Any], after: dt.datetime | None) -> dt.datetime:
    when = fields.occurred_at(item, now=ws.now, future_skew_s=ws.future_skew_s)
    if after is not None and when < after:
        raise ValidationFailed(
            "occurred_at is earlier than the previous event of this device or lot",
            field="occurred_at",
        )
    return when


def _device_max_kg(ws: Workspace, device: Device) -> int:
    return ws.catalog.categories[device.category].max_weight_kg


def _destination(ws: Workspace, item: Mapping[str, Any], *kinds: OrgKind) -> str:
    to = fields.org_code(item, "to")
    org = ws.orgs.get(to)
    if org is None:
        raise ValidationFailed(f"no organisation {to}", field="to")
    if org.kind not in kinds:
        raise ValidationFailed(f"{to} is a {org.kind}, not a {' or '.join(kinds)}", field="to")
    if to == ws.principal.org_code:
        raise ValidationFailed("cannot ship to your own organisation", field="to")
    return to


def record(
    ws: Workspace,
    subject: Device | Lot,
    event_id: str,
    event_type: str,
    when: dt.datetime,
    payload: dict[str, Any],
) -> str:
    """Queue the next event on a device's or lot's chain and move the chain head."""
    key = {"device": subject.qr_id} if isinstance(subject, Device) else {"lot": subject.code}
    digest = ws.append(
        event_id=event_id,
        type=event_type,
        occurred_at=when,
        payload=payload,
        prev=subject.head_digest,
        **key,
    )
    subject.head_digest, subject.head_occurred_at = digest, when
    subject.event_count += 1
    return digest


# -- device events ---------------------------------------------------------


def collected(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    _require_kind(ws, OrgKind.collector, OrgKind.dismantler, action="collected")
    minted: MintedId | None = None
    if item.get("qr_id") is not None:
        qr_id = ws.parse_qr_id(item["qr_id"])
        minted = ws.minted.get(qr_id)
        if minted is None:
            raise ValidationFailed(
                f"{qr_id} was never issued: use a pre-minted label or omit qr_id",
                field="qr_id",
            )
        if minted.org != ws.principal.org_code:
            raise Forbidden(f"label {qr_id} belongs to another organisation", field="qr_id")
        if qr_id in ws.devices:
            raise Conflict(f"device {qr_id} has already been collected", field="qr_id")
    category = get_category(ws.catalog, item.get("category"))
    attributes = validate_attributes(category, item.get("attributes"))
    payload: dict[str, Any] = {"category": category.code, "attributes": attributes}
    if item.get("weight_kg") is not None:
        payload["weight_g"] = kg_to_grams(
            item["weight_kg"], field="weight_kg", max_kg=category.max_weight_kg
        )
    for name in ("brand", "model", "serial"):
        value = fields.text(item, name, max_len=limits.NAMEPLATE)
        if value is not None:
            payload[name] = value
    source = fields.text(item, "source", max_len=limits.SOURCE)
    if source is not None:
        if source not in SOURCES:
            raise ValidationFailed(f"source must be one of {', '.join(SOURCES)}", field="source")
        payload["source"] = source
    when = when_after(ws, item, None)

    if minted is None:
        minted = MintedId(qr_id=mint_id(), org=ws.principal.org_code, minted_at=ws.now)
        ws.session.add(minted)
        ws.minted[minted.qr_id] = minted
    qr_id = minted.qr_id
    digest = ws.append(
        event_id=event_id,
        type="collected",
        occurred_at=when,
        payload=payload,
        prev=None,
        device=qr_id,
    )
    device = Device(
        qr_id=qr_id,
        category=category.code,
        attributes=attributes,
        brand=payload.get("brand"),
        model=payload.get("model"),
        serial=payload.get("serial"),
        source=payload.get("source"),
        collected_weight_g=payload.get("weight_g"),
        state=DeviceState.collected,
        custodian=ws.principal.org_code,
        collected_by=ws.principal.org_code,
        collected_at=when,
        head_digest=digest,
        head_occurred_at=when,
        event_count=1,
    )
    ws.session.add(device)
    ws.devices[qr_id] = device
    return digest


def shipped(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    device = _device(ws, item)
    _in_custody(ws, device)
    if device.state not in (DeviceState.collected, DeviceState.received):
        raise InvalidTransition(device.qr_id, device.state, "shipped")
    # Only a licensed plant can receive (and weigh) a device, or refuse it:
    # a shipment anywhere else could never be finished (SPEC §2.4).
    to = _destination(ws, item, OrgKind.dismantler)
    payload: dict[str, Any] = {"to": to}
    manifest = fields.code(item, "manifest_no")
    if manifest is not None:
        payload["manifest_no"] = manifest
    when = when_after(ws, item, device.head_occurred_at)

    digest = record(ws, device, event_id, "shipped", when, payload)
    device.state, device.destination = DeviceState.in_transit, to
    return digest


def received(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    _require_kind(ws, OrgKind.dismantler, action="received")
    device = _device(ws, item)
    org = ws.principal.org_code
    if device.custodian != org and device.destination != org:
        raise NotCustodian(f"device {device.qr_id} is not shipped to {org}", field="qr_id")
    ok = (device.state == DeviceState.collected and device.custodian == org) or (
        device.state == DeviceState.in_transit and device.destination == org
    )
    if not ok:
        raise InvalidTransition(device.qr_id, device.state, "received")
    if item.get("weight_kg") is None:
        raise ValidationFailed(
            "weight_kg is required: weigh the device at intake", field="weight_kg"
        )
    weight_g = kg_to_grams(item["weight_kg"], field="weight_kg", max_kg=_device_max_kg(ws, device))
    when = when_after(ws, item, device.head_occurred_at)

    digest = record(ws, device, event_id, "received", when, {"weight_g": weight_g})
    device.state, device.custodian, device.destination = DeviceState.received, org, None
    device.received_weight_g, device.received_by, device.received_at = weight_g, org, when
    return digest


def stored(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    _require_kind(ws, OrgKind.dismantler, action="stored")
    device = _device(ws, item)
    _in_custody(ws, device)
    if device.state != DeviceState.received:
        raise InvalidTransition(device.qr_id, device.state, "stored")
    area = fields.text(item, "area", required=True, max_len=limits.AREA)
    when = when_after(ws, item, device.head_occurred_at)

    digest = record(ws, device, event_id, "stored", when, {"area": area})
    device.storage_area = area
    return digest


def _outputs(ws: Workspace, item: Mapping[str, Any], max_kg: int) -> list[dict[str, Any]]:
    raw = item.get("outputs")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(
            "outputs must be a non-empty list of {fraction, weight_kg}", field="outputs"
        )
    if len(raw) > MAX_OUTPUTS:
        raise ValidationFailed(f"at most {MAX_OUTPUTS} outputs", field="outputs")
    outputs, seen = [], set()
    for index, entry in enumerate(raw):
        where = f"outputs[{index}]"
        if not isinstance(entry, Mapping):
            raise ValidationFailed(f"{where} must be an object", field=where)
        fraction = entry.get("fraction")
        if not isinstance(fraction, str) or fraction not in ws.catalog.fractions:
            raise ValidationFailed(f"unknown fraction {fraction!r}", field=f"{where}.fraction")
        if fraction in seen:
            raise ValidationFailed(
                f"fraction {fraction} is listed twice", field=f"{where}.fraction"
            )
        seen.add(fraction)
        if entry.get("weight_kg") is None:
            raise ValidationFailed("weight_kg is required", field=f"{where}.weight_kg")
        weight_g = kg_to_grams(entry["weight_kg"], field=f"{where}.weight_kg", max_kg=max_kg)
        outputs.append({"fraction": fraction, "weight_g": weight_g})
    return outputs


def dismantled(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    _require_kind(ws, OrgKind.dismantler, action="dismantled")
    device = _device(ws, item)
    _in_custody(ws, device)
    if device.state != DeviceState.received:
        raise InvalidTransition(device.qr_id, device.state, "dismantled")
    outputs = _outputs(ws, item, _device_max_kg(ws, device))
    output_g = sum(o["weight_g"] for o in outputs)
    check_mass_balance(ws, intake_g=device.received_weight_g, output_g=output_g, field="outputs")
    payload: dict[str, Any] = {"outputs": outputs}
    batch_code = fields.code(item, "batch")
    line = fields.code(item, "line")
    if batch_code is not None:
        payload["batch"] = batch_code
    if line is not None:
        payload["line"] = line
    when = when_after(ws, item, device.head_occurred_at)

    digest = record(ws, device, event_id, "dismantled", when, payload)
    if batch_code is not None:
        batch = ws.batches.get(batch_code)
        if batch is None:
            batch = Batch(org=ws.principal.org_code, code=batch_code, created_at=when)
            ws.session.add(batch)
            ws.session.flush()
            ws.batches[batch_code] = batch
        device.batch_id = batch.id
    for output in outputs:
        lot = open_lot(ws, output["fraction"], when)
        lot.weight_g += output["weight_g"]
        lot.device_count += 1
        ws.new_lot_items.append(
            {
                "lot": lot.code,
                "device": device.qr_id,
                "event_id": event_id,
                "weight_g": output["weight_g"],
            }
        )
    device.state, device.dismantled_by, device.dismantled_at = (
        DeviceState.dismantled,
        ws.principal.org_code,
        when,
    )
    device.line = line
    return digest


def check_mass_balance(ws: Workspace, *, intake_g: int | None, output_g: int, field: str) -> None:
    """Outputs may weigh less than the intake (an audit matter), never more than the tolerance."""
    if intake_g is None:  # pragma: no cover - a received device always has its weight
        return
    tolerance = ws.dismantle_tolerance_pct
    if output_g * 100 <= intake_g * (100 + tolerance):
        return
    limit = (Decimal(intake_g) * (100 + tolerance) / 100 / 1000).quantize(Decimal("0.001"))
    raise OutputsExceedIntake(
        f"outputs weigh {grams_to_kg(output_g)} kg, more than the {grams_to_kg(intake_g)} kg "
        f"received plus the {tolerance} % tolerance ({limit} kg)",
        field=field,
        output_g=output_g,
        intake_g=intake_g,
    )


def refused(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    """The destination turns a shipment away; the device stays with its sender."""
    device = _device(ws, item)
    org = ws.principal.org_code
    if device.destination != org:
        raise NotCustodian(f"device {device.qr_id} is not shipped to {org}", field="qr_id")
    if device.state != DeviceState.in_transit:  # pragma: no cover - destination implies transit
        raise InvalidTransition(device.qr_id, device.state, "refused")
    reason = fields.text(item, "reason", required=True, max_len=limits.REASON, multiline=True)
    when = when_after(ws, item, device.head_occurred_at)

    digest = record(ws, device, event_id, "refused", when, {"reason": reason})
    # Back to the state it was shipped from: a device once received stays received.
    device.state = DeviceState.received if device.received_at else DeviceState.collected
    device.destination = None
    return digest


# -- lot events ------------------------------------------------------------


def _lot(ws: Workspace, item: Mapping[str, Any]) -> Lot:
    code = fields.lot_code(item)
    lot = ws.lots.get(code)
    if lot is None:
        raise UnknownLot(f"no output lot {code}", field="lot")
    return lot


def lot_shipped(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    lot = _lot(ws, item)
    if lot.org != ws.principal.org_code:
        raise NotCustodian(f"lot {lot.code} belongs to another organisation", field="lot")
    if lot.state != LotState.open:
        raise InvalidTransition(lot.code, lot.state, "lot_shipped")
    if lot.weight_g <= 0:
        raise Conflict(f"lot {lot.code} is empty", field="lot")
    to = _destination(ws, item, OrgKind.processor)
    manifest = fields.code(item, "manifest_no", required=True)
    when = when_after(ws, item, lot.head_occurred_at)

    digest = record(ws, lot, event_id, "lot_shipped", when, {"to": to, "manifest_no": manifest})
    lot.state, lot.destination, lot.manifest_no, lot.shipped_at = (
        LotState.shipped,
        to,
        manifest,
        when,
    )
    ws.open_lots.pop(lot.fraction, None)
    return digest


def _at_processor(ws: Workspace, lot: Lot, state: LotState, event_type: str) -> None:
    _require_kind(ws, OrgKind.processor, action=event_type)
    if lot.destination != ws.principal.org_code:
        raise NotCustodian(
            f"lot {lot.code} was not shipped to {ws.principal.org_code}", field="lot"
        )
    if lot.state != state:
        raise InvalidTransition(lot.code, lot.state, event_type)


def lot_received(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    lot = _lot(ws, item)
    _at_processor(ws, lot, LotState.shipped, "lot_received")
    if item.get("weight_kg") is None:
        raise ValidationFailed("weight_kg is required: weigh the lot on receipt", field="weight_kg")
    weight_g = kg_to_grams(item["weight_kg"], field="weight_kg", max_kg=MAX_LOT_KG)
    when = when_after(ws, item, lot.head_occurred_at)

    digest = record(ws, lot, event_id, "lot_received", when, {"weight_g": weight_g})
    lot.state, lot.received_weight_g, lot.received_at = LotState.received, weight_g, when
    return digest


def lot_treated(ws: Workspace, item: Mapping[str, Any], event_id: str) -> str:
    lot = _lot(ws, item)
    _at_processor(ws, lot, LotState.received, "lot_treated")
    method = fields.text(item, "method", required=True, max_len=limits.METHOD)
    when = when_after(ws, item, lot.head_occurred_at)

    digest = record(ws, lot, event_id, "lot_treated", when, {"method": method})
    lot.state, lot.treatment = LotState.treated, method
    return digest


HANDLERS: dict[str, Handler] = {
    "collected": collected,
    "shipped": shipped,
    "received": received,
    "stored": stored,
    "dismantled": dismantled,
    "refused": refused,
    "lot_shipped": lot_shipped,
    "lot_received": lot_received,
    "lot_treated": lot_treated,
}
