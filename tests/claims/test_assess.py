"""What a claim's helper process sends back: the same assessment, every type kept."""

from __future__ import annotations

import datetime as dt
import gc
import pickle
import threading
import weakref

from traceability.bulk import collector_paused
from traceability.claims.assess import Computed, Item
from traceability.claims.evidence import BatchAnchor
from traceability.custody.facts import Output


def _computed() -> Computed:
    anchor = BatchAnchor("ab" * 32, "0x" + "cd" * 32, 42)
    items = [
        Item(
            f"0000000000{n:03d}",
            "tv",
            "crt_ge14",
            "national-2021",
            60 + n,
            dt.datetime(2026, 8, 1, 3, 4, 5, 678, tzinfo=dt.UTC),
            30_000 + n,
            (Output("pcb", 1_500 + n), Output("crt_glass", 12_000)),
            bytes(range(n % 200, n % 200 + 32)) * 4,
            anchor if n % 3 else None,
        )
        for n in range(50)
    ]
    exclusions = [{"qr_id": "X", "category": "tv", "reasons": [["pending", "anchor pending"]]}]
    schedules = {"national-2021": {"id": "national-2021", "sha256": "00" * 32}}
    return Computed(items, exclusions, schedules)


def test_a_pickled_assessment_comes_back_equal_with_its_named_tuples() -> None:
    original = _computed()
    copy = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == original
    for before, after in zip(original.items, copy.items, strict=True):
        assert type(after) is Item
        assert all(type(o) is Output for o in after.outputs)
        assert after.outputs[0].fraction == before.outputs[0].fraction
        assert after.dismantled_at == before.dismantled_at
        assert after.dismantled_at.tzinfo is dt.UTC
    assert copy.items[1].anchor is copy.items[2].anchor  # one object per batch, as sent


def test_the_collector_is_paused_until_the_last_overlapping_job_ends() -> None:
    assert gc.isenabled()
    first_in, first_may_leave, first_left = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with collector_paused():
            first_in.set()
            first_may_leave.wait(10)
        first_left.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    with collector_paused():
        during_both = gc.isenabled()
        first_may_leave.set()
        assert first_left.wait(10)
        after_the_first_left = gc.isenabled()
    thread.join(10)
    assert (during_both, after_the_first_left, gc.isenabled()) == (False, False, True)


def test_a_failing_job_resumes_the_collector() -> None:
    try:
        with collector_paused():
            raise RuntimeError("the job failed")
    except RuntimeError:
        pass
    assert gc.isenabled()


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_a_job_may_ask_for_one_collection_when_the_collector_resumes() -> None:
    with collector_paused(collect_after=True):
        node = _Node()
        alive = weakref.ref(node)
        del node
        assert alive() is not None  # paused: the cycle stays
    assert alive() is None
