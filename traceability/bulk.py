"""Bulk work on hundreds of thousands of records, without the cycle collector's full passes.

CPython's cyclic garbage collector makes a full pass whenever the objects
that survived its earlier passes have grown by a quarter. A claim for 100,000
devices keeps millions of small objects alive while it is computed (its items,
their digests and outputs), so full passes rescanned all of them again and
again: a quarter of the claim's CPU time, measured with ``gc.callbacks`` in
``bench/`` (5.9 s of 23 s). What bulk work builds holds no reference cycle, so
reference counting frees it as before; only the collector is paused, and it
resumes when the last bulk job of the process ends (jobs in several threads
may overlap).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0
_was_enabled = False
_collect = False


@contextmanager
def collector_paused(*, collect_after: bool = False) -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (reference counting still frees).

    ``collect_after``: when the collector resumes, one full pass at once (a tenth of a
    second), so what the job left in reference cycles (its session's loaded batches, a
    pool's bookkeeping) is freed before the next job of the process allocates more.
    """
    global _running, _was_enabled, _collect
    with _lock:
        _collect = _collect or collect_after
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            resume = _running == 0 and _was_enabled
            collect = resume and _collect
            if _running == 0:
                _collect = False
            if resume:
                gc.enable()
        if collect:  # outside the lock: a finalizer may start a bulk job of its own
            gc.collect()
