"""`traceability serve` end to end: gunicorn, the managed anvil, the anchoring worker."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ledger.node import free_port
from tests.ledger_fixtures import require_node_binary
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLI = [sys.executable, "-m", "traceability.cli"]


@dataclass
class Served:
    base: str
    headers: dict[str, str]
    master_pid: int
    data_dir: Path


def served_env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "TRACE_ENV": "development",
        "TRACE_DATA_DIR": str(data_dir),
        "TRACE_LEDGER_MODE": "managed",
        "TRACE_LEDGER_PORT": str(free_port()),
        "TRACE_ANCHOR_INTERVAL_S": "0.5",
        "TRACE_AUDIT_REFRESH_S": "0.5",
    }
    env.pop("TRACE_DATABASE_URL", None)
    return env


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data directory after `init` (database, chain, registry) with an operator and
    their token: built once, each test serves a copy of its own."""
    require_node_binary("anvil")
    data_dir = tmp_path_factory.mktemp("served") / "data"
    env = served_env(data_dir)

    def cli(*args: str) -> str:
        done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("init")
    cli(
        "orgs",
        "add",
        "DIS-T",
        "--kind",
        "dismantler",
        "--name",
        "t",
        "--region",
        "320500",
        "--license",
        "L-1",
    )
    cli("users", "add", "op", "--org", "DIS-T", "--role", "operator")
    token = cli("tokens", "create", "op").strip().splitlines()[-1]
    return data_dir, token


@pytest.fixture
def served(initialised: tuple[Path, str], tmp_path: Path) -> Iterator[Served]:
    template, token = initialised
    shutil.copytree(template, tmp_path / "data")
    env = served_env(tmp_path / "data")
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"

    def answers() -> bool:
        assert server.poll() is None, "serve exited before it answered"
        try:
            return requests.get(f"{base}/health", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or busy starting up
            return False

    try:
        wait_until(answers, timeout=60, what="serve to answer /health", interval=0.2)
        yield Served(base, {"Authorization": f"Bearer {token}"}, server.pid, tmp_path / "data")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        # anvil runs in its own process group: stop it if the server could not.
        subprocess.run(["pkill", "-f", str(tmp_path / "data")], check=False)


def test_writes_go_through_and_the_background_worker_anchors_them(
    served: Served,
) -> None:
    base, headers = served.base, served.headers
    qr_ids = []
    for _ in range(4):  # several requests: both gunicorn workers take writes
        started = time.monotonic()
        reply = requests.post(
            f"{base}/devices",
            headers=headers,
            timeout=20,
            json={"category": "microcomputer", "attributes": {"form": "laptop"}},
        )
        assert reply.status_code == 201, reply.text
        assert time.monotonic() - started < 5  # never stuck behind a lock
        qr_ids.append(reply.json()["qr_id"])
    reply = requests.post(
        f"{base}/events",
        headers=headers,
        timeout=20,
        json={
            "events": [
                {"id": str(uuid.uuid4()), "type": "received", "qr_id": q, "weight_kg": 2.1}
                for q in qr_ids
            ]
        },
    )
    assert [r["status"] for r in reply.json()["results"]] == ["created"] * 4

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        checks = [
            requests.get(f"{base}/devices/{q}/verify", headers=headers, timeout=10).json()
            for q in qr_ids
        ]
        if all(c["verified"] for c in checks):
            break
        time.sleep(0.5)
    assert all(c["verified"] for c in checks), checks
    assert requests.get(f"{base}/health", timeout=5).json()["ledger"]["pending"] == 0


def children_of(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``: their command lines."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
    return out


def test_the_audit_refresher_runs_beside_the_server_and_catches_up_with_the_log(
    served: Served,
) -> None:
    commands = children_of(served.master_pid).values()
    assert [c for c in commands if "audit refresh --watch" in c], commands
    reply = requests.post(
        f"{served.base}/devices", headers=served.headers, timeout=20,
        json={"category": "microcomputer", "attributes": {"form": "laptop"}},
    )  # fmt: skip
    assert reply.status_code == 201

    def snapshot_has_it() -> bool:
        db = sqlite3.connect(served.data_dir / "trace.db")
        try:
            newest = db.execute("SELECT max(seq) FROM event").fetchone()[0]
            row = db.execute("SELECT last_seq FROM audit_snapshot WHERE period = 'all'").fetchone()
        except sqlite3.OperationalError:  # locked for a moment by a writer
            return False
        finally:
            db.close()
        return row is not None and row[0] >= newest

    wait_until(snapshot_has_it, timeout=60, what="the refresher to snapshot the new event",
               interval=0.3)  # fmt: skip


def test_the_gunicorn_master_holds_no_database_connection(
    served: Served,
) -> None:
    """SQLite connections must not cross the fork that creates HTTP workers:
    a child inheriting a connection (or its lock state) can find the
    database 'locked' forever. The master (and anything it forks) stays clean."""
    base, headers = served.base, served.headers
    requests.post(
        f"{base}/devices",
        headers=headers,
        timeout=20,
        json={"category": "microcomputer", "attributes": {"form": "laptop"}},
    )
    wait_until(  # the anchoring worker has run: it anchored the new event
        lambda: requests.get(f"{base}/health", timeout=5).json()["ledger"]["pending"] == 0,
        timeout=30,
        what="the anchoring worker to anchor the new event",
        interval=0.2,
    )
    fd_dir = Path(f"/proc/{served.master_pid}/fd")
    open_files = [os.readlink(fd_dir / fd) for fd in os.listdir(fd_dir)]
    assert not [f for f in open_files if "trace.db" in f], open_files


def test_acknowledged_events_survive_kill_9_of_the_whole_server(served: Served) -> None:
    base, headers = served.base, served.headers
    acknowledged = []
    for _ in range(5):
        reply = requests.post(
            f"{base}/devices", headers=headers, timeout=20, json={"category": "monitor"}
        )
        assert reply.status_code == 201
        acknowledged.append(reply.json()["digest"])

    os.killpg(served.master_pid, signal.SIGKILL)  # master, HTTP workers, anchoring worker

    db = sqlite3.connect(served.data_dir / "trace.db")
    stored = {row[0] for row in db.execute("SELECT digest FROM event")}
    db.close()
    assert set(acknowledged) <= stored


def test_a_body_nested_100000_deep_is_refused_and_kills_no_worker(served: Served) -> None:
    """Issue 15 H4: 200 KB of JSON nested 100,000 deep overflowed the C stack of a
    worker (web3's py_ecc raises the recursion limit to 100,000)."""
    base, headers = served.base, served.headers
    nested = b"[" * 100_000 + b"]" * 100_000
    workers = children_of(served.master_pid)
    statuses = []
    for path in ("/events", "/devices", "/claims", "/labels"):
        for _ in range(50 if path == "/events" else 2):
            reply = requests.post(
                f"{base}{path}",
                headers={**headers, "Content-Type": "application/json"},
                data=nested,
                timeout=20,
            )
            statuses.append(reply.status_code)
            if path == "/events":
                assert reply.json()["error"]["code"] == "too_deep", reply.text

    assert all(400 <= status < 500 for status in statuses), statuses
    assert children_of(served.master_pid) == workers  # no worker died and was replaced
    assert requests.get(f"{base}/health", timeout=5).status_code == 200
