"""The demo's past quarter anchored as it happened (SPEC §3 "Time").

An event anchored more than a day after it was recorded verifies as ``late``,
so a demo that loads 2026Q3 today and lets the worker anchor it now would show
every event late. On the managed node (a development chain this deployment
runs) the demo creates the chain the day before its quarter and, after each
day's syncs, times the next block that evening and anchors them: the chain
then reads like a plant's that anchored every day. On an external ledger
(``rpc``) the chain's time is not ours to set: the demo's events are anchored
when the worker gets to them, and verify as late.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ledger.node import latest_block_time, set_chain_time
from traceability.anchoring.connection import managed_node, open_ledger
from traceability.anchoring.service import anchor_now
from traceability.context import Trace
from traceability.demo.clock import CST
from traceability.demo.figures import load_figures

#: How long after a day's syncs its anchor block is timed (the worker's interval is seconds).
ANCHOR_AFTER = dt.timedelta(minutes=10)

AfterDay = Callable[[dt.datetime], None]


@contextmanager
def anchored_daily(trace: Trace) -> Iterator[AfterDay | None]:
    """An ``after_day`` hook that anchors each demo day on time, where the chain allows it."""
    settings = trace.settings
    if settings.ledger_mode != "managed" or settings.ledger_url:
        yield None
        return
    quarter = load_figures().quarter
    born = dt.datetime.combine(quarter.first_day, dt.time(), CST) - dt.timedelta(days=1)
    with managed_node(settings, genesis_time=int(born.timestamp())):
        url = open_ledger(trace.ledger).submitter.rpc_url
        if latest_block_time(url) > born.timestamp() + 86_400:
            print(
                f"note: the managed chain in {settings.data_dir / 'ledger'} is already past "
                f"{quarter.first_day}: the demo quarter is anchored now and its events verify "
                "as late. Start from an empty data directory for an honest demo.",
                file=sys.stderr,
            )
            yield None
            return

        def after_day(now: dt.datetime) -> None:
            set_chain_time(url, int((now + ANCHOR_AFTER).timestamp()))
            # The roots of the days before were written by this loop moments ago:
            # asking the chain again each day would cost a quadratic number of calls.
            anchor_now(trace.engine, trace.ledger, recheck=False)

        try:
            yield after_day
        finally:
            set_chain_time(url, int(time.time()))  # the chain goes on in the present
