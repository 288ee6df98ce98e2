"""One timed phase of the claims benchmark, in a process of its own (``bench/claims.py``).

``measured``: create the claim and write the XLSX, CSV and PDF; ``baseline``:
read the same event rows. Prints one JSON line: seconds, phases, peak RSS (MB),
and the process's CPU seconds beside the wall time (on a shared machine the
wall time also counts the time other processes held the cores).
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability import create_app
from traceability.accounts.services import principal_for
from traceability.app import trace_of
from traceability.claims.events import claim_events
from traceability.claims.exports.files import write_files
from traceability.claims.exports.summary import summarise
from traceability.claims.services import create_claim
from traceability.custody.models import Event, EventType
from traceability.periods import parse_period
from traceability.reports.devices import open_reader

_EVENT = Event.__table__  # type: ignore[attr-defined]


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kB on Linux


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def baseline(session: Session, plant: str) -> dict[str, Any]:
    dismantled = select(_EVENT.c.device).where(
        _EVENT.c.org == plant, _EVENT.c.type == EventType.dismantled
    )
    start, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for _ in session.execute(
        select(_EVENT).where(_EVENT.c.device.in_(dismantled)).order_by(_EVENT.c.seq)
    ).yield_per(20_000):
        rows += 1
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "rows": rows,
    }


def measured(app: Any, session: Session, args: dict[str, Any]) -> dict[str, Any]:
    out = Path(args["out"])
    catalog = trace_of(app).catalog
    phases: dict[str, float] = {}
    cpu: dict[str, float] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    cpu_mark = cpu_start
    ledger = open_reader(session, trace_of(app).ledger)
    principal = principal_for(session=session, username=args["manager"])
    claim, _ = create_claim(
        session=session,
        catalog=catalog,
        principal=principal,
        period=args["period"],
        ledger=ledger,
        settings=trace_of(app).settings,
        # The dataset's quarter is the current one: claimed as if it had just closed.
        now=parse_period(args["period"], months=False).end + dt.timedelta(hours=1),
    )
    phases["create"] = time.perf_counter() - start
    create_peak = _peak_mb()
    cpu["create"], cpu_mark = time.process_time() - cpu_mark, time.process_time()
    mark = time.perf_counter()
    summary = summarise(session, catalog, claim, claim_events(session, ledger, claim))
    # What `traceability claims export CLAIM -o c.xlsx -o c.csv -o c.pdf` does.
    paths = [out / f"claim.{kind}" for kind in ("xlsx", "csv", "pdf")]
    write_files(session, catalog, summary, paths)
    phases["exports"] = time.perf_counter() - mark
    cpu["exports"] = time.process_time() - cpu_mark
    return {
        "seconds": time.perf_counter() - start,
        "phases": phases,
        "cpu_seconds": time.process_time() - cpu_start,
        "cpu_phases": cpu,
        "helper_cpu_seconds": _children_cpu(),
        "create_peak_mb": create_peak,
        "units": claim.units,
        "total_yuan": claim.total_yuan,
        "excluded": claim.excluded,
        "sizes": {k: (out / f"claim.{k}").stat().st_size for k in ("xlsx", "csv", "pdf")},
    }


def main() -> None:
    args = json.loads(sys.argv[1])
    app = create_app(
        {
            "env": "development",
            "database_url": args["database_url"],
            "data_dir": args["data_dir"],
            "ledger_mode": "rpc",
            "ledger_url": args["ledger_url"],
            "ledger_key": args["ledger_key"],
            "ledger_owner_key": args["ledger_owner_key"],
            "rate_schedules": args["rate_schedules"],
        }
    )
    with app.app_context(), Session(trace_of(app).engine, expire_on_commit=False) as session:
        if args["which"] == "baseline":
            result = baseline(session, args["plant"])
        else:
            result = measured(app, session, args)
    # The claim's helper process (if it had one) is a child: its peak counts too.
    peaks = {"peak_mb": _peak_mb(), "helper_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN)}
    print(json.dumps({**result, **peaks}))


if __name__ == "__main__":
    main()
