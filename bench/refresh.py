"""The audit refresher on a large log: a pass after new events against a full recompute.

A province's log: ``events`` chained events (``bench.dataset.event_rows``: collected,
shipped, received, dismantled) of devices collected over the past ``days`` days — so
the refresher's kept periods (everything so far, the current quarter, the closed
quarters) all hold devices — inserted with Core bulk inserts, with their devices'
projection rows. Each refresher pass runs as ``traceability audit refresh`` in a
process of its own, so its time and peak RSS (``wait4``) are its own:

1. a full recompute of every kept period (``--force``);
2. ``new`` events recorded today (new devices' lifecycles), then the pass the
   watcher runs (``--due``): measured against
3. a full recompute of the same, grown log (``--force``): the baseline, same run.

``--refresh-check`` then runs ``audit refresh --check`` (every kept period
replayed and compared with what the passes stored; exit 0: identical).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert

from bench import dataset, portal
from bench.database import COLLECTOR, PLANT, fresh_database
from bench.report import Measurement, Progress, Result, say
from traceability import create_app
from traceability.app import trace_of

#: The issue's targets: a pass after 10,000 new events on a 10 M-event log, a full
#: recompute of 10 M events on PostgreSQL, the peak memory of any pass.
TARGET_PASS_S = 10.0
TARGET_FULL_S = 600.0
TARGET_PEAK_BYTES = 2**30


def load(app: Flask, events: int, *, now: dt.datetime, days: float, chunk: int = 20_000) -> int:
    """``events`` chained events of devices collected over ``days`` days up to ``now``, and
    the devices' projection rows; the number of devices."""
    engine = trace_of(app).engine
    devices = -(-events // dataset.EVENTS_PER_DEVICE)
    step = dt.timedelta(days=days) / devices if days else None
    progress = Progress(f"hashing and inserting {events:,} events", events)
    rows: list[dict[str, Any]] = []
    device_rows: list[dict[str, Any]] = []
    logs: dict[str, list[dict[str, Any]]] = {}
    held = [0]  # events in ``logs``

    def flush(conn: Any) -> None:
        for qr_id, log in logs.items():
            rows.extend(log)
            device_rows.append(portal._device_row(qr_id, log, {}))
        logs.clear()
        held[0] = 0
        if rows:
            conn.execute(insert(portal._EVENT), rows)
            progress(len(rows))
            rows.clear()
        if device_rows:
            conn.execute(insert(portal._DEVICE), device_rows)
            device_rows.clear()

    with engine.begin() as conn:
        rows_in = dataset.event_rows(
            events, collector=COLLECTOR, collector_user="col-0", plant=PLANT,
            plant_user="dis-0", now=now, step=step,
        )  # fmt: skip
        for row in rows_in:
            if row["device"] not in logs and held[0] >= chunk:
                flush(conn)
            logs.setdefault(row["device"], []).append(row)
            held[0] += 1
        flush(conn)
    return devices


def refresher(app: Flask, *args: str) -> tuple[float, int, str]:
    """``traceability audit refresh ARGS`` in its own process: seconds, peak RSS, last line."""
    settings = trace_of(app).settings
    env = {
        **os.environ, "TRACE_ENV": "production", "TRACE_SECRET_KEY": "bench",
        "TRACE_DATABASE_URL": str(settings.database_url), "TRACE_DATA_DIR": str(settings.data_dir),
        "TRACE_LEDGER_MODE": "off", "TRACE_AUDIT_REFRESH_S": "0",
    }  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "traceability.cli", "audit", "refresh", *args], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _pid, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - start
    assert os.waitstatus_to_exitcode(status) == 0, output
    return took, usage.ru_maxrss * 1024, output.strip().splitlines()[-1]


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def run(
    *, events: int, new: int, db: str | None, tmp: Path, days: float, check: bool
) -> list[Result]:
    with fresh_database(db, tmp, "refresh") as url:
        app = create_app({"env": "production", "secret_key": "bench", "database_url": url,
                          "data_dir": tmp, "ledger_mode": "off"})  # fmt: skip
        try:
            return _measure(app, events=events, new=new, days=days, check=check)
        finally:
            trace_of(app).engine.dispose()


def _measure(app: Flask, *, events: int, new: int, days: float, check: bool) -> list[Result]:
    portal._people(app)
    now = dt.datetime.now(dt.UTC)
    start = time.perf_counter()
    devices = load(app, events, now=now - dt.timedelta(hours=1), days=days)
    say(f"refresh: {events:,} events ({devices:,} devices over {days:g} days) loaded in "
        f"{time.perf_counter() - start:.0f}s")  # fmt: skip
    first, first_peak, said = refresher(app, "--force")
    say(f"refresh: first full recompute {first:.1f}s, peak RSS {_mib(first_peak)} — {said}")
    load(app, new, now=now, days=0)  # today's new devices, recorded after the first pass
    step, step_peak, step_said = refresher(app, "--due")
    say(f"refresh: pass after {new:,} new events {step:.1f}s, peak RSS {_mib(step_peak)} "
        f"— {step_said}")  # fmt: skip
    full, full_peak, full_said = refresher(app, "--force")
    say(f"refresh: full recompute of {events + new:,} events {full:.1f}s, peak RSS "
        f"{_mib(full_peak)} — {full_said}")  # fmt: skip
    verdict = "not run"
    if check:
        took, _peak, verdict = refresher(app, "--check")
        say(f"refresh: --check (replay and compare every kept period) {took:.1f}s — {verdict}")
    carried = re.search(r"carried forward unreplayed: (.*)$", step_said)
    peak = max(first_peak, step_peak, full_peak)
    met = "met" if peak <= TARGET_PEAK_BYTES else "NOT met"
    notes = [
        f"peak RSS: pass {_mib(step_peak)}, full {_mib(full_peak)} (target ≤ "
        f"{_mib(TARGET_PEAK_BYTES)} at any size: {met} at this size)",
        f"carried forward unreplayed: {carried.group(1) if carried else 'none'}",
        f"check against a full replay: {verdict}",
    ]
    extra = {"events": events, "new_events": new, "days": days, "pass_s": step,
             "pass_peak_rss_bytes": step_peak, "full_s": full, "full_peak_rss_bytes": full_peak,
             "first_full_s": first, "check": verdict}  # fmt: skip
    return [
        Result(
            name="refresh",
            measured=Measurement(f"pass after {new:,} new events ({events:,} logged)", new, step),
            baseline=Measurement(f"full recompute of {events + new:,} events", events + new, full),
            target=TARGET_PASS_S,
            target_kind="latency",
            notes=notes,
            extra=extra,
        ),
        Result(
            name="refresh-full",
            measured=Measurement(f"full recompute of {events + new:,} events", events + new, full),
            baseline=Measurement("first full recompute (before the new events)", events, first),
            target=TARGET_FULL_S,
            target_kind="latency",
            notes=[f"peak RSS {_mib(full_peak)}; the target is for 10,000,000 events"],
            extra=extra,
        ),
    ]
