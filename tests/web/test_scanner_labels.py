"""The handheld's labels and IDs (issue 19, items 2, 3 and 5): whether an ID was issued,
printable labels of devices and output lots, the label roll, lot codes in any case."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import CRT_TV, OUTPUTS, Handheld, premint, receive
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.labels.ids import format_id, mint_id
from traceability.lots.models import parse_lot_code


@pytest.fixture
def plant(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("DIS-SZ01", "dismantler", password=PASSWORD)


@pytest.fixture
def collector(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("COL-SZ", "collector", password=PASSWORD)


def test_an_id_says_whether_it_was_issued_and_to_whom(
    client: FlaskClient, plant: Actor, collector: Actor
) -> None:
    [mine] = premint(client.application, plant.org)
    [theirs] = premint(client.application, collector.org)
    collected = Handheld(client, collector).collect()
    invented = mint_id()
    assert client.get(f"/scan/ids/{mine}.json").status_code == 401
    assert client.get(f"/scan/label/{mine}").status_code in (302, 303)
    sign_in(client, plant.username)
    state = {
        qr_id: client.get(f"/scan/ids/{qr_id}.json").get_json()
        for qr_id in (mine, theirs, collected, invented)
    }
    assert state[mine] == {"qr_id": mine, "issued": "yours", "collected": False}
    assert state[theirs] == {"qr_id": theirs, "issued": "other", "collected": False}
    assert state[collected] == {"qr_id": collected, "issued": "other", "collected": True}
    assert state[invented] == {"qr_id": invented, "issued": "never", "collected": False}
    # Any spelling of the ID; a wrong check character is a 400 naming the field.
    assert client.get(f"/scan/ids/{format_id(mine).lower()}.json").get_json()["qr_id"] == mine
    wrong = client.get(f"/scan/ids/{mine[:-1]}{'0' if mine[-1] != '0' else '1'}.json")
    assert wrong.status_code == 400
    assert wrong.get_json()["error"]["field"] == "qr_id"


def test_a_label_prints_for_this_organisation_s_ids_and_lots_only(
    client: FlaskClient, plant: Actor, collector: Actor
) -> None:
    [mine] = premint(client.application, plant.org)
    [theirs] = premint(client.application, collector.org)
    Handheld(client, plant).dismantle(receive(client, collector, plant), OUTPUTS)
    lot = "DIS-SZ01-pcb-00001"
    sign_in(client, plant.username)
    page = client.get(f"/scan/label/{mine}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-code="{format_id(mine)}"' in html
    assert "<svg" in html and format_id(mine) in html
    assert client.get(f"/scan/label/{theirs}").status_code == 404
    assert client.get(f"/scan/label/{mine[:-1]}").status_code == 404
    # The label alone, as the handheld keeps it for its roll: the QR of the public URL.
    image = client.get(f"/scan/label/{mine}.svg")
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert format_id(mine) in image.get_data(as_text=True)
    assert client.get(f"/scan/label/{theirs}.svg").status_code == 404
    assert client.get(f"/scan/label/{lot}.svg").status_code == 404
    for spelt in (lot, lot.lower(), lot.upper()):
        page = client.get(f"/scan/label/{spelt}")
        assert page.status_code == 200, spelt
        assert f'data-code="{lot}"' in page.get_data(as_text=True)
    assert client.get("/scan/label/DIS-SZ01-pcb-00002").status_code == 404
    other = client.application.test_client()
    sign_in(other, collector.username)
    assert other.get(f"/scan/label/{lot}").status_code == 404
    assert other.get(f"/scan/label/{theirs}").status_code == 200


def test_a_minted_sheet_names_its_ids_for_a_handheld_s_label_roll(
    client: FlaskClient, plant: Actor, collector: Actor
) -> None:
    response = client.post("/api/v1/labels", json={"count": 3}, headers=plant.headers)
    assert response.status_code == 201
    ids = response.get_json()["ids"]
    assert len(ids) == 3 == len(set(ids))
    # Each binds to a device at collection, once.
    Handheld(client, plant).collect(qr_id=ids[0])
    again = client.post("/api/v1/devices", json={**CRT_TV, "qr_id": ids[0]}, headers=plant.headers)
    assert again.status_code == 409
    # Another organisation cannot use them.
    theirs = client.post(
        "/api/v1/devices", json={**CRT_TV, "qr_id": ids[1]}, headers=collector.headers
    )
    assert theirs.status_code == 403


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("dis-sz01-pcb-00007", "DIS-SZ01-pcb-00007"),
        ("DIS-SZ01-PCB-00007", "DIS-SZ01-pcb-00007"),
        (" Dis-Sz01-Crt_Funnel_Glass-00012 ", "DIS-SZ01-crt_funnel_glass-00012"),
        ("01-pcb-0007", None),
        ("DIS-SZ01-pcb", None),
        ("pallet 7", None),
    ],
)
def test_a_lot_code_is_read_in_any_case(raw: str, canonical: str | None) -> None:
    assert parse_lot_code(raw) == canonical


def test_the_api_takes_a_lot_code_in_any_case(
    client: FlaskClient, plant: Actor, collector: Actor
) -> None:
    Handheld(client, plant).dismantle(receive(client, collector, plant), OUTPUTS)
    Handheld(client, plant).record(
        {"type": "stocktake", "lot": "dis-sz01-plastics-00001", "weight_kg": "2.9"}
    )
    with Session(trace_of(client.application).engine) as session:
        take = session.exec(select(Event).where(Event.type == "stocktake")).one()
    assert take.lot == "DIS-SZ01-plastics-00001"
