"""Ingest through the real HTTP server vs a raw bulk insert of the same rows.

Measured: gunicorn (2 sync workers) serving ``wsgi:app`` on a fresh migrated
database; two client threads, each a ``requests.Session``, post whole device
lifecycles in batches of 500 to ``POST /api/v1/events``: a collector's
``collected`` items (no pre-minted labels: the server mints the QR IDs), then
``shipped`` to the plant, then the plant's ``received`` and ``dismantled``
(outputs and a batch code). Baseline: the same number of event rows,
precomputed with real digests, inserted into the same kind of database (a
fresh one, same schema and pragmas) in one transaction, one SQLAlchemy Core
executemany per table.

Baseline, as SPEC §6 words it ("a raw insert of the same rows"): every row the
ingest stored — events, and the devices, minted IDs, lots, lot contents and
batches they made, copied out of the ingested database — inserted into a fresh
one (the same organisations and users first, so foreign keys hold). The ratio
thus measures what the path (HTTP, validation, custody checks, hashing,
lookups) costs over storing its own data. Reported beside it, for comparison
with earlier runs: the event rows alone (precomputed, with real digests).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Table, func, insert, select

from bench import dataset
from bench.database import COLLECTOR, PLANT, Actor, add_actor, fresh_database
from bench.report import Measurement, Progress, Result, say, timed
from ledger.node import free_port
from traceability.custody.models import Event
from traceability.db import make_engine
from traceability.models import metadata

ROOT = Path(__file__).resolve().parents[1]
TARGET_EVENTS_PER_S = 2_000


class Server:
    """``gunicorn -w N wsgi:app`` in its own process group, stopped with SIGTERM."""

    def __init__(self, *, database_url: str, data_dir: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "gunicorn.log"
        env = {
            **os.environ,
            "TRACE_ENV": "development",
            "TRACE_DATABASE_URL": database_url,
            "TRACE_LEDGER_MODE": "off",
            "TRACE_DATA_DIR": str(data_dir),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    str(workers),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "120",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer in {timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Client:
    """One handheld-like client: a keep-alive session posting batches, tallying results."""

    def __init__(self, url: str, progress: Callable[[int], None]) -> None:
        self.url = f"{url}/api/v1/events"
        self.http = requests.Session()
        self.progress = progress
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []
        self.busy: defaultdict[str, float] = defaultdict(float)  # seconds in requests, per type
        self.posted: Counter[str] = Counter()

    def post(self, actor: Actor, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        start = time.perf_counter()
        response = self.http.post(
            self.url,
            json={"events": items},
            timeout=120,
            headers={"Authorization": f"Bearer {actor.token}"},
        )
        self.busy[items[0]["type"]] += time.perf_counter() - start
        self.posted[items[0]["type"]] += len(items)
        if response.status_code != 200:
            raise RuntimeError(f"POST /events → {response.status_code}: {response.text[:300]}")
        results: list[dict[str, Any]] = response.json()["results"]
        for r in results:
            self.statuses[r["status"]] += 1
            if r["status"] == "rejected" and len(self.errors) < 5:
                self.errors.append(str(r.get("error")))
        self.progress(len(items))
        return results


def _lifecycles(
    client: Client,
    *,
    collector: Actor,
    plant: Actor,
    first: int,
    count: int,
    batch: int,
    base: dt.datetime,
) -> None:
    """Collect ``count`` devices, ship them, receive and dismantle them at the plant."""
    indices = range(first, first + count)
    qr_ids: dict[int, str] = {}
    minute = dt.timedelta(minutes=1)
    for start in range(0, count, batch):
        chunk = indices[start : start + batch]
        items = [dataset.collected_item(i, base + dt.timedelta(microseconds=i)) for i in chunk]
        for i, result in zip(chunk, client.post(collector, items), strict=True):
            if result.get("qr_id"):
                qr_ids[i] = result["qr_id"]
    known = [i for i in indices if i in qr_ids]
    phases: list[Callable[[int], dict[str, Any]]] = [
        lambda i: dataset.shipped_item(qr_ids[i], PLANT, f"M-{first:06d}", base + 10 * minute),
        lambda i: dataset.received_item(i, qr_ids[i], base + 20 * minute),
        lambda i: dataset.dismantled_item(i, qr_ids[i], f"B-{i // 2000:04d}", base + 30 * minute),
    ]
    for phase, actor in zip(phases, (collector, plant, plant), strict=True):
        for start in range(0, len(known), batch):
            client.post(actor, [phase(i) for i in known[start : start + batch]])


ACCOUNT_TABLES = frozenset({"organisation", "user_account", "api_token"})


def _actors(engine_url: str, threads: int) -> list[tuple[Actor, Actor]]:
    """Per client thread, a collector's and a plant's operator (in that order, every time)."""
    engine = make_engine(engine_url)
    try:
        return [
            (
                add_actor(engine, org=COLLECTOR, kind="collector", username=f"col-{t}"),
                add_actor(engine, org=PLANT, kind="dismantler", username=f"dis-{t}"),
            )
            for t in range(threads)
        ]
    finally:
        engine.dispose()


def measure_http(
    url: str, engine_url: str, *, devices: int, threads: int, batch: int
) -> tuple[Measurement, list[Client]]:
    actors = _actors(engine_url, threads)
    total = devices * dataset.EVENTS_PER_DEVICE
    progress = Progress("ingest over HTTP", total)
    lock = threading.Lock()

    def tick(n: int) -> None:
        with lock:
            progress(n)

    clients = [Client(url, tick) for _ in range(threads)]
    base = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    share = [devices // threads + (1 if t < devices % threads else 0) for t in range(threads)]
    failures: list[BaseException] = []

    def work(t: int) -> None:
        try:
            _lifecycles(
                clients[t],
                collector=actors[t][0],
                plant=actors[t][1],
                first=sum(share[:t]),
                count=share[t],
                batch=batch,
                base=base,
            )
        except BaseException as exc:  # reported below, not swallowed
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    measured = timed(f"HTTP POST /events ({threads} clients)", total, start)
    if failures:
        raise failures[0]
    return measured, clients


def _per_type(clients: list[Client]) -> str:
    """Events per second of request time, per event type (one client's view)."""
    posted: Counter[str] = sum((c.posted for c in clients), Counter())
    busy: defaultdict[str, float] = defaultdict(float)
    for c in clients:
        for kind, seconds in c.busy.items():
            busy[kind] += seconds
    return ", ".join(f"{kind} {posted[kind] / busy[kind]:,.0f}" for kind in posted)


def measure_raw(url: str, rows: list[dict[str, Any]]) -> Measurement:
    engine = make_engine(url)
    try:
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(Event.__table__), rows)  # type: ignore[attr-defined]
        return timed("raw Core executemany, 1 txn", len(rows), start)
    finally:
        engine.dispose()


def table_counts(url: str) -> dict[str, int]:
    """Rows per table of the application's schema."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def stored_rows(url: str, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``tables`` as stored (read back through the same column types)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: [dict(r._mapping) for r in conn.execute(select(_table(name)))]
                for name in tables
            }
    finally:
        engine.dispose()


def _table(name: str) -> Table:
    return metadata.tables[name]


def measure_raw_tables(url: str, rows: dict[str, list[dict[str, Any]]], events: int) -> Measurement:
    """One transaction, one executemany per table, parents first."""
    engine = make_engine(url)
    try:
        start = time.perf_counter()
        with engine.begin() as conn:
            for name, table_rows in rows.items():
                conn.execute(insert(_table(name)), table_rows)
        return timed("raw insert of the same rows, 1 txn", events, start)
    finally:
        engine.dispose()


def count_events(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Event)).scalar_one())
    finally:
        engine.dispose()


def run(
    *, events: int, db: str | None, tmp: Path, threads: int = 2, workers: int = 2, batch: int = 500
) -> Result:
    devices = max(events // dataset.EVENTS_PER_DEVICE, threads)
    events = devices * dataset.EVENTS_PER_DEVICE
    say(
        f"ingest: {events:,} events ({devices:,} devices), {threads} clients, "
        f"gunicorn -w {workers}, batches of {batch}"
    )
    data_dir = tmp / "ingest"
    data_dir.mkdir(parents=True, exist_ok=True)
    with fresh_database(db, data_dir, "ingest") as url:
        server = Server(database_url=url, data_dir=data_dir, workers=workers)
        try:
            server.wait_ready()
            before = table_counts(url)
            measured, clients = measure_http(
                server.url, url, devices=devices, threads=threads, batch=batch
            )
        finally:
            server.stop()
        after = table_counts(url)
        # The tables the ingest wrote to, parents first; the accounts tables
        # (actors added before the clock started, tokens touched) are recreated.
        written = [
            t.name
            for t in metadata.sorted_tables
            if after[t.name] > before[t.name] and t.name not in ACCOUNT_TABLES
        ]
        same_rows = stored_rows(url, written)
    stored = after["event"]
    say(f"ingest: raw baseline, the same rows ({', '.join(f'{n} {after[n]:,}' for n in written)})")
    with fresh_database(db, data_dir, "ingest_same") as url:
        _actors(url, threads)  # the same organisations and users, so foreign keys hold
        baseline = measure_raw_tables(url, same_rows, events)
    say("ingest: raw insert of the event rows alone (precomputing rows with digests)")
    rows = list(
        dataset.event_rows(
            events, collector=COLLECTOR, collector_user="col-0", plant=PLANT, plant_user="dis-0"
        )
    )
    with fresh_database(db, data_dir, "ingest_raw") as url:
        events_only = measure_raw(url, rows)
    statuses: Counter[str] = sum((c.statuses for c in clients), Counter())
    ratio = measured.rate / baseline.rate
    notes = [
        f"ratio to the same rows' raw insert: {ratio:.3f} "
        f"(SPEC §6 target >= 0.25: {'PASS' if ratio >= 0.25 else 'FAIL'})",
        f"event rows alone, raw: {events_only.rate:,.0f} ev/s "
        f"(ratio {measured.rate / events_only.rate:.3f})",
        f"results: {dict(statuses)}; rows stored: {stored:,}",
        f"ev/s per client while in a request: {_per_type(clients)}",
    ]
    notes += [f"rejected: {e}" for c in clients for e in c.errors]
    return Result(
        "ingest",
        measured,
        baseline,
        TARGET_EVENTS_PER_S,
        "rate",
        notes,
        extra={
            "statuses": dict(statuses),
            "stored": stored,
            "tables": {n: after[n] for n in written},
            "events_only_rate": round(events_only.rate),
        },
    )
