"""``traceability serve``: the managed ledger node, the anchoring worker and gunicorn.

The managed node, the anchoring worker and the audit refresher are child
processes of the gunicorn master; every HTTP worker builds its own app (engine, pools) after
the fork, and the master itself never opens the database.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from traceability import create_app
from traceability.anchoring.connection import managed_node
from traceability.config import Settings

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def _anchoring_process() -> subprocess.Popen[bytes]:
    """``traceability anchor --watch`` as a child process.

    Not a thread of this (the gunicorn master) process: SQLite connections
    must never be carried across the fork that creates the HTTP workers.
    """
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "traceability.cli",
            "anchor",
            "--watch",
            "--parent-pid",
            str(os.getpid()),
        ],
    )


def _audit_refresher() -> subprocess.Popen[bytes]:
    """``traceability audit refresh --watch``: the audit snapshots, off the request path.

    Its own process rather than a step of the anchoring loop: a pass over a
    large log takes minutes and gigabytes, and must delay neither anchoring
    (the window in which records can be changed undetected) nor the HTTP workers.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "traceability.cli", "audit", "refresh", "--watch",
         "--parent-pid", str(os.getpid())],
    )  # fmt: skip


def serve(*, host: str, port: int, workers: int, settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker: subprocess.Popen[bytes] | None = None
    refresher: subprocess.Popen[bytes] | None = None
    with managed_node(settings) as node:
        if node is not None:
            log.info("managed anvil node at %s (state in %s)", node.url, node.state_path)
        if settings.ledger_mode != "off" and settings.anchor_in_background:
            worker = _anchoring_process()
        if settings.audit_refresh_in_background:
            refresher = _audit_refresher()
        try:
            _Gunicorn(
                {
                    "bind": f"{host}:{port}",
                    "workers": workers,
                    "accesslog": "-",
                    "preload_app": False,
                    "timeout": 120,
                }
            ).run()
        finally:
            for child in (worker, refresher):
                if child is not None:
                    child.terminate()
                    child.wait(timeout=30)
