"""Audit snapshots: the findings and figures of a period, stored for every web worker to read.

The refresher (``audit.refresh``) computes them off the request path and
writes them with ``store_snapshot``; the pages and the API read the newest
with ``read_snapshot`` and never replay the log themselves. The content is
JSON compressed with zlib: findings, each plant's figures, monthly volumes
and batches. A web worker keeps the decoded snapshot it last read, keyed by
the period and ``computed_at``, so a request reads only the row's key
columns unless the refresher has written a newer one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from traceability.audit.figures import (
    BatchGroup,
    CategoryFigures,
    LotFlow,
    Months,
    PlantFigures,
)
from traceability.audit.findings import Finding
from traceability.db import iso
from traceability.errors import TraceabilityError
from traceability.reports.models import AuditSnapshot

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
    return [f.rule, f.org, iso(f.at), f.subject, f.params, f.events, f.devices, f.verified,
            f.severity]  # fmt: skip


def _finding(row: list[Any]) -> Finding:
    rule, org, at, subject, params, events, devices, verified, severity = row
    return Finding(rule=rule, org=org, at=dt.datetime.fromisoformat(at), subject=subject,
                   params=params, events=tuple(events), devices=tuple(devices),
                   verified=verified, severity=severity)  # fmt: skip


def _plant(raw: dict[str, Any]) -> PlantFigures:
    categories = defaultdict(
        CategoryFigures, {k: CategoryFigures(**v) for k, v in raw.pop("categories").items()}
    )
    lots = LotFlow(**raw.pop("lots"))
    return PlantFigures(**raw, categories=categories, lots=lots)


def _plant_json(f: PlantFigures) -> dict[str, Any]:
    # not dataclasses.asdict: it cannot rebuild the defaultdict of categories
    out = {x.name: getattr(f, x.name) for x in dataclasses.fields(f)}
    out["categories"] = {k: dataclasses.asdict(c) for k, c in f.categories.items()}
    out["lots"] = dataclasses.asdict(f.lots)
    return out


def encode(findings: tuple[Finding, ...], figures: Figures) -> bytes:
    body = {
        "findings": [_finding_json(f) for f in findings],
        "plants": {p: _plant_json(f) for p, f in figures.plants.items()},
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
) -> None:
    """Replace the period's snapshot (the caller commits)."""
    row = session.get(AuditSnapshot, snapshot.period) or AuditSnapshot(
        period=snapshot.period,
        as_of=snapshot.as_of,
        log_state=log_state,
        computed_at=snapshot.computed_at,
        ruleset=ruleset,
        content=b"",
    )
    row.since, row.as_of = snapshot.since, snapshot.as_of
    row.log_state, row.last_seq, row.ruleset = log_state[:400], snapshot.last_seq, ruleset
    row.computed_at, row.took_ms = snapshot.computed_at, snapshot.took_ms
    row.findings = len(snapshot.findings)
    row.content = encode(snapshot.findings, snapshot.figures)
    session.add(row)


@dataclass(frozen=True)
class SnapshotState:
    """A snapshot's key columns, without its content."""

    period: str
    computed_at: dt.datetime
    log_state: str
    ruleset: str
    took_ms: int


def snapshot_states(session: Session) -> dict[str, SnapshotState]:
    rows = session.execute(
        select(
            col(AuditSnapshot.period),
            col(AuditSnapshot.computed_at),
            col(AuditSnapshot.log_state),
            col(AuditSnapshot.ruleset),
            col(AuditSnapshot.took_ms),
        )
    )
    return {r[0]: SnapshotState(*r) for r in rows}


class SnapshotCache:
    """The snapshots a web worker decoded last, one per period, keyed by ``computed_at``."""

    def __init__(self) -> None:
        self.held: dict[str, Snapshot] = {}

    def read(self, session: Session, period: str) -> Snapshot | None:
        computed_at = session.execute(
            select(col(AuditSnapshot.computed_at)).where(col(AuditSnapshot.period) == period)
        ).scalar()
        if computed_at is None:
            return None
        held = self.held.get(period)
        if held is not None and held.computed_at == computed_at:
            return held
        row = session.get(AuditSnapshot, period)
        if row is None:  # replaced between the two reads: the next request sees it
            return None
        findings, figures = decode(row.content)
        snapshot = Snapshot(
            period=row.period, since=row.since, as_of=row.as_of, computed_at=row.computed_at,
            took_ms=row.took_ms, last_seq=row.last_seq, findings=findings, figures=figures,
        )  # fmt: skip
        self.held[period] = snapshot
        return snapshot
