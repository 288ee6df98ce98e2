"""Per-event verification statuses (SPEC §3).

``tampered``: the stored content no longer hashes to the digest, or the digest
is not the leaf its batch anchored. ``broken_chain``: ``prev`` does not name
the previous event (one was deleted, inserted or reordered).
``missing_on_chain``: the batch root is not in the registry (chain reset).
``pending``: not anchored yet. ``late``: anchored, but the block is timed more
than the allowance after the event's ``recorded_at`` (or before it): the block
time is the one time a plant cannot forge, so a back-dated record shows here
(SPEC §3 "Time"). ``verified``: all of the above hold.
``untrusted`` (a sixth status, beside SPEC's five): the root is on chain but
was anchored by a submitter the trust anchors do not accept, or the ledger
itself does not match the trust anchors (registry, chain, owner) — the
anchor proves nothing, so the event is not verified.

A device verifies only when every event does, its head is present, and
nothing says the history is incomplete: no batch holding its events has
fewer event rows than its size, and the latest completeness check found no
anchored event missing from the database. Otherwise ``ledger_problem`` names
the cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Row, func, select
from sqlmodel import Session

from ledger import merkle
from ledger.canonical import digest_matches, event_content
from ledger.errors import ContractMissing
from ledger.interface import AnchorRecord, Ledger
from ledger.redact import redact_url
from ledger.verify import CLOCK_SKEW_S, DEFAULT_MAX_ANCHOR_DELAY_S, LATE, UNTRUSTED
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, AnchorState
from traceability.anchoring.trust import TrustedLedger
from traceability.custody.facts import DeviceFacts, replay
from traceability.custody.models import Event
from traceability.custody.wellformed import row_problem
from traceability.db import iso
from traceability.verification.models import ImportRecord, TrustCheck

VERIFIED, PENDING, TAMPERED = "verified", "pending", "tampered"
BROKEN_CHAIN, MISSING_ON_CHAIN = "broken_chain", "missing_on_chain"
#: An imported batch's leaf that holds a plant's record which is not an EPCIS event
#: (``accounted``), or one of an organisation outside the importing regulator's scope
#: (``withheld``: another region's regulator verifies it).
ACCOUNTED, WITHHELD = "accounted", "withheld"

_EVENT = Event.__table__  # type: ignore[attr-defined]
_LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]


_CONTENT_FIELDS = (
    "id", "type", "org", "actor", "occurred_at", "recorded_at", "payload", "prev",
    "device", "lot", "claim", "organisation", "batch",
)  # fmt: skip
_FROM_MAPPING, _FROM_ATTRIBUTES = itemgetter(*_CONTENT_FIELDS), attrgetter(*_CONTENT_FIELDS)


def content_of(row: Any) -> dict[str, Any]:
    """The digest content of a stored event row (a Core row or an ``Event``)."""
    # A Core row's mapping reads its columns several times faster than its attributes:
    # this runs for every event a claim or a verification checks.
    mapping = getattr(row, "_mapping", None)
    (id_, type_, org, actor, occurred, recorded, payload, prev) = (
        values := _FROM_MAPPING(mapping) if mapping is not None else _FROM_ATTRIBUTES(row)
    )[:8]
    device, lot, claim, organisation, batch = values[8:]
    return event_content(
        id=id_,
        type=type_,
        org=org,
        actor=actor,
        occurred_at=iso(occurred),
        recorded_at=iso(recorded),
        payload=payload,
        prev=prev,
        device=device,
        lot=lot,
        claim=claim,
        organisation=organisation,
        batch=batch,
    )


@dataclass
class BatchCheck:
    """One anchor batch, checked once and shared by all its events."""

    batch: AnchorBatch
    leaves_ok: bool
    on_chain: AnchorRecord | None
    # The status of an event whose digest is this batch's leaf (the same for all of them).
    verdict: str = ""
    leaves: bytes = field(init=False, repr=False)  # a copy: the ORM attribute is slower to read

    def __post_init__(self) -> None:
        self.leaves = bytes(self.batch.leaves)

    def leaf(self, index: int) -> str | None:
        raw = self.leaves[index * 32 : (index + 1) * 32]
        return raw.hex() if len(raw) == 32 else None


@dataclass
class Verifier:
    """Checks events, caching one chain lookup per batch."""

    session: Session
    ledger: TrustedLedger
    batches: dict[int, BatchCheck] = field(default_factory=dict)
    # The chain read, the lower-case submitter addresses whose anchors count
    # (None: any), and whether the ledger is not the trusted one (then no
    # anchor read from it counts) — all derived from ``ledger``.
    chain: Ledger | None = field(init=False, default=None)
    accepted: frozenset[str] | None = field(init=False, default=None)
    untrusted: bool = field(init=False, default=False)
    # The allowance from recorded_at to the anchor's block time (the trusted reader's).
    max_delay_s: int = field(init=False, default=DEFAULT_MAX_ANCHOR_DELAY_S)
    # Batches already counted for missing rows, and those found short (root → events gone).
    counted: set[int] = field(init=False, default_factory=set)
    short_roots: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.chain = self.ledger.chain
        self.accepted = self.ledger.accepted()
        self.untrusted = bool(self.ledger.problems)
        self.max_delay_s = self.ledger.max_delay_s

    @classmethod
    def for_ledger(cls, session: Session, ledger: TrustedLedger) -> Verifier:
        return cls(session, ledger)

    def batch(self, batch_id: int) -> BatchCheck:
        if batch_id not in self.batches:
            batch = self.session.get(AnchorBatch, batch_id)
            assert batch is not None
            leaves = [batch.leaves[i : i + 32] for i in range(0, len(batch.leaves), 32)]
            leaves_ok = len(leaves) == batch.size and merkle.root(leaves).hex() == batch.root
            on_chain = None
            if self.chain is not None and batch.state != AnchorState.pending:
                try:
                    on_chain = self.chain.get_anchor(bytes.fromhex(batch.root))
                except ContractMissing:  # the chain was reset: no registry, no roots
                    on_chain = None
            check = BatchCheck(batch, leaves_ok, on_chain)
            check.verdict = self._verdict(check)
            self.batches[batch_id] = check
        return self.batches[batch_id]

    def _verdict(self, check: BatchCheck) -> str:
        """What an event anchored in ``check``'s batch is, once its leaf matched."""
        if not check.leaves_ok:
            return TAMPERED
        if check.batch.state in (AnchorState.pending, AnchorState.submitted):
            return PENDING
        if check.on_chain is None or check.on_chain.size != check.batch.size:
            return MISSING_ON_CHAIN
        if self.untrusted or (
            self.accepted is not None and check.on_chain.submitter.lower() not in self.accepted
        ):
            return UNTRUSTED
        trust = self.ledger.trust
        if trust is not None and not trust.accepts(
            check.on_chain.submitter, check.on_chain.block_number
        ):
            return UNTRUSTED  # made after the regulator revoked the submitter
        return VERIFIED

    def block_time(self, leaf: tuple[int, int] | None) -> int | None:
        """When the chain says the batch holding ``leaf`` was anchored (None: not on chain)."""
        if leaf is None:
            return None
        check = self.batches.get(leaf[0]) or self.batch(leaf[0])
        return check.on_chain.timestamp if check.on_chain is not None else None

    def short(self, batch_ids: Iterable[int]) -> dict[str, int]:
        """``short_batches`` over every batch asked about so far, each counted once."""
        new = set(batch_ids) - self.counted
        if new:
            self.short_roots.update(short_batches(self.session, new))
            self.counted |= new
        return self.short_roots

    def statuses(self, rows: Sequence[Any], leaves: Mapping[int, tuple[int, int]]) -> list[str]:
        """Statuses of one subject's events, ``rows`` in recording order."""
        out, expected_prev = [], None
        for row in rows:
            status = self._status(row, expected_prev, leaves.get(row.seq))
            out.append(status)
            expected_prev = row.digest
        return out

    def status_of(
        self,
        row: Any,
        expected_prev: str | None,
        leaf: tuple[int, int] | None,
        *,
        recomputed: bool = False,
    ) -> str:
        """One event's status, given the digest its ``prev`` must name and its leaf (the
        regulator's import checks a record before storing it: ``federation``).
        ``recomputed``: the caller computed ``row.digest`` from the row's content itself, and
        checked its shape (nothing to recompute twice)."""
        return self._status(row, expected_prev, leaf, recomputed=recomputed)

    def _status(
        self,
        row: Any,
        expected_prev: str | None,
        leaf: tuple[int, int] | None,
        *,
        recomputed: bool = False,
    ) -> str:
        # A row of a shape the application never writes is tampered, whatever its digest.
        if not recomputed and (
            row_problem(row) is not None or not digest_matches(content_of(row), row.digest)
        ):
            return TAMPERED
        if row.prev != expected_prev:
            return BROKEN_CHAIN
        if leaf is None:
            return PENDING
        check = self.batches.get(leaf[0]) or self.batch(leaf[0])
        if not check.leaves_ok or check.leaf(leaf[1]) != row.digest:
            return TAMPERED
        if check.verdict == VERIFIED and check.on_chain is not None:
            recorded = row.recorded_at.timestamp()
            block_time = check.on_chain.timestamp
            if not recorded - CLOCK_SKEW_S <= block_time <= recorded + self.max_delay_s:
                return LATE
        return check.verdict


def event_rows(
    session: Session,
    *,
    device: str | None = None,
    lot: str | None = None,
    claim: str | None = None,
) -> list[Row[Any]]:
    query = select(_EVENT).order_by(_EVENT.c.seq)
    if claim is not None:
        query = query.where(_EVENT.c.claim == claim)
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


def missing_on_chain_hint(ledger: TrustedLedger) -> str:
    where = f" at {redact_url(ledger.rpc_url)}" if ledger.rpc_url else ""
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
        return (
            self.head_matches
            and not self.ledger_problem
            and all(s == VERIFIED for _, s in self.events)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "qr_id": self.qr_id,
            "verified": self.verified,
            "events": [{"id": i, "status": s} for i, s in self.events],
            **({} if self.head_matches else {"problem": "latest event missing"}),
            **({"ledger_problem": self.ledger_problem} if self.ledger_problem else {}),
        }


def short_batches(session: Session, batch_ids: Iterable[int]) -> dict[str, int]:
    """Batches (root → events gone) holding fewer event rows than they anchored.

    A cheap local check: deleting a device's newest event and resetting its
    head leaves its chain intact, but not the batch it was anchored in.
    """
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    batch = AnchorBatch.__table__  # type: ignore[attr-defined]
    present: dict[int, int] = {
        int(batch_id): int(count)
        for batch_id, count in session.execute(
            select(_LEAF.c.batch_id, func.count())
            .select_from(_LEAF.join(_EVENT, _EVENT.c.seq == _LEAF.c.event_seq))
            .where(_LEAF.c.batch_id.in_(ids))
            .group_by(_LEAF.c.batch_id)
        )
    }
    short = {}
    found = list(
        session.execute(select(batch.c.id, batch.c.root, batch.c.size).where(batch.c.id.in_(ids)))
    )
    accounted = accounted_leaves(session, [str(root) for _, root, _ in found])
    for batch_id, root, size in found:
        held = present.get(batch_id, 0) + accounted.get(str(root), 0)
        if held < size:
            short[str(root)] = int(size) - held
    return short


def accounted_leaves(session: Session, roots: Sequence[str]) -> dict[str, int]:
    """Leaves of imported batches (root → count) the regulator's import accounted for without
    storing an event: a plant's register and claim records (``ImportRecord``, ``accounted``)
    and the records of organisations outside its scope (``withheld``)."""
    if not roots:
        return {}
    table = ImportRecord.__table__  # type: ignore[attr-defined]
    counts: dict[str, int] = {}
    for start in range(0, len(roots), 10_000):
        for root, count in session.execute(
            select(table.c.root, func.count())
            .where(
                table.c.status.in_((ACCOUNTED, WITHHELD)),
                table.c.root.in_(roots[start : start + 10_000]),
            )
            .group_by(table.c.root)
        ):
            counts[str(root)] = int(count)
    return counts


def completeness_problem(session: Session) -> str | None:
    """What the latest completeness check found missing from the database, if anything."""
    found = (
        session.execute(
            select(TrustCheck).order_by(TrustCheck.id.desc()).limit(1)  # type: ignore[union-attr]
        )
        .scalars()
        .first()
    )
    if found is None or not (found.missing_batches or found.missing_events):
        return None
    return (
        f"incomplete: the completeness check of {iso(found.checked_at)} found "
        f"{found.missing_batches} anchored batch(es) and {found.missing_events} anchored "
        "event(s) missing from the database"
    )


def shared_problems(session: Session, ledger: TrustedLedger) -> list[str]:
    """What fails every subject alike: an untrusted ledger, a failed completeness check."""
    problems = []
    if ledger.problem:
        problems.append(ledger.problem)
    if found := completeness_problem(session):
        problems.append(found)
    return problems


def malformed_rows(rows: Iterable[Any]) -> list[str]:
    """Each row of a shape the log does not allow, named by its id and what is wrong."""
    out = []
    for row in rows:
        if (problem := row_problem(row)) is not None:
            out.append(f"event {row.id} is malformed: {problem}")
    return out


def log_problems(
    verifier: Verifier,
    subject: str,
    rows: Sequence[Any],
    statuses: Sequence[str],
    leaves: Mapping[int, tuple[int, int]],
    short: Mapping[str, int],
    facts: DeviceFacts | None = None,
) -> list[str]:
    """Why one device's log cannot be trusted, beyond its events' own statuses.

    ``facts``: the log already replayed by the caller (it is not replayed again).
    """
    problems = malformed_rows(rows) if TAMPERED in statuses else []
    if MISSING_ON_CHAIN in statuses:
        problems.append(missing_on_chain_hint(verifier.ledger))
    # Digests prove the log was not changed after anchoring; the custody rules
    # prove it could have been recorded at all (not against a projection someone
    # edited to let an impossible step through).
    problems += list((facts or replay(subject, rows)).anomalies)
    if not short:
        return problems
    roots = {verifier.batch(leaves[r.seq][0]).batch.root for r in rows if r.seq in leaves}
    problems += [
        f"incomplete: batch {root} lacks {short[root]} anchored event(s) "
        "(deleted from the database)"
        for root in sorted(roots & set(short))
    ]
    return problems


def verify_device(
    session: Session, ledger: TrustedLedger, qr_id: str, head_digest: str | None
) -> DeviceVerification:
    rows = event_rows(session, device=qr_id)
    verifier = Verifier.for_ledger(session, ledger)
    positions = leaf_positions(session, [r.seq for r in rows])
    statuses = verifier.statuses(rows, positions)
    head_ok = head_digest is None or (bool(rows) and rows[-1].digest == head_digest)
    short = short_batches(session, (batch_id for batch_id, _ in positions.values()))
    problems = shared_problems(session, ledger)
    problems += log_problems(verifier, qr_id, rows, statuses, positions, short)
    return DeviceVerification(
        qr_id,
        [(r.id, s) for r, s in zip(rows, statuses, strict=True)],
        head_ok,
        "; ".join(problems) or None,
    )


def verify_all(
    session: Session, ledger: TrustedLedger, progress: Any = None
) -> Iterator[tuple[str, str, str]]:
    """(subject, event id, status) for every event, grouped by device, lot, claim or
    organisation (the register's events: SPEC §2.8).

    A row naming several subjects is checked in its device's log (else its lot's), as
    ``verify_device`` reads it; one naming none is checked alone, as ``(no subject)``.
    """
    groups: dict[tuple[str, Any], list[Any]] = defaultdict(list)
    for row in session.execute(select(_EVENT).order_by(_EVENT.c.seq)):
        groups[_subject_key(row)].append(row)
    leaves = leaf_positions(session, [r.seq for rows in groups.values() for r in rows])
    verifier = Verifier.for_ledger(session, ledger)
    for (kind, subject), group in sorted(groups.items(), key=_group_order):
        name = NO_SUBJECT if kind == "none" else str(subject)
        for row, status in zip(group, verifier.statuses(group, leaves), strict=True):
            yield (name, str(row.id), status)
        if progress is not None:
            progress(len(group))


#: How a full verification names an event row that names no device, lot or claim.
NO_SUBJECT = "(no subject)"


def _subject_key(row: Any) -> tuple[str, Any]:
    if row.device is not None:
        return ("device", row.device)
    if row.lot is not None:
        return ("lot", row.lot)
    if row.claim is not None:
        return ("claim", row.claim)
    if row.organisation is not None:
        return ("organisation", row.organisation)
    if getattr(row, "batch", None) is not None:
        return ("batch", row.batch)
    return ("none", row.id)  # each alone: they form no chain


def _group_order(item: tuple[tuple[str, Any], list[Any]]) -> tuple[str, str]:
    (kind, subject), _rows = item
    return (kind, str(subject))
