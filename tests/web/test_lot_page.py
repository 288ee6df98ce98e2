"""The portal's lot page (/portal/lots/<code>): manifests, weights and the cross-province mark,
in Beijing time and in the reader's language; found by its code or a manifest number."""

from __future__ import annotations

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
from traceability.lots.models import Lot


@pytest.fixture
def shipped_lot(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor,
    make_actor: Callable[..., Actor],
) -> str:  # fmt: skip
    """A PCB lot shipped from Suzhou to Anhui on two trucks, one of which arrived short."""
    anhui = make_actor("PRO-AH", "processor", region="341282")
    Handheld(client, plant).dismantle(receive(client, collector, plant, "200"), {"pcb": "154.9"})
    with Session(trace_of(app).engine) as session:
        lot = session.exec(select(Lot.code).where(Lot.fraction == "pcb")).one()
    first, second = number(app, 1), number(app, 2)
    Handheld(client, plant).record(
        {
            "type": "lot_shipped",
            "lot": lot,
            "to": anhui.org,
            "manifests": [shipped(first, "80"), shipped(second, "74.9")],
        }
    )
    weighed = [{"number": first, "weight_kg": "79.8"}, {"number": second, "weight_kg": "20"}]
    Handheld(client, anhui).record({"type": "lot_received", "lot": lot, "manifests": weighed})
    return lot


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh-CN", ["跨省转移", "转移联单", "危废代码", "运输单位"]),
     ("en", ["cross-province transfer", "Transfer manifests", "Waste code", "Transporter"])],
)  # fmt: skip
def test_an_auditor_reads_the_manifests_weights_and_cross_province_mark(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], shipped_lot: str,
    lang: str, words: list[str],
) -> None:  # fmt: skip
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000",
                         password=PASSWORD)  # fmt: skip
    assert sign_in(client, auditor.username).status_code == 302

    page = client.get(f"/portal/lots/{shipped_lot}", headers={"Accept-Language": lang})

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert all(w in html for w in words), [w for w in words if w not in html]
    assert "data-cross-province" in html
    assert html.count('data-manifest="') == 2
    assert f'data-manifest="{number(app, 2)}" data-beyond-tolerance' in html
    assert f'data-manifest="{number(app, 1)}" data-beyond-tolerance' not in html
    assert "154.9" in html and "74.9" in html and "20" in html
    assert "(UTC+8)" in html


def test_a_manifest_number_or_the_lot_code_finds_the_lot(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], shipped_lot: str
) -> None:
    manager = make_actor("DIS-SZ", "dismantler", role="manager", password=PASSWORD)
    assert sign_in(client, manager.username).status_code == 302

    by_number = client.get(f"/portal/devices?q={number(app, 2)}")
    by_code = client.get(f"/portal/devices?q={shipped_lot}")

    assert by_number.status_code == by_code.status_code == 302
    assert by_number.location.endswith(f"/portal/lots/{shipped_lot}")
    assert by_code.location.endswith(f"/portal/lots/{shipped_lot}")


def test_an_auditor_of_another_region_cannot_read_the_lot(
    client: FlaskClient, make_actor: Callable[..., Actor], shipped_lot: str
) -> None:
    beijing = make_actor("REG-BJ", "regulator", role="auditor", region="110000",
                         password=PASSWORD)  # fmt: skip
    assert sign_in(client, beijing.username).status_code == 302

    assert client.get(f"/portal/lots/{shipped_lot}").status_code == 403
