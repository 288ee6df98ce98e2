"""``traceability serve``: the managed ledger node, the anchoring worker and gunicorn.

The node and the worker live in the gunicorn master process; every HTTP
worker builds its own app (engine, pools) after the fork.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from gunicorn.app.base import BaseApplication

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
        from traceability import create_app

        return create_app()


def _anchoring_thread(settings: Settings, stop: threading.Event) -> threading.Thread:
    from traceability import create_app
    from traceability.anchoring import worker
    from traceability.anchoring.connection import open_ledger
    from traceability.db import Database

    app = create_app(settings)

    def loop() -> None:
        worker.watch(
            Database.engine(app),
            open_ledger(app),
            max_size=settings.anchor_batch_max,
            confirmations=settings.ledger_confirmations,
            interval_s=settings.anchor_interval_s,
            stop=stop,
        )

    thread = threading.Thread(target=loop, name="anchoring", daemon=True)
    thread.start()
    return thread


def serve(*, host: str, port: int, workers: int, settings: Settings) -> None:
    from traceability.anchoring.connection import managed_node

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    with managed_node(settings) as node:
        if node is not None:
            log.info("managed anvil node at %s (state in %s)", node.url, node.state_path)
        if settings.ledger_mode != "off" and settings.anchor_in_background:
            _anchoring_thread(settings, stop)
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
            stop.set()
