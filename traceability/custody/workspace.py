"""The in-memory view one batch of events is checked and applied against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from ledger.canonical import digest_hex, event_content
from traceability.accounts.models import Organisation
from traceability.accounts.services import Principal
from traceability.catalog.models import Catalog
from traceability.custody.models import Event
from traceability.db import iso
from traceability.devices.models import Device, MintedId
from traceability.errors import ValidationFailed
from traceability.labels.ids import normalise_id
from traceability.lots.models import Lot
from traceability.savings.models import Batch

DEFAULT_TOLERANCE_PCT = Decimal(5)


@dataclass(frozen=True, slots=True)
class EventRef:
    """What later items of the same batch need to know of an event just queued."""

    id: str
    type: str
    org: str
    device: str | None
    lot: str | None
    digest: str


@dataclass
class Workspace:
    """The batch's view of the database, updated as items are accepted."""

    session: Session
    principal: Principal
    catalog: Catalog
    now: dt.datetime
    future_skew_s: int
    # Outputs may exceed the intake weight by this much (scale differences).
    dismantle_tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT
    events: dict[str, Event | EventRef] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    minted: dict[str, MintedId] = field(default_factory=dict)
    lots: dict[str, Lot] = field(default_factory=dict)
    open_lots: dict[str, Lot] = field(default_factory=dict)
    lot_numbers: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    new_lot_items: list[dict[str, Any]] = field(default_factory=list)

    # -- helpers used by the handlers -------------------------------------
    def parse_qr_id(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise ValidationFailed("qr_id must be a string", field="qr_id")
        # InvalidQrId / CheckCharacterMismatch are ValidationFailed errors.
        return normalise_id(raw)

    def append(
        self,
        *,
        event_id: str,
        type: str,
        occurred_at: dt.datetime,
        payload: dict[str, Any],
        prev: str | None,
        device: str | None = None,
        lot: str | None = None,
    ) -> str:
        """Hash and queue the event; returns its digest."""
        content = event_content(
            id=event_id,
            type=type,
            org=self.principal.org_code,
            actor=self.principal.username,
            occurred_at=iso(occurred_at),
            recorded_at=iso(self.now),
            payload=payload,
            prev=prev,
            device=device,
            lot=lot,
        )
        digest = digest_hex(content)
        row: dict[str, Any] = {
            "id": event_id,
            "type": type,
            "device": device,
            "lot": lot,
            "org": self.principal.org_code,
            "actor": self.principal.username,
            "occurred_at": occurred_at,
            "recorded_at": self.now,
            "payload": payload,
            "prev": prev,
            "digest": digest,
        }
        self.new_rows.append(row)
        self.events[event_id] = EventRef(
            id=event_id,
            type=type,
            org=self.principal.org_code,
            device=device,
            lot=lot,
            digest=digest,
        )
        return digest


def _next_lot_number(ws: Workspace, fraction: str) -> int:
    if fraction not in ws.lot_numbers:
        current = ws.session.exec(
            select(func.max(Lot.number)).where(
                Lot.org == ws.principal.org_code, Lot.fraction == fraction
            )
        ).one()
        ws.lot_numbers[fraction] = current or 0
    ws.lot_numbers[fraction] += 1
    return ws.lot_numbers[fraction]


def open_lot(ws: Workspace, fraction: str, when: dt.datetime) -> Lot:
    """The plant's open lot for a fraction, created on first use."""
    lot = ws.open_lots.get(fraction)
    if lot is None:
        number = _next_lot_number(ws, fraction)
        lot = Lot(
            code=f"{ws.principal.org_code}-{fraction}-{number:05d}",
            org=ws.principal.org_code,
            fraction=fraction,
            number=number,
            state="open",
            hazardous=ws.catalog.fractions[fraction].hazardous,
            created_at=when,
        )
        ws.session.add(lot)
        ws.lots[lot.code] = lot
        ws.open_lots[fraction] = lot
    return lot
