"""The portal's device page tells the story (issue 20 item 3): organisation names, each
event's recorder, weight and three times, corrections as old → new, the findings naming
the device, and the output lot each fraction went into and where that lot went."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld, receive
from tests.support.manifests import number, shipped
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.clock import ShiftedClock
from traceability.custody.models import Event
from traceability.lots.models import Lot
from traceability.periods import CHINA


def lots_of(app: Flask, fraction: str) -> dict[str, Lot]:
    with Session(trace_of(app).engine) as session:
        return {lot.code: lot for lot in session.exec(select(Lot).where(Lot.fraction == fraction))}


def received_event(app: Flask, qr_id: str) -> Event:
    with Session(trace_of(app).engine) as session:
        query = select(Event).where(Event.device == qr_id, Event.type == "received")
        return session.exec(query).one()


@pytest.fixture
def clock() -> ShiftedClock:
    """A Wednesday morning in Beijing: the story's dismantlings fall within working hours
    (on the machine's clock a night run found them outside, a finding of its own)."""
    return ShiftedClock(dt.datetime(2026, 11, 18, 10, 0, tzinfo=CHINA))


@pytest.fixture
def story(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor,
    make_actor: Callable[..., Actor],
) -> tuple[str, str, Actor]:  # fmt: skip
    """Two TVs of one plant: the first received at 20 kg, corrected to 19.5, dismantled far
    below its intake (a mass-balance finding), its PCB lot then shipped to Anhui; the
    second dismantled regularly after that shipment (its PCB in the next, open lot)."""
    anhui = make_actor("PRO-AH", "processor", region="341282")
    first = receive(client, collector, plant, "20")
    at_plant = Handheld(client, plant)
    at_plant.record(
        {
            "type": "corrected",
            "qr_id": first,
            "corrects": received_event(app, first).id,
            "fields": {"weight_kg": "19.5"},
            "reason": "scale re-zeroed",
        }
    )
    at_plant.dismantle(first, {"pcb": "2", "plastics": "3"})
    [pcb_lot] = lots_of(app, "pcb")
    at_plant.record(
        {
            "type": "lot_shipped",
            "lot": pcb_lot,
            "to": anhui.org,
            "manifests": [shipped(number(app, 1), "2")],
        }
    )
    second = receive(client, collector, plant, "20")
    regular = {"crt_panel_glass": "7", "crt_funnel_glass": "4", "crt_phosphor": "0.1",
               "pcb": "2", "plastics": "5"}  # fmt: skip
    at_plant.dismantle(second, regular)
    refresh(trace_of(app), force=True)
    auditor = make_actor("REG-SZ", "regulator", role="auditor", region="320500",
                         password=PASSWORD)  # fmt: skip
    assert sign_in(client, auditor.username).status_code == 302
    return first, second, anhui


def page(client: FlaskClient, qr_id: str, lang: str = "en") -> str:
    response = client.get(f"/portal/devices/{qr_id}", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_event_says_who_what_weight_and_its_three_times_with_corrections_old_to_new(
    client: FlaskClient, story: tuple[str, str, Actor], collector: Actor, plant: Actor
) -> None:
    first, _second, _anhui = story
    html = page(client, first)
    types = re.findall(r'data-type="(\w+)"', html)
    assert types == ["collected", "shipped", "received", "corrected", "dismantled"]
    # Names, not codes: the plant holds it now, and the shipment says where it went.
    assert f'data-custodian="{plant.org}">{plant.org} Co.<' in html
    assert f'<span data-org="{collector.org}">{collector.org} Co.</span>' in html
    assert f"to {plant.org} Co." in html
    assert f"<span data-actor>{plant.username}</span>" in html
    assert "<span data-weight>20 kg</span>" in html
    assert '<li data-change="weight_g">Weight (kg)：20 kg → 19.5 kg</li>' in html
    assert html.count("data-occurred>") == html.count("data-recorded>") == 5
    assert html.count("(UTC+8)") >= 10


def test_the_outputs_lead_to_their_lots_and_where_the_lots_went(
    app: Flask, client: FlaskClient, story: tuple[str, str, Actor]
) -> None:
    first, second, anhui = story
    lots = lots_of(app, "pcb")
    shipped_lot = next(code for code, lot in lots.items() if lot.state == "shipped")
    open_lot = next(code for code, lot in lots.items() if lot.state == "open")
    assert lots[shipped_lot].destination == anhui.org
    html = page(client, first)
    assert f'data-lot="{shipped_lot}"' in html and f"shipped · to {anhui.org} Co." in html
    later = page(client, second)
    assert f'data-lot="{open_lot}"' in later and f'data-lot="{shipped_lot}"' not in later


def test_the_findings_naming_the_device_are_on_its_page(
    client: FlaskClient, story: tuple[str, str, Actor]
) -> None:
    first, second, _anhui = story
    zh = page(client, first, "zh-CN")
    assert "mass_balance" in re.findall(r'data-rule="(\w+)"', zh)  # 5 of 19.5 kg
    assert "data-findings-none" not in zh
    later = page(client, second)
    assert "data-findings-none" in later, re.findall(r'data-rule="(\w+)"', later)
