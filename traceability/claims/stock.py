"""A claim's stock and outputs (issue 18 item 5): what a reviewer reconciles the claim with.

Per category, the devices the plant held at the quarter's start (received, not
yet dismantled or sent on), received and dismantled in it, and held at its end;
per output fraction, what was in store at the start, produced by the quarter's
dismantlings, shipped on its lots (with their transfer manifests and
processors) and in store at the end. Counted from the plant's event log —
``received``/``dismantled``/``shipped`` events by the plant, its ``lot_shipped``
events — in China-time quarter bounds. The submission event anchors both
tables (``services._submission``), so a file's sheets are checked against the
chain (``claims.filecheck``); a draft's export computes them when it is made.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from traceability.custody.models import Event, EventType
from traceability.devices.models import Device
from traceability.lots.models import Lot, LotItem
from traceability.periods import Period

_EVENT = Event.__table__  # type: ignore[attr-defined]
_DEVICE = Device.__table__  # type: ignore[attr-defined]
_LOT = Lot.__table__  # type: ignore[attr-defined]
_ITEM = LotItem.__table__  # type: ignore[attr-defined]

#: A stock row: category, opening, received, dismantled, sent on, closing (units).
STOCK_FIELDS = ("category", "opening", "received", "dismantled", "sent_on", "closing")
#: An output row: fraction, opening, produced, shipped, closing (grams), manifests, processors.
OUTPUT_FIELDS = (
    "fraction", "opening_g", "produced_g", "shipped_g", "closing_g", "manifests", "processors",
)  # fmt: skip


def device_stock(session: Session, plant: str, period: Period) -> list[list[Any]]:
    """Per category (code order): [category, opening, received, dismantled, sent on,
    closing] — one aggregate over the plant's device events before the quarter's end."""
    before = func.sum(case((_EVENT.c.occurred_at < period.start, 1), else_=0))
    query = (
        select(_DEVICE.c.category, _EVENT.c.type, before, func.count())
        .select_from(_EVENT.join(_DEVICE, _DEVICE.c.qr_id == _EVENT.c.device))
        .where(
            _EVENT.c.org == plant,
            _EVENT.c.type.in_([EventType.received, EventType.dismantled, EventType.shipped]),
            _EVENT.c.occurred_at < period.end,
        )
        .group_by(_DEVICE.c.category, _EVENT.c.type)
    )
    early: dict[str, Counter[str]] = defaultdict(Counter)
    upto: dict[str, Counter[str]] = defaultdict(Counter)
    for category, type_, earlier, every in session.execute(query):
        early[category][type_] += int(earlier or 0)
        upto[category][type_] += int(every or 0)
    rows = []
    for category in sorted(upto):
        a, b = early[category], upto[category]
        opening = a["received"] - a["dismantled"] - a["shipped"]
        received = b["received"] - a["received"]
        dismantled = b["dismantled"] - a["dismantled"]
        sent_on = b["shipped"] - a["shipped"]
        rows.append([category, opening, received, dismantled, sent_on,
                     opening + received - dismantled - sent_on])  # fmt: skip
    return rows


def output_stock(session: Session, plant: str, period: Period) -> list[list[Any]]:
    """Per fraction (code order): [fraction, opening g, produced g, shipped g, closing g,
    manifest numbers, processors] — the outputs placed in the plant's lots by its
    dismantlings, and its lots' ``lot_shipped`` events, before the quarter's end."""
    dismantled = select(_EVENT.c.id, _EVENT.c.occurred_at).where(
        _EVENT.c.org == plant, _EVENT.c.type == EventType.dismantled,
        _EVENT.c.occurred_at < period.end,
    ).subquery()  # fmt: skip
    before = case((dismantled.c.occurred_at < period.start, _ITEM.c.weight_g), else_=0)
    produced = (
        select(_LOT.c.fraction, func.sum(before), func.sum(_ITEM.c.weight_g))
        .select_from(
            _ITEM.join(_LOT, _LOT.c.code == _ITEM.c.lot).join(
                dismantled, dismantled.c.id == _ITEM.c.event_id
            )
        )
        .where(_LOT.c.org == plant)
        .group_by(_LOT.c.fraction)
    )
    made = {f: [int(a or 0), int(b or 0)] for f, a, b in session.execute(produced)}
    shipped = _shipped(session, plant, period)
    rows = []
    for fraction in sorted(set(made) | set(shipped)):
        earlier, upto = made.get(fraction, [0, 0])
        out = shipped.get(fraction, {"before": 0, "in": 0, "manifests": [], "to": []})
        opening = earlier - out["before"]
        produced_g, shipped_g = upto - earlier, out["in"]
        rows.append([fraction, opening, produced_g, shipped_g,
                     opening + produced_g - shipped_g, sorted(out["manifests"]),
                     sorted(out["to"])])  # fmt: skip
    return rows


def _shipped(session: Session, plant: str, period: Period) -> dict[str, dict[str, Any]]:
    """Per fraction: grams shipped before the quarter and in it (the lots' contents), the
    quarter's manifest numbers and processors."""
    events = session.execute(
        select(_EVENT.c.lot, _EVENT.c.occurred_at, _EVENT.c.payload).where(
            _EVENT.c.org == plant, _EVENT.c.type == EventType.lot_shipped,
            _EVENT.c.occurred_at < period.end,
        )
    ).all()  # fmt: skip
    codes = sorted({str(e.lot) for e in events})
    grams: dict[str, int] = {}
    fractions: dict[str, str] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for code, fraction, weight in session.execute(
            select(_LOT.c.code, _LOT.c.fraction, func.coalesce(func.sum(_ITEM.c.weight_g), 0))
            .select_from(_LOT.outerjoin(_ITEM, _ITEM.c.lot == _LOT.c.code))
            .where(_LOT.c.code.in_(chunk))
            .group_by(_LOT.c.code, _LOT.c.fraction)
        ):
            grams[code], fractions[code] = int(weight), fraction
    out: dict[str, dict[str, Any]] = {}
    for lot, occurred_at, payload in events:
        if lot not in fractions:
            continue
        row = out.setdefault(
            fractions[lot], {"before": 0, "in": 0, "manifests": set(), "to": set()}
        )
        if occurred_at < period.start:
            row["before"] += grams[lot]
            continue
        row["in"] += grams[lot]
        payload = payload if isinstance(payload, dict) else {}
        row["manifests"].update(str(m.get("number")) for m in payload.get("manifests") or []
                                if isinstance(m, dict))  # fmt: skip
        if payload.get("manifest_no"):
            row["manifests"].add(str(payload["manifest_no"]))
        if payload.get("to"):
            row["to"].add(str(payload["to"]))
    return out


def stock_of(session: Session, plant: str, period: Period) -> dict[str, Any]:
    """What a submission anchors: ``{"devices": [...], "outputs": [...]}``."""
    return {
        "devices": device_stock(session, plant, period),
        "outputs": output_stock(session, plant, period),
    }
