"""Portal pages with a million events: p95 latency against the health endpoint, same run.

The event log is filled with Core bulk inserts of correctly hashed and
chained lifecycles (``bench.dataset.event_rows``: collected, shipped,
received, dismantled), the device projection rows replayed from them and
the batches they name. An auditor of the region signs in through /login;
the pages are requested through the app in process (Flask's test client),
as is the baseline, ``GET /api/v1/health``.

The plant page and the anomaly list read the audit snapshot of the period,
which the refresher computes off the request path (``traceability audit
refresh``, run here as its own process so that its time and peak memory are
its own). Before it has run, the pages answer "being computed" (measured
too). The pages are then measured three ways: with nothing being ingested;
each request right after a new event was recorded (the snapshot's log state
is then always behind); and while another thread records events through
the API.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from flask import Flask
from sqlalchemy import insert
from sqlmodel import Session

from bench import dataset
from bench.database import COLLECTOR, PLANT, fresh_database
from bench.report import Measurement, Progress, Result, say
from ledger.canonical import digest_hex, event_content
from traceability import create_app
from traceability.accounts import services as accounts
from traceability.app import trace_of
from traceability.custody.facts import PROJECTED, EventLike, replay
from traceability.custody.models import Event
from traceability.db import iso
from traceability.devices.models import Device
from traceability.periods import CHINA, quarter_of
from traceability.savings.models import Batch

TARGET_P95_S = 0.200
#: What the ingesting side records while pages are measured (POST /api/v1/devices).
DEVICE = {"category": "tv", "attributes": {"display": "crt", "screen_in": 21}}
PASSWORD = "bench-portal-password"
REQUESTS = 30
_CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_EVENT = Event.__table__  # type: ignore[attr-defined]
_DEVICE = Device.__table__  # type: ignore[attr-defined]
_BATCH = Batch.__table__  # type: ignore[attr-defined]


def _people(app: Flask) -> None:
    with Session(trace_of(app).engine) as session:
        for code, kind, region in (
            (COLLECTOR, "collector", "320506"),
            (PLANT, "dismantler", "320500"),
            ("BENCH-REG", "regulator", "320000"),
        ):
            accounts.add_org(
                session=session, code=code, kind=kind, name=f"{code} Co.", region=region,
                license_no="LIC-1" if kind == "dismantler" else None,
                capacity_units=50_000_000 if kind == "dismantler" else None,
            )  # fmt: skip
        accounts.add_user(session=session, username="bench.auditor", org_code="BENCH-REG",
                          role="auditor", password=PASSWORD)  # fmt: skip
        session.commit()


def _device_row(
    qr_id: str, events: list[dict[str, Any]], batches: dict[str, int]
) -> dict[str, Any]:
    """The projection row the handlers would have left, from the device's replayed log."""
    facts = replay(qr_id, cast(list[EventLike], [SimpleNamespace(**e) for e in events]))
    return {
        "qr_id": qr_id,
        **{name: getattr(facts, name) for name in (*PROJECTED, "head_occurred_at")},
        "batch_id": batches.get(facts.batch or ""),
    }


#: One device in this many shares its manufacturer serial with the one before (an audit
#: finding each), so the anomaly list has pages to show.
DUPLICATE_EVERY = 50


def _shared_serial(rng: random.Random, devices: int) -> int:
    """A serial number two devices carry (``load``: every ``DUPLICATE_EVERY``-th one)."""
    return DUPLICATE_EVERY * rng.randrange(max(1, (devices - 50) // DUPLICATE_EVERY))


def _with_serial(log: list[dict[str, Any]], serial: str) -> None:
    """Give the device another serial and hash and chain its events again, as recorded."""
    log[0]["payload"] = {**log[0]["payload"], "serial": serial}
    prev = None
    for row in log:
        row["prev"] = prev
        row["digest"] = digest_hex(
            event_content(
                id=row["id"], type=row["type"], org=row["org"], actor=row["actor"],
                occurred_at=iso(row["occurred_at"]), recorded_at=iso(row["recorded_at"]),
                payload=row["payload"], prev=prev, device=row["device"],
            )
        )  # fmt: skip
        prev = row["digest"]


def load(app: Flask, events: int, chunk: int = 10_000) -> list[str]:
    """``events`` chained events, their devices' projection rows and batches; the QR IDs."""
    engine = trace_of(app).engine
    now = dt.datetime.now(dt.UTC)
    devices = -(-events // dataset.EVENTS_PER_DEVICE)
    codes = sorted({f"B-{i // 500:04d}" for i in range(devices)})
    with engine.begin() as conn:
        conn.execute(
            insert(_BATCH),
            [{"org": PLANT, "code": c, "created_at": now} for c in codes],
        )
        batches = {r.code: r.id for r in conn.execute(_BATCH.select())}
    progress = Progress("hashing and inserting events", events)
    qr_ids: list[str] = []
    rows: list[dict[str, Any]] = []
    device_rows: list[dict[str, Any]] = []
    current: str | None = None
    log: list[dict[str, Any]] = []

    def flush(conn: Any) -> None:
        if rows:
            conn.execute(insert(_EVENT), rows)
            progress(len(rows))
            rows.clear()
        if device_rows:
            conn.execute(insert(_DEVICE), device_rows)
            device_rows.clear()

    def finish(qr_id: str, log: list[dict[str, Any]]) -> None:
        if len(qr_ids) % DUPLICATE_EVERY == 1:  # the device before carries SN{n-1}
            _with_serial(log, f"SN{len(qr_ids) - 1:08d}")
        rows.extend(log)
        device_rows.append(_device_row(qr_id, log, batches))
        qr_ids.append(qr_id)

    with engine.begin() as conn:
        for row in dataset.event_rows(events, collector=COLLECTOR, collector_user="col-0",
                                      plant=PLANT, plant_user="dis-0", now=now):  # fmt: skip
            if row["device"] != current and log:
                finish(current, log)  # type: ignore[arg-type]
                log = []
                if len(rows) >= chunk:
                    flush(conn)
            current = row["device"]
            log.append(row)
        if log:
            finish(current, log)  # type: ignore[arg-type]
        flush(conn)
    return qr_ids


def _latencies(request: Callable[[int], Any], n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        response = request(i)
        out.append(time.perf_counter() - start)
        assert response.status_code == 200, (response.status_code, response.get_data()[:300])
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run(*, events: int, db: str | None, tmp: Path) -> list[Result]:
    with fresh_database(db, tmp, "portal") as url:
        app = create_app({"env": "production", "secret_key": "bench", "database_url": url,
                          "data_dir": tmp, "ledger_mode": "off"})  # fmt: skip
        try:
            return _measure(app, events)
        finally:
            trace_of(app).engine.dispose()


def _refresher(app: Flask) -> tuple[float, int, str]:
    """``traceability audit refresh`` in its own process: seconds, peak RSS (bytes), its output."""
    settings = trace_of(app).settings
    env = {
        **os.environ, "TRACE_ENV": "production", "TRACE_SECRET_KEY": "bench",
        "TRACE_DATABASE_URL": str(settings.database_url), "TRACE_DATA_DIR": str(settings.data_dir),
        "TRACE_LEDGER_MODE": "off",
    }  # fmt: skip
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "traceability.cli", "audit", "refresh"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _pid, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, output
    return took, usage.ru_maxrss * 1024, output.strip().splitlines()[-1]


def _collector_token(app: Flask) -> dict[str, str]:
    with Session(trace_of(app).engine) as session:
        accounts.add_user(session=session, username="bench.collector", org_code=COLLECTOR,
                          role="operator")  # fmt: skip
        token = accounts.create_token(session=session, username="bench.collector", ttl_days=1)
        session.commit()
    return {"Authorization": f"Bearer {token.token}"}


def _collect(client: Any, headers: dict[str, str]) -> None:
    reply = client.post("/api/v1/devices", json=DEVICE, headers=headers)
    assert reply.status_code == 201, reply.get_data()[:300]


def _sign_in(client: Any, username: str, password: str) -> Any:
    """Fill in /login as a browser would, with the CSRF token its form carries."""
    found = _CSRF_FIELD.search(client.get("/login").get_data(as_text=True))
    assert found, "the sign-in page carries no CSRF token"
    form = {"username": username, "password": password, "csrf_token": found.group(1)}
    return client.post("/login", data=form)


def _measure(app: Flask, events: int) -> list[Result]:
    _people(app)
    start = time.perf_counter()
    qr_ids = load(app, events)
    say(f"portal: {events:,} events, {len(qr_ids):,} devices loaded in "
        f"{time.perf_counter() - start:.0f}s")  # fmt: skip
    client = app.test_client()
    response = _sign_in(client, "bench.auditor", PASSWORD)
    assert response.status_code == 302, response.status_code
    collector = _collector_token(app)
    period = quarter_of(dt.datetime.now(CHINA) - dt.timedelta(days=1)).name
    rng = random.Random(7)
    health = _latencies(lambda i: client.get("/api/v1/health"), REQUESTS)
    base = p95(health)

    pending_start = time.perf_counter()
    pending = client.get(f"/portal/plants/{PLANT}?period={period}")
    pending_s = time.perf_counter() - pending_start
    assert pending.status_code == 503, pending.status_code
    say(f"portal: before the first snapshot the plant page answers 503 'being computed' "
        f"in {pending_s * 1000:.0f} ms")  # fmt: skip

    took, peak, said = _refresher(app)
    say(f"portal: refresher (own process, {events:,} events): {took:.1f}s, "
        f"peak RSS {peak / 2**20:.0f} MiB — {said}")  # fmt: skip

    listing = client.get(f"/portal/anomalies?period={period}").get_data(as_text=True)
    total = re.search(r'data-total="(\d+)"', listing)
    findings = int(total.group(1)) if total else 0
    assert findings > 0, "the anomaly list has nothing to page through"
    pages: dict[str, Callable[[int], Any]] = {
        "device page": lambda i: client.get(f"/portal/devices/{rng.choice(qr_ids)}"),
        "plant/period page": lambda i: client.get(f"/portal/plants/{PLANT}?period={period}"),
        "anomaly list": lambda i: client.get(f"/portal/anomalies?period={period}&page={1 + i % 3}"),
        # trace search: a serial two devices share (the list of hits), and one serial (the
        # search answers with its device page, followed as the browser does)
        "search-list (serial, 2 hits)": lambda i: client.get(
            f"/portal/devices?q=sn{_shared_serial(rng, len(qr_ids)):08d}"
        ),
        "search-device (serial → device page)": lambda i: client.get(
            f"/portal/devices?q=SN{_shared_serial(rng, len(qr_ids)) + 2 + i % 48:08d}",
            follow_redirects=True,
        ),
    }
    idle = {name: p95(_latencies(request, REQUESTS)) for name, request in pages.items()}

    # Each measured request right after a new event: the snapshot's log state is behind.
    after_new: dict[str, float] = {}
    for name, request in pages.items():
        out = []
        for i in range(REQUESTS):
            _collect(client, collector)
            out += _latencies(lambda _j, i=i, request=request: request(i), 1)  # type: ignore[misc]
        after_new[name] = p95(out)

    # While another thread records events through the API.
    stop = threading.Event()
    ingested = [0]

    def ingest() -> None:
        writer = app.test_client()
        while not stop.is_set():
            _collect(writer, collector)
            ingested[0] += 1

    thread = threading.Thread(target=ingest, daemon=True)
    thread.start()
    try:
        busy = {name: p95(_latencies(request, REQUESTS)) for name, request in pages.items()}
        busy_health = p95(_latencies(lambda i: client.get("/api/v1/health"), REQUESTS))
    finally:
        stop.set()
        thread.join(timeout=60)
    listing = client.get(f"/portal/anomalies?period={period}").get_data(as_text=True)
    assert f'data-total="{findings}"' in listing  # still the refresher's snapshot
    say(f"portal: {ingested[0]} events recorded by the API while the pages were measured")

    results = []
    for name in pages:
        results.append(
            Result(
                name=name.split()[0] if name != "plant/period page" else "plant",
                measured=Measurement(f"{name} p95 ({events:,} events)", 1, busy[name]),
                baseline=Measurement("GET /api/v1/health p95 (idle)", 1, base),
                target=TARGET_P95_S,
                target_kind="latency",
                notes=[
                    f"p95 while events are ingested {busy[name] * 1000:.0f} ms "
                    f"(health then {busy_health * 1000:.1f} ms); right after a new event "
                    f"{after_new[name] * 1000:.0f} ms; idle {idle[name] * 1000:.0f} ms "
                    f"vs health {base * 1000:.1f} ms ({idle[name] / base:.1f}x); "
                    f"{REQUESTS} requests each; {findings:,} findings"
                ]
                + (
                    [
                        f"refresher: {took:.1f}s, peak RSS {peak / 2**20:.0f} MiB (own process); "
                        f"before it the page answers 503 in {pending_s * 1000:.0f} ms"
                    ]
                    if name != "device page"
                    else []
                ),
                extra={
                    "p95_idle_s": idle[name],
                    "p95_after_new_event_s": after_new[name],
                    "p95_while_ingesting_s": busy[name],
                    "health_p95_while_ingesting_s": busy_health,
                    "refresh_s": took,
                    "refresh_peak_rss_bytes": peak,
                    "events_ingested_meanwhile": ingested[0],
                },
            )
        )
    return results
