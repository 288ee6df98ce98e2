"""The register's events are anchored and verified like every other event (SPEC §2.8, §3).

Against the in-process chain: the anchoring worker takes them into its
Merkle batches, ``verify --all`` covers them, and a register event edited by
SQL is ``tampered``. Old databases get an ``org_registered`` event for every
organisation when they migrate.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlmodel import Session

from ledger.canonical import digest_matches
from tests.support.accounts import Actor
from tests.support.ledger import anchor
from traceability import create_app, migrate
from traceability.accounts import services as accounts
from traceability.anchoring.batching import pending_count
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.db import UTCDateTime
from traceability.register.log import ORG_CHANGED, ORG_REGISTERED, register_of
from traceability.register.services import change_org
from traceability.verification.reconciliation import verify_everything
from traceability.verification.services import content_of

BEFORE = "c0a1e7a10008"
REGISTER = "d15f8a0e0001"


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "ledger_mode": "memory"}  # anchors are real, on the in-process chain


def move_by_admin(app: Flask, admin: Actor, code: str, region: str) -> None:
    with Session(trace_of(app).engine) as session:
        by = accounts.authenticate_token(session=session, token=admin.token)
        # recorded at the app's now: the in-process chain anchors it now, on time
        change_org(session=session, code=code, by=by, region=region, now=trace_of(app).now())
        session.commit()


def org_events(app: Flask, code: str) -> list[Event]:
    with Session(trace_of(app).engine) as session:
        query = select(Event).where(Event.organisation == code).order_by(Event.seq)  # type: ignore[arg-type]
        return list(session.execute(query).scalars())


def test_an_admins_change_is_anchored_and_verifies_with_everything_else(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], plant: Actor
) -> None:
    admin = make_actor("REG-JS", "regulator", role="admin", region="320000")
    move_by_admin(app, admin, plant.org, "320583")
    with Session(trace_of(app).engine) as session:
        assert pending_count(session) == len(list(session.execute(select(Event.seq))))

    anchor(client, plant)

    with Session(trace_of(app).engine) as session:
        assert pending_count(session) == 0
    report = verify_everything(trace_of(app))
    assert report.ok, report
    assert report.counts == {"verified": 3}  # DIS-SZ registered and changed, REG-JS registered
    assert [e.type for e in org_events(app, plant.org)] == [ORG_REGISTERED, ORG_CHANGED]


def test_a_register_event_edited_by_sql_is_tampered(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], plant: Actor
) -> None:
    admin = make_actor("REG-JS", "regulator", role="admin", region="320000")
    move_by_admin(app, admin, plant.org, "320583")
    anchor(client, plant)
    changed = org_events(app, plant.org)[-1]
    with trace_of(app).engine.begin() as conn:  # the change never happened, says the DBA
        conn.execute(
            text("UPDATE event SET payload = :p WHERE id = :id"),
            {"p": json.dumps({"region": "110000"}), "id": changed.id},
        )

    report = verify_everything(trace_of(app))

    assert not report.ok
    assert [(p.status, p.subject, p.event_id) for p in report.problems] == [
        ("tampered", plant.org, changed.id)
    ]


def test_a_deleted_register_event_breaks_the_chain(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], plant: Actor
) -> None:
    admin = make_actor("REG-JS", "regulator", role="admin", region="320000")
    move_by_admin(app, admin, plant.org, "320583")
    move_by_admin(app, admin, plant.org, "320505")
    anchor(client, plant)
    [_, middle, last] = org_events(app, plant.org)
    with trace_of(app).engine.begin() as conn:
        conn.execute(text("DELETE FROM anchor_leaf WHERE event_seq = :s"), {"s": middle.seq})
        conn.execute(text("DELETE FROM event WHERE id = :id"), {"id": middle.id})

    report = verify_everything(trace_of(app))

    assert ("broken_chain", plant.org, last.id) in {
        (p.status, p.subject, p.event_id) for p in report.problems
    }


def test_the_cli_registers_and_changes_as_the_system_admin(app: Flask) -> None:
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), obj=trace_of(app))
        return result.exit_code, result.output

    assert run("orgs", "add", "DIS-SZ", "--kind", "dismantler", "--name", "苏州某拆解厂",
               "--region", "320500", "--license", "SZ-001")[0] == 0  # fmt: skip
    assert run("orgs", "change", "DIS-SZ", "--region", "320583")[0] == 0
    code, out = run("orgs", "change", "DIS-SZ", "--region", "12345")
    assert code != 0 and "region" in out
    events = org_events(app, "DIS-SZ")
    assert [(e.type, e.actor, e.org) for e in events] == [
        (ORG_REGISTERED, "system", "system"),
        (ORG_CHANGED, "system", "system"),
    ]
    code, out = run("orgs", "show")
    assert code == 0 and json.loads(out)[0]["region"] == "320583"

    with trace_of(app).engine.begin() as conn:
        conn.execute(text("UPDATE organisation SET region = '110000' WHERE code = 'DIS-SZ'"))
    code, out = run("orgs", "show")
    [shown] = json.loads(out)
    assert code == 1
    assert (shown["region"], shown["status"], shown["row"]) == (
        "320583",
        "projection_mismatch",
        {"region": "110000"},
    )


def test_migrating_records_a_registration_for_every_existing_organisation(
    settings: dict[str, Any],
) -> None:
    app = create_app(settings)  # a fresh database: no create_all here
    engine = trace_of(app).engine
    migrate.upgrade(engine, BEFORE)
    created = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)
    org = sa.table(
        "organisation",
        *(sa.column(c) for c in ("id", "code", "kind", "name", "region", "license_no")),
        sa.column("capacity_units"),
        sa.column("created_at", UTCDateTime()),
    )
    with engine.begin() as conn:
        conn.execute(
            org.insert(),
            [
                {"id": 1, "code": "DIS-SZ", "kind": "dismantler", "name": "苏州某拆解厂",
                 "region": "320500", "license_no": "SZ-001", "capacity_units": 120_000,
                 "created_at": created},
                {"id": 2, "code": "REG-JS", "kind": "regulator", "name": "江苏省生态环境厅",
                 "region": "320000", "license_no": None, "capacity_units": None,
                 "created_at": created},
            ],
        )  # fmt: skip

    migrate.upgrade(engine, REGISTER)
    migrate.upgrade(engine)  # the rest of the chain: the models read below are the head's

    with Session(engine) as session:
        rows = list(session.execute(select(Event).order_by(Event.seq)).scalars())  # type: ignore[arg-type]
        register = register_of(session)
        pending = pending_count(session)
    assert [(e.type, e.organisation, e.actor, e.prev) for e in rows] == [
        (ORG_REGISTERED, "DIS-SZ", "system", None),
        (ORG_REGISTERED, "REG-JS", "system", None),
    ]
    assert rows[0].occurred_at == created
    assert rows[0].payload == {"kind": "dismantler", "name": "苏州某拆解厂", "region": "320500",
                               "license_no": "SZ-001", "capacity_units": 120_000}  # fmt: skip
    assert all(digest_matches(content_of(e), e.digest) for e in rows)
    assert pending == 2  # the anchoring worker takes them like any other event
    assert [(f.region, f.mismatch) for f in register.values()] == [("320500", ()), ("320000", ())]
    engine.dispose()
