"""The in-memory view one batch of events is checked and applied against.

Devices and lots are plain records (not ORM objects: building and flushing
those cost more than all the checks), read with Core selects and written back
with one executemany per table and kind of change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, ClassVar, Literal

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlmodel import Session

from ledger.canonical import digest_hex, event_content
from traceability.accounts.licences import LicenceBook
from traceability.accounts.models import OrgKind, Principal
from traceability.catalog.models import Catalog
from traceability.custody.models import Event, EventType
from traceability.db import iso
from traceability.devices.models import Device
from traceability.labels.models import MintedId
from traceability.lots.models import Lot, LotItem, LotManifest, LotState, lot_code
from traceability.savings.models import Batch

DEFAULT_TOLERANCE_PCT = Decimal(5)


def table(model: Any) -> Table:
    return model.__table__


EVENT_TABLE = table(Event)
DEVICE_TABLE = table(Device)
LOT_TABLE = table(Lot)
LOT_ITEM_TABLE = table(LotItem)
LOT_MANIFEST_TABLE = table(LotManifest)
MINTED_TABLE = table(MintedId)
BATCH_TABLE = table(Batch)


@dataclass(frozen=True, slots=True)
class EventRef:
    """What later items of the same batch need to know of an event, recorded or queued."""

    id: str
    type: str
    org: str
    device: str | None
    lot: str | None
    digest: str


@dataclass(slots=True)
class DeviceRecord:
    """One ``device`` row as the handlers read and change it."""

    TABLE: ClassVar[Table] = DEVICE_TABLE
    KEY: ClassVar[str] = "qr_id"

    qr_id: str
    category: str
    attributes: dict[str, Any]
    state: str
    custodian: str
    collected_by: str
    collected_at: dt.datetime
    head_digest: str
    head_occurred_at: dt.datetime
    brand: str | None = None
    model: str | None = None
    serial: str | None = None
    source: str | None = None
    collected_weight_g: int | None = None
    received_weight_g: int | None = None
    destination: str | None = None
    received_by: str | None = None
    received_at: dt.datetime | None = None
    dismantled_by: str | None = None
    dismantled_at: dt.datetime | None = None
    batch_id: int | None = None
    line: str | None = None
    storage_area: str | None = None
    event_count: int = 0

    @property
    def key(self) -> str:
        return self.qr_id


@dataclass(slots=True)
class LotRecord:
    """One ``lot`` row as the handlers read and change it."""

    TABLE: ClassVar[Table] = LOT_TABLE
    KEY: ClassVar[str] = "code"

    code: str
    org: str
    fraction: str
    number: int
    state: str
    created_at: dt.datetime
    hazardous: bool = False
    weight_g: int = 0
    device_count: int = 0
    destination: str | None = None
    manifest_no: str | None = None
    cross_province: bool | None = None
    received_weight_g: int | None = None
    treatment: str | None = None
    shipped_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    head_digest: str | None = None
    head_occurred_at: dt.datetime | None = None
    event_count: int = 0

    @property
    def key(self) -> str:
        return self.code


Subject = DeviceRecord | LotRecord
# What dismantlings add to a lot: only ever increased, so written as increments
# (concurrent dismantlings into the same open lot commute) and not compared
# when a batch checks that the rows it read are unchanged.
COUNTERS = frozenset({"weight_g", "device_count"})
_COLUMNS: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in (DeviceRecord, LotRecord)
}


def row_values(kind: type[Subject], row: Any) -> dict[str, Any]:
    """A selected row's values, by the record's field names."""
    mapping = row._mapping
    return {name: mapping[name] for name in _COLUMNS[kind]}


def as_row(record: Subject) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _COLUMNS[type(record)]}


@dataclass(frozen=True, slots=True)
class BatchMember:
    """A device dismantled in a processing batch, as its closing checks it."""

    qr_id: str
    category: str
    attributes: dict[str, Any]
    received_weight_g: int | None
    dismantled_at: dt.datetime


def batch_subject(org: str, code: str) -> str:
    """A processing batch as the subject of its events: ``{org}/{code}``."""
    return f"{org}/{code}"


@dataclass(frozen=True, slots=True)
class OrgRef:
    code: str
    kind: OrgKind
    region: str | None = None


#: When licences are checked (``Settings.licence_checks``): ``registered`` — for an
#: organisation the register holds a licence of the kind for (refused when none covers
#: the step); ``strict`` — always (no licence: refused); ``off`` — never.
LicenceChecks = Literal["registered", "strict", "off"]


@dataclass
class Workspace:
    """The batch's view of the database, updated as items are accepted.

    ``principal`` and ``now`` are those of the submission being applied (one
    transaction may apply several, e.g. a day of the demo's handhelds); what
    belongs to a plant is keyed by its organisation code.
    """

    session: Session
    principal: Principal
    catalog: Catalog
    now: dt.datetime
    # Outputs may exceed the intake weight by this much (scale differences).
    dismantle_tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT
    licence_checks: LicenceChecks = "registered"
    # The licences of the plants submitting and of the processors shipped to (register).
    licences: LicenceBook = field(default_factory=LicenceBook)
    # Manifest numbers already used (number → lot), and each named lot's manifest rows.
    manifest_numbers: dict[str, str] = field(default_factory=dict)
    lot_manifests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[str, EventRef] = field(default_factory=dict)
    devices: dict[str, DeviceRecord] = field(default_factory=dict)
    minted: dict[str, str] = field(default_factory=dict)  # qr_id → org
    lots: dict[str, LotRecord] = field(default_factory=dict)
    open_lots: dict[tuple[str, str], LotRecord] = field(default_factory=dict)  # (org, fraction)
    lot_numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    orgs: dict[str, OrgRef] = field(default_factory=dict)
    batches: dict[tuple[str, str], int] = field(default_factory=dict)  # (org, code) → id
    # Batches named by a closing: their members (read, and added by this unit of work),
    # and which of all batches named are closed (SPEC §2.4 batch dismantling).
    batch_members: dict[tuple[str, str], dict[str, BatchMember]] = field(default_factory=dict)
    closed_batches: set[tuple[str, str]] = field(default_factory=set)
    # What the batch writes: new rows, and the keys of records it changed.
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    new_lot_items: list[dict[str, Any]] = field(default_factory=list)
    new_minted: list[dict[str, Any]] = field(default_factory=list)
    # Manifest rows: lots whose rows are replaced (a correction), new rows, weighed receipts.
    replaced_manifests: set[str] = field(default_factory=set)
    new_manifests: list[dict[str, Any]] = field(default_factory=list)
    manifest_receipts: list[dict[str, Any]] = field(default_factory=list)
    # Batches first named by this unit of work: when, and the devices put in them.
    new_batches: dict[tuple[str, str], tuple[dt.datetime, list[DeviceRecord]]] = field(
        default_factory=dict
    )
    created: set[tuple[type, str]] = field(default_factory=set)
    changed: dict[tuple[type, str], Subject] = field(default_factory=dict)
    # The rows as read, so that only the columns that changed are written back.
    loaded: dict[tuple[type, str], dict[str, Any]] = field(default_factory=dict)

    def load(self, kind: type[Subject], row: Any) -> Any:
        """The record of a row just read (device or lot)."""
        values = row_values(kind, row)
        record = kind(**values)
        self.loaded[kind, record.key] = values
        return record

    def append(
        self,
        *,
        event_id: str,
        type: EventType,
        occurred_at: dt.datetime,
        payload: dict[str, Any],
        prev: str | None,
        device: str | None = None,
        lot: str | None = None,
        batch: str | None = None,
    ) -> str:
        """Hash and queue the event; returns its digest."""
        org, actor = self.principal.org_code, self.principal.username
        content = event_content(
            id=event_id,
            type=str(type),
            org=org,
            actor=actor,
            occurred_at=iso(occurred_at),
            recorded_at=iso(self.now),
            payload=payload,
            prev=prev,
            device=device,
            lot=lot,
            batch=batch,
        )
        digest = digest_hex(content)
        self.new_rows.append(
            {
                "id": event_id,
                "type": str(type),
                "device": device,
                "lot": lot,
                "batch": batch,
                "org": org,
                "actor": actor,
                "occurred_at": occurred_at,
                "recorded_at": self.now,
                "payload": payload,
                "prev": prev,
                "digest": digest,
            }
        )
        self.events[event_id] = EventRef(event_id, str(type), org, device, lot, digest)
        return digest

    def add(self, record: Subject) -> None:
        """A new device or lot, inserted at the end of the batch."""
        self.created.add((type(record), record.key))
        self.changed[type(record), record.key] = record

    def touch(self, record: Subject) -> None:
        self.changed[type(record), record.key] = record

    def assign_batch(self, device: DeviceRecord, code: str, when: dt.datetime) -> None:
        """Put a device in this plant's processing batch, created (when written) if new."""
        key = (self.principal.org_code, code)
        members = self.batch_members.get(key)
        if members is not None:
            members[device.qr_id] = BatchMember(
                device.qr_id, device.category, device.attributes, device.received_weight_g, when
            )
        if key in self.batches:
            device.batch_id = self.batches[key]
        else:
            self.new_batches.setdefault(key, (when, []))[1].append(device)

    def write(self) -> None:
        """Everything the accepted items did: one executemany per table and kind."""
        conn = self.session.connection()
        for (org, code), (when, devices) in self.new_batches.items():
            result = conn.execute(
                insert(BATCH_TABLE)
                .values(org=org, code=code, created_at=when)
                .returning(BATCH_TABLE.c.id)
            )
            self.batches[org, code] = batch_id = int(result.scalar_one())
            for device in devices:
                device.batch_id = batch_id
        if self.new_minted:
            _insert(conn, MINTED_TABLE, self.new_minted)
        for kind in (DeviceRecord, LotRecord):
            new: list[dict[str, Any]] = []
            # Updates grouped by the columns they change: one executemany each.
            old: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for (k, key), record in self.changed.items():
                if k is not kind:
                    continue
                row = as_row(record)
                if (k, key) in self.created:
                    new.append(row)
                    continue
                before = self.loaded[k, key]
                columns = tuple(c for c, v in row.items() if v != before[c])
                if columns:
                    values = {c: row[c] for c in columns}
                    for c in COUNTERS.intersection(columns):  # written as increments
                        values[c] -= before[c]
                    old.setdefault(columns, []).append({"_key": key, **values})
            if new:
                _insert(conn, kind.TABLE, new)
            for columns, rows in old.items():
                statement = (
                    update(kind.TABLE)
                    .where(kind.TABLE.c[kind.KEY] == bindparam("_key"))
                    .values(
                        {
                            c: kind.TABLE.c[c] + bindparam(c) if c in COUNTERS else bindparam(c)
                            for c in columns
                        }
                    )
                )
                conn.execute(statement, rows)
        if self.new_rows:
            _insert(conn, EVENT_TABLE, self.new_rows)
        if self.new_lot_items:
            _insert(conn, LOT_ITEM_TABLE, self.new_lot_items)
        self._write_manifests(conn)

    def set_manifests(self, lot: LotRecord, rows: list[dict[str, Any]]) -> None:
        """The lot's manifest rows are ``rows`` from now (shipped, or corrected before receipt)."""
        if lot.code in self.lot_manifests:
            self.replaced_manifests.add(lot.code)
            self.new_manifests = [m for m in self.new_manifests if m["lot"] != lot.code]
        for number, owner in list(self.manifest_numbers.items()):
            if owner == lot.code:
                del self.manifest_numbers[number]
        self.lot_manifests[lot.code] = rows
        self.new_manifests += rows
        self.manifest_numbers.update((m["number"], lot.code) for m in rows)

    def weigh_manifests(self, lot: LotRecord, weighed: dict[str, int]) -> None:
        """The processor's weights of the lot's manifests (receipt, or its correction)."""
        for row in self.lot_manifests.get(lot.code, ()):
            row["received_weight_g"] = weighed.get(row["number"])
        self.manifest_receipts = [r for r in self.manifest_receipts if r["_lot"] != lot.code]
        self.manifest_receipts += [
            {"_lot": lot.code, "_number": n, "received_weight_g": g} for n, g in weighed.items()
        ]

    def _write_manifests(self, conn: Connection) -> None:
        manifests = LOT_MANIFEST_TABLE
        if self.replaced_manifests:
            conn.execute(
                manifests.delete().where(manifests.c.lot.in_(sorted(self.replaced_manifests)))
            )
        if self.new_manifests:
            _insert(conn, manifests, [{**m, "received_weight_g": None} for m in self.new_manifests])
        if self.manifest_receipts:
            conn.execute(
                update(manifests)
                .where(manifests.c.number == bindparam("_number"))
                .values(received_weight_g=bindparam("received_weight_g")),
                [{k: v for k, v in r.items() if k != "_lot"} for r in self.manifest_receipts],
            )


def _insert(conn: Connection, into: Table, rows: list[dict[str, Any]]) -> None:
    """Rows in bulk: one executemany (psycopg pipelines it on PostgreSQL)."""
    conn.execute(insert(into), rows)


def _next_lot_number(ws: Workspace, fraction: str) -> int:
    key = (ws.principal.org_code, fraction)
    if key not in ws.lot_numbers:
        current = (
            ws.session.connection()
            .execute(
                select(func.max(LOT_TABLE.c.number)).where(
                    LOT_TABLE.c.org == ws.principal.org_code, LOT_TABLE.c.fraction == fraction
                )
            )
            .scalar_one()
        )
        ws.lot_numbers[key] = current or 0
    ws.lot_numbers[key] += 1
    return ws.lot_numbers[key]


def open_lot(ws: Workspace, fraction: str, when: dt.datetime) -> LotRecord:
    """The plant's open lot for a fraction, created on first use."""
    lot = ws.open_lots.get((ws.principal.org_code, fraction))
    if lot is None:
        number = _next_lot_number(ws, fraction)
        lot = LotRecord(
            code=lot_code(ws.principal.org_code, fraction, number),
            org=ws.principal.org_code,
            fraction=fraction,
            number=number,
            state=LotState.open,
            # The lot's receipt must be confirmed: hazardous waste or a controlled substance.
            hazardous=ws.catalog.fractions[fraction].receipt_required,
            created_at=when,
        )
        ws.add(lot)
        ws.lots[lot.code] = lot
        ws.open_lots[lot.org, fraction] = lot
    return lot
