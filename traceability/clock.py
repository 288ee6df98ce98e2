"""The deployment's clock (STYLE §14: time is an argument).

Services take ``now``; the edges (views, the CLI, the workers) read it from
the deployment's clock (``Trace.clock``), so a test or the demo can run the whole app at a chosen
moment (``FixedClock``, ``ShiftedClock``) while the ledger keeps its own time.
What a plant's server says the time is proves nothing: the anchor's block
time does (SPEC §3 "Time").
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Now, timezone-aware UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


@dataclass(frozen=True)
class FixedClock:
    """Always the same moment."""

    at: dt.datetime

    def now(self) -> dt.datetime:
        return self.at.astimezone(UTC)


@dataclass
class ShiftedClock:
    """Starts at ``at`` and then runs at the machine's pace."""

    at: dt.datetime
    _started: float = field(default_factory=time.monotonic, repr=False)

    def now(self) -> dt.datetime:
        return self.at.astimezone(UTC) + dt.timedelta(seconds=time.monotonic() - self._started)


SYSTEM_CLOCK = SystemClock()
