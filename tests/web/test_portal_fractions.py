"""Where the portal shows a device's fractions it shows their hazardous-waste code
(名录 2021) and marks a controlled substance (issue 17, item 4)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Actor, add_actor
from tests.support.floor import Handheld, receive
from tests.support.web import sign_in


def test_the_device_page_shows_each_hazardous_fraction_with_its_code(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="40")
    Handheld(client, plant).dismantle(
        qr_id,
        {
            "crt_panel_glass": "12",
            "crt_funnel_glass": "8",
            "crt_phosphor": "0.01",
            "pcb": "1.5",
            "plastics": "6",
        },
    )
    add_actor(app, "GOV-JS", "regulator", role="auditor", region="320000",
              username="js.auditor", password=PASSWORD)  # fmt: skip
    assert sign_in(client, "js.auditor").status_code == 302
    html = client.get(f"/portal/devices/{qr_id}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "CRT荧光粉 0.01 kg" in html
    codes = html.count("data-hw-code")
    assert codes == 3  # funnel glass and phosphor (HW49 900-044-49), pcb (HW49 900-045-49)
    assert html.count(">HW49 900-044-49<") == 2 and ">HW49 900-045-49<" in html
    assert "危险废物代码" in html


def test_recovered_refrigerant_is_marked_controlled_not_hazardous(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = Handheld(client, collector).collect(
        category="air_conditioner", attributes={"form": "split", "cooling_w": 3500}
    )
    Handheld(client, collector).ship(qr_id, to=plant)
    Handheld(client, plant).receive(qr_id, "40")
    Handheld(client, plant).dismantle(
        qr_id, {"compressor": "10", "refrigerant": "0.8", "copper": "5", "ferrous_metal": "15"}
    )
    add_actor(app, "GOV-JS", "regulator", role="auditor", region="320000",
              username="js.auditor", password=PASSWORD)  # fmt: skip
    assert sign_in(client, "js.auditor").status_code == 302
    html = client.get(f"/portal/devices/{qr_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "data-hw-code" not in html
    assert 'data-controlled title="Controlled substance">ODS/HFC<' in html
