"""Reading devices: access rules, the public view and the full history.

What is reported about a device comes from its events (``custody.facts``),
never from the ``device`` row, which is only a cache for listing and
indexing. Each report carries whether those events verify, and names the
fields where the row disagrees with the log (a direct edit of the table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ledger.errors import LedgerError
from traceability.accounts.models import Organisation
from traceability.accounts.services import REGULATOR_ROLES, Principal, can_read_region
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.catalog.services import grams_to_kg
from traceability.custody.facts import DeviceFacts, projection_mismatch, replay
from traceability.custody.models import Event
from traceability.db import iso
from traceability.devices.models import Device
from traceability.errors import Forbidden, UnknownDevice
from traceability.labels.ids import format_id, normalise_id
from traceability.savings.models import Batch
from traceability.verification.services import (
    MISSING_ON_CHAIN,
    PENDING,
    VERIFIED,
    AnyLedger,
    Verifier,
    completeness_problem,
    leaf_positions,
    missing_on_chain_hint,
    short_batches,
)

FAILED, UNKNOWN = "failed", "unknown"
_CHUNK = 5_000  # ids per IN (...) list


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
    """Staff of any organisation on the device's path, auditors and admins of its region.

    The path is the log's (and the row's too, so a plant still sees its own
    device as failed when its log was destroyed).
    """
    involved = {e.org for e in events} | {
        str(e.payload["to"]) for e in events if e.type == "shipped" and "to" in e.payload
    }
    involved |= {o for o in (device.custodian, device.collected_by, device.destination) if o}
    if principal.role in REGULATOR_ROLES:
        regions = session.exec(
            select(Organisation.region).where(col(Organisation.code).in_(involved))
        ).all()
        if any(can_read_region(principal, r) for r in regions):
            return
    elif principal.org_code in involved:
        return
    raise Forbidden(f"device {device.qr_id} is outside your organisation's records", field="qr_id")


# -- verification ----------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Whether one device's events verify: ``verified``, ``pending``, ``failed`` or ``unknown``.

    ``pending``: nothing is wrong but not every event is anchored yet;
    ``unknown``: the ledger could not be asked.
    """

    status: str
    events: tuple[tuple[str, str], ...] = ()  # (event id, status)
    problem: str | None = None

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "verification": self.status,
            "unverified_events": [{"id": i, "status": s} for i, s in self.events if s != VERIFIED],
            **({"verification_problem": self.problem} if self.problem else {}),
        }


def open_reader(session: Session) -> tuple[AnyLedger, str | None]:
    """The ledger to verify against (None when off), or why it cannot be opened."""
    from traceability.anchoring.service import reader_ledger  # Flask-bound: views only

    try:
        return reader_ledger(session), None
    except LedgerError as exc:
        return None, f"ledger unavailable: {exc}"


def verify_logs(
    session: Session,
    ledger: AnyLedger,
    logs: Mapping[str, Sequence[Event]],
    heads: Mapping[str, str | None],
    *,
    positions: Mapping[int, tuple[int, int]] | None = None,
    ledger_problem: str | None = None,
) -> dict[str, Verification]:
    """Verify many devices' events in one pass: one leaf query, one chain lookup per batch.

    The same checks as ``verify_device``, shared across devices: ``heads``
    holds each device's recorded chain head (deleting the latest event is
    noticed), anchor batches short of rows and a failed completeness check
    make their devices fail. ``positions`` may be passed when already read.
    """
    if ledger_problem is not None:
        return {qr_id: Verification(UNKNOWN, problem=ledger_problem) for qr_id in logs}
    leaves = (
        dict(positions)
        if positions is not None
        else leaf_positions(session, [e.seq for rows in logs.values() for e in rows if e.seq])
    )
    verifier = Verifier.for_ledger(session, ledger)
    short = short_batches(session, (batch_id for batch_id, _ in leaves.values()))
    shared = [p for p in (getattr(ledger, "problem", None), completeness_problem(session)) if p]
    out: dict[str, Verification] = {}
    try:
        for qr_id, rows in logs.items():
            statuses = verifier.statuses(rows, leaves)
            problems = list(shared)
            head = heads.get(qr_id)
            if not rows or (head is not None and rows[-1].digest != head):
                problems.append("the latest recorded event is missing from the log")
            if MISSING_ON_CHAIN in statuses:
                problems.append(missing_on_chain_hint(ledger))
            # Digests prove the log was not changed after anchoring; the custody
            # rules prove it could have been recorded at all (not against a
            # projection someone edited to let an impossible step through).
            problems += list(replay(qr_id, rows).anomalies)
            roots = {verifier.batch(leaves[r.seq][0]).batch.root for r in rows if r.seq in leaves}
            problems += [
                f"incomplete: batch {root} lacks {short[root]} anchored event(s)"
                for root in sorted(roots & set(short))
            ]
            out[qr_id] = Verification(
                _status(statuses, failed=bool(problems)),
                tuple((r.id, s) for r, s in zip(rows, statuses, strict=True)),
                "; ".join(problems) or None,
            )
    except LedgerError as exc:
        return {qr_id: Verification(UNKNOWN, problem=f"ledger: {exc}") for qr_id in logs}
    return out


def _status(statuses: Sequence[str], *, failed: bool) -> str:
    seen = set(statuses)
    if failed or not seen <= {VERIFIED, PENDING}:
        return FAILED
    return VERIFIED if seen == {VERIFIED} else PENDING


# -- reading one device ----------------------------------------------------


@dataclass(frozen=True)
class DeviceView:
    """A device as reported: facts from its log, their verification, and the row's drift."""

    device: Device
    events: list[Event]
    facts: DeviceFacts
    verification: Verification
    projection_mismatch: list[str]
    anchors: dict[int, dict[str, Any]]


def anchor_rows(
    session: Session, seqs: Iterable[int]
) -> tuple[dict[int, tuple[int, int]], dict[int, dict[str, Any]]]:
    """Leaf positions (for the verifier) and anchor info (for people), from one query."""
    seqs = list(seqs)
    positions: dict[int, tuple[int, int]] = {}
    info: dict[int, dict[str, Any]] = {}
    for start in range(0, len(seqs), _CHUNK):
        rows = session.exec(
            select(AnchorLeaf, AnchorBatch)
            .join(AnchorBatch, AnchorLeaf.batch_id == AnchorBatch.id)  # type: ignore[arg-type]
            .where(col(AnchorLeaf.event_seq).in_(seqs[start : start + _CHUNK]))
        ).all()
        for leaf, batch in rows:
            positions[leaf.event_seq] = (leaf.batch_id, leaf.leaf_index)
            info[leaf.event_seq] = {
                "root": batch.root,
                "leaf_index": leaf.leaf_index,
                "size": batch.size,
                "state": batch.state,
                "tx_hash": batch.tx_hash,
                "block_number": batch.block_number,
            }
    return positions, info


def projected_batch(session: Session, device: Device) -> tuple[str, str] | None:
    """The (plant, code) of the batch the projection row points at."""
    if device.batch_id is None:
        return None
    batch = session.get(Batch, device.batch_id)
    return (batch.org, batch.code) if batch else ("?", f"#{device.batch_id}")


def read_device(
    session: Session,
    ledger: AnyLedger,
    device: Device,
    events: list[Event] | None = None,
    *,
    ledger_problem: str | None = None,
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
        ledger_problem=ledger_problem,
    )[device.qr_id]
    mismatch = projection_mismatch(facts, device, projected_batch(session, device))
    return DeviceView(device, events, facts, verification, mismatch, anchors)


def device_public(device: Device | DeviceView) -> dict[str, Any]:
    """What anyone may see: no organisation names beyond codes, nothing personal.

    Given a bare ``Device`` (the public page), its log is read through the
    session the row belongs to and verified against the app's ledger.
    """
    if isinstance(device, DeviceView):
        view = device
    else:
        session = Session.object_session(device)
        assert isinstance(session, Session), "device_public needs a row loaded by a session"
        ledger, problem = open_reader(session)
        view = read_device(session, ledger, device, ledger_problem=problem)
    facts = view.facts
    return {
        "qr_id": facts.qr_id,
        "display_id": format_id(facts.qr_id),
        "category": facts.category,
        "state": facts.state,
        "collected_at": iso(facts.collected_at) if facts.collected_at else None,
        "dismantled_at": iso(facts.dismantled_at) if facts.dismantled_at else None,
        "event_count": facts.event_count,
        "verified": view.verification.verified,
        "verification": view.verification.status,
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


def facts_public(facts: DeviceFacts) -> dict[str, Any]:
    """The facts staff and auditors may read (weights in kg, as the API takes them)."""
    return {
        "attributes": facts.attributes,
        "brand": facts.brand,
        "model": facts.model,
        "serial": facts.serial,
        "source": facts.source,
        "collected_weight_kg": grams_to_kg(facts.collected_weight_g),
        "received_weight_kg": grams_to_kg(facts.received_weight_g),
        "custodian": facts.custodian,
        "destination": facts.destination,
        "collected_by": facts.collected_by,
        "received_by": facts.received_by,
        "received_at": iso(facts.received_at) if facts.received_at else None,
        "dismantled_by": facts.dismantled_by,
        "batch": facts.batch,
        "line": facts.line,
        "storage_area": facts.storage_area,
        "outputs": [
            {"fraction": o.fraction, "weight_kg": grams_to_kg(o.weight_g)} for o in facts.outputs
        ],
        "corrections": [
            {
                "id": c.id,
                "corrects": c.corrects,
                "reason": c.reason,
                "fields": c.fields,
                **({"flag": c.flag} if c.flag else {}),
            }
            for c in facts.corrections
        ],
        "anomalies": list(facts.anomalies),
        "head_digest": facts.head_digest,
    }


def device_detail(view: DeviceView) -> dict[str, Any]:
    return {
        **device_public(view),
        **facts_public(view.facts),
        **view.verification.to_dict(),
        "projection_mismatch": view.projection_mismatch,
        "events": [event_public(e, view.anchors.get(e.seq or -1)) for e in view.events],
    }
