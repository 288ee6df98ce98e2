"""The demo data set: a quarter (2026Q3) of activity at seven licensed plants, five in Jiangsu.

Organisations, users and tokens are created with the account services; every
device and lot step goes through ``record_events``, so each event is hashed
and chained by the real code path. The quarter is replayed day by day: each
handheld syncs its day's scans at the end of the shift (``now`` = 18:30 China
time), so ``recorded_at`` follows ``occurred_at`` the way it would in a plant,
and the back-dating audit check only fires on the records planted for it.

A few anomalies are planted on purpose, for the audit portal: duplicate
serials, devices lost in transit, re-weighed intakes, dismantlings that break
the regular-dismantling rules or the mass balance, a line-day entered weeks
late, and hazardous lots whose receipt is never confirmed; and one case of each audit
rule of issue 17 (``cases``: a line beyond its design throughput, an operator on two lines,
a night shift, CRT sizes piling at 25″, funnel glass booked as panel glass, a hazardous
fraction never shipped, refusals, weight lost in transit, a stripped shell; ``licensing``
and ``licence_cases``: a lot weighed short on receipt, a stocktake short of the book, a
category beyond its licensed yearly capacity, a licence amended after the quarter with an
earlier effect).

The invented figures (organisations, category mix, device models, dismantling
recipes, logistics) live in ``data/quarter.toml``; the modules hold the method:
``people`` (organisations and users), ``plan`` and ``devices`` (one record per
device and its route), ``regime`` (the cases a claim tells apart: display
types, a desktop host alone, refrigerator shells), ``steps`` (the plan as
events), ``loader`` (replaying them day by day) and ``summary``.

Deterministic for a given seed, except QR IDs and API tokens (random by design).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Sequence

from sqlmodel import Session, col, select

from traceability.accounts.models import Organisation
from traceability.context import Trace
from traceability.demo.clock import CST
from traceability.demo.figures import Figures, load_figures
from traceability.demo.licence_cases import plant_licence_cases
from traceability.demo.licensing import (
    DemoLicences,
    load_licences,
    record_amendments,
    register_licences,
)
from traceability.demo.loader import Loader
from traceability.demo.people import PASSWORD, TOKEN_USER, create_people, logins
from traceability.demo.plan import Plan, plan_units
from traceability.demo.regime import plant_claim_cases
from traceability.demo.steps import device_steps
from traceability.demo.summary import summarise

__all__ = ["CST", "PASSWORD", "load", "present"]


def present(trace: Trace) -> bool:
    """Whether the demo's organisations exist (then ``load`` changes nothing)."""
    codes = [o.code for o in load_figures().orgs]
    with Session(trace.engine) as session:
        return bool(
            session.exec(select(Organisation.code).where(col(Organisation.code).in_(codes))).first()
        )


def load(
    trace: Trace,
    *,
    devices: int = 3000,
    seed: int = 2026,
    after_day: Callable[[dt.datetime], None] | None = None,
) -> str:
    """Load the demo data set once; a second call changes nothing and says so.

    ``after_day(now)`` runs after each day's syncs: the CLI anchors them there,
    in a block timed that evening, so the past quarter is anchored on time.
    """
    if devices < 1:
        raise ValueError("devices must be at least 1")
    figures = load_figures()
    with Session(trace.engine, expire_on_commit=False) as session:
        codes = [o.code for o in figures.orgs]
        present = session.exec(
            select(Organisation.code).where(col(Organisation.code).in_(codes))
        ).all()
        if present:
            return _already_loaded(session, figures, present)
        started = time.perf_counter()
        principals, token = create_people(session, figures)
        licences = load_licences()
        register_licences(session, trace.catalog, licences, _register_time(figures))
        session.commit()
        first, last = figures.quarter.first_day, figures.quarter.last_day
        plan = plan_units(
            devices, random.Random(seed), trace.catalog, figures,
            licensed=lambda p, c: licences.licensed(p, c, first) and licences.licensed(p, c, last),
        )  # fmt: skip
        plant_claim_cases(plan, random.Random(seed + 3), figures)
        plant_licence_cases(plan, licences, figures)
        loader = Loader(trace, plan, seed, principals, figures, after_day)
        loader.run(device_steps(plan, random.Random(seed + 2), figures))
        _amend_licences(trace, licences, after_day)
        elapsed = time.perf_counter() - started
        return _loaded(session, figures, plan, loader, seed, devices, elapsed, token)


def _amend_licences(
    trace: Trace, licences: DemoLicences, after_day: Callable[[dt.datetime], None] | None
) -> None:
    """The licence amendments the regulator records after the quarter (each anchored then)."""
    with Session(trace.engine) as session:
        recorded = record_amendments(session, trace.catalog, licences)
        session.commit()
    for when in recorded:
        if after_day is not None:
            after_day(when)


def _register_time(figures: Figures) -> dt.datetime:
    """The licences are registered with the organisations, before the quarter's first shift."""
    return dt.datetime.combine(figures.quarter.first_day, dt.time(7, 1), CST)


def _already_loaded(session: Session, figures: Figures, present: Sequence[str]) -> str:
    """What a second ``load`` says: nothing done, what is there, who may sign in."""
    return "\n".join(
        [
            f"Demo data already loaded ({len(present)} demo organisations exist, e.g. "
            f"{min(present)}): nothing done.",
            "",
            summarise(session, list(figures.categories)),
            "",
            *logins(figures),
            "",
            "API tokens are shown only when created: "
            f"`traceability tokens create {TOKEN_USER}` makes a new one.",
        ]
    )


def _loaded(
    session: Session,
    figures: Figures,
    plan: Plan,
    loader: Loader,
    seed: int,
    devices: int,
    elapsed: float,
    token: str,
) -> str:
    """What ``load`` says: what it loaded, the anomalies it planted, who may sign in."""
    planted = [f"  - {label}: {count}" for label, count in sorted(plan.planted.items())]
    if loader.unconfirmed_lot:
        planted.append(
            f"  - hazardous lot shipped in August, receipt never confirmed: "
            f"{loader.unconfirmed_lot}"
        )
    planted += loader.transfers.planted()
    return "\n".join(
        [
            f"Demo data set {figures.quarter.name} (seed {seed}): {devices} devices, "
            f"{loader.events} events loaded in {elapsed:.1f} s.",
            "",
            summarise(session, list(figures.categories)),
            "",
            "Planted anomalies (for the audit portal):",
            *planted,
            "",
            "Planted claim cases (the regime's units and display types):",
            *[f"  - {label}: {count}" for label, count in sorted(plan.cases.items())],
            "",
            "(Late-September shipments also wait for their receipt: that is the normal "
            "pipeline, not an anomaly.)",
            "",
            *logins(figures),
            "",
            f"API token for {TOKEN_USER} (Suzhou plant intake operator); it is shown only now:",
            token,
        ]
    )
