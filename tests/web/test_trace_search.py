"""Trace search (issue 20 item 4): by serial, brand and model, model or batch code within the
reader's organisations; the backward trace from a lot to its devices, on the page and as an
export; the forward trace (device → lot → processor) is on the device page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld
from tests.support.manifests import number, shipped
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.lots.models import Lot

REGULAR = {"crt_panel_glass": "7", "crt_funnel_glass": "4", "crt_phosphor": "0.1", "pcb": "2"}


def through(client: FlaskClient, collector: Actor, plant: Actor, pcb: str, **nameplate: str) -> str:
    """A CRT set collected with ``nameplate``, received and dismantled with ``pcb`` kg of PCB."""
    qr_id = Handheld(client, collector).collect(**nameplate)
    Handheld(client, collector).ship(qr_id, plant)
    Handheld(client, plant).receive(qr_id, "20")
    Handheld(client, plant).dismantle(qr_id, {**REGULAR, "pcb": pcb}, batch="B-0915")
    return qr_id


@pytest.fixture
def reviewer(client: FlaskClient, make_actor: Callable[..., Actor]) -> Actor:
    auditor = make_actor("REG-SZ", "regulator", role="auditor", region="320500",
                         password=PASSWORD)  # fmt: skip
    assert sign_in(client, auditor.username).status_code == 302
    return auditor


def search(client: FlaskClient, q: str) -> tuple[int, str, str]:
    response = client.get("/portal/devices", query_string={"q": q})
    return response.status_code, response.headers.get("Location", ""), response.get_data(True)


def test_a_serial_a_model_or_a_batch_code_finds_what_carries_it(
    client: FlaskClient, collector: Actor, plant: Actor, reviewer: Actor
) -> None:
    one = through(client, collector, plant, "2", brand="Konka", model="T21-A", serial="SN-7788")
    two = through(client, collector, plant, "2.5", brand="Konka", model="T21-A", serial="SN-9900")
    # One device with that serial (typed in another case): straight to its page.
    status, location, _ = search(client, "sn-7788")
    assert status == 302 and location.endswith(f"/portal/devices/{one}")
    # A brand and model two devices share: both listed, each linked.
    status, _, html = search(client, "konka t21-a")
    assert status == 200 and f'data-hit="{one}"' in html and f'data-hit="{two}"' in html
    assert 'data-hits="2"' in html
    # The batch code: its page.
    status, location, _ = search(client, "b-0915")
    assert status == 302 and location.endswith(f"/portal/plants/{plant.org}/batches/B-0915")
    # Nothing carries it: the not-found answer names what was searched.
    status, _, html = search(client, "SN-0000")
    assert status == 404 and "SN-0000" in html


def test_another_region_s_auditor_finds_nothing_of_this_plant(
    client: FlaskClient, collector: Actor, plant: Actor, make_actor: Callable[..., Actor]
) -> None:
    through(client, collector, plant, "2", brand="Konka", model="T21-A", serial="SN-7788")
    elsewhere = make_actor("REG-AH", "regulator", role="auditor", region="340000",
                           password=PASSWORD)  # fmt: skip
    assert sign_in(client, elsewhere.username).status_code == 302
    for q in ("SN-7788", "Konka T21-A", "B-0915"):
        status, _, html = search(client, q)
        assert status == 404 and "data-hit=" not in html and "data-batch=" not in html, q


def test_a_lot_lists_the_devices_behind_it_and_exports_them(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, reviewer: Actor,
    make_actor: Callable[..., Actor],
) -> None:  # fmt: skip
    anhui = make_actor("PRO-AH", "processor", region="341282")
    first = through(client, collector, plant, "2")
    second = through(client, collector, plant, "2.5")
    with Session(trace_of(app).engine) as session:
        lot = session.exec(select(Lot.code).where(Lot.fraction == "pcb")).one()
    Handheld(client, plant).record(
        {
            "type": "lot_shipped",
            "lot": lot,
            "to": anhui.org,
            "manifests": [shipped(number(app, 1), "4.5")],
        }
    )
    after = through(client, collector, plant, "3")  # into the next lot
    html = client.get(f"/portal/lots/{lot}").get_data(as_text=True)
    assert f'data-member="{first}"' in html and f'data-member="{second}"' in html
    assert f'data-member="{after}"' not in html
    sheet = client.get(f"/portal/lots/{lot}/devices.csv")
    assert sheet.status_code == 200
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r[1], r[2]) for r in rows[1:]] == [(first, "2"), (second, "2.5")]
    # The lot's produced figure is the sum of what the listed devices put in.
    assert 'data-figure="produced">4.5 kg' in html
    # Forward: the first device's page leads to this lot and where it went.
    device = client.get(f"/portal/devices/{first}").get_data(as_text=True)
    assert f'data-lot="{lot}"' in device
