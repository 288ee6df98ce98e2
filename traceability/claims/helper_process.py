"""A helper process for large claims: the later devices assessed on the other core.

Assessing a device is CPU work in Python (its events read, hashed, replayed
and checked against the ledger's roots), and one process uses one core: a
quarter of 100,000 devices would take the whole budget of a claim. So above
``SPLIT_FROM`` devices the claim assesses the first half itself while a
helper process works through the second half from its end, in parts; the
claim's own process then takes back the parts the helper has not started, and
all results are joined in QR ID order.

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
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlmodel import Session

from traceability.anchoring.trust import LedgerProblem, TrustedLedger
from traceability.bulk import collector_paused
from traceability.catalog.models import Catalog
from traceability.claims.assess import Computed, assess_devices
from traceability.config import Settings
from traceability.context import build_trace
from traceability.reports.devices import open_reader
from traceability.verification.services import Verifier

#: Below this many devices a second process costs more (its start) than it saves.
SPLIT_FROM = 20_000
#: The helper's half is cut in parts of this size: it returns them one by one (no
#: process holds its whole share as one pickled message), and the claim's own
#: process takes over those the helper has not started when it is done with its half.
PART = 2_000


def split_point(settings: Settings | None, count: int) -> int | None:
    """Where the helper's share of ``count`` devices starts (None: no helper)."""
    if settings is None or count < SPLIT_FROM or (os.cpu_count() or 1) < 2:
        return None
    if settings.ledger_mode == "memory":
        return None  # an in-process chain: another process cannot read it
    if settings.resolved_database_url.rstrip("/") in ("sqlite:", "sqlite://", "sqlite:///:memory:"):
        return None  # an in-memory database: likewise
    return count // 2


class Helper:
    """One helper process, for the ``with`` block. It opens the ledger reader itself, unless
    the claim's ``ledger`` could not be asked (then only that problem is handed over)."""

    def __init__(self, settings: Settings, ledger: TrustedLedger) -> None:
        context = multiprocessing.get_context("spawn")
        # Which parts are whose: the claim's own process takes them from the front
        # (``front``: the next it may take), the helper from the back (``back``: the
        # lowest it started). Shared memory, handed to the helper when it starts.
        self.lock = context.Lock()
        self.front = context.Value("q", 0, lock=False)
        self.back = context.Value("q", 0, lock=False)
        unavailable = ledger.problems if ledger.is_unavailable else ()
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=context,
            initializer=_start,
            initargs=(settings, unavailable, self.lock, self.front, self.back),
        )

    def __enter__(self) -> Helper:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Every part is done, here or there (what is left are parts taken back, which the
        # helper skips at once): the helper exits while the claim is written, its pool's
        # thread reaps it. On an error, the parts not started are dropped and it is awaited.
        self.pool.shutdown(wait=kind is not None, cancel_futures=kind is not None)

    def assess(
        self, qr_ids: Sequence[str], **args: Any
    ) -> list[tuple[list[str], Future[Computed | None]]]:
        """``qr_ids`` in parts, each with its assessment in the helper (``args`` as for
        ``assess_devices``, without the ledger), in ``qr_ids`` order.

        The helper starts from the last part: the first ones are those it reaches
        last, so the caller, done with its own share, can take them back
        (``take``); the helper then skips them (their result is None).
        """
        parts = [list(qr_ids[start : start + PART]) for start in range(0, len(qr_ids), PART)]
        with self.lock:
            self.front.value, self.back.value = 0, len(parts)
        futures = {
            n: self.pool.submit(_assess, n, parts[n], args) for n in reversed(range(len(parts)))
        }
        return [(part, futures[n]) for n, part in enumerate(parts)]

    def take(self, n: int) -> bool:
        """Whether part ``n`` is the caller's to assess (the helper has not started it)."""
        with self.lock:
            if n < self.back.value:
                self.front.value = n + 1
                return True
            return False


@dataclass
class _Opened:
    """What the helper process opened once, for every part."""

    session: Session
    catalog: Catalog
    ledger: TrustedLedger
    verifier: Verifier
    lock: Any
    front: Any
    back: Any


_opened: list[_Opened] = []


def _start(
    settings: Settings, unavailable: tuple[LedgerProblem, ...], lock: Any, front: Any, back: Any
) -> None:
    """In the helper: the deployment's context built from the settings, as every process
    builds it; its database session and ledger reader, kept until the process exits."""
    trace = build_trace(settings)
    session = Session(trace.engine)
    ledger = (
        TrustedLedger(problems=unavailable) if unavailable else open_reader(session, trace.ledger)
    )
    verifier = Verifier(session, ledger)
    _opened.append(_Opened(session, trace.catalog, ledger, verifier, lock, front, back))


def _assess(n: int, qr_ids: list[str], args: dict[str, Any]) -> Computed | None:
    """In the helper: assess part ``n``, unless the claim's own process took it."""
    opened = _opened[0]
    with opened.lock:
        if n < opened.front.value:
            return None
        opened.back.value = n
    with collector_paused():
        return assess_devices(
            opened.session,
            opened.catalog,
            qr_ids,
            ledger=opened.ledger,
            verifier=opened.verifier,
            **args,
        )
