"""``traceability audit refresh --check``: every kept snapshot against a fresh replay (SPEC §3
"Every figure is a replay").

Recomputes each kept period from the log, as of the stored snapshot's own
``as_of``, and compares findings and figures with what is stored, writing
nothing. A snapshot that is missing, dated in the future, sealed over other
content or naming a log state the log does not hold is a difference too. Each
difference names the period and the figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.audit.dataset import audit_data, read_logs
from traceability.audit.findings import Finding
from traceability.audit.logstate import current_state, seal_key, state_of, untrusted
from traceability.audit.models import AuditSnapshot
from traceability.audit.operations import operations_of
from traceability.audit.refresh import figures_from, found_before, kept_periods
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import apply_rules
from traceability.audit.snapshots import (
    Figures,
    decode,
    encode,
    plant_json,
)
from traceability.context import Trace
from traceability.db import iso
from traceability.reports.devices import open_reader


@dataclass(frozen=True)
class Difference:
    """One way a stored snapshot differs from the log: which period, which figure."""

    period: str
    what: str
    stored: Any
    recomputed: Any

    def __str__(self) -> str:
        if self.recomputed is None:  # a fault of the stored snapshot itself
            return f"{self.period}: {self.what}: {self.stored}"
        return f"{self.period}: {self.what}: stored {self.stored}, recomputed {self.recomputed}"


@dataclass
class CheckRun:
    periods: list[str]
    differences: list[Difference]


def _flat(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in sorted(value.items()):
            yield from _flat(f"{prefix}.{k}" if prefix else str(k), v)
    else:
        yield prefix, value


def _finding_key(f: Finding) -> tuple[Any, ...]:
    return (f.rule, f.org, iso(f.at), f.subject, repr(sorted(f.params.items())), f.events,
            f.devices, f.verified, f.severity,
            iso(f.dismantled_at) if f.dismantled_at else None, f.claims)  # fmt: skip


def compare(
    period: str,
    stored: tuple[tuple[Finding, ...], Figures],
    fresh: tuple[tuple[Finding, ...], Figures],
) -> list[Difference]:
    """Findings (per rule) and figures (per plant and figure) that differ."""
    out: list[Difference] = []
    (had, had_figures), (has, has_figures) = stored, fresh
    if len(had) != len(has):
        out.append(Difference(period, "findings", len(had), len(has)))
    had_rules, has_rules = Counter(f.rule for f in had), Counter(f.rule for f in has)
    for rule in sorted(set(had_rules) | set(has_rules)):
        mine = sorted(_finding_key(f) for f in had if f.rule == rule)
        theirs = sorted(_finding_key(f) for f in has if f.rule == rule)
        if mine != theirs:
            out.append(Difference(period, f"findings of {rule}", had_rules[rule], has_rules[rule]))
    plants = sorted(set(had_figures.plants) | set(has_figures.plants))
    for plant in plants:
        a = (
            dict(_flat("", plant_json(had_figures.plants[plant])))
            if plant in had_figures.plants
            else {}
        )
        b = (
            dict(_flat("", plant_json(has_figures.plants[plant])))
            if plant in has_figures.plants
            else {}
        )
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                out.append(Difference(period, f"{plant} {name}", a.get(name), b.get(name)))
    for what, x, y in (("monthly volumes", had_figures.months, has_figures.months),
                       ("batches", _batches(had_figures), _batches(has_figures))):  # fmt: skip
        for plant in sorted(set(x) | set(y)):
            if x.get(plant) != y.get(plant):
                out.append(Difference(period, f"{plant} {what}", "…", "…"))
    return out


def _batches(figures: Figures) -> dict[str, list[dict[str, Any]]]:
    return {p: [dataclasses.asdict(b) for b in bs] for p, bs in figures.batches.items()}


def check_snapshots(trace: Trace, *, now: dt.datetime | None = None) -> CheckRun:
    """Recompute every kept period as of its stored snapshot and compare; write nothing."""
    settings = trace.settings
    ruleset, key = load_ruleset(), seal_key(trace.secret_key)
    now = now or trace.now()
    kept = kept_periods(now, settings.audit_closed_quarters)
    run = CheckRun(periods=list(kept), differences=[])
    with Session(trace.engine) as session:
        ledger = open_reader(session, trace.ledger)
        rows = {r.period: r for r in session.execute(select(AuditSnapshot)).scalars()}
        trust = {name: untrusted(session, row, key=key, now=now) for name, row in rows.items()}
        # Those found by earlier passes are findings of the log's audit; one found now is
        # the "trust" difference of its own period.
        future = tuple(found_before(session, key=key, now=now).values())
        state = current_state(session)
        logs = read_logs(session, ledger)
        session.rollback()
        for name, period in kept.items():
            row = rows.get(name)
            if row is None:
                run.differences.append(Difference(name, "snapshot", "none stored", None))
                continue
            if trust[name] is not None:
                run.differences.append(Difference(name, "not trusted", trust[name], None))
            end = min(period.end, now) if period else now
            as_of = min(row.as_of, end)
            if row.as_of > end:
                run.differences.append(Difference(name, "as_of", iso(row.as_of), iso(end)))
            try:
                stored = decode(row.content)
            except Exception as exc:  # whatever was written there: it is a difference
                run.differences.append(Difference(name, "content", f"unreadable ({exc})", None))
                continue
            data = audit_data(
                logs, trace.catalog, as_of=as_of,
                since=period.start if period else None, operations=operations_of(settings),
            )  # fmt: skip
            data.future_snapshots = future
            fresh = (tuple(apply_rules(data, ruleset)), figures_from(data))
            # the same encoding both ways: what is compared is what a page would read
            found = compare(name, stored, decode(encode(*fresh)))
            if found and state_of(row).last_seq != state.last_seq:
                found.append(Difference(name, "log (moved on since)", state_of(row).last_seq,
                                        state.last_seq))  # fmt: skip
            run.differences += found
    return run
