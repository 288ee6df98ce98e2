"""Batch reports and treated mass: membership, weights and categories from the event log.

A batch holds the devices whose ``dismantled`` event at its plant names it,
and each device weighs what its (corrected) ``received`` event says — never
what the ``device`` rows say. Every report says whether those events verify.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, Select
from sqlmodel import Session, col, select

from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import FactorSet
from traceability.catalog.services import GRAMS_PER_KG, grams_to_kg
from traceability.custody.closing import AsClosed, as_closed
from traceability.custody.facts import DeviceFacts, projection_mismatch
from traceability.custody.models import Event
from traceability.custody.workspace import batch_subject
from traceability.db import iso
from traceability.devices.models import Device
from traceability.errors import NotFound
from traceability.reports.schemas import (
    BatchClosingPublic,
    BatchDevice,
    BatchReport,
    CorrectionAfterClose,
    MismatchedDevice,
    OutputPublic,
    SavingsPublic,
    UnverifiedDevice,
)
from traceability.savings.models import Batch
from traceability.savings.services import Savings
from traceability.verification.logs import Verification, verify_logs
from traceability.verification.services import Verifier, leaf_positions

_CHUNK = 5_000  # ids per IN (...) list
_NO_LEDGER = TrustedLedger.off()  # what a report verifies against when given no ledger


def get_batch(session: Session, org: str, code: str) -> Batch:
    batch = session.exec(select(Batch).where(Batch.org == org, Batch.code == code)).first()
    if batch is None:
        raise NotFound(f"{org} has no batch {code}", field="code")
    return batch


@dataclass(frozen=True)
class Replayed:
    """Devices replayed from their logs, with verification and the rows' drift.

    ``facts``: the whole log (what the projection rows must agree with);
    ``closed``: as every figure reads a device (``custody.closing``: dismantled in
    a closed quarter, as recorded by its close).
    """

    facts: dict[str, DeviceFacts]
    verification: dict[str, Verification]
    mismatch: dict[str, list[str]]
    closed: dict[str, AsClosed]


def _replay_devices(
    session: Session,
    ledger: TrustedLedger,
    device_ids: Select[Any] | CompoundSelect[Any],
    *,
    now: dt.datetime,
) -> Replayed:
    """One query for every event of the selected devices, one verification pass."""
    logs: dict[str, list[Event]] = {}
    for event in session.exec(
        select(Event).where(col(Event.device).in_(device_ids)).order_by(col(Event.seq))
    ):
        logs.setdefault(event.device or "", []).append(event)
    rows = _rows(session, Device, Device.qr_id, logs)
    batch_ids = {r.batch_id for r in rows.values() if r.batch_id is not None}
    batches = _rows(session, Batch, Batch.id, batch_ids)
    heads = {qr_id: (row.head_digest if row else None) for qr_id, row in rows.items()}
    verification = verify_logs(session, ledger, logs, heads)
    closed = {qr_id: as_closed(qr_id, events, as_of=now) for qr_id, events in logs.items()}
    facts = {q: read.current or read.facts for q, read in closed.items()}
    mismatch = {}
    for qr_id, device_facts in facts.items():
        row = rows.get(qr_id)
        if row is None:
            mismatch[qr_id] = ["row_missing"]
            continue
        batch = batches.get(row.batch_id) if row.batch_id is not None else None
        projected = (batch.org, batch.code) if batch else None
        if row.batch_id is not None and batch is None:
            projected = ("?", f"#{row.batch_id}")
        mismatch[qr_id] = projection_mismatch(device_facts, row, projected)
    return Replayed(facts, verification, mismatch, closed)


def _rows(session: Session, model: Any, key: Any, ids: Iterable[Any]) -> dict[Any, Any]:
    ids = list(ids)
    out: dict[Any, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        for row in session.exec(select(model).where(col(key).in_(ids[start : start + _CHUNK]))):
            out[getattr(row, key.key)] = row
    return out


def _in_batch(batch: Batch) -> CompoundSelect[Any]:
    """Devices the log puts in the batch, and those the projection does (to catch either edit)."""
    named = col(Event.payload)["batch"].as_string() == batch.code
    by_log = select(Event.device).where(Event.org == batch.org, Event.type == "dismantled", named)
    by_row = select(Device.qr_id).where(Device.batch_id == batch.id)
    return by_log.union(by_row)


def _short(verification: Verification) -> dict[str, Any]:
    return {"verification": verification.status, "problem": verification.problem}


def _after_close(members: list[DeviceFacts], replayed: Replayed) -> list[CorrectionAfterClose]:
    out = []
    for f in members:
        read = replayed.closed[f.qr_id]
        for c in read.late:
            when = iso(c.occurred_at) if c.occurred_at else None
            out.append(
                CorrectionAfterClose(
                    qr_id=f.qr_id,
                    event=c.id,
                    corrects=c.corrects,
                    fields=sorted(c.fields),
                    reason=c.reason,
                    occurred_at=when,
                )
            )
    return out


def batch_report(
    session: Session,
    batch: Batch,
    factor_set: FactorSet,
    *,
    now: dt.datetime,
    ledger: TrustedLedger = _NO_LEDGER,
) -> BatchReport:
    """The batch's devices, treated mass (sum of intake weights) and savings, from the log.

    Read as every figure reads a device (``custody.closing``): dismantled in a
    quarter closed by ``now``, as recorded by its close; the corrections
    recorded after it are listed apart, with the change they would make.

    ``verified`` holds only when the events of every member, and of every
    device whose row claims membership, verify; ``unverified`` lists the
    others. ``projection_mismatch`` names the devices whose rows disagree with
    their logs, including rows that claim a membership the log does not record.
    """
    replayed = _replay_devices(session, ledger, _in_batch(batch), now=now)
    members = sorted(
        (
            read.facts
            for read in replayed.closed.values()
            if read.facts.batch == batch.code and read.facts.dismantled_by == batch.org
        ),
        key=lambda f: (f.dismantled_at or dt.datetime.min.replace(tzinfo=dt.UTC), f.qr_id),
    )
    mass_g = sum(f.received_weight_g or 0 for f in members)
    closes = [replayed.closed[f.qr_id].close for f in members]
    late_g = sum(replayed.closed[f.qr_id].late_weight_g for f in members)
    # Devices the projection alone puts in the batch count too: a log
    # edited to move a device out must not leave the batch "verified".
    unverified = [
        UnverifiedDevice(qr_id=qr_id, **_short(replayed.verification[qr_id]))
        for qr_id in sorted(replayed.facts)
        if not replayed.verification[qr_id].verified
    ]
    return BatchReport(
        org=batch.org,
        code=batch.code,
        device_count=len(members),
        mass_kg=Decimal(mass_g) / GRAMS_PER_KG,
        savings=SavingsPublic.model_validate(Savings(mass_g, factor_set).to_dict()),
        verified=not unverified,
        unverified=unverified,
        as_recorded_by=iso(max(c for c in closes if c)) if any(closes) else None,
        corrections_after_close=_after_close(members, replayed),
        mass_change_after_close_kg=Decimal(late_g) / GRAMS_PER_KG,
        projection_mismatch=[
            MismatchedDevice(qr_id=qr_id, fields=fields, **_short(replayed.verification[qr_id]))
            for qr_id, fields in sorted(replayed.mismatch.items())
            if fields
        ],
        devices=[_batch_device(f, replayed.verification[f.qr_id]) for f in members],
        closing=_closing(session, batch, ledger),
    )


def _closing(session: Session, batch: Batch, ledger: TrustedLedger) -> BatchClosingPublic | None:
    """The batch's closing event, verified (its subject's only event: no chain)."""
    subject = batch_subject(batch.org, batch.code)
    row = session.exec(select(Event).where(Event.batch == subject)).first()
    if row is None:
        return None
    verifier = Verifier.for_ledger(session, ledger)
    [status] = verifier.statuses([row], leaf_positions(session, [row.seq or 0]))
    payload = row.payload if isinstance(row.payload, dict) else {}
    outputs = [
        OutputPublic(
            fraction=str(o.get("fraction")), weight_kg=Decimal(o["weight_g"]) / GRAMS_PER_KG
        )
        for o in payload.get("outputs") or ()
        if isinstance(o, dict) and type(o.get("weight_g")) is int
    ]
    return BatchClosingPublic(
        event=row.id,
        closed_at=iso(row.occurred_at),
        outputs=outputs,
        outputs_kg=sum((o.weight_kg for o in outputs), Decimal(0)),
        verification=status,
    )


def _batch_device(f: DeviceFacts, verification: Verification) -> BatchDevice:
    return BatchDevice(
        qr_id=f.qr_id,
        category=f.category,
        weight_kg=grams_to_kg(f.received_weight_g),
        dismantled_at=iso(f.dismantled_at) if f.dismantled_at else None,
        **_short(verification),
        verified=verification.verified,
    )


@dataclass(frozen=True)
class TreatedMass:
    mass_g: int
    device_count: int
    verified: bool
    unverified: list[str]


def _dismantled_by(org: str, since: dt.datetime | None, until: dt.datetime | None) -> Select[Any]:
    query = select(Event.device).where(Event.org == org, Event.type == "dismantled")
    if since is not None:
        query = query.where(col(Event.occurred_at) >= since)
    if until is not None:
        query = query.where(col(Event.occurred_at) < until)
    return query


def treated_mass(
    session: Session,
    org: str,
    *,
    now: dt.datetime,
    ledger: TrustedLedger = _NO_LEDGER,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> TreatedMass:
    """Intake weight of every device the log says ``org`` dismantled (in [since, until)),
    each read as every figure reads it (``custody.closing``)."""
    replayed = _replay_devices(session, ledger, _dismantled_by(org, since, until), now=now)
    members = [r.facts for r in replayed.closed.values() if r.facts.dismantled_by == org]
    unverified = sorted(f.qr_id for f in members if not replayed.verification[f.qr_id].verified)
    return TreatedMass(
        mass_g=sum(f.received_weight_g or 0 for f in members),
        device_count=len(members),
        verified=not unverified,
        unverified=unverified,
    )
