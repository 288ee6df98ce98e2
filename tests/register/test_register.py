"""The organisation register is a log (SPEC §2.8, §3; issue 15 finding 8).

A plant's database administrator edits the ``organisation`` row's region to
move the plant out of its regulator's scope: the regulator keeps reading the
plant (scope follows the register's anchored events) and is shown the row
that disagrees as a ``projection_mismatch``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlmodel import Session

from tests.helpers import PASSWORD, Actor, receive, sign_in
from traceability.accounts import services as accounts
from traceability.accounts.models import Principal
from traceability.audit.refresh import refresh
from traceability.custody.models import Event
from traceability.db import Database, utcnow
from traceability.errors import Forbidden
from traceability.periods import quarter_of
from traceability.register.log import ORG_CHANGED, ORG_REGISTERED, register_of
from traceability.register.services import SYSTEM, change_org

NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def auditor(make_actor: Callable[..., Actor]) -> Actor:
    """An auditor of Jiangsu (32xxxx): Suzhou's plant (320500) is in its scope."""
    return make_actor(
        "REG-JS", "regulator", role="auditor", region="320000", username="js.auditor",
        password=PASSWORD,
    )  # fmt: skip


@pytest.fixture
def beijing(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("REG-BJ", "regulator", role="auditor", region="110000")


def principal(app: Flask, actor: Actor) -> Principal:
    with Session(Database.engine(app)) as session:
        return accounts.authenticate_token(session=session, token=actor.token)


def edit_org_row(app: Flask, code: str, **values: Any) -> None:
    """What the plant's database administrator can do: change the register's row by SQL."""
    sets = ", ".join(f"{name} = :{name}" for name in values)
    with Database.engine(app).begin() as conn:
        conn.execute(
            text(f"UPDATE organisation SET {sets} WHERE code = :code"), {**values, "code": code}
        )


def anomalies(client: FlaskClient, actor: Actor, plant: str) -> Any:
    return client.get(f"/api/v1/audit/anomalies?plant={plant}", headers=actor.headers)


def shown(items: Any) -> list[tuple[str, str]]:
    return [(i["rule"], i["subject"]) for i in items]


def test_editing_the_rows_region_does_not_hide_the_plant_from_its_regulator_api(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, auditor: Actor, beijing: Actor
) -> None:
    receive(client, collector, plant)
    edit_org_row(app, plant.org, region="110000")  # "moved" to Beijing
    refresh(app, force=True)

    seen = anomalies(client, auditor, plant.org)
    assert seen.status_code == 200, seen.get_json()
    assert seen.get_json()["projection_mismatches"] == [
        {
            "code": plant.org,
            "status": "projection_mismatch",
            "fields": ["region"],
            "row": {"region": "110000"},
            "events": {"region": "320500"},
        }
    ]
    # the row's region gives no one the plant: Beijing's auditors still may not read it
    assert anomalies(client, beijing, plant.org).status_code == 403


def test_the_plants_findings_stay_with_the_regulator_of_its_registered_region(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, auditor: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    with Database.engine(app).begin() as conn:  # the plant's stock count no longer adds up
        conn.execute(text("UPDATE device SET state = 'dismantled' WHERE qr_id = :q"), {"q": qr_id})
    refresh(app, force=True)
    before = shown(anomalies(client, auditor, plant.org).get_json()["items"])
    assert ("stock_reconciliation", plant.org) in before

    edit_org_row(app, plant.org, region="110000")
    refresh(app, force=True)

    after = client.get("/api/v1/audit/anomalies", headers=auditor.headers).get_json()
    assert shown(i for i in after["items"] if i["org"] == plant.org) == before


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "disagrees with its anchored events"),
    ("zh-CN", "与已上链锚定的登记事件不一致"),
])  # fmt: skip
def test_the_portal_shows_the_plant_and_its_register_mismatch(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    auditor: Actor,
    lang: str,
    words: str,
) -> None:
    receive(client, collector, plant)
    edit_org_row(app, plant.org, region="110000", capacity_units=999_999)
    refresh(app, force=True)
    period = quarter_of(utcnow()).name  # the current quarter: always kept by the refresher
    assert sign_in(client, auditor.username).status_code == 302
    headers = {"Accept-Language": lang}

    page = client.get(f"/portal/plants/{plant.org}?period={period}", headers=headers)
    overview = client.get(f"/portal/?period={period}", headers=headers)

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-status="projection_mismatch"' in html
    assert f'data-mismatch="{plant.org}" data-fields="region capacity_units"' in html
    assert words in html
    assert "200,000" in html  # the licensed capacity as the events say
    assert "999999" in html  # the row's value, named in the mismatch
    assert words in overview.get_data(as_text=True)
    assert f'data-mismatch="{plant.org}"' in overview.get_data(as_text=True)


def test_an_admin_changes_the_register_by_an_event_and_the_scope_follows(
    app: Flask,
    client: FlaskClient,
    make_actor: Callable[..., Actor],
    plant: Actor,
    auditor: Actor,
    beijing: Actor,
) -> None:
    admin = principal(app, make_actor("REG-JS", "regulator", role="admin", username="js.admin"))
    with Session(Database.engine(app)) as session:
        facts = change_org(session=session, code=plant.org, by=admin, region="110105", now=NOW)
        session.commit()
    assert (facts.region, facts.mismatch) == ("110105", ())

    with Session(Database.engine(app)) as session:
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
    refresh(app, force=True)
    assert anomalies(client, auditor, plant.org).status_code == 403
    assert anomalies(client, beijing, plant.org).status_code == 200


@pytest.mark.parametrize("role", ["manager", "operator", "auditor"])
def test_no_one_but_a_regulators_admin_changes_the_register(
    app: Flask, make_actor: Callable[..., Actor], plant: Actor, role: str
) -> None:
    org = ("REG-JS", "regulator") if role == "auditor" else (plant.org, "dismantler")
    someone = principal(app, make_actor(*org, role=role, region="320000"))
    with Session(Database.engine(app)) as session:
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
    with Session(Database.engine(app)) as session, pytest.raises(Forbidden):
        change_org(session=session, code=plant.org, by=admin, region="110000", now=NOW)


def test_the_system_admin_is_recorded_as_the_actor_of_the_cli(app: Flask, plant: Actor) -> None:
    with Session(Database.engine(app)) as session:
        change_org(session=session, code=plant.org, by=SYSTEM, capacity_units=5, now=NOW)
        session.commit()
        changed = session.execute(
            select(Event).where(Event.type == ORG_CHANGED)  # type: ignore[arg-type]
        ).scalar_one()
    assert (changed.actor, changed.org, changed.organisation) == ("system", "system", plant.org)
