"""``traceability verify``: one device, or every event plus the on-chain anchor list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from flask import Flask
from sqlmodel import Session, func, select
from tqdm import tqdm

from ledger.chain import Web3Ledger
from ledger.errors import ContractMissing
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.anchoring.service import reader_ledger
from traceability.custody.models import Event
from traceability.db import Database
from traceability.devices.services import get_device
from traceability.verification.services import (
    MISSING_ON_CHAIN,
    VERIFIED,
    missing_on_chain_hint,
    verify_all,
    verify_device,
)


@dataclass
class AnchorAudit:
    """The submitter's anchors on chain against the batches in the database."""

    on_chain: int = 0
    missing_batches: list[str] = field(default_factory=list)  # on chain, not in DB
    missing_events: dict[str, int] = field(default_factory=dict)  # root → events gone

    @property
    def ok(self) -> bool:
        return not self.missing_batches and not self.missing_events


def audit_anchors(session: Session, ledger: Web3Ledger, submitter: str) -> AnchorAudit:
    """Every anchor a submitter ever made must still be fully accounted for."""
    result = AnchorAudit()
    for record in ledger.anchors_of(submitter):
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
        if present != record.size:
            result.missing_events[root] = record.size - int(present)
    return result


def verify_cli(
    app: Flask,
    *,
    qr_id: str | None,
    echo: Callable[[str], None],
    submitters: Sequence[str] = (),
) -> bool:
    """Verify one device, or every event and every anchor of the accepted submitters.

    No signing key is needed: the anchors are enumerated per submitter address
    (``submitters``, or the trust anchors' accepted ones), so a regulator can
    run this against a plant's database.
    """
    with Session(Database.engine(app)) as session:
        ledger = reader_ledger(session, app)
        if ledger is not None and submitters and ledger.trust is not None:
            ledger = replace(ledger, trust=ledger.trust.with_submitters(submitters))
        if ledger is not None and ledger.problem:
            echo(f"ledger not trusted: {ledger.problem}")
        if qr_id is not None:
            device = get_device(session, qr_id)
            result = verify_device(session, ledger, device.qr_id, device.head_digest)
            for event_id, status in result.events:
                echo(f"  {status:<17} {event_id}")
            if not result.head_matches:
                echo("  broken_chain      the device's latest event is missing")
            if result.ledger_problem:
                echo(result.ledger_problem)
            echo(f"{device.qr_id}: {'VERIFIED' if result.verified else 'NOT VERIFIED'}")
            return result.verified
        total = session.exec(select(func.count()).select_from(Event)).one()
        counts: Counter[str] = Counter()
        bad: list[str] = []
        with tqdm(total=total, unit="ev", desc="verifying", disable=None) as bar:
            for subject, event_id, status in verify_all(session, ledger, progress=bar.update):
                counts[status] += 1
                if status != VERIFIED and status != "pending" and len(bad) < 50:
                    bad.append(f"  {status:<17} {subject} {event_id}")
        for line in bad:
            echo(line)
        echo("events: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        ok = set(counts) <= {VERIFIED}
        if counts[MISSING_ON_CHAIN]:
            echo(missing_on_chain_hint(ledger))
        if ledger is None or ledger.chain is None or ledger.trust is None:
            echo("anchors on chain cannot be listed: no trusted registry")
            echo("NOT VERIFIED")
            return False
        ok = ok and not ledger.problem
        for submitter in ledger.trust.submitters:
            try:
                audit = audit_anchors(session, ledger.chain, submitter)
            except ContractMissing as exc:
                echo(f"anchors on chain cannot be listed: {exc}")
                echo("NOT VERIFIED")
                return False
            echo(f"anchors on chain by {submitter}: {audit.on_chain}")
            for root in audit.missing_batches:
                echo(f"  batch {root} is anchored on chain but missing from the database")
            for root, gone in audit.missing_events.items():
                echo(f"  batch {root}: {gone} anchored event(s) missing from the database")
            ok = ok and audit.ok
        echo("ALL VERIFIED" if ok else "NOT VERIFIED")
        return ok
