"""Findings worked as cases (issue 20 item 2): assign, comment, ask the plant, the plant
answers, close with a reason code; each step an event of the case's own chain; region
scoping on every page, export and action; bad input a 4xx naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from ledger.canonical import digest_hex, event_content
from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld, receive
from tests.support.web import csrf_token, sign_in
from traceability.app import trace_of
from traceability.audit.cases import CaseKey
from traceability.audit.refresh import refresh
from traceability.custody.models import Event
from traceability.db import iso
from traceability.periods import CHINA


@pytest.fixture
def flagged(app: Flask, client: FlaskClient, collector: Actor, plant: Actor) -> str:
    """A TV received at 20 kg and dismantled into 5 kg of outputs: a mass-balance finding."""
    qr_id = receive(client, collector, plant, "20")
    Handheld(client, plant).dismantle(qr_id, {"pcb": "2", "plastics": "3"})
    refresh(trace_of(app), force=True)
    return qr_id


def user(make_actor: Callable[..., Actor], org: str, kind: str, role: str, region: str) -> Actor:
    return make_actor(org, kind, role=role, region=region, password=PASSWORD)


def case_events(app: Flask, code: str) -> list[Event]:
    with Session(trace_of(app).engine) as session:
        return list(session.exec(select(Event).where(Event.claim == code).order_by(Event.seq)))  # type: ignore[arg-type]


def post(client: FlaskClient, code: str, **form: str) -> object:
    token = csrf_token(client.get(f"/portal/cases/{code}").get_data(as_text=True))
    return client.post(f"/portal/cases/{code}", data={"csrf_token": token, **form})


def test_a_finding_is_worked_as_a_case_from_assignment_to_closing(
    app: Flask,
    client: FlaskClient,
    plant: Actor,
    flagged: str,
    make_actor: Callable[..., Actor],
) -> None:
    auditor = user(make_actor, "REG-SZ", "regulator", "auditor", "320500")
    colleague = user(make_actor, "REG-SZ", "regulator", "auditor", "320500")
    far = user(make_actor, "REG-AH", "regulator", "auditor", "341282")
    manager = user(make_actor, plant.org, "dismantler", "manager", "320500")
    code = CaseKey("mass_balance", plant.org, flagged).code

    assert sign_in(client, auditor.username).status_code == 302
    listed = client.get(f"/portal/cases?plant={plant.org}").get_data(as_text=True)
    assert f'data-case="{code}"' in listed and 'data-case-state="open"' in listed
    device = client.get(f"/portal/devices/{flagged}").get_data(as_text=True)
    assert f'data-close-case="{code}"' in device  # the close form on the device page

    # Bad input: a 4xx naming the field, and no event recorded.
    refused = post(client, code, action="close", reason="")
    assert refused.status_code == 422 and "(reason)" in refused.get_data(as_text=True)
    assert post(client, code, action="close", reason="explained").status_code == 422  # note
    wrong = post(client, code, action="assign", assignee=far.username)
    assert wrong.status_code == 422 and "assignee" in wrong.get_data(as_text=True)
    assert post(client, code, action="comment", text="  ").status_code == 422
    assert post(client, code, action="answer", text="not mine").status_code == 403
    assert case_events(app, code) == []

    assert post(client, code, action="assign", assignee=colleague.username).status_code == 302
    assert post(client, code, action="request_info", text="Weigh slip?").status_code == 302

    # The plant's manager sees the case and answers; they may not close it.
    assert sign_in(client, manager.username).status_code == 302
    page = client.get(f"/portal/cases/{code}").get_data(as_text=True)
    assert "Weigh slip?" in page and 'data-form="answer"' in page
    assert post(client, code, action="close", reason="false_positive", note="x").status_code == 403
    assert post(client, code, action="answer", text="Scale fault, slip attached").status_code == 302
    assert post(client, code, action="answer", text="again").status_code == 409  # none open

    # Closed from the device page, back to it: one form, one click.
    assert sign_in(client, auditor.username).status_code == 302
    token = csrf_token(client.get(f"/portal/devices/{flagged}").get_data(as_text=True))
    closed = client.post(
        f"/portal/cases/{code}",
        data={"csrf_token": token, "action": "close", "reason": "explained",
              "note": "slip matches", "next": f"/portal/devices/{flagged}"},
    )  # fmt: skip
    assert closed.status_code == 302 and closed.location.endswith(f"/portal/devices/{flagged}")
    assert post(client, code, action="comment", text="late").status_code == 409

    # Each step an event of the case's chain: digest over its content, prev the one before.
    events = case_events(app, code)
    assert [e.type for e in events] == [
        "case_assigned", "case_info_req", "case_answered", "case_closed",
    ]  # fmt: skip
    assert [e.actor for e in events] == [auditor.username] * 2 + [
        manager.username,
        auditor.username,
    ]
    prev = None
    for e in events:
        content = event_content(
            id=e.id, type=e.type, org=e.org, actor=e.actor, occurred_at=iso(e.occurred_at),
            recorded_at=iso(e.recorded_at), payload=e.payload, prev=e.prev, claim=e.claim,
        )  # fmt: skip
        assert e.prev == prev and digest_hex(content) == e.digest
        prev = e.digest
    assert events[-1].payload["reason"] == "explained"
    assert events[-1].payload["outcome"] == "explained"

    # The timeline in Beijing time, in Chinese; the list and its export say closed.
    zh = client.get(f"/portal/cases/{code}", headers={"Accept-Language": "zh-CN"})
    text = zh.get_data(as_text=True)
    at = events[0].occurred_at
    beijing = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(CHINA)
    assert beijing.strftime("%Y-%m-%d %H:%M") in text and "企业说明合理，不予核减" in text
    assert "已结案" in text
    sheet = client.get(f"/portal/cases.csv?plant={plant.org}&state=closed")
    assert sheet.status_code == 200 and code in sheet.get_data(as_text=True)

    # Stable across refreshes: a later refresh keeps the finding on the same case.
    refresh(trace_of(app), force=True)
    again = client.get(f"/portal/cases?plant={plant.org}&state=closed").get_data(as_text=True)
    assert f'data-case="{code}"' in again


def test_cases_are_scoped_to_the_region_and_the_plant(
    app: Flask,
    client: FlaskClient,
    plant: Actor,
    flagged: str,
    make_actor: Callable[..., Actor],
) -> None:
    code = CaseKey("mass_balance", plant.org, flagged).code
    far = user(make_actor, "REG-AH", "regulator", "auditor", "341282")
    other_manager = user(make_actor, "DIS-XX", "dismantler", "manager", "320500")
    for who in (far, other_manager):
        assert sign_in(client, who.username).status_code == 302
        assert client.get(f"/portal/cases/{code}").status_code == 403
        assert client.get(f"/portal/cases?plant={plant.org}").status_code == 403
        assert client.get(f"/portal/cases.csv?plant={plant.org}").status_code == 403
        own = client.get("/portal/cases?state=all").get_data(as_text=True)
        assert code not in own  # the unfiltered list holds no other plant's case
        token = csrf_token(client.get("/portal/cases").get_data(as_text=True))
        refused = client.post(f"/portal/cases/{code}", data={
            "csrf_token": token, "action": "comment", "text": "mine?"})  # fmt: skip
        assert refused.status_code == 403
    assert case_events(app, code) == []
    assert client.get("/portal/cases/CASE-nonsense").status_code == 404
    assert client.get("/portal/cases?state=bogus").status_code == 422
