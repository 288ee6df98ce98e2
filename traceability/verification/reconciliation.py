"""``traceability verify``: one device, or every event plus the on-chain anchor list.

Returns what it found; the CLI prints it. No signing key is needed: the
anchors are enumerated per submitter address (given, or the trust anchors'
accepted ones), so a regulator can run this against a plant's database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

from sqlmodel import Session, func, select

from ledger.errors import ContractMissing
from ledger.interface import AnchorRecord, Ledger
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.anchoring.service import reader_ledger
from traceability.anchoring.trust import TrustedLedger
from traceability.context import Trace
from traceability.custody.models import Event
from traceability.devices.services import get_device
from traceability.verification.services import (
    MISSING_ON_CHAIN,
    PENDING,
    VERIFIED,
    DeviceVerification,
    accounted_leaves,
    missing_on_chain_hint,
    verify_all,
    verify_device,
)

#: How many failing events a full verification lists (the counts cover them all).
PROBLEMS_LISTED = 50

#: Given the number of events, a context whose value is told how many more were checked.
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]


@dataclass
class AnchorAudit:
    """The submitter's anchors on chain against the batches in the database."""

    submitter: str = ""
    on_chain: int = 0
    missing_batches: list[str] = field(default_factory=list)  # on chain, not in DB
    missing_events: dict[str, int] = field(default_factory=dict)  # root → events gone

    @property
    def ok(self) -> bool:
        return not self.missing_batches and not self.missing_events


def audit_anchors(
    session: Session,
    ledger: Ledger,
    submitter: str,
    records: Sequence[AnchorRecord] | None = None,
) -> AnchorAudit:
    """Every anchor a submitter ever made must still be fully accounted for.

    ``records``: the submitter's anchors already read from ``ledger`` (else read here).
    """
    result = AnchorAudit(submitter=submitter)
    for record in ledger.anchors_of(submitter) if records is None else records:
        result.on_chain += 1
        root = record.root.removeprefix("0x")
        batch = session.exec(select(AnchorBatch).where(AnchorBatch.root == root)).first()
        if batch is None:
            result.missing_batches.append(root)
            continue
        present = session.exec(
            select(func.count())
            .select_from(AnchorLeaf)
            .join(Event, Event.seq == AnchorLeaf.event_seq)  # type: ignore[arg-type]
            .where(AnchorLeaf.batch_id == batch.id)
        ).one()
        present = int(present) + accounted_leaves(session, [root]).get(root, 0)
        if present != record.size:
            result.missing_events[root] = record.size - present
    return result


@dataclass(frozen=True)
class DeviceReport:
    """One device's events checked against the ledger."""

    device: DeviceVerification
    trust_problem: str | None = None  # why the ledger read is not the trusted one

    @property
    def ok(self) -> bool:
        return self.device.verified


@dataclass(frozen=True)
class EventProblem:
    status: str
    subject: str  # the device or lot
    event_id: str


@dataclass
class FullReport:
    """Every event, and every anchor of the accepted submitters, checked."""

    trust_problem: str | None = None  # why the ledger read is not the trusted one
    counts: Counter[str] = field(default_factory=Counter)  # status → events
    problems: list[EventProblem] = field(default_factory=list)  # the first PROBLEMS_LISTED
    missing_on_chain_hint: str | None = None  # what to do about missing roots
    anchors: list[AnchorAudit] = field(default_factory=list)  # per submitter listed
    anchors_unlisted: str | None = None  # why the anchors on chain could not be listed

    @property
    def events_ok(self) -> bool:
        return set(self.counts) <= {VERIFIED}

    @property
    def ok(self) -> bool:
        return (
            self.events_ok
            and not self.trust_problem
            and self.anchors_unlisted is None
            and all(audit.ok for audit in self.anchors)
        )


def _reader(session: Session, trace: Trace, submitters: Sequence[str]) -> TrustedLedger:
    ledger = reader_ledger(session, trace.ledger)
    if submitters and ledger.trust is not None:
        ledger = replace(ledger, trust=ledger.trust.with_submitters(submitters))
    return ledger


def verify_one_device(trace: Trace, *, qr_id: str, submitters: Sequence[str] = ()) -> DeviceReport:
    """Verify one device's events (``submitters``: accepted instead of the trust anchors')."""
    with Session(trace.engine) as session:
        ledger = _reader(session, trace, submitters)
        device = get_device(session, qr_id)
        return DeviceReport(
            device=verify_device(session, ledger, device.qr_id, device.head_digest),
            trust_problem=ledger.problem,
        )


def verify_everything(
    trace: Trace, *, submitters: Sequence[str] = (), progress: Progress | None = None
) -> FullReport:
    """Verify every event, then account for every anchor each accepted submitter made."""
    with Session(trace.engine) as session:
        ledger = _reader(session, trace, submitters)
        report = FullReport(trust_problem=ledger.problem)
        total = session.exec(select(func.count()).select_from(Event)).one()
        with (progress or _no_progress)(total) as advance:
            for subject, event_id, status in verify_all(session, ledger, progress=advance):
                report.counts[status] += 1
                listed = len(report.problems) < PROBLEMS_LISTED
                if status not in (VERIFIED, PENDING) and listed:
                    report.problems.append(EventProblem(status, subject, event_id))
        if report.counts[MISSING_ON_CHAIN]:
            report.missing_on_chain_hint = missing_on_chain_hint(ledger)
        if ledger.chain is None or ledger.trust is None:
            report.anchors_unlisted = "no trusted registry"
            return report
        for submitter in ledger.trust.submitters:
            try:
                report.anchors.append(audit_anchors(session, ledger.chain, submitter))
            except ContractMissing as exc:
                report.anchors_unlisted = str(exc)
                break
        return report


def _no_progress(total: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda checked: None)
