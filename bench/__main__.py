"""``python -m bench``: run the benchmarks, print a table, exit 0.

python -m bench                      # ingest, anchoring, verify at full size
python -m bench --quick              # a fifth of the sizes (a smoke run)
python -m bench --only verify        # one benchmark (repeatable)
python -m bench --only claims        # a quarterly claim for 100,000 devices + its exports
python -m bench --only import        # the regulator's import of a served plant, fully verified
python -m bench --only refresh       # the audit refresher: a pass after 10,000 new events vs full
python -m bench --db postgresql+psycopg://postgres@127.0.0.1:5432/test
python -m bench --json               # also write bench/results.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import anchoring, claims, importing, ingest, portal, refresh, verify
from bench.ledgerenv import LedgerEnv, ledger_env
from bench.report import Result, say, table

BENCHMARKS = ("ingest", "anchoring", "verify", "claims", "portal", "import", "refresh")
RESULTS_PATH = Path(__file__).with_name("results.json")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--quick", action="store_true", help="scale every size by 0.2")
    parser.add_argument("--scale", type=float, default=1.0, help="scale every size by this")
    parser.add_argument(
        "--db",
        help="database base URL (default: a fresh SQLite file per "
        "benchmark); PostgreSQL gets a dedicated schema, dropped afterwards",
    )
    parser.add_argument("--ingest-events", type=int, default=20_000)
    parser.add_argument(
        "--anchor-events",
        type=int,
        default=50_000,
        help="events anchored by the worker and then verified",
    )
    parser.add_argument(
        "--per-event", type=int, default=200, help="events anchored one transaction each (baseline)"
    )
    parser.add_argument(
        "--claim-devices", type=int, default=100_000, help="dismantled devices in the claim"
    )
    parser.add_argument(
        "--portal-events", type=int, default=1_000_000, help="events behind the portal pages"
    )
    parser.add_argument(
        "--import-events", type=int, default=100_000, help="events the regulator imports"
    )
    parser.add_argument(
        "--refresh-events", type=int, default=1_000_000, help="events behind the refresher"
    )
    parser.add_argument(
        "--refresh-new", type=int, default=10_000, help="events recorded before the timed pass"
    )
    parser.add_argument(
        "--refresh-days", type=float, default=365, help="the days the refresher's log spans"
    )
    parser.add_argument(
        "--refresh-check", action="store_true", help="then compare every period with a replay"
    )
    parser.add_argument("--threads", type=int, default=2, help="ingest client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--json", action="store_true", help=f"write {RESULTS_PATH}")
    return parser.parse_args(argv)


def _scaled(value: int, scale: float, floor: int) -> int:
    return max(int(value * scale), floor)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = args.only or list(BENCHMARKS)
    scale = args.scale * (0.2 if args.quick else 1.0)
    sizes = {
        "ingest_events": _scaled(args.ingest_events, scale, 1_000),
        "anchor_events": _scaled(args.anchor_events, scale, 1_000),
        "per_event": _scaled(args.per_event, scale, 20),
        "claim_devices": _scaled(args.claim_devices, scale, 1_000),
        "portal_events": _scaled(args.portal_events, scale, 1_000),
        "import_events": _scaled(args.import_events, scale, 1_000),
        "refresh_events": _scaled(args.refresh_events, scale, 1_000),
    }
    results: list[Result] = []
    failures: dict[str, str] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        env: LedgerEnv | None = None
        for name in selected:
            try:
                if name == "ingest":
                    results.append(
                        ingest.run(
                            events=sizes["ingest_events"],
                            db=args.db,
                            tmp=tmp,
                            threads=args.threads,
                            workers=args.workers,
                        )
                    )
                    continue
                if name == "refresh":
                    results += refresh.run(
                        events=sizes["refresh_events"], new=args.refresh_new, db=args.db,
                        tmp=tmp, days=args.refresh_days, check=args.refresh_check,
                    )  # fmt: skip
                    continue
                if name == "portal":
                    results += portal.run(events=sizes["portal_events"], db=args.db, tmp=tmp)
                    continue
                if env is None:
                    env = stack.enter_context(ledger_env(db=args.db, tmp=tmp))
                if name == "anchoring":
                    results.append(
                        anchoring.run(
                            env, events=sizes["anchor_events"], per_event=sizes["per_event"]
                        )
                    )
                elif name == "import":
                    results.append(
                        importing.run(env, events=sizes["import_events"], tmp=tmp, db=args.db)
                    )
                elif name == "claims":
                    results.append(claims.run(env, devices=sizes["claim_devices"], tmp=tmp))
                else:
                    results.append(verify.run(env, events=sizes["anchor_events"]))
            except Exception as exc:  # a broken benchmark is reported, the others still run
                failures[name] = f"{type(exc).__name__}: {exc}"
                say(f"{name}: ERROR {failures[name]}")
    elapsed = time.perf_counter() - started

    print()
    print(
        f"database: {args.db or 'sqlite (fresh file per benchmark)'}; "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"total {elapsed:.0f}s"
    )
    print(table(results))
    for name, message in failures.items():
        print(f"{name:<11} ERROR {message}")
    if args.json:
        summary: dict[str, Any] = {
            "database": args.db or "sqlite",
            "sizes": sizes,
            "seconds": round(elapsed, 1),
            "results": [r.to_dict() for r in results],
            "errors": failures,
        }
        RESULTS_PATH.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
