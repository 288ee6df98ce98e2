"""A dismantling cannot yield more than went in (SPEC §2.4): outputs vs the weighed intake."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.accounts import Actor
from tests.support.databases import snapshot
from tests.support.floor import Handheld, new_id, receive
from traceability.app import trace_of


def dismantling(qr_id: str, **outputs: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "type": "dismantled",
        "qr_id": qr_id,
        "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
    }


def test_outputs_several_times_the_intake_are_refused_with_the_figures(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="24.3")
    before = snapshot(trace_of(client.application).engine)

    [result] = Handheld(client, plant).post(
        dismantling(qr_id, crt_panel_glass="60.3", crt_funnel_glass=40, pcb=5)
    )

    assert result["status"] == "rejected"
    error = result["error"]
    assert (error["code"], error["field"]) == ("outputs_exceed_intake", "outputs")
    assert "105.3 kg" in error["message"] and "24.3 kg" in error["message"]
    assert "5 %" in error["message"]
    assert snapshot(trace_of(client.application).engine) == before
    assert Handheld(client, plant).device(qr_id)["state"] == "received"


@pytest.mark.parametrize(
    ("plastics_kg", "status"), [("1", "created"), ("1.000", "created"), ("1.001", "rejected")]
)
def test_outputs_up_to_the_tolerance_above_the_intake_are_accepted(
    client: FlaskClient, collector: Actor, plant: Actor, plastics_kg: str, status: str
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="20")  # + 5 % = 21 kg

    [result] = Handheld(client, plant).post(
        dismantling(qr_id, crt_panel_glass=20, plastics=plastics_kg)
    )

    assert result["status"] == status, result


def test_outputs_far_below_the_intake_are_legal(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")

    Handheld(client, plant).record(dismantling(qr_id, pcb="0.5"))

    assert Handheld(client, plant).device(qr_id)["state"] == "dismantled"


def test_the_intake_weight_as_corrected_is_the_one_that_counts(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="3.05")  # a misplaced decimal point
    received = Handheld(client, plant).device(qr_id)["events"][-1]["id"]
    Handheld(client, plant).record(
        {
            "type": "corrected",
            "corrects": received,
            "reason": "decimal point",
            "fields": {"weight_kg": "30.5"},
        },
    )

    Handheld(client, plant).record(dismantling(qr_id, crt_panel_glass=20, plastics=10))

    assert Handheld(client, plant).device(qr_id)["state"] == "dismantled"


def test_an_intake_corrected_below_the_recorded_outputs_is_refused(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    received = Handheld(client, plant).device(qr_id)["events"][-1]["id"]
    Handheld(client, plant).record(dismantling(qr_id, crt_panel_glass=20, plastics=8))

    [result] = Handheld(client, plant).post(
        {
            "id": new_id(),
            "type": "corrected",
            "corrects": received,
            "reason": "re-weighed",
            "fields": {"weight_kg": "20"},
        },
    )

    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == (
        "outputs_exceed_intake",
        "fields.weight_kg",
    )
    assert Handheld(client, plant).device(qr_id)["received_weight_kg"] == 30


class TestAConfiguredTolerance:
    @pytest.fixture
    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "dismantle_tolerance_pct": "0"}

    def test_applies_to_every_dismantling(
        self, client: FlaskClient, collector: Actor, plant: Actor
    ) -> None:
        qr_id = receive(client, collector, plant, weight_kg="20")

        [over] = Handheld(client, plant).post(dismantling(qr_id, crt_panel_glass="20.001"))
        [exact] = Handheld(client, plant).post(dismantling(qr_id, crt_panel_glass="20"))

        assert over["status"] == "rejected"
        assert "0 % tolerance" in over["error"]["message"]
        assert exact["status"] == "created"
