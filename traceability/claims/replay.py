"""A claim replayed from its anchored events (SPEC §3 "Every figure is a replay", §2.6).

The ``claim``, ``claim_item`` and ``claim_exclusion`` rows are a projection:
anyone with database access can edit them. What a claim says is read from
here instead, as ``custody.facts`` replays a device:

* its content: the items must give the digest the anchored ``claim_submitted``
  event names (the digest covers every device's tier, rate and event digests,
  and every line); the lines and totals are derived from those items, and the
  units and total from the submission itself;
* its review: every device's outcome is the ``claim_reviewed`` events' decisions
  folded in order, exactly as ``review_claim`` applied them; the state and the
  approved amount follow from the outcomes.

A stored figure that disagrees is a ``Mismatch`` (``projection_mismatch``):
shown and exported as such, never as the answer. One pass over the items,
streamed (100,000 devices are never held at once).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Text, select, type_coerce
from sqlmodel import Session

from traceability.catalog.models import Catalog
from traceability.claims.assess import summary_lines
from traceability.claims.digest import (
    DevicesOutOfOrder,
    StreamedClaimDigest,
    StreamedExclusionsDigest,
    StreamedFlagsDigest,
)
from traceability.claims.events import CLAIM_REVIEWED, CLAIM_SUBMITTED, ClaimEvent
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem, ClaimState, Review
from traceability.claims.outcomes import Outcomes
from traceability.verification.services import VERIFIED

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]

#: Devices whose stored review disagrees, listed one by one up to this many (then counted).
LISTED_DEVICES = 100


@dataclass(frozen=True)
class Mismatch:
    """A stored figure of ``claim`` that its events do not give."""

    claim: str
    field: str
    stored: Any
    replayed: Any
    device: str | None = None

    @property
    def text(self) -> str:
        where = f"{self.claim}" + (f" device {self.device}" if self.device else "")
        return (
            f"projection_mismatch: {where} {self.field}: the database says {self.stored!r}, "
            f"the anchored events give {self.replayed!r}"
        )


@dataclass
class ClaimReplay:
    """A claim's figures as its anchored events give them, and where the rows disagree."""

    code: str
    state: str
    #: The anchored digest once submitted; a draft's: what its items give.
    digest: str
    #: What the stored items (and the lines they give) hash to.
    items_digest: str
    #: The items give the anchored digest (a draft: its stored one).
    content_verified: bool
    units: int
    total_yuan: int
    approved_yuan: int | None
    lines: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    submitted_by: str | None
    submitted_at: dt.datetime | None
    #: Devices not claimed, and how many by first reason (anchored with the submission;
    #: a claim submitted before they were is counted from its rows).
    excluded: int
    excluded_by_reason: dict[str, int]
    outcomes: Outcomes
    mismatches: list[Mismatch] = field(default_factory=list)
    #: Claimed devices carrying each flag the policy marks (SPEC §2.6).
    flagged_by_flag: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches


@dataclass
class _Pass:
    """What one pass over the items gathers."""

    hasher: StreamedClaimDigest
    flags: StreamedFlagsDigest = field(default_factory=StreamedFlagsDigest)
    units: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    decided: int = 0
    approved: int = 0
    approved_yuan: int = 0
    review_mismatches: list[Mismatch] = field(default_factory=list)
    review_mismatched: int = 0


@dataclass
class _Mismatches:
    """The stored figures of claim ``code`` found to disagree, in the order checked."""

    code: str
    found: list[Mismatch] = field(default_factory=list)

    def differs(self, name: str, stored: Any, replayed: Any, device: str | None = None) -> None:
        if stored != replayed:
            self.found.append(Mismatch(self.code, name, stored, replayed, device))


def replay_claim(
    session: Session, catalog: Catalog, claim: Claim, events: Sequence[ClaimEvent]
) -> ClaimReplay:
    """Replay ``claim`` from ``events`` (``claim_events``: its events in recording order)."""
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    outcomes = Outcomes(e.payload for e in events if e.type == CLAIM_REVIEWED)
    try:
        done = _items_pass(session, claim, outcomes, ordered=True)
    except DevicesOutOfOrder:  # the database's collation is not code point order
        done = _items_pass(session, claim, outcomes, ordered=False)
    lines = _in_stored_order(summary_lines(catalog, done.units), claim.lines)
    schedules = _schedules(catalog, claim, submitted)
    digest = done.hasher.finish(
        org=claim.org, period=claim.period, schedules=schedules, lines=lines, mode=claim.mode,
        supplements=claim.supplements,
    )  # fmt: skip
    mismatches = _Mismatches(claim.code)
    state, approved, anchored = _submission(claim, submitted, outcomes, done, mismatches)
    units, total = _claimed_figures(
        submitted, digest, anchored, sum(done.units.values()), total_of(lines), mismatches
    )
    excluded = _replayed_exclusions(session, claim, submitted, mismatches)
    flagged = dict(sorted(done.flags.by_flag.items()))
    anchored_flags = submitted.payload.get("flags") if submitted is not None else None
    if isinstance(anchored_flags, Mapping):
        mismatches.differs("flags.digest", done.flags.finish(), anchored_flags.get("digest"))
    differs = mismatches.differs
    differs("excluded", claim.excluded, excluded["count"])
    differs("state", claim.state, state)
    differs("units", claim.units, units)
    differs("total_yuan", claim.total_yuan, total)
    differs("approved_yuan", claim.approved_yuan, approved)
    found = mismatches.found + _line_mismatches(claim, lines) + _review_mismatches(claim, done)
    return ClaimReplay(
        code=claim.code,
        state=state,
        digest=anchored,
        items_digest=digest,
        content_verified=digest == anchored,
        units=units,
        total_yuan=total,
        approved_yuan=approved,
        lines=lines,
        schedules=schedules,
        submitted_by=submitted.actor if submitted is not None else None,
        submitted_at=submitted.occurred_at if submitted is not None else None,
        excluded=int(excluded["count"]),
        excluded_by_reason={str(k): int(v) for k, v in dict(excluded["by_reason"]).items()},
        outcomes=outcomes,
        mismatches=found,
        flagged_by_flag=flagged,
    )


def _submission(
    claim: Claim,
    submitted: ClaimEvent | None,
    outcomes: Outcomes,
    done: _Pass,
    mismatches: _Mismatches,
) -> tuple[str, int | None, str]:
    """The state, the amount approved and the anchored digest (a draft: its stored one);
    where the row disagrees with the submission event, a mismatch."""
    if submitted is None:
        return str(ClaimState.draft), None, claim.digest
    anchored = str(submitted.payload.get("digest"))
    state, approved = _state(outcomes, done)
    mismatches.differs("digest", claim.digest, anchored)
    mismatches.differs("submitted_by", claim.submitted_by, submitted.actor)
    mismatches.differs("submitted_at", claim.submitted_at, submitted.occurred_at)
    return state, approved, anchored


def _claimed_figures(
    submitted: ClaimEvent | None,
    digest: str,
    anchored: str,
    units: int,
    total: int,
    mismatches: _Mismatches,
) -> tuple[int, int]:
    """The units and total claimed: the items' (``units``, ``total``) when they give the
    anchored digest, else the submission's own."""
    if digest != anchored:
        mismatches.found.append(Mismatch(mismatches.code, "devices", digest, anchored))
        if submitted is not None:  # the items are not the claim's: the submission's figures are
            units = int(submitted.payload.get("units", units))
            total = int(submitted.payload.get("total_yuan", total))
    elif submitted is not None:  # the items give the anchored digest: their figures are the claim's
        mismatches.differs("submission.units", submitted.payload.get("units"), units)
        mismatches.differs("submission.total_yuan", submitted.payload.get("total_yuan"), total)
    return units, total


def _replayed_exclusions(
    session: Session, claim: Claim, submitted: ClaimEvent | None, mismatches: _Mismatches
) -> dict[str, Any]:
    """The exclusions' count and counts by reason: as anchored with the submission, else
    (a draft, or a claim submitted before they were) as the rows give them."""
    excluded = exclusions_of(session, claim)
    if submitted is not None and isinstance(submitted.payload.get("excluded"), Mapping):
        anchored_excluded = submitted.payload["excluded"]
        mismatches.differs("excluded.digest", excluded["digest"], anchored_excluded.get("digest"))
        excluded = {**excluded, **anchored_excluded}
    return excluded


def _review_mismatches(claim: Claim, done: _Pass) -> list[Mismatch]:
    """The devices whose stored review disagrees: the first ones listed, the rest counted."""
    found = list(done.review_mismatches)
    if done.review_mismatched > len(done.review_mismatches):
        more = done.review_mismatched - len(done.review_mismatches)
        found.append(Mismatch(claim.code, "review", f"{more:,} more devices", "see above"))
    return found


def claim_status(events: list[ClaimEvent], replay: ClaimReplay) -> str | None:
    """The claim's verification: None before submission; ``projection_mismatch`` when a row
    disagrees with the replay; else the first claim event's status that is not verified."""
    if not any(e.type == CLAIM_SUBMITTED for e in events):
        return None
    if not replay.ok:
        return "projection_mismatch"
    return next((e.status for e in events if e.status != VERIFIED), VERIFIED)


def _items_pass(session: Session, claim: Claim, outcomes: Outcomes, *, ordered: bool) -> _Pass:
    query = select(
        _ITEM.c.qr_id,
        _ITEM.c.category,
        _ITEM.c.tier,
        _ITEM.c.schedule,
        _ITEM.c.rate_yuan,
        # As text, parsed by orjson below: json.loads was half the pass's time.
        type_coerce(_ITEM.c.event_digests, Text),
        _ITEM.c.review,
        _ITEM.c.review_reason,
        _ITEM.c.flags,
    ).where(_ITEM.c.claim_id == claim.id)
    done = _Pass(StreamedClaimDigest(claim.code))
    if ordered:
        result = session.execute(query.order_by(_ITEM.c.qr_id).execution_options(yield_per=5_000))
        try:
            _fold(claim, outcomes, result, done)
        finally:
            result.close()
    else:
        _fold(claim, outcomes, sorted(session.execute(query), key=lambda r: r.qr_id), done)
    return done


def _fold(claim: Claim, outcomes: Outcomes, rows: Iterable[Any], done: _Pass) -> None:
    add, units, reviewed = done.hasher.add, done.units, bool(outcomes)
    count, flagged = units.get, done.flags.add
    for qr_id, category, tier, schedule, rate, digests, review, reason, flags in rows:
        add(qr_id, tier, rate, digests if type(digests) is list else orjson.loads(digests))
        if flags:
            flagged(qr_id, flags)
        line = (category, tier, schedule, rate)
        units[line] = count(line, 0) + 1
        if not reviewed and review is None and reason is None:
            continue  # not reviewed, and no review recorded: nothing to fold
        result, why = outcomes.of(qr_id, tier)
        if result is not None:
            done.decided += 1
            if result == Review.approved:
                done.approved += 1
                done.approved_yuan += rate
        if review != result or (reason or None) != (why or None):
            done.review_mismatched += 1
            if len(done.review_mismatches) < LISTED_DEVICES:
                done.review_mismatches.append(
                    Mismatch(claim.code, "review", [review, reason], [result, why], qr_id)
                )


def _state(outcomes: Outcomes, done: _Pass) -> tuple[str, int | None]:
    """The state and approved amount the review outcomes give (as ``review_claim`` sets them)."""
    if not outcomes:
        return str(ClaimState.submitted), None
    items = sum(done.units.values())
    approved = done.approved_yuan if done.decided else None
    if done.decided < items:
        return str(ClaimState.submitted), approved
    if done.approved == done.decided:
        return str(ClaimState.approved), approved
    if not done.approved:
        return str(ClaimState.rejected), approved
    return str(ClaimState.partially_approved), approved


def _schedules(
    catalog: Catalog, claim: Claim, submitted: ClaimEvent | None
) -> list[dict[str, Any]]:
    """The schedules a submission names (id and hash anchored; source and label shown from
    the stored row or the catalogue); a draft's as stored."""
    if submitted is None:
        return list(claim.schedules)
    stored = {(s.get("id"), s.get("sha256")): s for s in claim.schedules}
    out = []
    for ref in submitted.payload.get("schedules", []):
        key = (ref.get("id"), ref.get("sha256"))
        known = catalog.rate_schedules.get(str(ref.get("id")))
        shown = stored.get(key) or (
            {"source": known.source, "label": known.label} if known is not None else {}
        )
        out.append(
            {
                "id": key[0],
                "sha256": key[1],
                "source": shown.get("source", ""),
                "label": shown.get("label"),
            }
        )
    return out


def _key(line: Mapping[str, Any]) -> tuple[Any, ...]:
    return (line.get("category"), line.get("tier"), line.get("schedule"), line.get("rate"))


def _in_stored_order(
    lines: list[dict[str, Any]], stored: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The replayed lines in the order the claim was computed with (the digest covers the
    order, and a catalogue changed since must not reorder an old claim); new lines last."""
    position = {_key(line): n for n, line in enumerate(stored)}
    return sorted(lines, key=lambda line: position.get(_key(line), len(position)))


def _line_mismatches(claim: Claim, lines: list[dict[str, Any]]) -> list[Mismatch]:
    stored = {_key(line): line for line in claim.lines}
    out = []
    for line in lines:
        name = f"lines[{line['tier']}@{line['rate']}]"
        row = stored.pop(_key(line), None)
        if row is None:
            out.append(Mismatch(claim.code, name, None, [line["units"], line["amount"]]))
            continue
        for part in ("units", "amount"):
            if row.get(part) != line[part]:
                out.append(Mismatch(claim.code, f"{name}.{part}", row.get(part), line[part]))
    for row in stored.values():
        name = f"lines[{row.get('tier')}@{row.get('rate')}]"
        out.append(Mismatch(claim.code, name, [row.get("units"), row.get("amount")], None))
    return out


def total_of(lines: Iterable[Mapping[str, Any]]) -> int:
    return sum(int(line["amount"]) for line in lines)


def exclusions_of(session: Session, claim: Claim) -> dict[str, Any]:
    """``{count, by_reason, digest}`` of the claim's exclusion rows: what a submission
    anchors, and what a replay compares with it (one streamed pass)."""
    query = select(_EXCLUSION.c.qr_id, _EXCLUSION.c.category, _EXCLUSION.c.reasons).where(
        _EXCLUSION.c.claim_id == claim.id
    )
    try:
        result = session.execute(
            query.order_by(_EXCLUSION.c.qr_id).execution_options(yield_per=5_000)
        )
        try:
            return _exclusions(result)
        finally:
            result.close()
    except DevicesOutOfOrder:  # the database's collation is not code point order
        return _exclusions(sorted(session.execute(query), key=lambda r: r.qr_id))


def _exclusions(rows: Iterable[Any]) -> dict[str, Any]:
    hasher = StreamedExclusionsDigest()
    by_reason: Counter[str] = Counter()
    for qr_id, category, reasons in rows:
        hasher.add(qr_id, category, reasons)
        by_reason[reasons[0][0] if reasons else "?"] += 1
    return {"count": hasher.count, "by_reason": dict(sorted(by_reason.items())),
            "digest": hasher.finish()}  # fmt: skip


def flags_of(session: Session, claim: Claim) -> dict[str, Any]:
    """``{digest, by_flag}`` of the claimed devices' flags: what a submission anchors."""
    query = select(_ITEM.c.qr_id, _ITEM.c.flags).where(_ITEM.c.claim_id == claim.id)
    try:
        return _flags(session.execute(query.order_by(_ITEM.c.qr_id)))
    except DevicesOutOfOrder:  # the database's collation is not code point order
        return _flags(sorted(session.execute(query), key=lambda r: r.qr_id))


def _flags(rows: Iterable[Any]) -> dict[str, Any]:
    hasher = StreamedFlagsDigest()
    for qr_id, flags in rows:
        hasher.add(qr_id, flags)
    return {"digest": hasher.finish(), "by_flag": dict(sorted(hasher.by_flag.items()))}
