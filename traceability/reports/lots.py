"""Reporting on an output lot: who may read it, and its history from its events (SPEC §2.8).

What the lot page shows is the log's: the outputs dismantled into the lot
(the plant's dismantlings of its fraction after the previous lot of that
fraction left, up to this one's shipment), the shipment's manifests with the
weights shipped and received per manifest, the cross-province mark and the
stocktakes, corrections applied; each event with its verification status.
The ``lot`` row only finds the lot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from traceability.accounts.models import Principal
from traceability.anchoring.trust import TrustedLedger
from traceability.custody.facts import effective_payloads
from traceability.custody.models import Event, EventType
from traceability.errors import Forbidden, UnknownLot
from traceability.lots.manifests import Manifest, cross_province, normalise_number, shipment_of
from traceability.lots.models import Lot, LotManifest
from traceability.register.scope import readable_orgs
from traceability.reports.devices import anchor_rows
from traceability.reports.outputs import LotMember, lot_devices
from traceability.reports.schemas import AnchorInfo
from traceability.verification.logs import FAILED, UNKNOWN
from traceability.verification.services import (
    PENDING,
    VERIFIED,
    Verifier,
    malformed_rows,
    shared_problems,
)

_EVENT = Event.__table__  # type: ignore[attr-defined]


def find_lot(session: Session, text: str) -> Lot | None:
    """The lot with this code, or whose shipment carries this manifest number."""
    raw = text.strip()
    lot = session.get(Lot, raw)
    if lot is not None:
        return lot
    number = normalise_number(raw)
    code = session.execute(
        select(col(LotManifest.lot)).where(col(LotManifest.number) == number)
    ).scalar_one_or_none()
    if code is None:  # a shipment recorded before manifests were lists
        code = session.execute(
            select(col(Lot.code)).where(col(Lot.manifest_no) == raw).limit(1)
        ).scalar_one_or_none()
    return session.get(Lot, code) if code is not None else None


def get_lot(session: Session, code: str) -> Lot:
    lot = session.get(Lot, code)
    if lot is None:
        raise UnknownLot(f"no output lot {code[:64]}", field="lot")
    return lot


def lot_events(session: Session, code: str) -> list[Event]:
    rows = session.execute(select(Event).where(col(Event.lot) == code).order_by(col(Event.seq)))
    return list(rows.scalars())


def check_can_read_lot(
    session: Session, principal: Principal, lot: Lot, events: list[Event]
) -> None:
    """Its plant, the processor it was shipped to, and the auditors of their regions."""
    involved = {lot.org} | {e.org for e in events}
    involved |= {
        str(e.payload["to"])
        for e in events
        if e.type == EventType.lot_shipped and isinstance(e.payload, dict) and "to" in e.payload
    }
    if not readable_orgs(session, principal, involved):
        raise Forbidden(f"lot {lot.code} is outside your organisation's records", field="lot")


@dataclass(frozen=True)
class StocktakeView:
    at: dt.datetime
    weight_g: int
    event: str


@dataclass(frozen=True)
class LotView:
    lot: Lot
    events: list[Event]
    statuses: dict[str, str]  # event id → verified, pending, tampered…
    status: str  # of the whole log: verified, pending, failed, unknown
    problem: str | None
    anchors: dict[int, AnchorInfo]
    produced_g: int  # outputs dismantled into the lot, by the log
    devices: int
    members: tuple[LotMember, ...]  # the devices behind it (the backward trace)
    to: str | None
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None
    cross_province: bool | None
    manifests: tuple[Manifest, ...]
    stocktakes: tuple[StocktakeView, ...]

    @property
    def shipped_g(self) -> int | None:
        weights = [m.shipped_g for m in self.manifests]
        return sum(w for w in weights if w is not None) if weights and None not in weights else None

    @property
    def received_g(self) -> int | None:
        weights = [m.received_g for m in self.manifests]
        return sum(w for w in weights if w is not None) if weights and None not in weights else None


def _verify(
    session: Session, ledger: TrustedLedger, lot: Lot, events: list[Event],
    positions: Mapping[int, tuple[int, int]],
) -> tuple[dict[str, str], str, str | None]:  # fmt: skip
    if ledger.is_unavailable:
        return {e.id: UNKNOWN for e in events}, UNKNOWN, ledger.problem
    statuses = Verifier.for_ledger(session, ledger).statuses(events, dict(positions))
    problems = shared_problems(session, ledger) + malformed_rows(events)
    if events and lot.head_digest is not None and events[-1].digest != lot.head_digest:
        problems.append("the latest recorded event is missing from the log")
    seen = set(statuses)
    if problems or not seen <= {VERIFIED, PENDING}:
        status = FAILED
    else:
        status = VERIFIED if seen == {VERIFIED} else PENDING
    by_id = {e.id: s for e, s in zip(events, statuses, strict=True)}
    return by_id, status, "; ".join(problems) or None


def read_lot(session: Session, ledger: TrustedLedger, lot: Lot, events: list[Event]) -> LotView:
    """The lot as its events say, each verified."""
    positions, anchors = anchor_rows(session, [e.seq for e in events if e.seq is not None])
    statuses, status, problem = _verify(session, ledger, lot, events, positions)
    payloads = effective_payloads(e for e in events if isinstance(e.payload, dict))
    shipped = next((e for e in events if e.type == EventType.lot_shipped), None)
    received = next((e for e in events if e.type == EventType.lot_received), None)

    def payload(event: Event | None) -> Mapping[str, Any] | None:
        return payloads.get(event.id, event.payload) if event is not None else None

    until = shipped.seq if shipped else None
    members = lot_devices(session, lot.org, lot.fraction, lot.number, until)
    takes = tuple(
        StocktakeView(e.occurred_at, int(payload(e)["weight_g"]), e.id)  # type: ignore[index]
        for e in events
        if e.type == EventType.stocktake and type((payload(e) or {}).get("weight_g")) is int
    )
    return LotView(
        lot=lot, events=events, statuses=statuses, status=status, problem=problem,
        anchors=anchors, produced_g=sum(m.weight_g for m in members), devices=len(members),
        members=tuple(members),
        to=str((payload(shipped) or {}).get("to") or "") or None,
        shipped_at=shipped.occurred_at if shipped else None,
        received_at=received.occurred_at if received else None,
        cross_province=cross_province(payload(shipped)),
        manifests=shipment_of(payload(shipped), payload(received)),
        stocktakes=takes,
    )  # fmt: skip
