"""Audit snapshots: the findings and figures of a period, stored for every web worker to read.

The refresher (``audit.refresh``) computes them off the request path and
writes them with ``store_snapshot``; the pages and the API read them through
``SnapshotCache`` and never replay the log themselves. The content is JSON
compressed with zlib: findings, each plant's figures, monthly volumes and
batches. Each snapshot names the log state it was computed from and is
sealed (``audit.logstate``); one that is not what it says is never used. A
web worker keeps the decoded snapshot it last read, keyed by its seal, so a
request decodes nothing unless the refresher has written a newer one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.audit.figures import (
    BatchGroup,
    CategoryFigures,
    LotFlow,
    Months,
    PlantFigures,
)
from traceability.audit.findings import Finding
from traceability.audit.logstate import LogState, seal, untrusted
from traceability.audit.models import AuditSnapshot
from traceability.db import iso
from traceability.errors import TraceabilityError

#: The period name of the snapshot of everything so far (no period given).
ALL = "all"


class AuditPending(TraceabilityError):
    """No snapshot of the period has been computed yet: ask again after ``retry_after`` s."""

    code = "audit_pending"
    status = 503


@dataclass(frozen=True)
class Figures:
    """The portal's figures of one period, per plant."""

    plants: dict[str, PlantFigures]
    months: dict[str, Months]
    batches: dict[str, list[BatchGroup]]


@dataclass(frozen=True)
class Snapshot:
    """The findings of ``[since, as_of)`` against the log as it stood at ``computed_at``."""

    period: str
    since: dt.datetime | None
    as_of: dt.datetime
    computed_at: dt.datetime
    took_ms: int
    last_seq: int
    findings: tuple[Finding, ...]
    figures: Figures


# -- encoding ---------------------------------------------------------------------


def _finding_json(f: Finding) -> list[Any]:
    dismantled = iso(f.dismantled_at) if f.dismantled_at else None
    return [f.rule, f.org, iso(f.at), f.subject, f.params, f.events, f.devices, f.verified,
            f.severity, dismantled, f.claims]  # fmt: skip


def _finding(row: list[Any]) -> Finding:
    rule, org, at, subject, params, events, devices, verified, severity = row[:9]
    dismantled, claims = row[9:11] if len(row) >= 11 else (None, ())  # older snapshots
    return Finding(rule=rule, org=org, at=dt.datetime.fromisoformat(at), subject=subject,
                   params=params, events=tuple(events), devices=tuple(devices),
                   verified=verified, severity=severity,
                   dismantled_at=dt.datetime.fromisoformat(dismantled) if dismantled else None,
                   claims=tuple(claims))  # fmt: skip


def _plant(raw: dict[str, Any]) -> PlantFigures:
    categories = defaultdict(
        CategoryFigures, {k: CategoryFigures(**v) for k, v in raw.pop("categories").items()}
    )
    lots = LotFlow(**raw.pop("lots"))
    return PlantFigures(**raw, categories=categories, lots=lots)


def plant_json(f: PlantFigures) -> dict[str, Any]:
    # not dataclasses.asdict: it cannot rebuild the defaultdict of categories
    out = {x.name: getattr(f, x.name) for x in dataclasses.fields(f)}
    out["categories"] = {k: dataclasses.asdict(c) for k, c in f.categories.items()}
    out["lots"] = dataclasses.asdict(f.lots)
    return out


def encode(findings: tuple[Finding, ...], figures: Figures) -> bytes:
    body = {
        "findings": [_finding_json(f) for f in findings],
        "plants": {p: plant_json(f) for p, f in figures.plants.items()},
        "months": figures.months,
        "batches": {p: [dataclasses.asdict(b) for b in bs] for p, bs in figures.batches.items()},
    }
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    return zlib.compress(text.encode("utf-8"), 6)


def decode(content: bytes) -> tuple[tuple[Finding, ...], Figures]:
    body = json.loads(zlib.decompress(content))
    figures = Figures(
        plants={p: _plant(raw) for p, raw in body["plants"].items()},
        months={
            p: {m: Counter(c) for m, c in months.items()} for p, months in body["months"].items()
        },
        batches={p: [BatchGroup(**b) for b in bs] for p, bs in body["batches"].items()},
    )
    return tuple(_finding(r) for r in body["findings"]), figures


# -- storing and reading ------------------------------------------------------------


def store_snapshot(
    session: Session,
    snapshot: Snapshot,
    *,
    log_state: str,
    ruleset: str,
    state: LogState,
    key: bytes,
) -> None:
    """Replace the period's snapshot, naming ``state``, sealed with ``key`` (caller commits)."""
    row = session.get(AuditSnapshot, snapshot.period) or AuditSnapshot(
        period=snapshot.period,
        as_of=snapshot.as_of,
        log_state=log_state,
        computed_at=snapshot.computed_at,
        ruleset=ruleset,
        content=b"",
    )
    row.since, row.as_of = snapshot.since, snapshot.as_of
    row.log_state, row.last_seq, row.ruleset = log_state[:400], state.last_seq, ruleset
    row.events, row.roots = state.events, state.roots
    row.anchors_upto, row.roots_digest = state.anchors_upto, state.roots_digest
    row.computed_at, row.took_ms = snapshot.computed_at, snapshot.took_ms
    row.findings = len(snapshot.findings)
    row.content = encode(snapshot.findings, snapshot.figures)
    row.seal = seal(key, row)
    session.add(row)


def carry_forward(
    session: Session,
    period: str,
    *,
    computed_at: dt.datetime,
    took_ms: int,
    log_state: str,
    state: LogState,
    key: bytes,
) -> bool:
    """Seal the period's stored content again, naming ``state`` (caller commits): the log grew
    by events its replay cannot see (``audit.incremental``). The row is checked against its
    own seal first, in this transaction: a content changed since it was found trusted is
    never sealed again (False: it is recomputed instead)."""
    row = session.get(AuditSnapshot, period)
    if row is None or not hmac.compare_digest(row.seal or "", seal(key, row)):
        return False
    row.log_state, row.last_seq = log_state[:400], state.last_seq
    row.events, row.roots = state.events, state.roots
    row.anchors_upto, row.roots_digest = state.anchors_upto, state.roots_digest
    row.computed_at, row.took_ms = computed_at, took_ms
    row.seal = seal(key, row)
    session.add(row)
    return True


@dataclass(frozen=True)
class SnapshotState:
    """A snapshot's key columns, and why it must not be used (None: it may)."""

    period: str
    computed_at: dt.datetime
    log_state: str
    ruleset: str
    took_ms: int
    rejected: str | None = None
    last_seq: int = 0  # the newest event of the log it names
    as_of: dt.datetime | None = None


def snapshot_states(session: Session, *, key: bytes, now: dt.datetime) -> dict[str, SnapshotState]:
    """Every stored snapshot's key columns, each checked (``logstate.untrusted``)."""
    return {
        row.period: SnapshotState(
            row.period,
            row.computed_at,
            row.log_state,
            row.ruleset,
            row.took_ms,
            untrusted(session, row, key=key, now=now),
            last_seq=row.last_seq,
            as_of=row.as_of,
        )
        for row in session.exec(select(AuditSnapshot)).scalars()  # type: ignore[call-overload]
    }


@dataclass(frozen=True)
class Rejected:
    """A stored snapshot that must not be used, and why: it is being recomputed."""

    period: str
    reason: str


class SnapshotCache:
    """The snapshots a web worker decoded last, one per period, keyed by their seal.

    Each read checks the stored row first (``logstate.untrusted``: its time, the
    log state it names, its seal over the content read now); only a row with a
    new seal is decoded again.
    """

    def __init__(self) -> None:
        self.held: dict[str, tuple[str, Snapshot]] = {}

    def read(
        self, session: Session, period: str, *, key: bytes, now: dt.datetime
    ) -> Snapshot | Rejected | None:
        row = session.get(AuditSnapshot, period)
        if row is None:
            return None
        try:
            if (reason := untrusted(session, row, key=key, now=now)) is not None:
                return Rejected(period, reason)
            held = self.held.get(period)
            if held is not None and held[0] == row.seal:
                return held[1]
            findings, figures = decode(row.content)
            snapshot = Snapshot(
                period=row.period, since=row.since, as_of=row.as_of, computed_at=row.computed_at,
                took_ms=row.took_ms, last_seq=row.last_seq, findings=findings, figures=figures,
            )  # fmt: skip
            self.held[period] = (row.seal, snapshot)
            return snapshot
        finally:
            session.expunge(row)  # the content is not kept in the request's session
