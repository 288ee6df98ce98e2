"""The anchors on chain, as /portal/ledger lists them (SPEC §3 "Trust anchors").

Every anchor each trusted submitter made, newest first, beside the batch in
the database it anchors (none: missing from the database); each submitter's
completeness audit (``verification.reconciliation``); the last completeness checks.
A chain that cannot be read is no error here: the listing says why it is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from ledger.errors import LedgerError
from ledger.interface import AnchorRecord
from traceability.anchoring.anchor_lists import AnchorLists
from traceability.anchoring.models import AnchorBatch
from traceability.anchoring.trust import TrustedLedger
from traceability.verification.models import TrustCheck
from traceability.verification.reconciliation import AnchorAudit, audit_anchors


@dataclass(frozen=True)
class ListedAnchor:
    """One anchor on chain and the batch it anchors (None: not in the database)."""

    submitter: str
    record: AnchorRecord
    batch: AnchorBatch | None


@dataclass
class AnchorListing:
    """The anchors on chain (newest first), each submitter's audit, or why there are none."""

    anchors: list[ListedAnchor] = field(default_factory=list)
    audits: list[AnchorAudit] = field(default_factory=list)
    problem: str | None = None


def anchor_listing(
    session: Session, open_reader: Callable[[], TrustedLedger], lists: AnchorLists
) -> AnchorListing:
    """Every trusted submitter's anchors, read through ``lists`` (once per chain head).

    ``open_reader``: opens the trusted registry (without a chain when the ledger is off); a
    ``LedgerError`` there or on reading becomes the listing's ``problem``.
    """
    listing = AnchorListing()
    try:
        reader = open_reader()
        if reader.chain is not None and reader.trust is not None:
            for submitter in reader.trust.submitters:
                records = lists.anchors_of(reader.chain, submitter)
                listing.audits.append(audit_anchors(session, reader.chain, submitter, records))
                known = _batches_of(session, records)
                listing.anchors += [
                    ListedAnchor(submitter, record, known.get(record.root.removeprefix("0x")))
                    for record in records
                ]
    except LedgerError as exc:
        listing.problem = str(exc)
    listing.anchors.sort(key=lambda a: -a.record.block_number)
    return listing


def _batches_of(session: Session, records: Sequence[AnchorRecord]) -> dict[str, AnchorBatch]:
    """The batches in the database that ``records`` anchor, by root (without 0x)."""
    roots = [r.root.removeprefix("0x") for r in records]
    return {
        b.root: b for b in session.exec(select(AnchorBatch).where(col(AnchorBatch.root).in_(roots)))
    }


def recent_checks(session: Session, count: int = 10) -> Sequence[TrustCheck]:
    """The last ``count`` completeness checks, newest first."""
    return session.exec(
        select(TrustCheck).order_by(col(TrustCheck.checked_at).desc()).limit(count)
    ).all()
