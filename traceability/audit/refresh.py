"""The refresher: audit snapshots recomputed off the request path (``traceability audit refresh``).

Which periods are kept: everything so far (``all``), the current quarter and
the last ``audit_closed_quarters`` closed ones (the quarters the portal's
period picker offers). A kept period is recomputed when

- it has no snapshot yet, or one made by another rule set;
- the log or the anchors changed (the newest event, the anchors per state,
  whether the ledger can be read) and its snapshot is older than
  ``audit_refresh_s`` — so a plant recording all day costs one pass per
  ``audit_refresh_s``, whatever the number of page views;
- its snapshot is older than ``audit_recheck_s``: a direct edit of a row
  changes no count, and a reset chain changes nothing in the database.

One pass reads and verifies the whole log once and replays it up to each
period's end in turn (a period's records are dropped before the next one's
are built). Nothing is written while the log is read; each snapshot is
stored in a short transaction of its own.

A due closed quarter whose replay the events recorded since its snapshot
cannot reach (``audit.incremental``) is not replayed: its content is sealed
again naming the log as it stands — a pass after new events replays only
the periods they fall in (everything so far, the current quarter) and any
closed quarter they reach back into. ``force`` replays every kept period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session, col

from traceability.anchoring.models import AnchorBatch
from traceability.anchoring.trust import TrustedLedger
from traceability.audit.dataset import (
    AuditData,
    AuditLogs,
    FutureSnapshot,
    audit_data,
    read_logs,
)
from traceability.audit.figures import batch_groups, monthly_volumes, plant_figures
from traceability.audit.incremental import Reach, inputs_of, logged_after, reach_of, side_inputs
from traceability.audit.logstate import FUTURE_SKEW, current_state, seal_key
from traceability.audit.operations import operations_of
from traceability.audit.ruleset import RuleSet, load_ruleset
from traceability.audit.services import apply_rules
from traceability.audit.snapshots import (
    ALL,
    Figures,
    Snapshot,
    SnapshotCache,
    SnapshotState,
    carry_forward,
    snapshot_states,
    store_snapshot,
)
from traceability.config import Settings
from traceability.context import Trace
from traceability.custody.models import Event
from traceability.periods import Period, quarter_of
from traceability.reports.devices import open_reader

log = logging.getLogger(__name__)


def kept_periods(now: dt.datetime, closed_quarters: int) -> dict[str, Period | None]:
    """Everything so far, the current quarter and the last ``closed_quarters`` closed ones."""
    kept: dict[str, Period | None] = {ALL: None}
    period = quarter_of(now)
    for _ in range(closed_quarters + 1):
        kept[period.name] = period
        period = quarter_of(period.start - dt.timedelta(days=1))
    return kept


def _asked(ledger: TrustedLedger) -> str:
    return "ok" if not ledger.is_unavailable else str(ledger.problem)


def log_state(session: Session, ledger: TrustedLedger) -> tuple[int, str]:
    """The newest event, the anchors per state and whether the ledger could be asked: index
    lookups only."""
    seq = int(session.execute(select(func.max(Event.seq))).scalar() or 0)
    anchors = session.execute(
        select(col(AnchorBatch.state), func.count()).group_by(col(AnchorBatch.state))
    )
    states = ",".join(f"{s}:{n}" for s, n in sorted((str(s), int(n)) for s, n in anchors))
    asked = _asked(ledger)
    inputs = side_inputs(session, upto_seq=seq, ledger=asked)
    return seq, f"seq={seq};anchors={states};inputs={inputs};ledger={asked}"


def figures_from(data: AuditData) -> Figures:
    plants = {code for code, org in data.orgs.items() if org.kind == "dismantler"}
    return Figures(
        plants=plant_figures(data, plants),
        months=monthly_volumes(data, plants),
        batches=batch_groups(data, plants),
    )


@dataclass
class RefreshRun:
    """What one pass did: the periods recomputed, and how long it took."""

    periods: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)  # of those, carried forward unreplayed
    took_s: float = 0.0
    last_seq: int = 0


def due_periods(
    session: Session,
    settings: Settings,
    ruleset: RuleSet,
    *,
    now: dt.datetime,
    state: str,
    force: bool = False,
    stored: dict[str, SnapshotState],
) -> dict[str, Period | None]:
    """The kept periods to recompute; ``stored``: the snapshots' states (``snapshot_states``)."""
    kept = kept_periods(now, settings.audit_closed_quarters)
    if force:
        return kept
    due: dict[str, Period | None] = {}
    for name, period in kept.items():
        have = stored.get(name)
        # Not what it says (dated in the future, names a log state the log does not hold,
        # a seal that fails): recomputed now, whatever its computed_at says.
        if have is None or have.ruleset != ruleset.version or have.rejected is not None:
            due[name] = period
            continue
        age = (now - have.computed_at).total_seconds()
        changed = have.log_state != state
        if (changed and age >= settings.audit_refresh_s) or age >= settings.audit_recheck_s:
            due[name] = period
    return due


def found_in_the_future(
    stored: dict[str, SnapshotState], *, now: dt.datetime
) -> dict[tuple[str, dt.datetime], FutureSnapshot]:
    """Stored snapshots dated in the future, found by this pass."""
    # Found while this pass reads the log, just before the snapshots' ``as_of`` (now).
    found_at = now - dt.timedelta(microseconds=1)
    return {
        (name, have.computed_at): FutureSnapshot(name, have.computed_at, found_at)
        for name, have in stored.items()
        if have.computed_at > now + FUTURE_SKEW
    }


def found_before(
    session: Session, *, key: bytes, now: dt.datetime
) -> dict[tuple[str, dt.datetime], FutureSnapshot]:
    """Those found by earlier passes: kept in the trusted snapshot of everything so far, so
    the finding stays listed after the forged snapshot was replaced."""
    found = {}
    earlier = SnapshotCache().read(session, ALL, key=key, now=now)
    if isinstance(earlier, Snapshot):
        for f in earlier.findings:
            if f.rule == "snapshot_in_the_future" and "computed_at" in f.params:
                period, claimed = (
                    f.params["period"],
                    dt.datetime.fromisoformat(f.params["computed_at"]),
                )
                found[period, claimed] = FutureSnapshot(period, claimed, f.at)
    return found


def due_now(trace: Trace, *, now: dt.datetime | None = None) -> dict[str, Period | None]:
    """The kept periods whose snapshot is due (a few index lookups: no log is read)."""
    settings = trace.settings
    with Session(trace.engine) as session:
        _seq, state = log_state(session, open_reader(session, trace.ledger))
        now = now or trace.now()
        stored = snapshot_states(session, key=seal_key(trace.secret_key), now=now)
        return due_periods(
            session, settings, load_ruleset(), now=now, state=state, force=False, stored=stored
        )


def carried_periods(
    session: Session,
    due: dict[str, Period | None],
    stored: dict[str, SnapshotState],
    *,
    settings: Settings,
    ruleset: RuleSet,
    now: dt.datetime,
    asked: str,
) -> dict[str, Period]:
    """The due closed periods the events recorded since their snapshot cannot change
    (``audit.incremental``): their content is carried forward, not replayed."""
    out: dict[str, Period] = {}
    reaches: dict[int, Reach] = {}
    for name, period in due.items():
        have = stored.get(name)
        if period is None or period.end > now or have is None or have.rejected is not None:
            continue
        fresh = (now - have.computed_at).total_seconds() < settings.audit_recheck_s
        if not fresh or have.ruleset != ruleset.version or have.as_of != period.end:
            continue
        named = inputs_of(have.log_state)
        if named != side_inputs(session, upto_seq=have.last_seq, ledger=asked):
            continue
        if not logged_after(session, upto_seq=have.last_seq, end=period.end):
            continue  # its replay was ``current``: the plant's stock count may now differ
        if have.last_seq not in reaches:
            reaches[have.last_seq] = reach_of(session, have.last_seq)
        if not reaches[have.last_seq].reaches(period.end):
            out[name] = period
    return out


def _replayed(
    trace: Trace, logs: AuditLogs, *, as_of: dt.datetime, future: tuple[FutureSnapshot, ...]
) -> AuditData:
    data = audit_data(logs, trace.catalog, as_of=as_of, operations=operations_of(trace.settings))
    data.future_snapshots = future
    return data


def _compute(
    trace: Trace,
    session: Session,
    ledger: TrustedLedger,
    due: dict[str, Period | None],
    *,
    computed_at: dt.datetime,
    seq: int,
    future: tuple[FutureSnapshot, ...],
) -> list[Snapshot]:
    """Replay the whole log for each of ``due``: read and verified once, replayed once per
    distinct end (everything so far and the current quarter share theirs)."""
    ruleset = load_ruleset()
    logs = read_logs(session, ledger)
    session.rollback()
    computed: list[Snapshot] = []
    held: tuple[dt.datetime, AuditData] | None = None
    for name, period in due.items():
        as_of = min(period.end, computed_at) if period else computed_at
        # Everything so far and the current quarter are replayed up to the same instant:
        # the same records, read for another ``since`` (the rules never change them).
        if held is None or held[0] != as_of:
            held = None  # the previous replay is dropped before the next is built
            held = (as_of, _replayed(trace, logs, as_of=as_of, future=future))
        data = dataclasses.replace(held[1], since=period.start if period else None)
        findings = tuple(apply_rules(data, ruleset))
        computed.append(Snapshot(
            period=name, since=data.since, as_of=as_of, computed_at=computed_at, took_ms=0,
            last_seq=seq, findings=findings, figures=figures_from(data),
        ))  # fmt: skip
        del data
    return computed


def refresh(trace: Trace, *, force: bool = False, now: dt.datetime | None = None) -> RefreshRun:
    """Recompute the snapshots that are due (every kept one with ``force``) and store them;
    without ``force`` a closed period the new events cannot change is carried forward."""
    settings, ruleset = trace.settings, load_ruleset()
    run = RefreshRun()
    started = time.perf_counter()
    key = seal_key(trace.secret_key)
    with Session(trace.engine) as session:
        computed_at = now or trace.now()
        ledger = open_reader(session, trace.ledger)
        seq, state = log_state(session, ledger)
        stored = snapshot_states(session, key=key, now=computed_at)
        due = due_periods(
            session, settings, ruleset, now=computed_at, state=state, force=force, stored=stored
        )
        found = found_in_the_future(stored, now=computed_at)
        for name, claimed in found:
            log.warning("audit snapshot %s claims computed_at %s, in the future", name, claimed)
        if found:  # a finding of now: the periods it falls in are recomputed to list it
            kept = kept_periods(computed_at, settings.audit_closed_quarters)
            due |= {n: p for n, p in kept.items() if p is None or p.start <= computed_at < p.end}
        future = tuple({**found_before(session, key=key, now=computed_at), **found}.values())
        carried: dict[str, Period] = {}
        if due and not force and not found:
            carried = carried_periods(session, due, stored, settings=settings, ruleset=ruleset,
                                      now=computed_at, asked=_asked(ledger))  # fmt: skip
        session.rollback()  # no read transaction left open across the checks
        if not due:
            return run
        named = current_state(session)
        rest = {n: p for n, p in due.items() if n not in carried}
        computed = _compute(trace, session, ledger, rest, computed_at=computed_at, seq=seq,
                            future=future) if rest else []  # fmt: skip
        took_ms = int((time.perf_counter() - started) * 1000)
        for name in carried:
            if carry_forward(session, name, computed_at=computed_at, took_ms=took_ms,
                             log_state=state, state=named, key=key):  # fmt: skip
                session.commit()
                run.periods.append(name)
                run.carried.append(name)
            else:  # changed since it was checked: replayed after all
                session.rollback()
                computed += _compute(trace, session, ledger, {name: carried[name]},
                                     computed_at=computed_at, seq=seq, future=future)  # fmt: skip
        for snapshot in computed:
            snapshot = dataclasses.replace(snapshot, took_ms=took_ms)
            store_snapshot(session, snapshot, log_state=state, ruleset=ruleset.version,
                           state=named, key=key)  # fmt: skip
            session.commit()
            run.periods.append(snapshot.period)
    run.took_s, run.last_seq = time.perf_counter() - started, seq
    return run


def watch(
    trace: Trace,
    *,
    stop: Callable[[], bool],
    poll_s: float | None = None,
    run_pass: Callable[[], None] | None = None,
) -> None:
    """Refresh what is due, forever (until ``stop()``); an error is logged and retried.

    ``run_pass`` does the pass (default: ``refresh`` in this process). The CLI
    runs each pass in a short-lived process of its own, so the memory a pass
    over a large log needs is given back when it ends rather than held by
    this long-lived watcher between passes.
    """
    settings = trace.settings
    pause = poll_s if poll_s is not None else min(settings.audit_refresh_s, 10.0)

    def in_process() -> None:
        run = refresh(trace)
        if run.periods:
            log.info("audit snapshots of %s recomputed in %.1fs (log up to seq %d)",
                     ", ".join(run.periods), run.took_s, run.last_seq)  # fmt: skip

    while not stop():
        try:
            if due_now(trace):
                (run_pass or in_process)()
        except Exception:  # the next pass tries again; the pages keep the last snapshot
            log.exception("audit refresh failed")
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline and not stop():
            time.sleep(min(0.5, pause))
