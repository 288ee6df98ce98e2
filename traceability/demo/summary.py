"""What is in the database: devices by category and state, events, batches, lots."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func
from sqlmodel import Session, select

from traceability.accounts.models import Organisation, OrgKind
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.lots.models import Lot, LotState
from traceability.savings.models import Batch

STATES = ("collected", "in_transit", "received", "dismantled")
LOT_STATES = tuple(LotState)


def summarise(session: Session, category_order: list[str]) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    rows = session.exec(
        select(Device.category, Device.state, func.count()).group_by(Device.category, Device.state)
    ).all()
    for category, state, count in rows:
        counts[category][state] = count
    header = f"  {'category':<22}" + "".join(f"{s:>11}" for s in STATES) + f"{'total':>8}"
    lines = ["Devices by category and state:", header]
    totals: Counter[str] = Counter()
    for category in sorted(
        counts, key=lambda c: category_order.index(c) if c in category_order else 99
    ):
        totals.update(counts[category])
        lines.append(
            f"  {category:<22}"
            + "".join(f"{counts[category][s]:>11}" for s in STATES)
            + f"{sum(counts[category].values()):>8}"
        )
    lines.append(
        f"  {'total':<22}"
        + "".join(f"{totals[s]:>11}" for s in STATES)
        + f"{sum(totals.values()):>8}"
    )
    events = dict(session.exec(select(Event.type, func.count()).group_by(Event.type)).all())
    lots = dict(session.exec(select(Lot.state, func.count()).group_by(Lot.state)).all())
    hazardous = dict(
        session.exec(select(Lot.state, func.count()).where(Lot.hazardous).group_by(Lot.state)).all()
    )
    batches = session.exec(select(func.count()).select_from(Batch)).one()
    orgs = Counter(session.exec(select(Organisation.kind)).all())
    lines += [
        "",
        "Organisations: "
        + ", ".join(
            f"{orgs[k]} {k}s"
            for k in (OrgKind.dismantler, OrgKind.collector, OrgKind.processor, OrgKind.regulator)
        ),
        f"Events: {sum(events.values())} ("
        + ", ".join(f"{t} {events[t]}" for t in sorted(events, key=lambda t: -events[t]))
        + ")",
        f"Batches: {batches}",
        "Output lots: "
        + ", ".join(f"{s} {lots.get(s, 0)}" for s in LOT_STATES)
        + " (hazardous: "
        + ", ".join(f"{s} {hazardous.get(s, 0)}" for s in LOT_STATES)
        + ")",
    ]
    return "\n".join(lines)
