"""A local ledger node (anvil, or ganache for tests) started and stopped by us.

The default backend is a managed anvil whose chain lives in the data
directory: ``--state`` loads it on start and dumps it on exit, and
``--state-interval 1`` dumps it every second so even a crash loses at most a
second of blocks. Ganache is kept for cross-node tests.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import requests

from ledger.errors import LedgerUnavailable, NodeBinaryMissing

NodeKind = Literal["anvil", "ganache"]

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"

# Well-known funded development keys (public test mnemonics: never use on a real chain).
# anvil: "test test test test test test test test test test test junk"
ANVIL_DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
)
# ganache --wallet.deterministic
GANACHE_DEV_KEYS = (
    "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d",
    "0x6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1",
    "0x6370fd033278c143179d81c5526140625662b8daa446c22ee2d73db3707e620c",
)
DEV_KEYS: dict[NodeKind, tuple[str, ...]] = {"anvil": ANVIL_DEV_KEYS, "ganache": GANACHE_DEV_KEYS}
GANACHE_CHAIN_ID = 1337


def find_node_binary(name: NodeKind, *, contracts_dir: Path | None = None) -> Path:
    """Locate the npm-installed node executable.

    For anvil the native platform binary is preferred over the
    ``.bin/anvil`` node wrapper: the wrapper forwards SIGTERM and exits at
    once, before anvil has dumped its state, and a SIGKILL to the wrapper
    would orphan a still-listening anvil.
    """
    modules = (contracts_dir or CONTRACTS_DIR) / "node_modules"
    candidates = []
    if name == "anvil":
        machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(
            platform.machine(), platform.machine()
        )
        system = platform.system().lower()
        candidates.append(modules / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil")
    candidates.append(modules / ".bin" / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise NodeBinaryMissing(
        f"{name} not found under {modules}: run `npm ci` in contracts/ (`make test` does)"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def node_rpc(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call to the node at ``url`` (its dev methods too: evm_snapshot ...)."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    try:
        answer = requests.post(url, json=body, timeout=10).json()
    except (requests.RequestException, ValueError) as exc:
        raise LedgerUnavailable(f"{method}: {type(exc).__name__}") from exc
    if "error" in answer:
        raise LedgerUnavailable(f"{method}: {answer['error'].get('message', answer['error'])}")
    return answer["result"]


def latest_block_time(url: str) -> int:
    """The timestamp of a node's latest block (Unix seconds)."""
    return int(node_rpc(url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def set_chain_time(url: str, timestamp: int) -> None:
    """Time a development node's next blocks from ``timestamp`` (anvil, ganache).

    Only forward: a chain whose block times go back cannot be searched by time
    (audit sampling finds the first block after a period's close).
    """
    if timestamp > latest_block_time(url):
        node_rpc(url, "evm_setTime", timestamp)


class ManagedNode:
    """One anvil or ganache process with its chain persisted in ``data_dir``.

    The port is fixed on first start so a restart serves the same URL.
    """

    def __init__(
        self,
        kind: NodeKind = "anvil",
        *,
        data_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 30,
        binary: Path | None = None,
        genesis_time: int | None = None,
    ) -> None:
        """``genesis_time`` (Unix seconds) dates a new chain's block 0, so that blocks
        can be timed after it (the demo anchors a past quarter in blocks timed inside
        it); a chain that already exists keeps its genesis, and a node started
        without it runs on the machine's time."""
        self.kind: NodeKind = kind
        self.genesis_time = genesis_time
        self._born_dated = False  # this start created the chain at ``genesis_time``
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise LedgerUnavailable(f"{self.kind} has not been started")
        return f"http://{self.host}:{self.port}"

    @property
    def state_path(self) -> Path:
        """Where the chain is persisted (anvil: a JSON file, ganache: a LevelDB directory)."""
        name = "anvil-state.json" if self.kind == "anvil" else "ganache-db"
        return self.data_dir / name

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.kind}.log"

    def _command(self, binary: Path, port: int) -> list[str]:
        if self.kind == "anvil":
            return [
                str(binary),
                "--host", self.host,
                "--port", str(port),
                "--state", str(self.state_path),
                "--state-interval", "1",
                "--timestamp", str(self._genesis_timestamp()),
            ]  # fmt: skip
        self.state_path.mkdir(parents=True, exist_ok=True)
        return [
            str(binary),
            "--server.host", self.host,
            "--server.port", str(port),
            "--wallet.deterministic",
            "--database.dbPath", str(self.state_path),
            "--chain.chainId", str(GANACHE_CHAIN_ID),
            "--logging.quiet",
        ]  # fmt: skip

    def _genesis_timestamp(self) -> int:
        """The genesis timestamp chosen on first start, reused on every restart.

        anvil re-creates block 0 when it loads a state dump; with a fresh
        timestamp each time its hash (our chain identity) would change and
        the dump would collect several different genesis blocks.
        """
        path = self.data_dir / "anvil-genesis-timestamp"
        if path.exists():
            return int(path.read_text().strip())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stamp = self.genesis_time if self.genesis_time is not None else int(time.time())
        self._born_dated = self.genesis_time is not None
        path.write_text(f"{stamp}\n")
        return stamp

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> ManagedNode:
        """Spawn the node and return once it answers eth_chainId."""
        if self.is_running():
            return self
        binary = self._binary or find_node_binary(self.kind)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port(self.host)
        elif _port_open(self.host, self.port):
            raise LedgerUnavailable(f"port {self.port} is already in use")
        with self.log_path.open("ab") as log:
            # Own process group: signals reach the node (and ganache's workers) only.
            self._process = subprocess.Popen(
                self._command(binary, self.port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        if self.kind == "anvil" and not self._born_dated:
            # anvil's clock runs from the genesis timestamp it is given, so a
            # restarted chain would date its blocks in the past: set it to now
            # (block times are what lateness is measured by, SPEC §3 "Time").
            set_chain_time(self.url, int(time.time()))
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LedgerUnavailable(
                    f"{self.kind} exited with {self._process.returncode}: {self._log_tail()}"
                )
            try:
                response = requests.post(self.url, json=payload, timeout=1)
                if response.ok and "result" in response.json():
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.1)
        self.kill()
        raise LedgerUnavailable(
            f"{self.kind} did not answer within {self.startup_timeout}s: {self._log_tail()}"
        )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _signal(self, signum: int) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self._process.pid, signum)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (anvil then dumps its state), SIGKILL if it does not exit in time."""
        if self._process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._process.wait()
        self._release()

    def kill(self) -> None:
        """SIGKILL without a state dump: simulates a crash in fault tests."""
        if self._process is None:
            return
        self._signal(signal.SIGKILL)
        self._process.wait()
        self._release()

    def _release(self) -> None:
        """Wait for the port to close so a restart on the same port can bind it."""
        self._process = None
        deadline = time.monotonic() + 5
        while self.port is not None and _port_open(self.host, self.port):
            if time.monotonic() > deadline:
                raise LedgerUnavailable(f"port {self.port} still open after {self.kind} exited")
            time.sleep(0.05)

    def __enter__(self) -> ManagedNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
