"""What a unit of work reads before it checks its items, and whether it still holds.

Everything the batch touches is read up front, in a handful of IN queries:
with row locks (PostgreSQL, in key order) when it holds the write lock, or
without on the optimistic first try, which ``unchanged`` then confirms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from traceability.accounts.licences import LICENCE_TYPES, replay_licences
from traceability.accounts.models import Organisation, OrgKind
from traceability.custody.messages import BatchClosed, Corrected, Dismantled, LotShipped
from traceability.custody.parsing import ParsedSubmission
from traceability.custody.workspace import (
    BATCH_TABLE,
    DEVICE_TABLE,
    EVENT_TABLE,
    LOT_MANIFEST_TABLE,
    LOT_TABLE,
    MINTED_TABLE,
    BatchMember,
    DeviceRecord,
    EventRef,
    LotRecord,
    OrgRef,
    Workspace,
    batch_subject,
    table,
)
from traceability.lots.models import LotState

ORG_TABLE = table(Organisation)


def _load_events(ws: Workspace, ids: set[str]) -> None:
    if ids:
        columns = [EVENT_TABLE.c[n] for n in ("id", "type", "org", "device", "lot", "digest")]
        rows = ws.session.connection().execute(select(*columns).where(EVENT_TABLE.c.id.in_(ids)))
        for row in rows:
            ws.events[row.id] = EventRef(*row)


@dataclass
class Reads:
    """What a unit of work looked up: compared again under the write lock (optimistic path)."""

    ids: set[str] = field(default_factory=set)
    qr: set[str] = field(default_factory=set)
    lots: set[str] = field(default_factory=set)
    plants: set[str] = field(default_factory=set)
    found: set[str] = field(default_factory=set)  # of ``ids``, those already recorded
    manifests: set[str] = field(default_factory=set)  # manifest numbers named
    licensed: bool = False  # a step the licences decide (a dismantling, a lot shipment)
    # Batches named (by this plant's code) and what was found of them: closed, and members.
    batches: set[str] = field(default_factory=set)
    batch_state: dict[str, tuple[bool, int]] = field(default_factory=dict)


def _select_devices(conn: Connection, qr: set[str], *, lock: bool) -> Any:
    # Rows are locked in key order, so two batches never deadlock on each other.
    query = select(DEVICE_TABLE).where(DEVICE_TABLE.c.qr_id.in_(qr))
    query = query.order_by(DEVICE_TABLE.c.qr_id)
    return conn.execute(query.with_for_update() if lock else query)


def _select_lots(conn: Connection, reads: Reads, *, lock: bool) -> Any:
    """The lots named, and every open lot of the plants submitting (they may fill them)."""
    query = select(LOT_TABLE).where(
        LOT_TABLE.c.code.in_(reads.lots)
        | (LOT_TABLE.c.org.in_(reads.plants) & (LOT_TABLE.c.state == LotState.open))
    )
    query = query.order_by(LOT_TABLE.c.code)
    return conn.execute(query.with_for_update() if lock else query)


def _named(batches_in: Sequence[ParsedSubmission], reads: Reads) -> tuple[set[str], set[str]]:
    """Add the events, devices and lots the items name to ``reads``; the organisations
    they ship to and the dismantling batches they name."""
    orgs: set[str] = set()
    batches: set[str] = set()
    for p in (p for b in batches_in for p in b.items):
        if p.event_id is not None:
            reads.ids.add(p.event_id)
        m = p.message
        if m is None:
            continue
        if isinstance(m, Corrected):
            reads.ids.add(m.corrects)
        if (qr_id := getattr(m, "qr_id", None)) is not None:
            reads.qr.add(qr_id)
        if (lot := getattr(m, "lot", None)) is not None:
            reads.lots.add(lot)
        if (to := getattr(m, "to", None)) is not None:
            orgs.add(to)
        if (batch := getattr(m, "batch", None)) is not None:
            batches.add(batch)
        if isinstance(m, LotShipped):
            reads.manifests.update(item.number for item in m.manifests)
        if isinstance(m, Corrected) and isinstance(m.fields.get("manifests"), list):
            reads.manifests.update(
                str(item.get("number")) for item in m.fields["manifests"] if isinstance(item, dict)
            )
        reads.licensed |= isinstance(m, Dismantled | LotShipped | Corrected)
    return orgs, batches


def _load_manifests(ws: Workspace, reads: Reads) -> None:
    """The manifest rows of the lots named, and which lot uses each number named."""
    table_ = LOT_MANIFEST_TABLE
    conn = ws.session.connection()
    columns = [c for c in table_.c if c.name != "id"]
    query = select(*columns).where(
        table_.c.lot.in_(sorted(reads.lots)) | table_.c.number.in_(sorted(reads.manifests))
    )
    for row in conn.execute(query.order_by(table_.c.id)):
        values = dict(row._mapping)
        ws.manifest_numbers[values["number"]] = values["lot"]
        if values["lot"] in reads.lots:
            ws.lot_manifests.setdefault(values["lot"], []).append(values)


def _load_licences(ws: Workspace, codes: set[str]) -> None:
    """The licences of the organisations a step is checked against (the register's events)."""
    events = EVENT_TABLE
    query = select(events.c.id, events.c.type, events.c.organisation, events.c.payload).where(
        events.c.organisation.in_(sorted(codes)), events.c.type.in_(sorted(LICENCE_TYPES))
    )
    ws.licences = replay_licences(ws.session.connection().execute(query.order_by(events.c.seq)))


def preload(ws: Workspace, batches_in: Sequence[ParsedSubmission], *, lock: bool) -> Reads:
    conn = ws.session.connection()
    reads = Reads(plants={b.submission.principal.org_code for b in batches_in})
    orgs, batches = _named(batches_in, reads)
    _load_events(ws, reads.ids)
    # Corrections may name events of devices/lots not otherwise mentioned.
    for ev in ws.events.values():
        if ev.device:
            reads.qr.add(ev.device)
        if ev.lot:
            reads.lots.add(ev.lot)
    if reads.qr:
        rows = _select_devices(conn, reads.qr, lock=lock)
        ws.devices = {r.qr_id: ws.load(DeviceRecord, r) for r in rows}
        minted = conn.execute(
            select(MINTED_TABLE.c.qr_id, MINTED_TABLE.c.org).where(
                MINTED_TABLE.c.qr_id.in_(reads.qr)
            )
        )
        ws.minted = {r.qr_id: r.org for r in minted}
    for r in _select_lots(conn, reads, lock=lock):
        lot_record: LotRecord = ws.load(LotRecord, r)
        ws.lots[lot_record.code] = lot_record
        if lot_record.state == LotState.open:
            ws.open_lots[lot_record.org, lot_record.fraction] = lot_record
    if lock:
        # Read the ids again now that the subjects are locked: a concurrent batch
        # that held the locks may have committed these very events meanwhile, and
        # they must show as duplicates, not be checked against the moved-on state.
        _load_events(ws, reads.ids)
    reads.found = set(ws.events)
    if orgs:
        found = conn.execute(
            select(ORG_TABLE.c.code, ORG_TABLE.c.kind, ORG_TABLE.c.region).where(
                ORG_TABLE.c.code.in_(orgs)
            )
        )
        ws.orgs = {r.code: OrgRef(r.code, OrgKind(r.kind), r.region) for r in found}
    if reads.lots or reads.manifests:
        _load_manifests(ws, reads)
    if reads.licensed and ws.licence_checks != "off":
        shipped_to = {lot.destination for lot in ws.lots.values() if lot.destination}
        _load_licences(ws, reads.plants | orgs | shipped_to)
    if batches:
        reads.batches = batches
        _load_batches(ws, batches_in, reads, lock=lock)
    return reads


BatchIds = dict[tuple[str, str], int]


def _batch_state(
    ws: Workspace, reads: Reads, *, lock: bool
) -> tuple[BatchIds, set[tuple[str, str]], dict[str, tuple[bool, int]]]:
    """The batches named: their ids, which are closed, and of each (``{org}/{code}``)
    whether it is closed and its member count. Locked in key order on PostgreSQL, so a
    closing and a dismantling into the same batch serialise."""
    conn = ws.session.connection()
    query = select(BATCH_TABLE.c.org, BATCH_TABLE.c.code, BATCH_TABLE.c.id).where(
        BATCH_TABLE.c.org.in_(reads.plants), BATCH_TABLE.c.code.in_(reads.batches)
    )
    query = query.order_by(BATCH_TABLE.c.id)
    found = conn.execute(query.with_for_update() if lock else query)
    ids: BatchIds = {(r.org, r.code): r.id for r in found}
    subjects = {batch_subject(org, code): (org, code) for org, code in ids}
    events = EVENT_TABLE.c
    closed = set(conn.execute(select(events.batch).where(events.batch.in_(subjects))).scalars())
    devices = DEVICE_TABLE.c
    counts: dict[int, int] = dict(
        conn.execute(
            select(devices.batch_id, func.count())
            .where(devices.batch_id.in_(list(ids.values())))
            .group_by(devices.batch_id)
        ).all()
    )
    state = {s: (s in closed, counts.get(ids[key], 0)) for s, key in subjects.items()}
    return ids, {subjects[s] for s in closed}, state


def _load_batches(
    ws: Workspace, batches_in: Sequence[ParsedSubmission], reads: Reads, *, lock: bool
) -> None:
    """The batches named, and the members of those a closing names."""
    ws.batches, ws.closed_batches, reads.batch_state = _batch_state(ws, reads, lock=lock)
    closing = {
        (b.submission.principal.org_code, p.message.batch)
        for b in batches_in
        for p in b.items
        if isinstance(p.message, BatchClosed)
    }
    for key in closing:
        ws.batch_members[key] = {}
    ids = {ws.batches[key]: key for key in closing if key in ws.batches}
    if not ids:
        return
    d = DEVICE_TABLE.c
    rows = ws.session.connection().execute(
        select(d.batch_id, d.qr_id, d.category, d.attributes, d.received_weight_g, d.dismantled_at)
        .where(d.batch_id.in_(list(ids)))
        .order_by(d.qr_id)
    )
    for r in rows:
        ws.batch_members[ids[r.batch_id]][r.qr_id] = BatchMember(
            r.qr_id, r.category, r.attributes, r.received_weight_g, r.dismantled_at
        )


def _heads(conn: Connection, query: Any) -> dict[str, str | None]:
    return {key: head for key, head in conn.execute(query)}


def unchanged(ws: Workspace, reads: Reads) -> bool:
    """Under the write lock (rows locked on PostgreSQL): is all that was read still so?

    A device or lot row changes only with an event on its chain, which moves
    its head digest (what dismantlings add to a lot is written as increments,
    which commute); so the heads are compared, and the event ids found again.
    What else a concurrent writer may have added (a device, a lot number, a
    batch, an event id) trips a unique constraint on insert, and the batch replays.
    """
    conn = ws.session.connection()
    then: dict[type, dict[str, str | None]] = {DeviceRecord: {}, LotRecord: {}}
    for (kind, key), values in ws.loaded.items():
        then[kind][key] = values["head_digest"]
    if reads.qr:
        devices = DEVICE_TABLE.c
        query = select(devices.qr_id, devices.head_digest).where(devices.qr_id.in_(reads.qr))
        if _heads(conn, query.order_by(devices.qr_id).with_for_update()) != then[DeviceRecord]:
            return False
    lots = LOT_TABLE.c
    query = select(lots.code, lots.head_digest).where(
        lots.code.in_(reads.lots) | (lots.org.in_(reads.plants) & (lots.state == LotState.open))
    )
    if _heads(conn, query.order_by(lots.code).with_for_update()) != then[LotRecord]:
        return False
    if reads.batches and _batch_state(ws, reads, lock=True)[2] != reads.batch_state:
        return False
    if not reads.ids:
        return True
    found = conn.execute(select(EVENT_TABLE.c.id).where(EVENT_TABLE.c.id.in_(reads.ids)))
    return set(found.scalars()) == reads.found
