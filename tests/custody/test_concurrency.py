"""A batch is checked outside the write lock, then written only if what it read still holds.

Each test commits a second batch in the window between the first batch's
reads and its write (the moment two gunicorn workers overlap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import Actor
from tests.support.floor import new_id, receive
from traceability.accounts.services import authenticate_token
from traceability.app import trace_of
from traceability.custody import ingest
from traceability.custody.ingest import ItemResult, record_events
from traceability.custody.models import Event
from traceability.lots.models import Lot, LotItem


def _record(app: Flask, actor: Actor, *items: dict[str, Any]) -> list[ItemResult]:
    with Session(trace_of(app).engine, expire_on_commit=False) as session:
        principal = authenticate_token(session=session, token=actor.token)
        return record_events(
            session=session,
            principal=principal,
            catalog=trace_of(app).catalog,
            items=list(items),
        )


@pytest.fixture
def meanwhile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Callable[[], None]], None]]:
    """Run ``commit`` once, just before a batch takes the write lock to write."""
    pending: list[Callable[[], None]] = []
    take_lock = ingest.begin_write

    def begin_write(session: Session) -> None:
        while pending:
            pending.pop()()
        take_lock(session)

    monkeypatch.setattr(ingest, "begin_write", begin_write)
    yield pending.append
    assert not pending, "the batch never reached its write"


def stored(qr_id: str, area: str) -> dict[str, Any]:
    return {"id": new_id(), "type": "stored", "qr_id": qr_id, "area": area}


def dismantled(qr_id: str, pcb_kg: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "type": "dismantled",
        "qr_id": qr_id,
        "outputs": [{"fraction": "pcb", "weight_kg": pcb_kg}],
    }


def test_a_device_moved_on_meanwhile_is_checked_again_and_chained_after(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    session: Session,
    meanwhile: Callable[[Callable[[], None]], None],
) -> None:
    qr_id = receive(client, collector, plant)
    other = stored(qr_id, "B-2")
    meanwhile(lambda: _record(app, plant, other))

    [result] = _record(app, plant, stored(qr_id, "A-1"))

    assert result.status == "created"
    rows = session.exec(select(Event).where(Event.device == qr_id).order_by(Event.seq)).all()
    assert [e.id for e in rows][-2:] == [other["id"], result.id]
    assert rows[-1].prev == rows[-2].digest


def test_an_id_recorded_meanwhile_is_a_duplicate(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    meanwhile: Callable[[Callable[[], None]], None],
) -> None:
    qr_id = receive(client, collector, plant)
    item = stored(qr_id, "A-1")
    first: list[ItemResult] = []
    meanwhile(lambda: first.extend(_record(app, plant, item)))

    [result] = _record(app, plant, item)

    assert (first[0].status, result.status) == ("created", "duplicate")
    assert result.digest == first[0].digest


def test_dismantlings_into_the_same_open_lot_meanwhile_both_count(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    session: Session,
    meanwhile: Callable[[Callable[[], None]], None],
) -> None:
    first, second = receive(client, collector, plant), receive(client, collector, plant)
    _record(app, plant, dismantled(receive(client, collector, plant), "1"))  # the lot exists
    meanwhile(lambda: _record(app, plant, dismantled(second, "3")))

    [result] = _record(app, plant, dismantled(first, "2"))

    assert result.status == "created"
    [lot] = session.exec(select(Lot).where(Lot.org == plant.org, Lot.fraction == "pcb")).all()
    items = session.exec(select(LotItem).where(LotItem.lot == lot.code)).all()
    assert (lot.weight_g, lot.device_count) == (6000, 3)
    assert sum(i.weight_g for i in items) == 6000
