"""Records for the rule tests: device logs as the handhelds would have recorded them.

The events are plain values shaped like event rows; ``replay`` (the real one)
turns them into the facts the rules read.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from traceability.accounts.models import Organisation
from traceability.app import trace_of
from traceability.audit.dataset import AuditData, AuditedDevice, AuditedLot, audited_device
from traceability.audit.operations import Operations, load_operations
from traceability.audit.ruleset import Thresholds, load_ruleset
from traceability.periods import CHINA
from traceability.verification.logs import Verification

_seq = itertools.count(1)
DAY0 = dt.datetime(2026, 7, 6, 9, 0, tzinfo=CHINA)


def day(n: float, hour: float = 9) -> dt.datetime:
    return DAY0.replace(hour=0) + dt.timedelta(days=n, hours=hour)


@dataclass(frozen=True)
class Ev:
    id: str
    type: str
    org: str
    occurred_at: dt.datetime
    payload: dict[str, Any]
    recorded_at: dt.datetime
    digest: str
    seq: int = 0
    actor: str = "op"


@dataclass
class Log:
    """One device's events, built step by step."""

    qr_id: str
    events: list[Ev] = field(default_factory=list)

    def add(self, type_: str, org: str, at: dt.datetime, recorded: dt.datetime | None = None,
            actor: str = "op", **payload: Any) -> Log:  # fmt: skip
        n = next(_seq)
        digest = f"d{n:063d}"
        self.events.append(
            Ev(f"{self.qr_id}-e{n}", type_, org, at, payload, recorded or at, digest, n, actor)
        )
        return self

    def collected(self, org: str, at: dt.datetime, category: str = "tv",
                  attributes: dict[str, Any] | None = None, **extra: Any) -> Log:  # fmt: skip
        attrs = attributes or {"display": "flat", "screen_in": 42}
        return self.add("collected", org, at, category=category, attributes=attrs, **extra)

    def received(self, org: str, at: dt.datetime, weight_g: int = 20_000) -> Log:
        return self.add("received", org, at, weight_g=weight_g)

    def dismantled(self, org: str, at: dt.datetime, outputs: dict[str, int],
                   line: str = "L1", actor: str = "op", **extra: Any) -> Log:  # fmt: skip
        rows = [{"fraction": f, "weight_g": g} for f, g in outputs.items()]
        return self.add("dismantled", org, at, actor=actor, outputs=rows, line=line, **extra)

    def record(self, status: str = "verified", as_of: dt.datetime | None = None) -> AuditedDevice:
        """The device as the audit reads it at ``as_of`` (default: after its last event)."""
        as_of = as_of or max(e.occurred_at for e in self.events) + dt.timedelta(seconds=1)
        return audited_device(
            self.qr_id,
            [e for e in self.events if e.occurred_at < as_of],
            Verification(status, tuple((e.id, status) for e in self.events)),
            as_of=as_of,
            later=[e for e in self.events if e.occurred_at >= as_of],
        )


GOOD_FLAT_TV = {"pcb": 2_000, "lcd_panel": 6_000, "plastics": 6_000, "ferrous_metal": 4_500}


def flat_tv(qr_id: str, plant: str = "DIS-A", at: dt.datetime = DAY0, weight_g: int = 20_000,
            outputs: dict[str, int] | None = None) -> Log:  # fmt: skip
    return (
        Log(qr_id)
        .collected(plant, at)
        .received(plant, at + dt.timedelta(minutes=10), weight_g)
        .dismantled(plant, at + dt.timedelta(days=1), outputs or GOOD_FLAT_TV)
    )


def org(code: str, kind: str = "dismantler", capacity: int | None = None) -> Organisation:
    return Organisation(code=code, kind=kind, name=code, region="320500", capacity_units=capacity)


def audit_data(app: Flask, *logs: Log, lots: tuple[AuditedLot, ...] = (),
               as_of: dt.datetime | None = None, orgs: tuple[Organisation, ...] = (),
               since: dt.datetime | None = None, operations: Operations | None = None,
               **overrides: Any) -> AuditData:  # fmt: skip
    data = AuditData(
        as_of=as_of or day(60),
        catalog=trace_of(app).catalog,
        orgs={o.code: o for o in (org("DIS-A"), org("COL-A", "collector"), *orgs)},
        since=since,
        operations=operations or load_operations(),
    )
    for log in logs:
        data.devices[log.qr_id] = log.record(overrides.get(log.qr_id, "verified"), data.as_of)
    data.lots = {lot.code: lot for lot in lots}
    return data


def thresholds(**changes: Any) -> Thresholds:
    return load_ruleset().thresholds.model_copy(update=changes)
