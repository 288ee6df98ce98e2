"""A quarterly claim for 100,000 dismantled devices: create + XLSX + CSV + PDF.

Setup (not timed): the devices' four lifecycle events each (hashed and
chained as the handlers would), their ``device`` rows, the output lots their
hazardous fractions went into with the processor's receipt (lot events), all
inserted with Core bulk inserts and anchored on anvil by the real worker.

Measured: ``create_claim`` (candidates from the log, every device's events
replayed and verified against the ledger, eligibility, the unique hold, the
items written) and the three exports, through the real code path, in a fresh
process so its peak memory (ru_maxrss) is the claim's own. Baseline, in
another fresh process: reading the same event rows (the ``SELECT`` of every
event of the plant's dismantled devices), nothing else.

Targets (SPEC §6): ≤ 20 s and ≤ 500 MB peak for create + XLSX + CSV + PDF.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from bench import dataset
from bench.database import COLLECTOR
from bench.ledgerenv import LedgerEnv
from bench.report import Measurement, Progress, Result, say
from ledger.canonical import digest_hex, event_content
from traceability.accounts import services as accounts
from traceability.accounts.models import Organisation
from traceability.anchoring.worker import run_once
from traceability.app import trace_of
from traceability.catalog import load_catalog
from traceability.custody.models import Event
from traceability.db import iso
from traceability.devices.models import Device
from traceability.lots.models import Lot, LotItem

#: The claim's own plant: the anchoring and verification benchmarks, when they run
#: first, record devices at theirs (``bench.database.PLANT``), which the claim must not count.
PLANT = "BENCH-CLM"
PROCESSOR = "BENCH-PRO"
MANAGER = "dis-manager"
TARGET_SECONDS = 20
TARGET_MB = 500
EXAMPLE_RATES = Path(__file__).parents[1] / "traceability/demo/data/rates-example.toml"
_CHUNK = 5_000


def _orgs(env: LedgerEnv) -> None:
    with Session(env.engine) as session:
        for code, kind in (
            (COLLECTOR, "collector"),
            (PLANT, "dismantler"),
            (PROCESSOR, "processor"),
        ):
            if session.exec(select(Organisation).where(Organisation.code == code)).first() is None:
                accounts.add_org(
                    session=session,
                    code=code,
                    kind=kind,
                    name=f"{code} Co.",
                    region="320500",
                    license_no=f"LIC-{code}" if kind == "dismantler" else None,
                    capacity_units=2_000_000 if kind == "dismantler" else None,
                )
        accounts.add_user(session=session, username=MANAGER, org_code=PLANT, role="manager")
        session.commit()


def _device_row(qr_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    collected, _, received, dismantled = rows
    payload = collected["payload"]
    return {
        "qr_id": qr_id,
        "category": payload["category"],
        "attributes": payload["attributes"],
        "brand": payload.get("brand"),
        "model": None,
        "serial": payload.get("serial"),
        "source": payload.get("source"),
        "collected_weight_g": payload.get("weight_g"),
        "received_weight_g": received["payload"]["weight_g"],
        "state": "dismantled",
        "custodian": PLANT,
        "destination": None,
        "collected_by": COLLECTOR,
        "collected_at": collected["occurred_at"],
        "received_by": PLANT,
        "received_at": received["occurred_at"],
        "dismantled_by": PLANT,
        "dismantled_at": dismantled["occurred_at"],
        "batch_id": None,
        "line": dismantled["payload"].get("line"),
        "storage_area": None,
        "head_digest": dismantled["digest"],
        "head_occurred_at": dismantled["occurred_at"],
        "event_count": 4,
    }


def _lot_events(code: str, when: dt.datetime, grams: int) -> list[dict[str, Any]]:
    """lot_shipped by the plant, lot_received by the processor: the returned manifest."""
    rows, prev = [], None
    for type_, org, actor, at, payload in (
        ("lot_shipped", PLANT, "dis-0", when, {"to": PROCESSOR, "manifest_no": f"M-{code}"}),
        ("lot_received", PROCESSOR, "pro-0", when + dt.timedelta(hours=1), {"weight_g": grams}),
    ):
        event_id = str(uuid.uuid4())
        content = event_content(
            id=event_id, type=type_, org=org, actor=actor, occurred_at=iso(at),
            recorded_at=iso(at), payload=payload, prev=prev, lot=code,
        )  # fmt: skip
        prev = digest_hex(content)
        rows.append(
            {
                "id": event_id, "type": type_, "device": None, "lot": code, "org": org,
                "actor": actor, "occurred_at": at, "recorded_at": at, "payload": payload,
                "prev": content["prev"], "digest": prev,
            }
        )  # fmt: skip
    return rows


def load_devices(env: LedgerEnv, devices: int) -> None:
    """``devices`` dismantled devices with rows, lots and confirmed receipts (Core inserts)."""
    _orgs(env)
    hazardous = {code for code, f in load_catalog().fractions.items() if f.receipt_required}
    progress = Progress("claims: hashing and inserting devices", devices)
    started = time.perf_counter()
    lot_weight: dict[str, int] = defaultdict(int)
    lot_first: dict[str, dt.datetime] = {}
    events = dataset.event_rows(
        devices * dataset.EVENTS_PER_DEVICE,
        collector=COLLECTOR, collector_user="col-0", plant=PLANT, plant_user="dis-0",
    )  # fmt: skip
    batch: list[dict[str, Any]] = []
    with env.engine.begin() as conn:

        def flush() -> None:
            by_device: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in batch:
                by_device[row["device"]].append(row)
            items = []
            for qr_id, rows in by_device.items():
                dismantled = rows[-1]
                for output in dismantled["payload"]["outputs"]:
                    if output["fraction"] not in hazardous:
                        continue
                    code = f"{PLANT}-{output['fraction']}-{progress.done // 20_000 + 1:05d}"
                    lot_weight[code] += output["weight_g"]
                    lot_first.setdefault(code, dismantled["occurred_at"])
                    items.append(
                        {"lot": code, "device": qr_id, "event_id": dismantled["id"],
                         "weight_g": output["weight_g"]}
                    )  # fmt: skip
            conn.execute(insert(Event.__table__), batch)  # type: ignore[attr-defined]
            conn.execute(
                insert(Device.__table__),  # type: ignore[attr-defined]
                [_device_row(q, rows) for q, rows in by_device.items()],
            )
            pending_items.extend(items)
            progress(len(by_device))

        pending_items: list[dict[str, Any]] = []
        for row in events:
            batch.append(row)
            if len(batch) == _CHUNK * dataset.EVENTS_PER_DEVICE:
                flush()
                batch = []
        if batch:
            flush()
        conn.execute(
            insert(Lot.__table__),  # type: ignore[attr-defined]
            [
                {
                    "code": code, "org": PLANT, "fraction": code.split("-")[2],
                    "number": int(code.rsplit("-", 1)[1]), "state": "received",
                    "hazardous": True, "weight_g": grams, "device_count": 0,
                    "destination": PROCESSOR, "manifest_no": f"M-{code}",
                    "received_weight_g": grams, "treatment": None,
                    "created_at": lot_first[code], "shipped_at": lot_first[code],
                    "received_at": lot_first[code], "head_digest": None,
                    "head_occurred_at": None, "event_count": 2,
                }
                for code, grams in lot_weight.items()
            ],
        )  # fmt: skip
        for start in range(0, len(pending_items), 50_000):
            conn.execute(insert(LotItem.__table__), pending_items[start : start + 50_000])  # type: ignore[attr-defined]
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        conn.execute(
            insert(Event.__table__),  # type: ignore[attr-defined]
            # Shipped after the last dismantling, received before the anchoring: on time.
            [
                e
                for code, grams in lot_weight.items()
                for e in _lot_events(code, now - dt.timedelta(minutes=90), grams)
            ],
        )
    env.events += devices * dataset.EVENTS_PER_DEVICE + 2 * len(lot_weight)
    say(
        f"  loaded {devices:,} devices, {len(lot_weight)} lots "
        f"in {time.perf_counter() - started:.1f}s"
    )


def _current_quarter() -> str:
    """The quarter the dataset's devices are dismantled in (two hours ago, Beijing time)."""
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=2)
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def _phase(env: LedgerEnv, which: str, out: Path) -> dict[str, Any]:
    settings = trace_of(env.app).settings
    args = {
        "which": which,
        "database_url": settings.resolved_database_url,
        "data_dir": str(settings.data_dir),
        "ledger_url": settings.ledger_url,
        "ledger_key": settings.ledger_key,
        "ledger_owner_key": settings.ledger_owner_key,
        "rate_schedules": str(EXAMPLE_RATES),
        "plant": PLANT,
        "manager": MANAGER,
        "period": _current_quarter(),
        "out": str(out),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.claims_phase", json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    if done.returncode != 0:
        raise RuntimeError(f"claims {which} phase failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(env: LedgerEnv, *, devices: int, tmp: Path) -> Result:
    say(f"claims: {devices:,} dismantled devices")
    load_devices(env, devices)
    say("claims: anchoring every event (not timed)")
    settings = trace_of(env.app).settings
    while env.pending():
        run_once(
            env.engine, env.handle, max_size=settings.anchor_batch_max,
            confirmations=settings.ledger_confirmations,
        )  # fmt: skip
    out = tmp / "claims-out"
    out.mkdir(exist_ok=True)
    baseline = _phase(env, "baseline", out)
    measured = _phase(env, "measured", out)
    # The claim's memory: its own process and, beside it, its helper process.
    peak = measured["peak_mb"] + measured["helper_peak_mb"]
    notes = [
        f"claimed {measured['units']:,} devices, {measured['total_yuan']:,} yuan; "
        f"excluded {measured['excluded']:,}",
        "phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in measured["phases"].items()),
        "CPU seconds (what a loaded machine does not inflate): claim process "
        + ", ".join(f"{k} {v:.2f}s" for k, v in measured["cpu_phases"].items())
        + f"; its helper process {measured['helper_cpu_seconds']:.1f}s; "
        f"baseline {baseline['cpu_seconds']:.1f}s",
        f"peak RSS: claim process {measured['peak_mb']:.0f} MB "
        f"({measured['create_peak_mb']:.0f} MB before the exports) + helper process "
        f"{measured['helper_peak_mb']:.0f} MB = {peak:.0f} MB (target <= {TARGET_MB} MB: "
        f"{'PASS' if peak <= TARGET_MB else 'FAIL'}); "
        f"baseline process {baseline['peak_mb']:.0f} MB",
        f"files: XLSX {measured['sizes']['xlsx'] / 1e6:.1f} MB, CSV "
        f"{measured['sizes']['csv'] / 1e6:.1f} MB, PDF {measured['sizes']['pdf'] / 1e3:.0f} kB",
        f"wall time: {measured['seconds']:.1f}s (target <= {TARGET_SECONDS}s: "
        f"{'PASS' if measured['seconds'] <= TARGET_SECONDS else 'FAIL'})",
    ]
    return Result(
        "claims",
        Measurement("create + XLSX + CSV + PDF", devices, measured["seconds"]),
        Measurement("read the same event rows (SELECT)", devices, baseline["seconds"]),
        devices / TARGET_SECONDS,
        "rate",
        notes,
        extra={
            "peak_mb": peak,
            "phases": measured["phases"],
            "cpu_phases": measured["cpu_phases"],
            "cpu_seconds": measured["cpu_seconds"],
            "helper_cpu_seconds": measured["helper_cpu_seconds"],
            "baseline_cpu_seconds": baseline["cpu_seconds"],
        },
    )
