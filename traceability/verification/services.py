"""Per-event verification statuses (SPEC §3).

``tampered``: the stored content no longer hashes to the digest, or the digest
is not the leaf its batch anchored. ``broken_chain``: ``prev`` does not name
the previous event (one was deleted, inserted or reordered).
``missing_on_chain``: the batch root is not in the registry (chain reset).
``pending``: not anchored yet. ``verified``: all of the above hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlmodel import Session

from ledger import merkle
from ledger.canonical import digest_hex, event_content
from ledger.chain import AnchorRecord, Web3Ledger
from ledger.errors import ContractMissing
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, AnchorState
from traceability.custody.models import Event
from traceability.db import iso

VERIFIED, PENDING, TAMPERED = "verified", "pending", "tampered"
BROKEN_CHAIN, MISSING_ON_CHAIN = "broken_chain", "missing_on_chain"

_EVENT = Event.__table__  # type: ignore[attr-defined]
_LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]


def content_of(row: Any) -> dict[str, Any]:
    """The digest content of a stored event row."""
    return event_content(
        id=row.id,
        type=row.type,
        org=row.org,
        actor=row.actor,
        occurred_at=iso(row.occurred_at),
        recorded_at=iso(row.recorded_at),
        payload=row.payload,
        prev=row.prev,
        device=row.device,
        lot=row.lot,
    )


@dataclass
class BatchCheck:
    """One anchor batch, checked once and shared by all its events."""

    batch: AnchorBatch
    leaves_ok: bool
    on_chain: AnchorRecord | None

    def leaf(self, index: int) -> str | None:
        raw = self.batch.leaves[index * 32 : (index + 1) * 32]
        return raw.hex() if len(raw) == 32 else None


@dataclass
class Verifier:
    """Checks events, caching one chain lookup per batch."""

    session: Session
    ledger: Web3Ledger | None
    batches: dict[int, BatchCheck] = field(default_factory=dict)

    def batch(self, batch_id: int) -> BatchCheck:
        if batch_id not in self.batches:
            batch = self.session.get(AnchorBatch, batch_id)
            assert batch is not None
            leaves = [batch.leaves[i : i + 32] for i in range(0, len(batch.leaves), 32)]
            leaves_ok = len(leaves) == batch.size and merkle.root(leaves).hex() == batch.root
            on_chain = None
            if self.ledger is not None and batch.state != AnchorState.pending:
                try:
                    on_chain = self.ledger.get_anchor(bytes.fromhex(batch.root))
                except ContractMissing:  # the chain was reset: no registry, no roots
                    on_chain = None
            self.batches[batch_id] = BatchCheck(batch, leaves_ok, on_chain)
        return self.batches[batch_id]

    def statuses(self, rows: Sequence[Any], leaves: dict[int, tuple[int, int]]) -> list[str]:
        """Statuses of one subject's events, ``rows`` in recording order."""
        out, expected_prev = [], None
        for row in rows:
            status = self._status(row, expected_prev, leaves.get(row.seq))
            out.append(status)
            expected_prev = row.digest
        return out

    def _status(self, row: Any, expected_prev: str | None, leaf: tuple[int, int] | None) -> str:
        if digest_hex(content_of(row)) != row.digest:
            return TAMPERED
        if row.prev != expected_prev:
            return BROKEN_CHAIN
        if leaf is None:
            return PENDING
        check = self.batch(leaf[0])
        if not check.leaves_ok or check.leaf(leaf[1]) != row.digest:
            return TAMPERED
        if check.batch.state in (AnchorState.pending, AnchorState.submitted):
            return PENDING
        if check.on_chain is None or check.on_chain.size != check.batch.size:
            return MISSING_ON_CHAIN
        return VERIFIED


def event_rows(
    session: Session, *, device: str | None = None, lot: str | None = None
) -> list[Row[Any]]:
    query = select(_EVENT).order_by(_EVENT.c.seq)
    if device is not None:
        query = query.where(_EVENT.c.device == device)
    if lot is not None:
        query = query.where(_EVENT.c.lot == lot)
    return list(session.execute(query))


def leaf_positions(session: Session, seqs: Iterable[int]) -> dict[int, tuple[int, int]]:
    seqs = list(seqs)
    positions: dict[int, tuple[int, int]] = {}
    for start in range(0, len(seqs), 10_000):
        chunk = seqs[start : start + 10_000]
        for seq, batch_id, index in session.execute(
            select(_LEAF.c.event_seq, _LEAF.c.batch_id, _LEAF.c.leaf_index).where(
                _LEAF.c.event_seq.in_(chunk)
            )
        ):
            positions[seq] = (batch_id, index)
    return positions


def missing_on_chain_hint(ledger: Web3Ledger | None) -> str:
    where = f" at {ledger.rpc_url}" if ledger is not None else ""
    return (
        f"anchored roots are missing from the registry{where}: the chain was reset or "
        "replaced. Run `traceability anchor --repair` to re-anchor from the database."
    )


@dataclass(frozen=True)
class DeviceVerification:
    qr_id: str
    events: list[tuple[str, str]]  # (event id, status)
    head_matches: bool
    ledger_problem: str | None = None

    @property
    def verified(self) -> bool:
        return self.head_matches and all(s == VERIFIED for _, s in self.events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "qr_id": self.qr_id,
            "verified": self.verified,
            "events": [{"id": i, "status": s} for i, s in self.events],
            **({} if self.head_matches else {"problem": "latest event missing"}),
            **({"ledger_problem": self.ledger_problem} if self.ledger_problem else {}),
        }


def verify_device(
    session: Session, ledger: Web3Ledger | None, qr_id: str, head_digest: str | None
) -> DeviceVerification:
    rows = event_rows(session, device=qr_id)
    verifier = Verifier(session, ledger)
    statuses = verifier.statuses(rows, leaf_positions(session, [r.seq for r in rows]))
    head_ok = head_digest is None or (bool(rows) and rows[-1].digest == head_digest)
    problem = missing_on_chain_hint(ledger) if MISSING_ON_CHAIN in statuses else None
    return DeviceVerification(
        qr_id, [(r.id, s) for r, s in zip(rows, statuses, strict=True)], head_ok, problem
    )


def verify_all(
    session: Session, ledger: Web3Ledger | None, progress: Any = None
) -> Iterator[tuple[str, str, str]]:
    """(subject, event id, status) for every event, grouped by device or lot."""
    rows = list(
        session.execute(select(_EVENT).order_by(_EVENT.c.device, _EVENT.c.lot, _EVENT.c.seq))
    )
    leaves = leaf_positions(session, [r.seq for r in rows])
    verifier = Verifier(session, ledger)
    start = 0
    while start < len(rows):
        key = (rows[start].device, rows[start].lot)
        end = start
        while end < len(rows) and (rows[end].device, rows[end].lot) == key:
            end += 1
        group = rows[start:end]
        for row, status in zip(group, verifier.statuses(group, leaves), strict=True):
            yield (row.device or row.lot, row.id, status)
        if progress is not None:
            progress(len(group))
        start = end
