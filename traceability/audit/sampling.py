"""Audit sampling (SPEC §2.7): dismantling days and devices for video review.

The seed is the hash of the first block whose timestamp is at or after the
period's close: nobody can know it while the period is open, and anyone can
read it afterwards. The method needs nothing but SHA-256, so an auditor can
redo it by hand (``METHOD``):

    seed = SHA-256(block hash bytes ‖ "weee-trace-sample/1|{plant}|{period}")
    key(candidate) = SHA-256(seed ‖ candidate)   (a day as YYYY-MM-DD, a device by QR ID)

The sampled days are the ``days`` dismantling days with the smallest keys;
the sampled devices are the ``devices`` devices with the smallest keys among
those dismantled on the sampled days. Candidates come from the plant's
``dismantled`` events in the period (China time).

The sample is a work order (``SampledDevice``): each device with its
dismantling time, line, category and operator replayed from its events, and
the window of the line's video to review (``[sampling]`` in ``rules.toml``).
A sample seeded by the genesis block was knowable before the close
(``Sample.seeded_by_genesis``): the page says so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlmodel import Session

from ledger.interface import BlockInfo, Ledger
from traceability.anchoring.trust import TrustedLedger
from traceability.audit.ruleset import SamplingSizes
from traceability.custody.facts import replay
from traceability.custody.models import Event, EventType
from traceability.periods import CHINA, Period

METHOD_VERSION = "weee-trace-sample/1"
METHOD = (
    "seed = SHA-256(block hash bytes ‖ UTF-8 '"
    + METHOD_VERSION
    + "|{plant}|{period}'); key = SHA-256(seed ‖ UTF-8 candidate), a day as YYYY-MM-DD, "
    "a device by its QR ID; the days with the smallest keys, then the devices with the "
    "smallest keys among those dismantled on the sampled days."
)
METHOD_ZH = (
    "种子 = SHA-256(区块哈希字节 ‖ UTF-8 '"
    + METHOD_VERSION
    + "|{厂}|{期}')；键 = SHA-256(种子 ‖ UTF-8 候选)，日期写作 YYYY-MM-DD，设备写作二维码 ID；"
    "取键最小的若干拆解日，再在这些日拆解的设备中取键最小的若干台。"
)

OPEN, WAITING, NO_LEDGER, UNTRUSTED, DRAWN = "open", "waiting", "no_ledger", "untrusted", "drawn"


@dataclass(frozen=True)
class SampledDevice:
    """One line of the video-review work order."""

    qr_id: str
    day: str  # the China day it was dismantled on, YYYY-MM-DD
    dismantled_at: dt.datetime | None = None
    line: str | None = None
    category: str | None = None
    operator: str | None = None
    video_from: dt.datetime | None = None
    video_to: dt.datetime | None = None


@dataclass(frozen=True)
class Sample:
    """The sample of one plant and period, or why there is none yet (``status``)."""

    plant: str
    period: str
    status: str
    block: BlockInfo | None = None
    seed: str | None = None
    days: tuple[str, ...] = ()
    devices: tuple[SampledDevice, ...] = ()
    candidate_days: int = 0
    candidate_devices: int = 0
    sizes: SamplingSizes | None = None
    problem: str | None = None

    @property
    def drawn(self) -> bool:
        return self.status == DRAWN

    @property
    def seeded_by_genesis(self) -> bool:
        """Block 0's hash is known before any period closes: such a sample was predictable."""
        return self.block is not None and self.block.number == 0


def first_block_after(chain: Ledger, moment: dt.datetime) -> BlockInfo | None:
    """The first block whose timestamp is at or after ``moment`` (binary search; None: none yet)."""
    target = int(moment.timestamp())
    low, high = 0, chain.block_number()
    top = chain.block(high)
    if top is None or top.timestamp < target:
        return None
    found = top
    while low < high:
        middle = (low + high) // 2
        block = chain.block(middle)
        if block is None:  # pruned or racing a reorg: look later
            low = middle + 1
        elif block.timestamp >= target:
            found, high = block, middle
        else:
            low = middle + 1
    return found


def seed_of(block_hash: str, plant: str, period: str) -> bytes:
    context = f"{METHOD_VERSION}|{plant}|{period}".encode()
    return hashlib.sha256(bytes.fromhex(block_hash.removeprefix("0x")) + context).digest()


def _key(seed: bytes, candidate: str) -> bytes:
    return hashlib.sha256(seed + candidate.encode()).digest()


def draw(seed: bytes, candidates: list[str], k: int) -> list[str]:
    """The ``k`` candidates with the smallest keys, in key order."""
    return sorted(set(candidates), key=lambda c: _key(seed, c))[:k]


@dataclass
class _Candidates:
    days: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def device_count(self) -> int:
        return sum(len(v) for v in self.days.values())


def candidates(session: Session, plant: str, period: Period) -> _Candidates:
    """The plant's dismantlings in the period, by China day, from its event log."""
    rows = session.execute(
        select(Event.device, Event.occurred_at).where(  # type: ignore[call-overload]
            Event.org == plant,
            Event.type == EventType.dismantled,
            Event.occurred_at >= period.start,
            Event.occurred_at < period.end,
        )
    )
    found = _Candidates()
    for device, occurred_at in rows:
        found.days[occurred_at.astimezone(CHINA).date().isoformat()].append(device)
    return found


def audit_sample(
    session: Session,
    reader: TrustedLedger,
    *,
    plant: str,
    period: Period,
    sizes: SamplingSizes,
    now: dt.datetime,
) -> Sample:
    """The sample of ``plant`` for ``period``: none while the period is open or unseeded."""
    base = Sample(plant, period.name, OPEN, sizes=sizes)
    if not period.closed(now):
        return base
    if reader.chain is None:
        return replace(base, status=NO_LEDGER)
    if reader.problem:
        return replace(base, status=UNTRUSTED, problem=reader.problem)
    block = first_block_after(reader.chain, period.end)
    if block is None:
        return replace(base, status=WAITING)
    seed = seed_of(block.hash, plant, period.name)
    found = candidates(session, plant, period)
    days = draw(seed, list(found.days), sizes.days)
    on_days = {qr: day for day in days for qr in found.days[day]}
    devices = draw(seed, list(on_days), sizes.devices)
    orders = work_order(session, [(qr, on_days[qr]) for qr in devices], sizes)
    return replace(
        base,
        status=DRAWN,
        block=block,
        seed=seed.hex(),
        days=tuple(days),
        devices=orders,
        candidate_days=len(found.days),
        candidate_devices=found.device_count,
    )


def work_order(
    session: Session, drawn: list[tuple[str, str]], sizes: SamplingSizes
) -> tuple[SampledDevice, ...]:
    """The sampled devices with what a video reviewer needs, replayed from their events."""
    events: dict[str, list[Event]] = defaultdict(list)
    query = (
        select(Event)
        .where(Event.device.in_([qr for qr, _ in drawn]))  # type: ignore[union-attr]
        .order_by(Event.seq)  # type: ignore[arg-type]
    )
    for (event,) in session.execute(query):
        events[event.device].append(event)
    return tuple(_order_line(qr_id, day, events[qr_id], sizes) for qr_id, day in drawn)


def _order_line(qr_id: str, day: str, events: list[Event], sizes: SamplingSizes) -> SampledDevice:
    facts = replay(qr_id, events)
    at = facts.dismantled_at
    by = [e.actor for e in events if e.type == EventType.dismantled]
    line = SampledDevice(
        qr_id, day, dismantled_at=at, line=facts.line, category=facts.category,
        operator=by[-1] if by else None,
    )  # fmt: skip
    if at is None:
        return line
    return replace(
        line,
        video_from=at - dt.timedelta(minutes=sizes.video_before_min),
        video_to=at + dt.timedelta(minutes=sizes.video_after_min),
    )
