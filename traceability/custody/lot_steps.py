"""Lot events: lot_shipped and stocktake (the plant), lot_received, lot_treated (the processor)."""

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
from traceability.custody.manifest_steps import (
    crosses_province,
    manifest_rows,
    received_manifests,
    shipped_manifests,
)
from traceability.custody.messages import LotReceived, LotShipped, LotTreated, Stocktake
from traceability.custody.models import EventType
from traceability.custody.workspace import LotRecord, Workspace
from traceability.errors import Conflict, InvalidTransition, NotCustodian, ValidationFailed
from traceability.lots.models import LotState


def _own_open_lot(ws: Workspace, code: str, event_type: EventType) -> LotRecord:
    lot = lot_of(ws, code)
    if lot.org != ws.principal.org_code:
        raise NotCustodian(f"lot {lot.code} belongs to another organisation", field="lot")
    if lot.state != LotState.open:
        raise InvalidTransition(lot.code, lot.state, event_type)
    return lot


def lot_shipped(ws: Workspace, msg: LotShipped, event_id: str) -> str:
    """The lot leaves on its manifests' trucks: each manifest checked, the processor's licence
    too; the shipment says whether it crosses a provincial border."""
    lot = _own_open_lot(ws, msg.lot, EventType.lot_shipped)
    if lot.weight_g <= 0:
        raise Conflict(f"lot {lot.code} is empty", field="lot")
    to = destination(ws, msg.to, OrgKind.processor)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)
    manifests = shipped_manifests(ws, lot, msg.manifests, to=to, when=when)
    cross = crosses_province(ws, to)

    payload: dict[str, object] = {"to": to, "manifests": manifests}
    if cross is not None:
        payload["cross_province"] = cross
    digest = record(ws, lot, event_id, EventType.lot_shipped, when, payload)
    lot.state, lot.destination, lot.shipped_at = LotState.shipped, to, when
    lot.manifest_no, lot.cross_province = manifests[0]["number"], cross
    ws.set_manifests(lot, manifest_rows(lot, manifests))
    ws.open_lots.pop((lot.org, lot.fraction), None)
    return digest


def stocktake(ws: Workspace, msg: Stocktake, event_id: str) -> str:
    """The plant weighs what is in store of an open lot (盘点); the lot stays open."""
    require_kind(ws, OrgKind.dismantler, action=EventType.stocktake)
    lot = _own_open_lot(ws, msg.lot, EventType.stocktake)
    weight_g = kg_to_grams(msg.weight_kg, field="weight_kg", max_kg=MAX_LOT_KG)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)

    return record(ws, lot, event_id, EventType.stocktake, when, {"weight_g": weight_g})


def _at_processor(ws: Workspace, lot: LotRecord, state: LotState, event_type: EventType) -> None:
    require_kind(ws, OrgKind.processor, action=event_type)
    if lot.destination != ws.principal.org_code:
        raise NotCustodian(
            f"lot {lot.code} was not shipped to {ws.principal.org_code}", field="lot"
        )
    if lot.state != state:
        raise InvalidTransition(lot.code, lot.state, event_type)


def _receipt(ws: Workspace, lot: LotRecord, msg: LotReceived) -> dict[str, object]:
    """Each manifest weighed; a lot shipped before manifests were lists, as a whole."""
    if lot.code in ws.lot_manifests:
        if msg.manifests is None:
            raise ValidationFailed(
                "manifests is required: weigh each manifest of the lot [{number, weight_kg}]",
                field="manifests",
            )
        if msg.weight_kg is not None:
            raise ValidationFailed(
                "weigh the lot per manifest (manifests), not as a whole", field="weight_kg"
            )
        weighed = received_manifests(ws, lot, msg.manifests)
        return {"manifests": weighed, "weight_g": sum(m["weight_g"] for m in weighed)}
    if msg.manifests is not None:
        raise ValidationFailed(
            f"lot {lot.code} was shipped without a manifest list: weigh it as a whole (weight_kg)",
            field="manifests",
        )
    if msg.weight_kg is None:
        raise ValidationFailed("weight_kg is required: weigh the lot on receipt", field="weight_kg")
    return {"weight_g": kg_to_grams(msg.weight_kg, field="weight_kg", max_kg=MAX_LOT_KG)}


def lot_received(ws: Workspace, msg: LotReceived, event_id: str) -> str:
    lot = lot_of(ws, msg.lot)
    _at_processor(ws, lot, LotState.shipped, EventType.lot_received)
    payload = _receipt(ws, lot, msg)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)

    digest = record(ws, lot, event_id, EventType.lot_received, when, payload)
    lot.state, lot.received_at = LotState.received, when
    lot.received_weight_g = payload["weight_g"]  # type: ignore[assignment]
    if "manifests" in payload:
        weighed = {m["number"]: m["weight_g"] for m in payload["manifests"]}  # type: ignore[attr-defined]
        ws.weigh_manifests(lot, weighed)
    return digest


def lot_treated(ws: Workspace, msg: LotTreated, event_id: str) -> str:
    lot = lot_of(ws, msg.lot)
    _at_processor(ws, lot, LotState.received, EventType.lot_treated)
    when = when_after(ws, msg.occurred_at, lot.head_occurred_at)

    digest = record(ws, lot, event_id, EventType.lot_treated, when, {"method": msg.method})
    lot.state, lot.treatment = LotState.treated, msg.method
    return digest
