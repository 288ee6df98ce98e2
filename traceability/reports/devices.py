"""Reporting on a device: access rules, the public view and the full history.

What is reported about a device comes from its events (``custody.facts``),
never from the ``device`` row, which is only a cache for listing and
indexing. Each report carries whether those events verify, and names the
fields where the row disagrees with the log (a direct edit of the table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from ledger.errors import LedgerError
from traceability.accounts.models import Principal
from traceability.anchoring.connection import LedgerSource
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.anchoring.service import reader_ledger
from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.services import grams_to_kg
from traceability.custody.facts import DeviceFacts, projection_mismatch, replay
from traceability.custody.models import Event
from traceability.custody.wellformed import row_problem
from traceability.db import iso
from traceability.devices.models import Device
from traceability.errors import Forbidden
from traceability.labels.ids import format_id
from traceability.register.scope import readable_orgs
from traceability.reports.schemas import (
    AnchorInfo,
    CorrectionPublic,
    DeviceDetail,
    DevicePublic,
    EventPublic,
    FactsPublic,
    OutputPublic,
)
from traceability.savings.models import Batch
from traceability.verification.logs import Verification, verify_logs

_CHUNK = 5_000  # ids per IN (...) list
_LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]
_BATCH = AnchorBatch.__table__  # type: ignore[attr-defined]


def device_events(session: Session, qr_id: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.device == qr_id).order_by(col(Event.seq))))


def check_can_read(
    session: Session, principal: Principal, device: Device, events: list[Event]
) -> None:
    """Staff of any organisation on the device's path, auditors and admins of its region
    (as the register's events say: SPEC §2.8).

    The path is the log's (and the row's too, so a plant still sees its own
    device as failed when its log was destroyed).
    """
    involved = {e.org for e in events} | {
        str(e.payload["to"])
        for e in events
        if e.type == "shipped" and isinstance(e.payload, dict) and "to" in e.payload
    }
    involved |= {o for o in (device.custodian, device.collected_by, device.destination) if o}
    if not readable_orgs(session, principal, involved):
        raise Forbidden(
            f"device {device.qr_id} is outside your organisation's records", field="qr_id"
        )


# -- verification ----------------------------------------------------------


def open_reader(session: Session, ledger: LedgerSource) -> TrustedLedger:
    """The ledger to verify against, or one saying why it cannot be opened (unavailable)."""
    try:
        return reader_ledger(session, ledger)
    except LedgerError as exc:
        return TrustedLedger.unavailable(exc)


# -- reading one device ----------------------------------------------------


@dataclass(frozen=True)
class DeviceView:
    """A device as reported: facts from its log, their verification, and the row's drift."""

    device: Device
    events: list[Event]
    facts: DeviceFacts
    verification: Verification
    projection_mismatch: list[str]
    anchors: dict[int, AnchorInfo]


def anchor_rows(
    session: Session, seqs: Iterable[int]
) -> tuple[dict[int, tuple[int, int]], dict[int, AnchorInfo]]:
    """Leaf positions (for the verifier) and anchor info (for people), from one query.

    Only the batch columns people see are read: a batch's ``leaves`` (32 bytes
    per event) would otherwise be fetched again for every one of its events.
    """
    seqs = list(seqs)
    positions: dict[int, tuple[int, int]] = {}
    info: dict[int, AnchorInfo] = {}
    batches: dict[int, dict[str, Any]] = {}
    for start in range(0, len(seqs), _CHUNK):
        rows = session.execute(
            core_select(
                _LEAF.c.event_seq,
                _LEAF.c.batch_id,
                _LEAF.c.leaf_index,
                _BATCH.c.root,
                _BATCH.c.size,
                _BATCH.c.state,
                _BATCH.c.tx_hash,
                _BATCH.c.block_number,
            )
            .join(_BATCH, _LEAF.c.batch_id == _BATCH.c.id)
            .where(_LEAF.c.event_seq.in_(seqs[start : start + _CHUNK]))
        )
        for seq, batch_id, index, root, size, state, tx_hash, block in rows:
            positions[seq] = (batch_id, index)
            shared = batches.setdefault(
                batch_id,
                {"root": root, "size": size, "state": state, "tx_hash": tx_hash,
                 "block_number": block},
            )  # fmt: skip
            # Values straight from the database: built without validation (one per event).
            info[seq] = AnchorInfo.model_construct(leaf_index=index, **shared)
    return positions, info


def projected_batch(session: Session, device: Device) -> tuple[str, str] | None:
    """The (plant, code) of the batch the projection row points at."""
    if device.batch_id is None:
        return None
    batch = session.get(Batch, device.batch_id)
    return (batch.org, batch.code) if batch else ("?", f"#{device.batch_id}")


def read_device(
    session: Session,
    ledger: TrustedLedger,
    device: Device,
    events: list[Event] | None = None,
) -> DeviceView:
    """Replay and verify one device: one event query (none if ``events`` are given)."""
    if events is None:
        events = device_events(session, device.qr_id)
    facts = replay(device.qr_id, events)
    positions, anchors = anchor_rows(session, [e.seq for e in events if e.seq is not None])
    verification = verify_logs(
        session,
        ledger,
        {device.qr_id: events},
        {device.qr_id: device.head_digest},
        positions=positions,
    )[device.qr_id]
    mismatch = projection_mismatch(facts, device, projected_batch(session, device))
    return DeviceView(device, events, facts, verification, mismatch, anchors)


def device_public(
    device: Device | DeviceView, ledger: LedgerSource | None = None
) -> dict[str, Any]:
    """What anyone may see: no organisation names beyond codes, nothing personal.

    Given a bare ``Device`` (the public page), its log is read through the
    session the row belongs to and verified against the deployment's ``ledger``.
    """
    return device_summary(device, ledger).model_dump(mode="json")


def device_summary(device: Device | DeviceView, ledger: LedgerSource | None = None) -> DevicePublic:
    """``device_public`` as its model."""
    if isinstance(device, DeviceView):
        view = device
    else:
        session = Session.object_session(device)
        assert isinstance(session, Session), "device_public needs a row loaded by a session"
        assert ledger is not None, "device_public needs the ledger to verify a bare row against"
        view = read_device(session, open_reader(session, ledger), device)
    facts = view.facts
    return DevicePublic(
        qr_id=facts.qr_id,
        display_id=format_id(facts.qr_id),
        category=facts.category,
        state=facts.state,  # type: ignore[arg-type]  # validated into DeviceState
        collected_at=iso(facts.collected_at) if facts.collected_at else None,
        dismantled_at=iso(facts.dismantled_at) if facts.dismantled_at else None,
        event_count=facts.event_count,
        verified=view.verification.verified,
        verification=view.verification.status,  # type: ignore[arg-type]
    )


def event_public(event: Event, anchor: AnchorInfo | None) -> EventPublic:
    if (problem := row_problem(event)) is not None:
        return _malformed_public(event, anchor, problem)
    try:
        return _event_public(event, anchor)
    except ValueError as exc:  # well-formed, but a value no event can hold (a bad org code…)
        return _malformed_public(event, anchor, f"a value is not one an event can hold: {exc}")


def _malformed_public(event: Event, anchor: AnchorInfo | None, problem: str) -> EventPublic:
    """A row of a shape the log does not allow, listed as stored (its status: tampered)."""

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    def when(value: Any) -> str | None:
        return iso(value) if isinstance(value, dt.datetime) and value.tzinfo else None

    # Not validated: the row is listed as it is, whatever an administrator wrote into it.
    return EventPublic.model_construct(
        id=str(event.id), seq=event.seq, type=str(event.type), device=text(event.device),
        lot=text(event.lot), org=str(event.org), actor=str(event.actor),
        occurred_at=when(event.occurred_at), recorded_at=when(event.recorded_at),
        payload=event.payload if isinstance(event.payload, dict) else {},
        prev=text(event.prev), digest=str(event.digest), anchor=anchor, malformed=problem,
    )  # fmt: skip


def _event_public(event: Event, anchor: AnchorInfo | None) -> EventPublic:
    return EventPublic(
        id=event.id,
        seq=event.seq,
        type=event.type,
        device=event.device,
        lot=event.lot,
        org=event.org,
        actor=event.actor,
        occurred_at=iso(event.occurred_at),
        recorded_at=iso(event.recorded_at),
        payload=dict(event.payload),
        prev=event.prev,
        digest=event.digest,
        anchor=anchor,
    )


def facts_public(facts: DeviceFacts) -> FactsPublic:
    """The facts staff and auditors may read (weights in kg, as the API takes them)."""
    return FactsPublic(
        attributes=facts.attributes,
        brand=facts.brand,
        model=facts.model,
        serial=facts.serial,
        source=facts.source,
        collected_weight_kg=grams_to_kg(facts.collected_weight_g),
        received_weight_kg=grams_to_kg(facts.received_weight_g),
        custodian=facts.custodian,
        destination=facts.destination,
        collected_by=facts.collected_by,
        received_by=facts.received_by,
        received_at=iso(facts.received_at) if facts.received_at else None,
        dismantled_by=facts.dismantled_by,
        batch=facts.batch,
        line=facts.line,
        storage_area=facts.storage_area,
        outputs=[
            OutputPublic(fraction=o.fraction, weight_kg=grams_to_kg(o.weight_g) or Decimal(0))
            for o in facts.outputs
        ],
        corrections=[
            CorrectionPublic(
                id=c.id, corrects=c.corrects, reason=c.reason, fields=c.fields, flag=c.flag or None
            )
            for c in facts.corrections
        ],
        anomalies=list(facts.anomalies),
        head_digest=facts.head_digest,
    )


def device_detail(view: DeviceView) -> DeviceDetail:
    return DeviceDetail.model_validate(
        {
            **dict(device_summary(view)),
            **dict(facts_public(view.facts)),
            **view.verification.to_dict(),
            "projection_mismatch": view.projection_mismatch,
            "events": [event_public(e, view.anchors.get(e.seq or -1)) for e in view.events],
        }
    )
