"""Reading devices: access rules, the public view and the full history."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from traceability.accounts.models import Organisation
from traceability.accounts.services import Principal, in_region_scope
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.catalog.services import grams_to_kg
from traceability.custody.models import Event
from traceability.db import iso
from traceability.devices.models import Device
from traceability.errors import Forbidden, UnknownDevice
from traceability.labels.ids import format_id, normalise_id
from traceability.savings.models import Batch


def get_device(session: Session, raw_id: str) -> Device:
    qr_id = normalise_id(raw_id)
    device = session.get(Device, qr_id)
    if device is None:
        raise UnknownDevice(f"no device {qr_id}", field="qr_id")
    return device


def device_events(session: Session, qr_id: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.device == qr_id).order_by(col(Event.seq))))


def check_can_read(
    session: Session, principal: Principal, device: Device, events: list[Event]
) -> None:
    """Staff of any organisation on the device's path, auditors of its region, admins."""
    if principal.role == "admin":
        return
    involved = {e.org for e in events} | {device.custodian}
    if device.destination:
        involved.add(device.destination)
    if principal.role == "auditor":
        regions = session.exec(
            select(Organisation.region).where(col(Organisation.code).in_(involved))
        ).all()
        if any(in_region_scope(principal.org_region, r) for r in regions):
            return
    elif principal.org_code in involved:
        return
    raise Forbidden(f"device {device.qr_id} is outside your organisation's records", field="qr_id")


def device_public(device: Device) -> dict[str, Any]:
    """What anyone may see: no organisation names beyond codes, nothing personal."""
    return {
        "qr_id": device.qr_id,
        "display_id": format_id(device.qr_id),
        "category": device.category,
        "state": device.state,
        "collected_at": iso(device.collected_at),
        "dismantled_at": iso(device.dismantled_at) if device.dismantled_at else None,
        "event_count": device.event_count,
    }


def anchor_info(session: Session, seqs: list[int]) -> dict[int, dict[str, Any]]:
    rows = session.exec(
        select(AnchorLeaf, AnchorBatch)
        .join(AnchorBatch, AnchorLeaf.batch_id == AnchorBatch.id)  # type: ignore[arg-type]
        .where(col(AnchorLeaf.event_seq).in_(seqs))
    ).all()
    return {
        leaf.event_seq: {
            "root": batch.root,
            "leaf_index": leaf.leaf_index,
            "size": batch.size,
            "state": batch.state,
            "tx_hash": batch.tx_hash,
            "block_number": batch.block_number,
        }
        for leaf, batch in rows
    }


def event_public(event: Event, anchor: dict[str, Any] | None) -> dict[str, Any]:
    payload = dict(event.payload)
    return {
        "id": event.id,
        "seq": event.seq,
        "type": event.type,
        "device": event.device,
        "lot": event.lot,
        "org": event.org,
        "actor": event.actor,
        "occurred_at": iso(event.occurred_at),
        "recorded_at": iso(event.recorded_at),
        "payload": payload,
        "prev": event.prev,
        "digest": event.digest,
        "anchor": anchor,
    }


def device_detail(session: Session, device: Device, events: list[Event]) -> dict[str, Any]:
    anchors = anchor_info(session, [e.seq for e in events if e.seq is not None])
    batch_code = None
    if device.batch_id is not None:
        batch = session.get(Batch, device.batch_id)
        batch_code = batch.code if batch else None
    return {
        **device_public(device),
        "attributes": device.attributes,
        "brand": device.brand,
        "model": device.model,
        "serial": device.serial,
        "source": device.source,
        "collected_weight_kg": grams_to_kg(device.collected_weight_g),
        "received_weight_kg": grams_to_kg(device.received_weight_g),
        "custodian": device.custodian,
        "destination": device.destination,
        "collected_by": device.collected_by,
        "dismantled_by": device.dismantled_by,
        "batch": batch_code,
        "line": device.line,
        "head_digest": device.head_digest,
        "events": [event_public(e, anchors.get(e.seq or -1)) for e in events],
    }
