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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (reference counting still frees)."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()
