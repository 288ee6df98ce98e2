"""``traceability import PLANT``: a plant's events into the regulator's own log, each checked
against the trust file and the chain before it is stored (SPEC §3 "The regulator's instance").

For every record the plant's EPCIS query exports (``trace:proofs``), in the
order its ``prev`` links give per device or lot:

1. the digest is recomputed from the record's content — a digest the plant
   sends is never used;
2. ``prev`` must name the digest of the subject's previous event as the
   regulator holds it (a record that does not link is refused, and so is
   every record after it);
3. the batch its anchor names must be one the plant's submitter — the
   address the organisation register assigns to PLANT, accepted by the trust
   file — anchored on chain: its leaves (asked of the plant) must hash to the
   root the registry holds, and the recomputed digest must be the leaf;
4. the block's time must fall within TRACE_ANCHOR_MAX_DELAY_S of the
   record's ``recorded_at``, else it is stored as ``late``;
5. the eventID the plant lists it under must be the GS1 event hash of the
   record as exported (``identity``), else it is refused naming both.

Steps 1, 3 and 4 are the verifiers' own (``verification.services.Verifier``).
A record that passes is stored as a fact — an event row, its anchor leaf and
the device's projection — and reads like any other event of the regulator's
log; one that fails is an ``ImportRecord`` with its reason, never an event.
A record not yet anchored waits for the next import.

Completeness: every root the plant's submitter ever anchored is enumerated on
chain and asked of the plant; each leaf the regulator cannot account for (no
event stored, refused or accounted) is ``missing``. Re-importing is
idempotent: a stored event is recognised by its id and digest, an outcome by
its leaf.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlmodel import Session

from ledger import merkle
from ledger.canonical import digest_hex
from ledger.interface import AnchorRecord
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, AnchorState
from traceability.anchoring.trust import TrustedLedger
from traceability.custody.models import Event
from traceability.custody.wellformed import row_problem
from traceability.db import utcnow
from traceability.federation.identity import check_event_ids
from traceability.federation.projection import project
from traceability.federation.records import (
    Candidate,
    Record,
    candidates_of,
    record_row,
)
from traceability.federation.source import ImportFailed, PlantSource
from traceability.periods import CHINA
from traceability.verification.models import ImportRecord
from traceability.verification.services import (
    ACCOUNTED,
    LATE,
    PENDING,
    TAMPERED,
    UNTRUSTED,
    VERIFIED,
    WITHHELD,
    BatchCheck,
    Verifier,
    content_of,
)

_EVENT = Event.__table__  # type: ignore[attr-defined]
_LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]

IMPORTED, REFUSED, MISSING = "imported", "refused", "missing"
#: How many refusals and missing leaves a run lists (the counts cover them all).
LISTED = 50


@dataclass
class ImportRun:
    """What one import did: counts by outcome, and the first refusals and missing leaves."""

    plant: str
    submitter: str
    pages: int = 0
    received: int = 0
    anchors_on_chain: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (status, what, why)

    def note(self, status: str, what: str = "", why: str = "") -> None:
        self.counts[status] += 1
        if status in (REFUSED, MISSING) and len(self.problems) < LISTED:
            self.problems.append((status, what, why))

    @property
    def ok(self) -> bool:
        return not (self.counts[REFUSED] or self.counts[MISSING])


@dataclass
class _Batch:
    """One of the submitter's anchors: as the chain holds it, and as the plant published it."""

    record: AnchorRecord
    published: dict[str, Any] | None = None
    batch_id: int | None = None  # the regulator's AnchorBatch, once its leaves verified
    problem: str | None = None  # why its leaves cannot be used

    @property
    def root(self) -> str:
        return self.record.root.removeprefix("0x").lower()


@dataclass
class Importer:
    """One plant's import into the regulator's database (``engine``), checked by ``ledger``
    (the trusted reader, accepting only the plant's submitter)."""

    engine: Engine
    ledger: TrustedLedger
    source: PlantSource
    run: ImportRun
    batches: dict[str, _Batch] = field(default_factory=dict)
    #: Each subject's head as the regulator holds it, once read (kind, key) → digest.
    heads: dict[tuple[str, str], str | None] = field(default_factory=dict)
    #: The verifier's checks of the batches stored here (root recomputed, chain read), kept
    #: across pages: once per batch, not once per page.
    checks: dict[int, BatchCheck] = field(default_factory=dict)
    #: Digests refused or left pending in this run: what a later record's prev may name.
    held_back: dict[str, str] = field(default_factory=dict)

    # -- the chain and the plant's batches -------------------------------------------

    def load_anchors(self) -> None:
        """Every anchor the plant's submitter made, as the chain lists it."""
        chain = self.ledger.chain
        assert chain is not None
        for record in chain.anchors_of(self.run.submitter):
            batch = _Batch(record)
            self.batches[batch.root] = batch
        self.run.anchors_on_chain = len(self.batches)

    def batch(self, root: str) -> _Batch | None:
        """The submitter's batch under ``root`` with its leaves checked and stored here
        (None: the submitter never anchored it)."""
        found = self.batches.get(root)
        if found is None or found.batch_id is not None or found.problem is not None:
            return found
        found.published = self.source.batch(root)
        found.problem = _leaves_problem(found)
        if found.problem is None:
            found.batch_id = self._store_batch(found)
        return found

    def _store_batch(self, found: _Batch) -> int:
        assert found.published is not None
        with Session(self.engine) as session:
            existing = session.execute(
                select(AnchorBatch.id).where(AnchorBatch.root == found.root)  # type: ignore[call-overload]
            ).scalar()
            if existing is not None:
                return int(existing)
            chain = self.ledger.chain
            assert chain is not None and self.ledger.trust is not None
            row = AnchorBatch(
                root=found.root,
                size=found.record.size,
                leaves=b"".join(bytes.fromhex(h) for h in found.published["leaves"]),
                first_seq=0,
                state=AnchorState.final,
                chain_id=self.ledger.trust.chain_id,
                contract=self.ledger.trust.registry,
                submitter=found.record.submitter,
                block_number=found.record.block_number,
                created_at=utcnow(),
            )
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    # -- one page of the plant's EPCIS query ------------------------------------------

    def page(self, document: Mapping[str, Any]) -> None:
        self.run.pages += 1
        candidates = candidates_of(document)
        self.run.received += len(candidates)
        for candidate in candidates:  # the leaves first: HTTP outside any transaction
            if candidate.root is not None and candidate.problem is None:
                self.batch(candidate.root)
        with Session(self.engine) as session:
            check_event_ids(session, document, candidates, self.source.url)
            fresh = self._known(session, candidates)
            verifier = Verifier.for_ledger(session, self.ledger)
            verifier.batches = self.checks  # each batch's root and chain record read once
            stored: list[tuple[Candidate, str]] = []
            groups = _by_subject(fresh)
            self._load_heads(session, groups)
            for subject, chain in groups.items():
                stored += self._walk(session, verifier, subject, chain)
            session.rollback()  # the reads end before anything is written
            self._store(session, stored)
            session.commit()

    def _known(self, session: Session, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates not stored here yet; one stored with other content is refused."""
        ids = [c.event_id for c in candidates if c.event_id]
        stored: dict[str, str] = {}
        for start in range(0, len(ids), 5000):
            stored.update(
                session.execute(
                    select(_EVENT.c.id, _EVENT.c.digest).where(
                        _EVENT.c.id.in_(ids[start : start + 5000])
                    )
                ).all()
            )
        fresh = []
        for c in candidates:
            if c.problem is not None:
                if c.digest:  # what names it as its prev is refused with it
                    self.held_back[c.digest] = REFUSED
                self._refuse(c, c.problem)
            elif c.event_id not in stored:
                fresh.append(c)
            elif stored[c.event_id] == c.digest:
                self.run.note("duplicate")
            else:
                self._refuse(
                    c,
                    f"event {c.event_id} was imported with digest {stored[c.event_id]}; the plant "
                    f"now shows content hashing to {c.digest} (changed after it was imported: "
                    "the imported one stands)",
                    key=f"event:{c.event_id}:{c.digest}",
                )
        return fresh

    def _load_heads(self, session: Session, subjects: Iterable[tuple[str, str]]) -> None:
        """Each subject's head as stored here, read for the whole page at once."""
        wanted: dict[str, list[str]] = defaultdict(list)
        for kind, key in subjects:
            if (kind, key) not in self.heads and kind in ("device", "lot"):
                wanted[kind].append(key)
        for kind, keys in wanted.items():
            column = _EVENT.c[kind]
            for start in range(0, len(keys), 5000):
                chunk = keys[start : start + 5000]
                self.heads.update({(kind, key): None for key in chunk})
                for key, digest in session.execute(
                    select(column, _EVENT.c.digest).where(column.in_(chunk)).order_by(_EVENT.c.seq)
                ):
                    self.heads[(kind, str(key))] = digest  # the last one read is the head

    def _head(self, session: Session, subject: tuple[str, str]) -> str | None:
        if subject not in self.heads:
            column = _EVENT.c[subject[0]]
            self.heads[subject] = session.execute(
                select(_EVENT.c.digest).where(column == subject[1]).order_by(_EVENT.c.seq.desc())
            ).scalar()
        return self.heads[subject]

    def _walk(
        self, session: Session, verifier: Verifier, subject: tuple[str, str], chain: list[Candidate]
    ) -> list[tuple[Candidate, str]]:
        """Follow ``prev`` from the regulator's head of ``subject``, checking each record."""
        out: list[tuple[Candidate, str]] = []
        head, waiting = self._head(session, subject), list(chain)
        while waiting:
            nxt = next((c for c in waiting if c.prev == head), None)
            if nxt is None:
                break
            waiting.remove(nxt)
            status = self._check(verifier, nxt, head)
            if status not in (VERIFIED, LATE):
                self.held_back[nxt.digest] = status
                if status == PENDING:
                    self.run.note("pending")
                else:
                    self._refuse(nxt, self._why(verifier, nxt, status))
                break
            out.append((nxt, status))
            head = self.heads[subject] = nxt.digest
        for c in waiting:  # after a record held back, or linking to nothing held here
            self._unlinked(c, subject)
        return out

    def _unlinked(self, c: Candidate, subject: tuple[str, str]) -> None:
        held = self.held_back.get(c.prev or "")
        if held == PENDING:
            self.held_back[c.digest] = PENDING
            self.run.note("pending")
            return
        self.held_back[c.digest] = REFUSED
        why = (
            f"its prev {c.prev} is a record of {subject[1]} refused here"
            if held is not None
            else f"its prev {c.prev} names no event of {subject[1]} held here "
            "(a record before it was deleted, edited or never produced)"
        )
        self._refuse(c, "broken chain: " + why)

    def _check(self, verifier: Verifier, c: Candidate, head: str | None) -> str:
        """The verifiers' status of the record, were it stored after ``head``."""
        if c.root is None:
            return PENDING
        found = self.batches.get(c.root)
        if found is None or found.batch_id is None or c.leaf_index is None:
            return UNTRUSTED if found is None else TAMPERED
        row = c.row
        assert row is not None
        row.seq = -1
        return verifier.status_of(row, head, (found.batch_id, c.leaf_index), recomputed=True)

    def _why(self, verifier: Verifier, c: Candidate, status: str) -> str:
        """The reason a record is refused, in words."""
        found = self.batches.get(c.root or "")
        if found is None:
            chain = self.ledger.chain
            on_chain = chain.get_anchor(c.root) if chain is not None and c.root else None
            if on_chain is None:
                return f"its anchor root {c.root} is not in the registry"
            return (
                f"its batch {c.root} was anchored by {on_chain.submitter}, not by "
                f"{self.run.plant}'s submitter {self.run.submitter}"
            )
        if found.problem is not None:
            return found.problem
        if status == TAMPERED:
            if c.row is not None and (problem := row_problem(c.row)) is not None:
                return f"the record is malformed: {problem}"
            leaf = _leaf(found, c.leaf_index)
            return (
                f"tampered: its content hashes to {c.digest}, but leaf {c.leaf_index} of batch "
                f"{found.root} anchored on chain is {leaf} (edited after anchoring)"
            )
        if status == UNTRUSTED:
            return (
                f"untrusted: batch {found.root} was anchored in block "
                f"{found.record.block_number}, after the trust file revoked "
                f"{found.record.submitter}"
            )
        return f"{status}: batch {found.root}"

    def _refuse(self, c: Candidate, why: str, *, key: str | None = None) -> None:
        self.run.note(REFUSED, c.event_id or c.key, why)
        found = self.batches.get(c.root or "")
        located = found is not None and c.leaf_index is not None and found.batch_id is not None
        key = key or (f"{c.root}:{c.leaf_index}" if located else f"event:{c.event_id}:{c.digest}")
        with Session(self.engine) as session:
            note(
                session,
                key,
                plant=self.run.plant,
                status=REFUSED,
                event_id=c.event_id,
                subject=c.subject[1] if c.subject else None,
                digest=c.digest,
                root=c.root if located else None,
                leaf_index=c.leaf_index if located else None,
                reason=why[:1000],
                at=c.recorded_at or utcnow(),
            )
            session.commit()

    def _store(self, session: Session, stored: list[tuple[Candidate, str]]) -> None:
        """The checked records as facts: event rows, their anchor leaves, the projections,
        each kind written in one statement for the page."""
        if not stored:
            return
        conn = session.connection()
        rows = [c.row for c, _ in stored]
        assert all(row is not None for row in rows)
        values = [{name: getattr(row, name) for name in _COLUMNS} for row in rows]
        # A plain executemany (the driver prepares one statement), then the rows' numbers read
        # back: psycopg parses an INSERT … RETURNING of hundreds of rows anew every time.
        conn.execute(insert(_EVENT), values)
        ids = [str(v["id"]) for v in values]
        seqs: dict[str, int] = {}
        for start in range(0, len(ids), 5000):
            seqs.update(
                conn.execute(
                    select(_EVENT.c.id, _EVENT.c.seq).where(
                        _EVENT.c.id.in_(ids[start : start + 5000])
                    )
                ).all()
            )
        conn.execute(
            insert(_LEAF),
            [
                {
                    "event_seq": seqs[str(c.event_id)],
                    "batch_id": self.batches[c.root or ""].batch_id,
                    "leaf_index": c.leaf_index,
                }
                for c, _ in stored
            ],
        )
        now = utcnow()
        outcomes: dict[str, dict[str, Any]] = {
            f"{c.root}:{c.leaf_index}": {
                "plant": self.run.plant,
                "status": "late" if status == LATE else IMPORTED,
                "event_id": c.event_id,
                "subject": c.subject[1] if c.subject else None,
                "digest": c.digest,
                "root": c.root,
                "leaf_index": c.leaf_index,
                "reason": None,
                "at": c.recorded_at,
            }
            for c, status in stored
        }
        _record_outcomes(session, outcomes, now)
        for outcome in outcomes.values():
            self.run.note(str(outcome["status"]))
        project(session, {c.row.device for c, _ in stored if c.row and c.row.device})

    # -- completeness ---------------------------------------------------------------

    def complete(self) -> None:
        """Account for every leaf of every anchor the submitter made; the rest is missing."""
        for root in list(self.batches):
            found = self.batch(root)
            assert found is not None
            with Session(self.engine) as session:
                held = self._held(session, found)
                for index in range(found.record.size):
                    if index not in held:
                        self._account(session, found, index)
                session.commit()

    def _held(self, session: Session, found: _Batch) -> set[int]:
        """The leaves of ``found`` the regulator holds an event or an outcome for."""
        table = ImportRecord.__table__  # type: ignore[attr-defined]
        held: set[int] = set()
        if found.batch_id is not None:
            held |= {
                int(i)
                for (i,) in session.execute(
                    select(_LEAF.c.leaf_index).where(_LEAF.c.batch_id == int(found.batch_id))
                )
            }
        held |= {
            int(i)
            for (i,) in session.execute(
                select(table.c.leaf_index).where(
                    table.c.root == found.root,
                    table.c.status.in_((REFUSED, ACCOUNTED, WITHHELD, IMPORTED, "late")),
                    table.c.leaf_index.is_not(None),
                )
            )
        }
        return held

    def _account(self, session: Session, found: _Batch, index: int) -> None:
        """One leaf no stored event or outcome speaks for: the plant's record of it, if any."""
        anchored_at = dt.datetime.fromtimestamp(found.record.timestamp, dt.UTC)
        base = {
            "plant": self.run.plant,
            "root": found.root,
            "leaf_index": index,
            "digest": _leaf(found, index),
        }
        if found.problem is None and _withheld(found, index):
            note(session, f"{found.root}:{index}", status=WITHHELD, at=anchored_at,
                 reason="the plant holds a record of an organisation outside this "
                 "regulator's scope here (not verified here)", **base)  # fmt: skip
            self.run.note(WITHHELD)
            return
        record = _record_at(found, index)
        if found.problem is not None or record is None:
            gone = found.problem or (
                f"leaf {index} of batch {found.root} (anchored in block "
                f"{found.record.block_number} at {anchored_at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}"
                " Beijing time) is on chain, but the plant "
                "does not produce its record (deleted from the plant's database?)"
            )
            note(session, f"{found.root}:{index}", status=MISSING, reason=gone[:1000],
                 at=anchored_at, **base)  # fmt: skip
            self.run.note(MISSING, f"{found.root}:{index}", gone)
            return
        row, digest = record
        subject = _subject_of(row)
        why: str | None
        if digest != base["digest"]:
            status, why = (
                REFUSED,
                (
                    f"tampered: the plant's record {row.id} at leaf {index} of batch {found.root} "
                    f"hashes to {digest}, not the anchored {base['digest']}"
                ),
            )
        elif subject[0] in ("organisation", "claim", "batch"):
            status, why = ACCOUNTED, None
        else:
            status, why = (
                MISSING,
                (
                    f"the plant holds record {row.id} of {subject[1]} at leaf {index} of batch "
                    f"{found.root}, but its EPCIS query did not produce it"
                ),
            )
        note(session, f"{found.root}:{index}", status=status, event_id=row.id,
             subject=subject[1], reason=why, at=row.recorded_at, **base)  # fmt: skip
        self.run.note(status, f"{row.id}", why or "")


_COLUMNS = (
    "id", "type", "device", "lot", "claim", "organisation", "batch", "org", "actor",
    "occurred_at", "recorded_at", "payload", "prev", "digest",
)  # fmt: skip


def _leaves_problem(found: _Batch) -> str | None:
    """Why the plant's leaves of ``found`` cannot be used (None: they hash to the chain's root)."""
    published = found.published
    where = f"batch {found.root} (anchored in block {found.record.block_number})"
    if published is None:
        return f"the plant does not produce {where}"
    leaves = published.get("leaves")
    if not isinstance(leaves, list) or not all(_is_hash(h) for h in leaves):
        return f"the plant's leaves of {where} are not a list of digests"
    if len(leaves) != found.record.size:
        return (
            f"the plant shows {len(leaves)} leaves of {where}; the chain says {found.record.size}"
        )
    if merkle.root([bytes.fromhex(h) for h in leaves]).hex() != found.root:
        return f"the plant's leaves of {where} do not hash to the root on chain"
    return None


def _is_hash(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 64:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def _leaf(found: _Batch, index: int | None) -> str | None:
    leaves = (found.published or {}).get("leaves") or []
    return str(leaves[index]) if index is not None and 0 <= index < len(leaves) else None


def _withheld(found: _Batch, index: int) -> bool:
    """Whether the plant names leaf ``index`` as a record outside the reader's scope."""
    return any(
        isinstance(item, dict) and item.get("leafIndex") == index and "trace:withheld" in item
        for item in (found.published or {}).get("records") or []
    )


def _record_at(found: _Batch, index: int) -> tuple[Record, str] | None:
    """The plant's record at leaf ``index`` as a row, with its recomputed digest."""
    for item in (found.published or {}).get("records") or []:
        if isinstance(item, dict) and item.get("leafIndex") == index:
            row = record_row(item.get("trace:record"))
            if row is None:
                return None
            return row, digest_hex(content_of(row))
    return None


def _subject_of(row: Any) -> tuple[str, str]:
    for kind in ("device", "lot", "claim", "organisation", "batch"):
        if getattr(row, kind, None) is not None:
            return kind, str(getattr(row, kind))
    return "none", str(row.id)


def _by_subject(candidates: Iterable[Candidate]) -> dict[tuple[str, str], list[Candidate]]:
    groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in candidates:
        assert c.subject is not None
        groups[c.subject].append(c)
    return groups


def _record_outcomes(
    session: Session, outcomes: Mapping[str, dict[str, Any]], now: dt.datetime
) -> None:
    """Many outcomes at once: new keys inserted in one statement, known ones as ``note``."""
    table = ImportRecord.__table__  # type: ignore[attr-defined]
    keys = list(outcomes)
    known: set[str] = set()
    for start in range(0, len(keys), 5000):
        known.update(
            session.execute(
                select(table.c.key).where(table.c.key.in_(keys[start : start + 5000]))
            ).scalars()
        )
    new = [
        {"key": key, "first_seen": now, "last_seen": now, **values}
        for key, values in outcomes.items()
        if key not in known
    ]
    if new:
        session.connection().execute(insert(table), new)
    for key in known:
        note(session, key, **outcomes[key])


def note(session: Session, key: str, **values: Any) -> None:
    """Record an outcome under ``key``: a new one, or the latest seen of a known one (a stored
    fact's outcome is never turned into anything else)."""
    now = utcnow()
    table = ImportRecord.__table__  # type: ignore[attr-defined]
    row = session.execute(select(ImportRecord).where(table.c.key == key)).scalar()
    if row is None:
        session.add(ImportRecord(key=key, first_seen=now, last_seen=now, **values))
        return
    row.last_seen = now
    if row.status in (IMPORTED, "late"):
        return
    for name, value in values.items():
        setattr(row, name, value)


def plant_ledger(ledger: TrustedLedger, submitter: str) -> TrustedLedger:
    """The trusted reader accepting only ``submitter``'s anchors (the trust file's revocations
    still apply); ImportFailed when the ledger cannot be trusted or does not accept it."""
    if ledger.chain is None or ledger.trust is None:
        raise ImportFailed(
            "no trusted ledger to check the plant's events against: "
            + (ledger.problem or "the ledger is off (TRACE_LEDGER_MODE)")
        )
    if ledger.problem:
        raise ImportFailed(f"the ledger is not the trusted one: {ledger.problem}")
    if submitter.lower() not in {s.lower() for s in ledger.trust.submitters}:
        raise ImportFailed(
            f"the trust file does not accept {submitter}: authorise it first "
            "(`traceability ledger authorize ADDR --org PLANT`)"
        )
    return replace(ledger, trust=ledger.trust.with_submitters([submitter]))
