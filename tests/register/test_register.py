"""Changing the organisation register (SPEC §2.8; issue 15 finding 8).

Only a regulator's admin changes it, always by an event that names them;
the scope of every regulator follows what the events say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session

from tests.register.conftest import anomalies
from tests.support.accounts import Actor
from traceability.accounts import services as accounts
from traceability.accounts.models import Principal
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.custody.models import Event
from traceability.errors import Forbidden
from traceability.register.log import ORG_CHANGED, ORG_REGISTERED, register_of
from traceability.register.services import SYSTEM, change_org

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def principal(app: Flask, actor: Actor) -> Principal:
    with Session(trace_of(app).engine) as session:
        return accounts.authenticate_token(session=session, token=actor.token)


def test_an_admin_changes_the_register_by_an_event_and_the_scope_follows(
    app: Flask,
    client: FlaskClient,
    make_actor: Callable[..., Actor],
    plant: Actor,
    auditor: Actor,
    beijing: Actor,
) -> None:
    admin = principal(app, make_actor("REG-JS", "regulator", role="admin", username="js.admin"))
    with Session(trace_of(app).engine) as session:
        facts = change_org(session=session, code=plant.org, by=admin, region="110105", now=NOW)
        session.commit()
    assert (facts.region, facts.mismatch) == ("110105", ())

    with Session(trace_of(app).engine) as session:
        [registered, changed] = session.execute(
            select(Event).where(Event.organisation == plant.org).order_by(Event.seq)  # type: ignore[arg-type]
        ).scalars()
    assert (registered.type, changed.type) == (ORG_REGISTERED, ORG_CHANGED)
    assert (changed.actor, changed.org, changed.payload) == (
        "js.admin",
        "REG-JS",
        {"region": "110105"},
    )
    assert changed.prev == registered.digest and changed.recorded_at == NOW
    refresh(trace_of(app), force=True)
    assert anomalies(client, auditor, plant.org).status_code == 403
    assert anomalies(client, beijing, plant.org).status_code == 200


@pytest.mark.parametrize("role", ["manager", "operator", "auditor"])
def test_no_one_but_a_regulators_admin_changes_the_register(
    app: Flask, make_actor: Callable[..., Actor], plant: Actor, role: str
) -> None:
    org = ("REG-JS", "regulator") if role == "auditor" else (plant.org, "dismantler")
    someone = principal(app, make_actor(*org, role=role, region="320000"))
    with Session(trace_of(app).engine) as session:
        before = session.execute(select(Event.id)).all()
        with pytest.raises(Forbidden) as refused:
            change_org(session=session, code=plant.org, by=someone, region="110000", now=NOW)
        session.rollback()
        assert refused.value.field == "role"
        assert session.execute(select(Event.id)).all() == before
        assert register_of(session, [plant.org])[plant.org].region == "320500"


def test_an_admin_of_another_region_cannot_move_a_plant(
    app: Flask, make_actor: Callable[..., Actor], plant: Actor
) -> None:
    admin = principal(app, make_actor("REG-BJ", "regulator", role="admin", region="110000"))
    with Session(trace_of(app).engine) as session, pytest.raises(Forbidden):
        change_org(session=session, code=plant.org, by=admin, region="110000", now=NOW)


def test_the_system_admin_is_recorded_as_the_actor_of_the_cli(app: Flask, plant: Actor) -> None:
    with Session(trace_of(app).engine) as session:
        change_org(session=session, code=plant.org, by=SYSTEM, capacity_units=5, now=NOW)
        session.commit()
        changed = session.execute(
            select(Event).where(Event.type == ORG_CHANGED)  # type: ignore[arg-type]
        ).scalar_one()
    assert (changed.actor, changed.org, changed.organisation) == ("system", "system", plant.org)


def test_register_events_stay_out_of_the_epcis_export(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], plant: Actor, auditor: Actor
) -> None:
    admin = principal(app, make_actor("REG-JS", "regulator", role="admin", username="js.admin"))
    with Session(trace_of(app).engine) as session:
        change_org(session=session, code=plant.org, by=admin, name="苏州新拆解厂", now=NOW)
        session.commit()

    response = client.get("/api/v1/epcis/events", headers=auditor.headers)

    assert response.status_code == 200
    assert response.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
