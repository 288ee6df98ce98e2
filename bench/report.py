"""What a benchmark measured, how it is printed, and progress lines for long phases."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Measurement:
    """One timed phase: ``events`` items processed in ``seconds``."""

    label: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Result:
    """A benchmark: the measured phase, its baseline and the target it is judged by.

    ``ratio`` is measured/baseline throughput. ``target_kind`` says what the
    target applies to: ``rate`` (absolute events/s) or ``ratio``.
    """

    name: str
    measured: Measurement
    baseline: Measurement
    target: float
    target_kind: str  # "rate" | "ratio" | "latency" (seconds, measured.seconds at most)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.measured.rate / self.baseline.rate

    @property
    def passed(self) -> bool:
        if self.target_kind == "latency":
            return self.measured.seconds <= self.target
        value = self.measured.rate if self.target_kind == "rate" else self.ratio
        return value >= self.target

    @property
    def target_text(self) -> str:
        if self.target_kind == "latency":
            return f"<= {self.target * 1000:,.0f} ms"
        if self.target_kind == "rate":
            return f">= {self.target:,.0f} ev/s"
        return f">= {self.target:,.0f}x"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": {**asdict(self.measured), "events_per_s": round(self.measured.rate, 1)},
            "baseline": {**asdict(self.baseline), "events_per_s": round(self.baseline.rate, 1)},
            "ratio": round(self.ratio, 4),
            "target": self.target,
            "target_kind": self.target_kind,
            "passed": self.passed,
            "notes": self.notes,
            **self.extra,
        }


_HEADER = (
    f"{'benchmark':<11} {'phase':<34} {'events':>8} {'seconds':>9} "
    f"{'events/s':>11} {'ratio':>9} {'target':>16} {'':>4}"
)


def table(results: list[Result]) -> str:
    lines = [_HEADER, "-" * len(_HEADER)]
    for r in results:
        for m, is_main in ((r.measured, True), (r.baseline, False)):
            ratio = f"{r.ratio:,.3f}" if r.ratio < 10 else f"{r.ratio:,.0f}x"
            lines.append(
                f"{r.name if is_main else '':<11} {m.label:<34} {m.events:>8,} "
                f"{m.seconds:>9.3f} {m.rate:>11,.0f} "
                f"{ratio if is_main else '(base)':>9} "
                f"{r.target_text if is_main else '':>16} "
                f"{('PASS' if r.passed else 'FAIL') if is_main else '':>4}"
            )
        for note in r.notes:
            lines.append(f"{'':<11}   {note}")
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Progress:
    """``label: done/total`` on stderr, redrawn in place on a terminal, throttled otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.done < self.total and now - self._last < (0.2 if self._tty else 5.0):
            return
        self._last = now
        text = f"  {self.label}: {self.done:,}/{self.total:,}"
        if self._tty:
            end = "\n" if self.done >= self.total else ""
            print(f"\r{text}", end=end, file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)


def timed(label: str, events: int, start: float) -> Measurement:
    return Measurement(label, events, time.perf_counter() - start)
