"""Lot events: lot_shipped (the plant), lot_received and lot_treated (the processor)."""

from __future__ import annotations

from traceability.accounts.models import OrgKind
from traceability.catalog.services import kg_to_grams
from traceability.custody.checks import (
    MAX_LOT_KG,
    destination,
    lot_of,
    record,
    require_kind,
    when_after,
)
from traceability.custody.messages import LotReceived, LotShipped, LotTreated
from traceability.custody.models import EventType
from traceability.custody.workspace import LotRecord, Workspace
from traceability.errors import Conflict, InvalidTransition, NotCustodian
from traceability.lots.models import LotState


def lot_shipped(ws: Workspace, msg: LotShipped, event_id: str) -> str:
    lot = lot_of(ws, msg.lot)
    if lot.org != ws.principal.org_code:
        raise NotCustodian(f"lot {lot.code} belongs to another organisation", field="lot")
    if lot.state != LotState.open:
        raise InvalidTransition(lot.code, lot.state, EventType.lot_shipped)
    if lot.weight_g <= 0:
        raise Conflict(f"lot {lot.code} is empty", field="lot")
    to = destination(ws, msg.to, OrgKind.processor)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)

    payload = {"to": to, "manifest_no": msg.manifest_no}
    digest = record(ws, lot, event_id, EventType.lot_shipped, when, payload)
    lot.state, lot.destination, lot.manifest_no, lot.shipped_at = (
        LotState.shipped,
        to,
        msg.manifest_no,
        when,
    )
    ws.open_lots.pop((lot.org, lot.fraction), None)
    return digest


def _at_processor(ws: Workspace, lot: LotRecord, state: LotState, event_type: EventType) -> None:
    require_kind(ws, OrgKind.processor, action=event_type)
    if lot.destination != ws.principal.org_code:
        raise NotCustodian(
            f"lot {lot.code} was not shipped to {ws.principal.org_code}", field="lot"
        )
    if lot.state != state:
        raise InvalidTransition(lot.code, lot.state, event_type)


def lot_received(ws: Workspace, msg: LotReceived, event_id: str) -> str:
    lot = lot_of(ws, msg.lot)
    _at_processor(ws, lot, LotState.shipped, EventType.lot_received)
    weight_g = kg_to_grams(msg.weight_kg, field="weight_kg", max_kg=MAX_LOT_KG)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)

    digest = record(ws, lot, event_id, EventType.lot_received, when, {"weight_g": weight_g})
    lot.state, lot.received_weight_g, lot.received_at = LotState.received, weight_g, when
    return digest


def lot_treated(ws: Workspace, msg: LotTreated, event_id: str) -> str:
    lot = lot_of(ws, msg.lot)
    _at_processor(ws, lot, LotState.received, EventType.lot_treated)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)

    digest = record(ws, lot, event_id, EventType.lot_treated, when, {"method": msg.method})
    lot.state, lot.treatment = LotState.treated, msg.method
    return digest
