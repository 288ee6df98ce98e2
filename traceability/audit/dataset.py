"""What the audit rules read: every device and lot replayed from the event log and verified.

Nothing here comes from the projection tables except what the rules compare
against the log (the plant's own stock count); the organisations' register
(licensed capacity, region) is replayed from its events. Events are read as
Core rows (cheaper than ORM objects); each subject's log is verified as a
whole, then replayed up to ``as_of`` so a closed period is audited as it
stood when it closed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from traceability.accounts.licences import (
    DISMANTLING,
    LICENCE_TYPES,
    LicenceBook,
    replay_licences,
)
from traceability.anchoring.trust import TrustedLedger
from traceability.audit.operations import Operations, load_operations
from traceability.catalog.models import Catalog
from traceability.claims.models import Claim, ClaimItem
from traceability.custody.closing import as_closed
from traceability.custody.facts import Correction, DeviceFacts, Output
from traceability.custody.models import Event, EventType
from traceability.custody.wellformed import row_problem
from traceability.devices.models import Device, DeviceState
from traceability.lots.models import Lot, fraction_of
from traceability.register.log import OrgFacts, register_from, register_logs
from traceability.verification.logs import UNKNOWN, Verification, log_status, verify_logs
from traceability.verification.models import ImportRecord
from traceability.verification.services import (
    LATE,
    PENDING,
    TAMPERED,
    VERIFIED,
    Verifier,
    leaf_positions,
    malformed_rows,
    shared_problems,
)

_EVENT = Event.__table__  # type: ignore[attr-defined]
_DEVICE = Device.__table__  # type: ignore[attr-defined]
_LOT = Lot.__table__  # type: ignore[attr-defined]
_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_CLAIM = Claim.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AuditedDevice:
    """One device as the audit rules read it: replayed from its events and verified.

    Dismantled in a quarter closed by ``as_of``, its facts are its log as
    recorded by that close; the corrections recorded after it are ``late``
    (``custody.closing``: one figure per device on every page).
    """

    facts: DeviceFacts  # replayed from the events up to ``as_of`` (see above)
    events: tuple[Any, ...]  # those events, in recording order
    verification: Verification  # of the whole log
    late: tuple[Correction, ...] = ()  # corrections recorded after its quarter closed
    late_weight_g: int = 0  # what they would change its intake weight by
    close: dt.datetime | None = None  # the close its facts are read at (None: so far)


def audited_device(
    qr_id: str,
    upto: Sequence[Any],
    verification: Verification,
    *,
    as_of: dt.datetime,
    later: Sequence[Any] = (),
) -> AuditedDevice:
    """The device as of ``as_of`` from its events up to it (``later``: those after it)."""
    read = as_closed(qr_id, upto, as_of=as_of, later=later)
    return AuditedDevice(
        read.facts, tuple(upto), verification, read.late, read.late_weight_g, read.close
    )


@dataclass(frozen=True)
class AuditedLot:
    """One lot as the audit rules read it: its events, verified, and its shipment."""

    code: str
    org: str
    fraction: str
    hazardous: bool
    events: tuple[Any, ...]
    verification: Verification
    shipped_at: dt.datetime | None = None
    shipped_to: str | None = None
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class FutureSnapshot:
    """A stored snapshot of ``period`` claiming ``computed_at``, found at ``found_at``."""

    period: str
    computed_at: dt.datetime
    found_at: dt.datetime


@dataclass
class AuditData:
    as_of: dt.datetime
    catalog: Catalog
    orgs: dict[str, OrgFacts]  # the register replayed from its events (SPEC §2.8)
    since: dt.datetime | None = None  # the period's start (None: from the beginning)
    # Every organisation's licences, replayed from the register as it stands
    # (``LicenceBook``: the licensed categories and capacities of a plant, the codes of a
    # processor, on a day).
    licences: LicenceBook = field(default_factory=LicenceBook)
    devices: dict[str, AuditedDevice] = field(default_factory=dict)
    lots: dict[str, AuditedLot] = field(default_factory=dict)
    # The plant's own count of devices in stock (the projection), per plant.
    recorded_stock: dict[str, int] = field(default_factory=dict)
    # Whether the log holds nothing after ``as_of`` (the projection is comparable).
    current: bool = True
    # Event rows naming no device, lot or claim (written by hand): each is a finding.
    strays: tuple[Any, ...] = ()
    # Stored audit snapshots found claiming a computed_at in the future (the refresher's).
    future_snapshots: tuple[FutureSnapshot, ...] = ()
    # The claims holding each device (claim codes), so a finding names them.
    claims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What the plants declare: lines, design throughput, working hours.
    operations: Operations = field(default_factory=load_operations)
    # Each organisation's register events as verified (an edited one is a finding).
    register: dict[str, tuple[list[Any], Verification]] = field(default_factory=dict)
    # The regulator's import: records refused and anchored leaves missing (``federation``).
    imports: tuple[Any, ...] = ()
    # Processing batches closed by ``as_of`` whose closing the chain has not contradicted:
    # ``{org}/{code}`` → its weighed outputs (batch dismantling, SPEC §2.4).
    batch_closings: dict[str, tuple[Output, ...]] = field(default_factory=dict)

    def licence_judged(self, plant: str) -> bool:
        """Whether ``plant``'s dismantlings are judged by its licences: it holds one that
        verifies, or its register has licence events at all (none verifying: it holds none)."""
        if self.licences.holds_any(plant, DISMANTLING):
            return True
        log, _ = self.register.get(plant, ((), None))
        return any(r.type in LICENCE_TYPES for r in log)

    def in_period(self, when: dt.datetime | None) -> bool:
        return when is not None and (self.since is None or when >= self.since) and when < self.as_of

    def verified(self, qr_ids: Sequence[str]) -> bool:
        return all(self.devices[q].verification.verified for q in qr_ids if q in self.devices)


def _logs(session: Session, column: Any) -> dict[str, list[Any]]:
    logs: dict[str, list[Any]] = defaultdict(list)
    query = select(_EVENT).where(column.is_not(None)).order_by(_EVENT.c.seq)
    for row in session.execute(query):
        logs[row.device if column is _EVENT.c.device else row.lot].append(row)
    return logs


def _subject_verification(
    verifier: Verifier,
    rows: Sequence[Any],
    head: str | None,
    leaves: Mapping[int, tuple[int, int]],
    shared: list[str],
) -> Verification:
    statuses = verifier.statuses(rows, dict(leaves))
    problems = list(shared) + (malformed_rows(rows) if TAMPERED in statuses else [])
    if not rows or (head is not None and rows[-1].digest != head):
        problems.append("the latest recorded event is missing from the log")
    return Verification(
        log_status(statuses, failed=bool(problems)),
        tuple((r.id, s) for r, s in zip(rows, statuses, strict=True)),
        "; ".join(problems),
    )


@dataclass
class AuditLogs:
    """The whole log read once and verified: several periods can be audited from it."""

    orgs: dict[str, OrgFacts]  # the register replayed from its events (SPEC §2.8)
    devices: dict[str, list[Any]]
    verification: dict[str, Verification]
    lots: dict[str, tuple[list[Any], Verification]]
    recorded_stock: dict[str, int]
    strays: tuple[Any, ...] = ()
    licence_events: tuple[Any, ...] = ()  # the register's licence events, recording order
    claims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Each organisation's register events (all, as stored) and their verification.
    register: dict[str, tuple[list[Any], Verification]] = field(default_factory=dict)
    # What the regulator's import refused or found missing (``federation``), oldest first.
    imports: tuple[Any, ...] = ()
    # Each processing batch's closing (``{org}/{code}``): the row and its status.
    batch_closings: dict[str, tuple[Any, str]] = field(default_factory=dict)


def import_problems(session: Session) -> tuple[Any, ...]:
    """The regulator's import outcomes that are findings: refused and missing records."""
    table = ImportRecord.__table__  # type: ignore[attr-defined]
    return tuple(
        session.execute(
            select(table).where(table.c.status.in_(("refused", "missing"))).order_by(table.c.id)
        )
    )


def claims_holding(session: Session) -> dict[str, tuple[str, ...]]:
    """Each device's claims (codes, in code order): a finding names the claims holding it."""
    held: dict[str, list[str]] = defaultdict(list)
    query = (
        select(_ITEM.c.qr_id, _CLAIM.c.code)
        .join(_CLAIM, _CLAIM.c.id == _ITEM.c.claim_id)
        .order_by(_CLAIM.c.code)
    )
    for qr_id, code in session.execute(query):
        held[qr_id].append(code)
    return {qr_id: tuple(codes) for qr_id, codes in held.items()}


def _replayable(rows: list[Any], check: Verification) -> list[Any]:
    """The rows the rules may read: a malformed row (always tampered) is left out, its
    subject's verification names it, and the rest of the log is audited as usual."""
    if all(s != TAMPERED for _, s in check.events):
        return rows
    return [r for r in rows if row_problem(r) is None]


def read_logs(session: Session, ledger: TrustedLedger) -> AuditLogs:
    """Every device's and lot's log, each verified as a whole."""
    orgs, register = _verified_register(session, ledger)
    device_logs = _logs(session, _EVENT.c.device)
    heads = dict(session.execute(select(_DEVICE.c.qr_id, _DEVICE.c.head_digest)).all())
    verification = verify_logs(session, ledger, device_logs, heads)
    del heads
    for qr_id, rows in device_logs.items():
        device_logs[qr_id] = _replayable(rows, verification[qr_id])
    subjects = (
        _EVENT.c.device,
        _EVENT.c.lot,
        _EVENT.c.claim,
        _EVENT.c.organisation,
        _EVENT.c.batch,
    )
    no_subject = (c.is_(None) for c in subjects)
    strays = tuple(session.execute(select(_EVENT).where(*no_subject).order_by(_EVENT.c.seq)))
    stock = session.execute(
        select(_DEVICE.c.custodian, func.count())
        .where(_DEVICE.c.state == DeviceState.received)
        .group_by(_DEVICE.c.custodian)
    )
    trusted = sorted((r for log in _readable(register).values() for r in log), key=_seq)
    return AuditLogs(
        orgs=orgs,
        devices=device_logs,
        verification=verification,
        lots=_lot_logs(session, ledger),
        recorded_stock={org: int(n) for org, n in stock},
        strays=strays,
        licence_events=tuple(r for r in trusted if r.type in LICENCE_TYPES),
        claims=claims_holding(session),
        register=register,
        imports=import_problems(session),
        batch_closings=_batch_closings(session, ledger),
    )


def _batch_closings(session: Session, ledger: TrustedLedger) -> dict[str, tuple[Any, str]]:
    """Every batch's closing, verified (it is its batch's only event: no chain)."""
    rows = list(session.execute(select(_EVENT).where(_EVENT.c.batch.is_not(None))))
    if not rows:
        return {}
    verifier = Verifier.for_ledger(session, ledger)
    leaves = leaf_positions(session, [r.seq for r in rows])
    return {r.batch: (r, verifier.statuses([r], leaves)[0]) for r in rows}


def _seq(row: Any) -> int:
    return int(row.seq)


#: The statuses of a register event the audit may read: what the chain has not
#: contradicted (``unknown``: the ledger could not be asked, so nothing is judged).
_READABLE = frozenset({VERIFIED, PENDING, LATE, UNKNOWN})


def _verified_register(
    session: Session, ledger: TrustedLedger
) -> tuple[dict[str, OrgFacts], dict[str, tuple[list[Any], Verification]]]:
    """The register replayed from its events that verify, and each organisation's check.

    A register event edited or inserted in the database after anchoring (a
    licence's capacity raised, a category added) is left out of the replay —
    the audit measures the plant by what the chain holds — and its
    organisation's verification names it (``verification_failed``).
    """
    logs, rows = register_logs(session)
    verifier = Verifier.for_ledger(session, ledger)
    leaves = leaf_positions(session, [e.seq for log in logs.values() for e in log])
    shared = _shared_problems(session, ledger)
    register = {
        code: (log, _subject_verification(verifier, log, None, leaves, shared))
        for code, log in logs.items()
    }
    return register_from(_readable(register), rows), register


def _readable(register: Mapping[str, tuple[list[Any], Verification]]) -> dict[str, list[Any]]:
    """Each organisation's register events the chain has not contradicted."""
    out = {}
    for code, (log, check) in register.items():
        readable = {i for i, s in check.events if s in _READABLE}
        out[code] = [r for r in log if r.id in readable]
    return out


def audit_data(
    logs: AuditLogs,
    catalog: Catalog,
    *,
    as_of: dt.datetime,
    since: dt.datetime | None = None,
    operations: Operations | None = None,
) -> AuditData:
    """The records as they stood at ``as_of`` (replayed up to it), for ``[since, as_of)``."""
    # The register as it stands, not as of ``as_of``: a licence amended or revoked after
    # the period with an effect inside it reads as amended for those days (the period's
    # dismantlings it no longer covers are that period's findings, like a correction
    # recorded after its close).
    licences = replay_licences(logs.licence_events)
    data = AuditData(
        as_of=as_of,
        catalog=catalog,
        orgs=logs.orgs,
        since=since,
        licences=licences,
        operations=operations or load_operations(),
    )
    current = True
    for qr_id, rows in logs.devices.items():
        upto = [r for r in rows if r.occurred_at < as_of]
        current = current and len(upto) == len(rows)
        if not upto:
            continue
        later = [r for r in rows if r.occurred_at >= as_of] if len(upto) < len(rows) else ()
        data.devices[qr_id] = audited_device(
            qr_id, upto, logs.verification[qr_id], as_of=as_of, later=later
        )
    hazardous = {code: f.receipt_required for code, f in catalog.fractions.items()}
    for code, (log, check) in logs.lots.items():
        upto_lot = [e for e in log if e.occurred_at < as_of]
        if not log:
            continue
        shipped = next((e for e in upto_lot if e.type == EventType.lot_shipped), None)
        received = next((e for e in upto_lot if e.type == EventType.lot_received), None)
        fraction = fraction_of(code, log[0].org)
        data.lots[code] = AuditedLot(
            code=code,
            org=log[0].org,
            fraction=fraction,
            hazardous=hazardous.get(fraction, False),
            events=tuple(upto_lot),
            verification=check,
            shipped_at=shipped.occurred_at if shipped else None,
            shipped_to=str(shipped.payload.get("to")) if shipped else None,
            received_at=received.occurred_at if received else None,
        )
    data.recorded_stock = dict(logs.recorded_stock)
    data.current = current
    data.strays = logs.strays
    data.claims = logs.claims
    data.register = logs.register
    data.imports = logs.imports
    data.batch_closings = _closed_by(logs, as_of)
    return data


def _closed_by(logs: AuditLogs, as_of: dt.datetime) -> dict[str, tuple[Output, ...]]:
    """The batches closed before ``as_of`` by a closing the chain has not contradicted."""
    return {
        subject: _outputs(row.payload)
        for subject, (row, status) in logs.batch_closings.items()
        if status in _READABLE and row.occurred_at < as_of
    }


def _outputs(payload: Any) -> tuple[Output, ...]:
    outputs = payload.get("outputs") if isinstance(payload, dict) else None
    return tuple(
        Output(str(o.get("fraction")), o["weight_g"])
        for o in outputs or ()
        if isinstance(o, dict) and type(o.get("weight_g")) is int
    )


def load_audit_data(
    session: Session,
    ledger: TrustedLedger,
    catalog: Catalog,
    *,
    as_of: dt.datetime,
    since: dt.datetime | None = None,
    operations: Operations | None = None,
) -> AuditData:
    """Every device and lot, verified over its whole log and replayed up to ``as_of``."""
    logs = read_logs(session, ledger)
    return audit_data(logs, catalog, as_of=as_of, since=since, operations=operations)


def _shared_problems(session: Session, ledger: TrustedLedger) -> list[str]:
    if ledger.is_unavailable:
        return [p.text for p in ledger.problems]
    return shared_problems(session, ledger)


def _lot_logs(session: Session, ledger: TrustedLedger) -> dict[str, tuple[list[Any], Verification]]:
    lot_logs = _logs(session, _EVENT.c.lot)
    rows = {r.code: r for r in session.execute(select(_LOT))}
    verifier = Verifier.for_ledger(session, ledger)
    leaves = leaf_positions(session, [e.seq for log in lot_logs.values() for e in log])
    shared = _shared_problems(session, ledger)
    out = {}
    for code, log in lot_logs.items():
        row = rows.get(code)
        head = row.head_digest if row else None
        check = _subject_verification(verifier, log, head, leaves, shared)
        out[code] = (_replayable(log, check), check)
    return out
