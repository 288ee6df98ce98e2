"""What a claim knows of each device: its facts replayed from the log, their verification,
where its hazardous outputs went, and whether it was claimed before.

Devices are read in chunks (one event query, one verification pass each), so
a quarter of 100,000 devices never holds all their events at once. The facts
and the verification are the reports' own (``custody.facts.replay``,
``verification.logs.verify_logs``); the ``device`` rows only choose which
devices to look at and give the recorded chain heads.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections import namedtuple
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, or_, select
from sqlmodel import Session

from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import Catalog
from traceability.claims.eligibility import BatchClosing, HazardState, PriorClaim
from traceability.claims.models import Claim, ClaimedDevice
from traceability.custody.facts import DeviceFacts, Output, replay
from traceability.custody.models import Event, EventType
from traceability.custody.workspace import batch_subject
from traceability.devices.models import Device
from traceability.lots.models import fraction_of
from traceability.periods import Period
from traceability.verification.logs import Verification, verify_logs
from traceability.verification.services import VERIFIED, Verifier, leaf_positions

CHUNK = 2_000  # devices per pass

_EVENT = Event.__table__  # type: ignore[attr-defined]
_DEVICE = Device.__table__  # type: ignore[attr-defined]
_CLAIMED = ClaimedDevice.__table__  # type: ignore[attr-defined]
_CLAIM = Claim.__table__  # type: ignore[attr-defined]
_LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]
_BATCH = AnchorBatch.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DeviceEvidence:
    facts: DeviceFacts
    verification: Verification
    digests: tuple[str, ...]
    anchor: BatchAnchor | None  # of the latest event
    hazards: dict[str, HazardState]
    prior: PriorClaim | None
    #: Who recorded its (last) dismantling: the operator a reviewer asks about.
    operator: str | None = None
    #: Dismantled in a processing batch with no outputs of its own: the batch's closing.
    batch: BatchClosing | None = None


def candidates(session: Session, plant: str, period: Period) -> list[str]:
    """Devices the log says ``plant`` dismantled in the period, and those its rows say so.

    The rows are included so that a row edited to put a device in the claim
    is listed as excluded (the log disagrees), not silently ignored.
    """
    by_log = select(_EVENT.c.device).where(
        _EVENT.c.org == plant,
        _EVENT.c.type == EventType.dismantled,
        _EVENT.c.occurred_at >= period.start,
        _EVENT.c.occurred_at < period.end,
    )
    by_row = select(_DEVICE.c.qr_id).where(
        _DEVICE.c.dismantled_by == plant,
        _DEVICE.c.dismantled_at >= period.start,
        _DEVICE.c.dismantled_at < period.end,
    )
    found = {r for (r,) in session.execute(by_log.union(by_row)) if r}
    return sorted(found)


class LotChecks:
    """Whether a processor confirmed receipt of each lot, and whether a stocktake of it
    verifies, from the lot's verified events."""

    def __init__(self, session: Session, verifier: Verifier) -> None:
        self.session, self.verifier = session, verifier
        self.known: dict[str, tuple[bool, str]] = {}
        self.rows: dict[str, list[Row[Any]]] = {}
        self.leaves: dict[int, tuple[int, int]] = {}

    def load(self, codes: Iterable[str]) -> None:
        wanted = sorted(set(codes) - set(self.known))
        if not wanted:
            return
        rows: dict[str, list[Row[Any]]] = {c: [] for c in wanted}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            for row in self.session.execute(
                select(_EVENT).where(_EVENT.c.lot.in_(chunk)).order_by(_EVENT.c.seq)
            ):
                rows[row.lot].append(row)
        leaves = leaf_positions(self.session, [r.seq for rs in rows.values() for r in rs])
        self.rows.update(rows)
        self.leaves.update(leaves)
        for code in wanted:
            self.known[code] = self._check(self.verifier, leaves, rows[code])

    def verified_upto(self, code: str, seq: int) -> bool:
        """Whether the lot's events up to the one at ``seq`` all verify (a stocktake's chain)."""
        if self.verifier.ledger.is_unavailable:
            return False
        upto = [r for r in self.rows.get(code, ()) if r.seq <= seq]
        if not upto or upto[-1].seq != seq:
            return False
        return all(s == VERIFIED for s in self.verifier.statuses(upto, self.leaves))

    def _check(
        self, verifier: Verifier, leaves: dict[int, tuple[int, int]], rows: Sequence[Row[Any]]
    ) -> tuple[bool, str]:
        shipped = next((r for r in rows if r.type == EventType.lot_shipped), None)
        if shipped is None:
            return False, "the lot has not been shipped to a processor"
        destination = shipped.payload.get("to")  # hashed, unlike the lot row's copy
        received = [i for i, r in enumerate(rows) if r.type == EventType.lot_received]
        if not received:
            return False, "shipped; the processor has not confirmed receipt (联单未返回)"
        if verifier.ledger.is_unavailable:
            return False, f"receipt recorded, not verifiable: {verifier.ledger.problem}"
        upto = rows[: received[0] + 1]
        statuses = verifier.statuses(upto, leaves)
        if any(s != VERIFIED for s in statuses):
            bad = sorted({s for s in statuses if s != VERIFIED})
            return False, f"receipt recorded, its events are {', '.join(bad)}"
        if destination is not None and rows[received[0]].org != destination:
            return False, f"receipt recorded by {rows[received[0]].org}, not the lot's processor"
        return True, f"received by {rows[received[0]].org}"

    def state(
        self, fraction: str, lot: str | None, stocktake: tuple[str, int, int] | None = None
    ) -> HazardState:
        """Where the output sits; ``stocktake``: (lot, seq, grams) of a stocktake after its
        dismantling and before its lot shipped that counted at least its weight."""
        stored = stocktake is not None and self.verified_upto(stocktake[0], stocktake[1])
        kept = (
            f"; counted in store by a stocktake of {stocktake[0]}" if stocktake and stored else ""
        )
        if lot is None:
            return HazardState(
                fraction,
                stocktake[0] if stocktake else None,
                False,
                "its output lot has not been shipped to a processor" + kept,
                stored,
            )
        confirmed, detail = self.known[lot]
        return HazardState(fraction, lot, confirmed, detail + kept, stored)


class LotPlacement:
    """Which lot each hazardous output went into, read from the event log, not ``lot_item``.

    A plant's outputs of a fraction fill its one open lot of that fraction
    until the lot is shipped; so an output dismantled at log position ``seq``
    is in the first lot of that plant and fraction shipped after it (none:
    still in the open lot). The lot codes, which name plant and fraction, are
    hashed into every lot event, so a database admin cannot move an output
    into a lot the processor confirmed without breaking verification.
    """

    def __init__(self, session: Session, plant: str, hazardous: set[str]) -> None:
        self.shipped: dict[str, list[tuple[int, str]]] = {f: [] for f in hazardous}
        #: Per fraction: its lots' stocktakes (seq, lot, grams weighed), in log order.
        self.stocktakes: dict[str, list[tuple[int, str, int]]] = {f: [] for f in hazardous}
        for seq, lot, kind, payload in session.execute(
            select(_EVENT.c.seq, _EVENT.c.lot, _EVENT.c.type, _EVENT.c.payload)
            .where(
                _EVENT.c.org == plant,
                _EVENT.c.type.in_([EventType.lot_shipped, EventType.stocktake]),
                _EVENT.c.lot.like(f"{plant}-%"),
            )
            .order_by(_EVENT.c.seq)
        ):
            fraction = fraction_of(lot, plant)
            if fraction not in self.shipped:
                continue
            if kind == EventType.lot_shipped:
                self.shipped[fraction].append((seq, lot))
            elif isinstance(payload, dict) and type(payload.get("weight_g")) is int:
                self.stocktakes[fraction].append((seq, lot, payload["weight_g"]))
        self.seqs = {f: [seq for seq, _ in lots] for f, lots in self.shipped.items()}

    def lot_of(self, fraction: str, dismantled_seq: int) -> str | None:
        at = bisect_right(self.seqs[fraction], dismantled_seq)
        lots = self.shipped[fraction]
        return lots[at][1] if at < len(lots) else None

    def stocktake_after(
        self, fraction: str, dismantled_seq: int, grams: int
    ) -> tuple[str, int, int] | None:
        """The first stocktake of the lot an output went into, recorded after its dismantling
        and before that lot shipped, that weighed at least ``grams``: (lot, seq, grams)."""
        at = bisect_right(self.seqs[fraction], dismantled_seq)
        lots = self.shipped[fraction]
        shipped_at = lots[at][0] if at < len(lots) else None
        for seq, lot, weighed in self.stocktakes[fraction]:
            if seq <= dismantled_seq or (shipped_at is not None and seq >= shipped_at):
                continue
            if weighed >= grams:
                return lot, seq, weighed
        return None


@dataclass(frozen=True)
class BatchAnchor:
    """Where a device's latest event was anchored, as the exports show it (the batch's
    root, transaction and block; the events themselves are verified separately)."""

    root: str
    tx_hash: str | None
    block_number: int | None


class AnchorDetails:
    """Anchor details of a device's latest event (for the exports), each batch read once."""

    def __init__(self) -> None:
        self.batches: dict[int, BatchAnchor] = {}

    def of(self, session: Session, batch_id: int) -> BatchAnchor:
        if batch_id not in self.batches:
            row = session.execute(
                select(_BATCH.c.root, _BATCH.c.tx_hash, _BATCH.c.block_number).where(
                    _BATCH.c.id == batch_id
                )
            ).one()
            self.batches[batch_id] = BatchAnchor(*row)
        return self.batches[batch_id]


def gather(
    session: Session,
    catalog: Catalog,
    qr_ids: Sequence[str],
    *,
    plant: str,
    ledger: TrustedLedger,
    claim_id: int | None = None,
    verifier: Verifier | None = None,
) -> Iterator[DeviceEvidence]:
    """Evidence of each device in ``qr_ids`` (in that order), ``CHUNK`` devices at a time,
    as dismantled at ``plant``; a device dismantled by scan in a batch, with its closing.

    ``claim_id``: the draft being recomputed; its own hold on a device is no prior claim.
    One verifier serves every chunk (and, if passed, every call): each anchor batch's
    leaves are checked against its root, and the root read from the ledger, once per claim.
    """
    verifier = verifier or Verifier.for_ledger(session, ledger)
    lots = LotChecks(session, verifier)
    # Hazardous waste and controlled substances (refrigerant) alike need their receipt.
    hazardous = {code for code, f in catalog.fractions.items() if f.receipt_required}
    placement = LotPlacement(session, plant, hazardous)
    batches = AnchorDetails()
    for start in range(0, len(qr_ids), CHUNK):
        chunk = list(qr_ids[start : start + CHUNK])
        logs, positions = _logs_of(session, chunk)
        facts = {q: replay(q, rows) for q, rows in logs.items()}
        verification = verify_logs(
            session,
            ledger,
            logs,  # stored-event tuples have every attribute an Event has
            _heads_of(session, chunk),
            positions=positions,
            facts=facts,
            verifier=verifier,
        )
        closings = _closings(session, facts, plant=plant, verifier=verifier)
        placed = {q: _placed(logs[q], facts[q], plant, placement, hazardous, closings)
                  for q in chunk}  # fmt: skip
        lots.load(
            code
            for by_fraction in placed.values()
            for lot, stocktake in by_fraction.values()
            for code in (lot, stocktake[0] if stocktake else None)
            if code
        )
        prior = _prior_claims(session, chunk, claim_id)
        for qr_id in chunk:
            rows, f = logs[qr_id], facts[qr_id]
            leaf = positions.get(rows[-1].seq) if rows else None
            yield DeviceEvidence(
                facts=f,
                verification=verification[qr_id],
                digests=tuple(r.digest for r in rows),
                anchor=batches.of(session, leaf[0]) if leaf else None,
                hazards={h: lots.state(h, *where) for h, where in placed[qr_id].items()},
                prior=prior.get(qr_id),
                operator=next((r.actor for r in reversed(rows) if r.type == "dismantled"), None),
                batch=closings.get(f.batch or "") if _by_batch(f) else None,
            )


def _logs_of(
    session: Session, chunk: list[str]
) -> tuple[dict[str, list[Any]], dict[int, tuple[int, int]]]:
    """Each device's stored events in log order, and each anchored event's leaf position
    (batch, index), in one query (a leaf is one row per event)."""
    logs: dict[str, list[Any]] = {q: [] for q in chunk}
    positions: dict[int, tuple[int, int]] = {}
    result = session.execute(
        select(_EVENT, _LEAF.c.batch_id.label("leaf_batch"), _LEAF.c.leaf_index)
        .outerjoin(_LEAF, _LEAF.c.event_seq == _EVENT.c.seq)
        .where(_EVENT.c.device.in_(chunk))
        .order_by(_EVENT.c.seq)
    )
    for row in map(_stored_event(tuple(result.keys()))._make, result):
        logs[row.device].append(row)
        if row.leaf_batch is not None:
            positions[row.seq] = (row.leaf_batch, row.leaf_index)
    return logs, positions


def _heads_of(session: Session, chunk: list[str]) -> dict[str, str | None]:
    """The chain head each device's row records (None: no row)."""
    heads = dict(
        session.execute(
            select(_DEVICE.c.qr_id, _DEVICE.c.head_digest).where(_DEVICE.c.qr_id.in_(chunk))
        ).all()
    )
    return {q: heads.get(q) for q in chunk}


def _by_batch(facts: DeviceFacts) -> bool:
    """Dismantled in a processing batch with no outputs of its own (SPEC §2.4)."""
    return facts.batch is not None and not facts.outputs and facts.dismantled_at is not None


def _closings(
    session: Session, facts: dict[str, DeviceFacts], *, plant: str, verifier: Verifier
) -> dict[str, BatchClosing]:
    """The closing of each batch the devices were dismantled in by scan at ``plant``, by
    code, with its verification status (a closing is its batch's only event: no chain);
    a batch never closed has none."""
    codes = {f.batch for f in facts.values() if _by_batch(f) and f.dismantled_by == plant}
    if not codes:
        return {}
    subjects = {batch_subject(plant, str(code)): str(code) for code in codes}
    result = session.execute(
        select(_EVENT, _LEAF.c.batch_id.label("leaf_batch"), _LEAF.c.leaf_index)
        .outerjoin(_LEAF, _LEAF.c.event_seq == _EVENT.c.seq)
        .where(_EVENT.c.batch.in_(sorted(subjects)), _EVENT.c.type == EventType.batch_closed)
        .order_by(_EVENT.c.seq)
    )
    found: dict[str, BatchClosing] = {}
    for row in map(_stored_event(tuple(result.keys()))._make, result):
        leaves = {row.seq: (row.leaf_batch, row.leaf_index)} if row.leaf_batch is not None else {}
        [status] = verifier.statuses([row], leaves)
        payload = row.payload if isinstance(row.payload, dict) else {}
        outputs = tuple(
            Output(str(o.get("fraction")), int(o.get("weight_g") or 0))
            for o in payload.get("outputs") or ()
            if isinstance(o, dict)
        )
        code = subjects[row.batch]
        found[code] = BatchClosing(code, row.id, status, outputs, row.seq)
    return {c: found.get(c, BatchClosing(c, None, None, (), None)) for c in map(str, codes)}


def _placed(
    rows: Sequence[Any],
    facts: DeviceFacts,
    plant: str,
    placement: LotPlacement,
    hazardous: set[str],
    closings: dict[str, BatchClosing],
) -> dict[str, tuple[str | None, tuple[str, int, int] | None]]:
    """The shipped lot each of the device's hazardous outputs went into (None: not shipped),
    and the stocktake that counted it in store (None: none did). A device dismantled by
    scan: its batch's outputs, placed when the batch closed."""
    dismantling = _dismantling(rows, plant)
    outputs, seq = facts.outputs, dismantling.seq if dismantling is not None else None
    if _by_batch(facts) and (closing := closings.get(facts.batch or "")) is not None:
        outputs, seq = closing.outputs, closing.seq
    if seq is None:
        return {o.fraction: (None, None) for o in outputs
                if o.fraction in hazardous and o.weight_g > 0}  # fmt: skip
    return {
        o.fraction: (
            placement.lot_of(o.fraction, seq),
            placement.stocktake_after(o.fraction, seq, o.weight_g),
        )
        for o in outputs
        if o.fraction in hazardous and o.weight_g > 0
    }


@functools.cache
def _stored_event(columns: tuple[str, ...]) -> Any:
    """A named tuple of these columns: the rows of a claim are read a dozen times each
    (replay, verification, evidence), and a tuple's fields read several times faster
    than a result row's attributes."""
    return namedtuple("StoredEvent", columns)


def _dismantling(rows: Sequence[Any], plant: str) -> Any:
    """The device's (last) dismantling at ``plant`` in its log."""
    return next(
        (r for r in reversed(rows) if r.type == EventType.dismantled and r.org == plant), None
    )


def _prior_claims(
    session: Session, chunk: list[str], claim_id: int | None
) -> dict[str, PriorClaim]:
    query = (
        select(_CLAIMED.c.qr_id, _CLAIM.c.code, _CLAIMED.c.rejected)
        .join(_CLAIM, _CLAIM.c.id == _CLAIMED.c.claim_id)
        .where(_CLAIMED.c.qr_id.in_(chunk))
    )
    if claim_id is not None:
        query = query.where(or_(_CLAIMED.c.claim_id != claim_id, _CLAIMED.c.rejected.is_(True)))
    return {
        qr_id: PriorClaim(code, bool(rejected)) for qr_id, code, rejected in session.execute(query)
    }
