"""Recording a batch of events: one unit of work, all-or-nothing per item.

Everything the batch touches is read up front (a handful of IN queries, with
row locks on PostgreSQL), every item is checked against that in-memory view
and, only if all its checks pass, applied to it; the accepted events are then
inserted in bulk and committed once. A lost race (unique violation) rolls
back and replays the batch, so a retried or concurrent id is a ``duplicate``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from traceability import limits
from traceability.accounts.models import Organisation
from traceability.accounts.services import Principal
from traceability.catalog.models import Catalog
from traceability.custody import fields
from traceability.custody.corrections import corrected
from traceability.custody.handlers import HANDLERS as STEP_HANDLERS
from traceability.custody.handlers import subject_of
from traceability.custody.models import Event
from traceability.custody.workspace import DEFAULT_TOLERANCE_PCT, EventRef, Workspace
from traceability.db import begin_write, utcnow
from traceability.devices.models import Device, MintedId
from traceability.errors import TraceabilityError, ValidationFailed
from traceability.labels.ids import InvalidQrId, normalise_id
from traceability.lots.models import Lot, LotItem
from traceability.savings.models import Batch

MAX_ATTEMPTS = 3
EVENT_TABLE = Event.__table__  # type: ignore[attr-defined]
LOT_ITEM_TABLE = LotItem.__table__  # type: ignore[attr-defined]
HANDLERS = {**STEP_HANDLERS, "corrected": corrected}


@dataclass
class ItemResult:
    id: str | None
    status: str  # created | duplicate | rejected
    digest: str | None = None
    qr_id: str | None = None
    lot: str | None = None
    error: dict[str, Any] | None = None
    status_code: int = 200

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        for key in ("digest", "qr_id", "lot", "error"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _canonical_uuid(raw: Any) -> str | None:
    try:
        return str(uuid.UUID(raw)) if isinstance(raw, str) else None
    except ValueError:
        return None


def _parsed(parse: Callable[[Mapping[str, Any], str], str | None], item: Any, name: str) -> Any:
    """The value as its handler will parse it, or None if the handler will refuse it."""
    try:
        return parse(item, name) if item.get(name) is not None else None
    except ValidationFailed:
        return None


def _collect_refs(items: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """What the items name, as their handlers will read it: never a value they will refuse."""
    refs: dict[str, set[str]] = {k: set() for k in ("ids", "qr", "lots", "orgs", "batches")}
    for item in items:
        if not isinstance(item, Mapping):
            continue
        try:
            limits.check_strings(item, "", root="events")
        except ValidationFailed:
            continue  # rejected before any lookup
        # The same canonical form fields.event_id gives (any UUID spelling).
        for key in ("id", "corrects"):
            event_id = _canonical_uuid(item.get(key))
            if event_id is not None:
                refs["ids"].add(event_id)
        if isinstance(item.get("qr_id"), str):
            with contextlib.suppress(InvalidQrId):
                refs["qr"].add(normalise_id(item["qr_id"]))
        for key, name, parse in (
            ("lots", "lot", fields.lot_code),
            ("orgs", "to", fields.org_code),
            ("batches", "batch", fields.code),
        ):
            value = _parsed(parse, item, name)
            if value is not None:
                refs[key].add(value)
    return refs


def _load_events(ws: Workspace, ids: set[str]) -> None:
    if ids:
        for ev in ws.session.exec(select(Event).where(col(Event.id).in_(ids))):
            ws.events[ev.id] = ev


def _preload(ws: Workspace, items: Sequence[Mapping[str, Any]]) -> None:
    session, org = ws.session, ws.principal.org_code
    refs = _collect_refs(items)
    _load_events(ws, refs["ids"])
    # Corrections may name events of devices/lots not otherwise mentioned.
    for ev in list(ws.events.values()):
        if ev.device:
            refs["qr"].add(ev.device)
        if ev.lot:
            refs["lots"].add(ev.lot)
    if refs["qr"]:
        # Rows are locked in key order, so two batches never deadlock on each other.
        query = (
            select(Device)
            .where(col(Device.qr_id).in_(refs["qr"]))
            .order_by(col(Device.qr_id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        ws.devices = {d.qr_id: d for d in session.exec(query)}
        minted = select(MintedId).where(col(MintedId.qr_id).in_(refs["qr"]))
        ws.minted = {m.qr_id: m for m in session.exec(minted)}
    lots = session.exec(
        select(Lot)
        .where((col(Lot.code).in_(refs["lots"])) | ((Lot.org == org) & (Lot.state == "open")))
        .order_by(col(Lot.code))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for lot in lots:
        ws.lots[lot.code] = lot
        if lot.org == org and lot.state == "open":
            ws.open_lots[lot.fraction] = lot
    # Read the ids again now that the subjects are locked: a concurrent batch
    # that held the locks may have committed these very events meanwhile, and
    # they must show as duplicates, not be checked against the moved-on state.
    _load_events(ws, refs["ids"])
    if refs["orgs"]:
        orgs = session.exec(select(Organisation).where(col(Organisation.code).in_(refs["orgs"])))
        ws.orgs = {o.code: o for o in orgs}
    if refs["batches"]:
        batches = session.exec(
            select(Batch).where(Batch.org == org, col(Batch.code).in_(refs["batches"]))
        )
        ws.batches = {b.code: b for b in batches}


def _apply_one(ws: Workspace, item: Any, *, id_required: bool) -> ItemResult:
    raw_id = item.get("id") if isinstance(item, Mapping) else None
    try:
        if not isinstance(item, Mapping):
            raise ValidationFailed("each event must be an object", field="events")
        # Before any field is read: nothing unstorable reaches a query or a row.
        limits.check_strings(item, "", root="events")
        event_id = fields.event_id(item, required=id_required)
        existing = ws.events.get(event_id) if event_id else None
        if existing is not None:
            return _duplicate(ws, existing, item)
        kind = item.get("type")
        handler = HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise ValidationFailed(f"type must be one of {', '.join(HANDLERS)}", field="type")
        if event_id is None:
            event_id = str(uuid.uuid4())
        digest = handler(ws, item, event_id)
        device, lot = subject_of(ws.events[event_id])
        return ItemResult(
            id=event_id, status="created", digest=digest, qr_id=device, lot=lot, status_code=201
        )
    except TraceabilityError as exc:
        return ItemResult(
            id=raw_id if isinstance(raw_id, str) else None,
            status="rejected",
            error=exc.to_dict(),
            status_code=exc.status,
        )


def _duplicate(ws: Workspace, existing: Event | EventRef, item: Mapping[str, Any]) -> ItemResult:
    if item.get("type") != existing.type or existing.org != ws.principal.org_code:
        # Another organisation's event is neither confirmed nor described.
        used_for = (
            f"a '{existing.type}' event"
            if existing.org == ws.principal.org_code
            else "another organisation's event"
        )
        error = ValidationFailed(f"id {existing.id} was already used for {used_for}", field="id")
        error.code, error.status = "id_conflict", 409
        return ItemResult(id=existing.id, status="rejected", error=error.to_dict(), status_code=409)
    return ItemResult(
        id=existing.id,
        status="duplicate",
        digest=existing.digest,
        qr_id=existing.device,
        lot=existing.lot,
    )


def _write(ws: Workspace) -> None:
    ws.session.flush()  # devices, lots, batches, minted ids
    if ws.new_rows:
        # Core insert on the table: no ORM bookkeeping for rows never read back.
        ws.session.connection().execute(insert(EVENT_TABLE), ws.new_rows)
    if ws.new_lot_items:
        ws.session.connection().execute(insert(LOT_ITEM_TABLE), ws.new_lot_items)


def record_events(
    *,
    session: Session,
    principal: Principal,
    catalog: Catalog,
    items: Sequence[Any],
    id_required: bool = True,
    future_skew_s: int = 300,
    dismantle_tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT,
    now: dt.datetime | None = None,
) -> list[ItemResult]:
    """Record each item all-or-nothing; commit the accepted ones together."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        begin_write(session)
        ws = Workspace(
            session=session,
            principal=principal,
            catalog=catalog,
            now=now or utcnow(),
            future_skew_s=future_skew_s,
            dismantle_tolerance_pct=dismantle_tolerance_pct,
        )
        try:
            _preload(ws, [i for i in items if isinstance(i, Mapping)])
            results = [_apply_one(ws, item, id_required=id_required) for item in items]
            _write(ws)
            session.commit()
            return results
        except (IntegrityError, OperationalError) as exc:
            # A concurrent writer took an id or a QR ID first (or PostgreSQL
            # chose us as a deadlock/serialisation victim): replay against the
            # committed state, where the winner's events show as duplicates.
            session.rollback()
            if attempt == MAX_ATTEMPTS or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate in ("40P01", "40001")  # deadlock_detected, serialization_failure
