"""A helper process for large claims: the later devices assessed on the other core.

Assessing a device is CPU work in Python (its events read, hashed, replayed
and checked against the ledger's roots), and one process uses one core: a
quarter of 100,000 devices would take the whole budget of a claim. So above
``SPLIT_FROM`` devices the claim assesses the first part itself while a
helper process assesses the rest, and the two results are joined in QR ID
order.

The helper is a fresh interpreter ("spawn": no database connection, thread or
lock of the parent crosses a fork). It opens the database and the trusted
ledger reader from the same settings as any process of the deployment:
nothing it trusts comes from the parent, and none of it from the database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Any

from flask import Flask
from sqlmodel import Session

from traceability.catalog import load_catalog
from traceability.claims.assess import Computed, assess_devices
from traceability.config import Settings
from traceability.db import Database
from traceability.reports.devices import open_reader

#: Below this many devices a second process costs more (its start) than it saves.
SPLIT_FROM = 20_000
#: The helper starts about a second and a half late (a fresh interpreter imports
#: the application): the claim's own process takes this many devices more.
HEAD_START = 4_000


def split_point(settings: Settings | None, count: int) -> int | None:
    """Where the helper's share of ``count`` devices starts (None: no helper)."""
    if settings is None or count < SPLIT_FROM or (os.cpu_count() or 1) < 2:
        return None
    if settings.ledger_mode == "memory":
        return None  # an in-process chain: another process cannot read it
    if settings.resolved_database_url.rstrip("/") in ("sqlite:", "sqlite://", "sqlite:///:memory:"):
        return None  # an in-memory database: likewise
    return min(count, (count + HEAD_START) // 2)


class Helper:
    """One helper process, for the ``with`` block."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> Helper:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # On an error in this process the helper's result is not waited for.
        self.pool.shutdown(wait=kind is None, cancel_futures=True)

    def assess(self, qr_ids: Sequence[str], **args: Any) -> Future[Computed]:
        """Assess ``qr_ids`` in the helper; ``args`` as for ``assess_devices`` (no ledger)."""
        return self.pool.submit(_assess, self.settings, list(qr_ids), args)


def _assess(settings: Settings, qr_ids: list[str], args: dict[str, Any]) -> Computed:
    """In the helper: open the database and the ledger reader as configured, and assess."""
    app = Flask(__name__)
    app.config["TRACE_SETTINGS"] = settings
    Database(app)
    catalog = load_catalog(settings.rate_files)
    engine = Database.engine(app)
    try:
        with app.app_context(), Session(engine) as session:
            problem = args.pop("ledger_problem")
            ledger = None
            if problem is None:
                ledger, problem = open_reader(session)
            return assess_devices(
                session, catalog, qr_ids, ledger=ledger, ledger_problem=problem, **args
            )
    finally:
        engine.dispose()
