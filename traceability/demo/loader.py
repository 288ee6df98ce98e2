"""Replaying the plan day by day through ``record_events``, and shipping the lots it fills."""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from sqlmodel import Session, col, select
from tqdm import tqdm

from traceability.accounts.models import OrgKind, Principal
from traceability.catalog.models import Catalog
from traceability.context import Trace
from traceability.custody.ingest import Submission, record_submissions
from traceability.custody.models import EventType
from traceability.demo.clock import CST, at, stamp
from traceability.demo.figures import Figures
from traceability.demo.licensing import Transfers, load_licences
from traceability.demo.plan import Plan
from traceability.demo.steps import RESOLVE, Step, new_id
from traceability.labels.models import MintedId
from traceability.labels.services import MAX_SHEET, mint_sheet
from traceability.lots.models import Lot, LotState

CHUNK = 500  # items per sync request


class Loader:
    """Replays the plan day by day; each handheld syncs its day's scans at 18:30.

    Every call gets a fresh session, so nothing read earlier can be stale.
    """

    def __init__(
        self,
        trace: Trace,
        plan: Plan,
        seed: int,
        principals: dict[str, Principal],
        figures: Figures,
        after_day: Callable[[dt.datetime], None] | None = None,
    ) -> None:
        """``after_day(now)``: called after each day's syncs (``now``: when they were
        recorded), e.g. to anchor them in a block timed that evening."""
        self.engine, self.plan, self.figures = trace.engine, plan, figures
        self.after_day = after_day
        self.catalog: Catalog = trace.catalog
        self.principals = principals
        self.rng = random.Random(seed + 1)  # lot logistics
        self.agenda: dict[int, list[Step]] = defaultdict(list)
        self.qr_ids: dict[int, str] = {}
        self.labels: defaultdict[str, list[str]] = defaultdict(list)  # unused labels, per user
        self.events = 0
        self.unconfirmed_lot: str | None = None
        # Manifests, receipts and stocktakes (data/licences.toml), drawn apart from the rest.
        self.transfers = Transfers(load_licences(), self.catalog, random.Random(seed + 3))
        kinds = {o.code: o.kind for o in figures.orgs}
        rank = {OrgKind.collector: 0, OrgKind.dismantler: 1, OrgKind.processor: 2}
        self.order = sorted(
            principals, key=lambda u: (rank[kinds[principals[u].org_code]], "intake" not in u, u)
        )

    def run(self, steps: Iterator[Step]) -> None:
        for step in steps:
            self.agenda[step.day].append(step)
        self._premint()
        bar = tqdm(
            range(len(self.plan.days)),
            desc=f"demo {self.figures.quarter.name}",
            unit="day",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
        )
        for day in bar:
            self._take_stock(day)
            self._ship_lots(day)
            self._sync_day(day, self.plan.days[day])
            bar.set_postfix(events=self.events)
        for day in sorted(self.agenda):  # after the quarter closed (demo.cases)
            assert self.plan.after_close is not None, day
            self._sync_day(day, self.plan.after_close)

    def _sync_day(self, day: int, date: dt.date) -> None:
        by_user: dict[str, list[Step]] = defaultdict(list)
        for step in self.agenda.pop(day, []):
            by_user[step.user].append(step)
        now = dt.datetime.combine(date, self.figures.quarter.sync_at, CST)
        # Each handheld's sync, in the order the users sync: all of a day in
        # one transaction (the same checks and results as one call each).
        syncs = []
        for user in self.order:
            mine = sorted(by_user.get(user, []), key=lambda s: s.when)
            for start in range(0, len(mine), CHUNK):
                syncs.append(mine[start : start + CHUNK])
        if syncs:
            self._submit(syncs, now)
        if self.after_day is not None:
            # Every day, synced or not: the register (recorded the first morning) and
            # a quiet day's lot events are anchored that evening too, never late.
            self.after_day(now)

    def _premint(self) -> None:
        """Label sheets for every device a handheld will collect (SPEC §2.2 pre-minted IDs)."""
        collecting: Counter[str] = Counter()
        for steps in self.agenda.values():
            collecting.update(s.user for s in steps if s.item["type"] == EventType.collected)
        with Session(self.engine, expire_on_commit=False) as session:
            for user, count in sorted(collecting.items()):
                principal = self.principals[user]
                while count > 0:
                    sheet = mint_sheet(
                        session=session, principal=principal, count=min(count, MAX_SHEET)
                    )
                    ids = session.exec(
                        select(MintedId.qr_id)
                        .where(MintedId.sheet_id == sheet.id)
                        .order_by(col(MintedId.qr_id))
                    ).all()
                    self.labels[user].extend(ids)
                    count -= len(ids)

    def _item(self, step: Step) -> dict[str, Any]:
        item = dict(step.item)
        if step.item["type"] == EventType.collected:
            assert step.unit is not None
            self.qr_ids[step.unit] = item["qr_id"] = self.labels[step.user].pop()
        elif step.item["type"] in RESOLVE:
            assert step.unit is not None
            item["qr_id"] = self.qr_ids[step.unit]
        return item

    def _submit(self, syncs: list[list[Step]], now: dt.datetime) -> None:
        submissions = [
            Submission(self.principals[steps[0].user], [self._item(s) for s in steps], now)
            for steps in syncs
        ]
        with Session(self.engine, expire_on_commit=False) as session:
            outcomes = record_submissions(
                session=session, catalog=self.catalog, submissions=submissions
            )
        for steps, results in zip(syncs, outcomes, strict=True):
            for step, result in zip(steps, results, strict=True):
                if result.status in ("rejected", "conflict"):
                    raise RuntimeError(
                        f"demo event rejected for {step.user}: {step.item} → {result.error}"
                    )
            self.events += sum(r.status == "created" for r in results)

    def _ship_lots(self, day: int) -> None:
        """On the plant's shipping day, every hazardous lot (and CRT glass) goes out."""
        date = self.plan.days[day]
        receivers = self.figures.receivers
        for plant, shipping in self.figures.lot_shipping.items():
            if date.weekday() != shipping.weekday or (
                shipping.fortnightly and date.isocalendar().week % 2
            ):
                continue
            with Session(self.engine) as session:
                lots = session.exec(
                    select(Lot)
                    .where(
                        Lot.org == plant,
                        Lot.state == LotState.open,
                        col(Lot.fraction).in_(list(receivers)),
                        Lot.weight_g > 0,
                    )
                    .order_by(col(Lot.code))
                ).all()
            region = self.figures.org(plant).region
            clock = 480 + self.rng.uniform(0, 20)
            held = self.figures.planted.hazardous_held if self.figures.planted else None
            for lot in lots:
                if held is not None and (plant, lot.fraction) == (held.plant, held.fraction):
                    continue  # never shipped: the hazardous_not_shipped case (demo.cases)
                clock += self.rng.uniform(2, 6)
                when = at(date, clock)
                manifests, received = self.transfers.manifests(plant, region, lot, date)
                self.agenda[day].append(
                    Step(
                        day,
                        f"{self.figures.short(plant)}.intake",
                        when,
                        {
                            "id": new_id(self.rng),
                            "type": "lot_shipped",
                            "lot": lot.code,
                            "to": receivers[lot.fraction].processor,
                            "manifests": manifests,
                            "occurred_at": stamp(when),
                        },
                    )
                )
                if self.unconfirmed_lot is None and plant == "DIS-BJ01" and date.month == 8:
                    self.unconfirmed_lot = lot.code  # the manifest never comes back
                    continue
                weighed = [
                    {"number": m["number"], "weight_kg": kg_}
                    for m, kg_ in zip(manifests, received, strict=True)
                ]
                self._plan_receipt(day, lot, plant, weighed)

    def _take_stock(self, day: int) -> None:
        """On the first working day of some months, before the shift: each plant weighs its
        open lots of the shipped fractions (a stocktake each)."""
        date = self.plan.days[day]
        if day > 0 and self.plan.days[day - 1].month == date.month:
            return
        for plant in self.figures.lot_shipping:
            with Session(self.engine) as session:
                lots = session.exec(
                    select(Lot).where(
                        Lot.org == plant, Lot.state == LotState.open,
                        col(Lot.fraction).in_(list(self.figures.receivers)), Lot.weight_g > 0,
                    ).order_by(col(Lot.code))
                ).all()  # fmt: skip
            for index, lot in enumerate(lots):
                weight = self.transfers.stocktake_weight(plant, lot, date)
                if weight is None:
                    return
                when = at(date, 460 + index)  # 07:40 on, before the shipments at 08:00
                self.agenda[day].append(Step(day, f"{self.figures.short(plant)}.intake", when, {
                    "id": new_id(self.rng), "type": "stocktake", "lot": lot.code,
                    "weight_kg": weight, "occurred_at": stamp(when),
                }))  # fmt: skip

    def _plan_receipt(self, day: int, lot: Lot, plant: str, weighed: list[dict[str, str]]) -> None:
        receiver = self.figures.receivers[lot.fraction]
        user = f"{self.figures.short(receiver.processor)}.op"
        arrive = day + self.figures.transit_days[receiver.processor][plant] + self.rng.randint(0, 1)
        treat = arrive + self.rng.randint(3, 8)
        if arrive < len(self.plan.days):
            when = at(self.plan.days[arrive], self.rng.uniform(540, 900))
            self.agenda[arrive].append(
                Step(
                    arrive,
                    user,
                    when,
                    {
                        "id": new_id(self.rng),
                        "type": "lot_received",
                        "lot": lot.code,
                        "manifests": weighed,
                        "occurred_at": stamp(when),
                    },
                )
            )
        if treat < len(self.plan.days):
            when = at(self.plan.days[treat], self.rng.uniform(540, 960))
            self.agenda[treat].append(
                Step(
                    treat,
                    user,
                    when,
                    {
                        "id": new_id(self.rng),
                        "type": "lot_treated",
                        "lot": lot.code,
                        "method": receiver.treatment,
                        "occurred_at": stamp(when),
                    },
                )
            )
