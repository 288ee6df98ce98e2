"""Batch dismantling (SPEC §2.4): one scan per device, the outputs weighed when the batch
closes; mass balance and required fractions checked for the batch."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlmodel import Session, select

from ledger.canonical import digest_hex, event_content
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from traceability.custody.models import Event
from traceability.db import iso
from traceability.lots.models import Lot

# What a line separates of a 30.5 kg CRT TV set, 25.6 kg in all (the rules require the
# first four fractions).
PER_DEVICE = {
    "crt_panel_glass": Decimal("10"),
    "crt_funnel_glass": Decimal("5"),
    "crt_phosphor": Decimal("0.1"),
    "pcb": Decimal("1.5"),
    "plastics": Decimal("6"),
    "ferrous_metal": Decimal("3"),
}


def outputs_for(n: int, **more: str) -> dict[str, str]:
    """What ``n`` sets yield, with ``more`` kilograms of some fractions."""
    return {f: str(kg * n + Decimal(more.get(f, "0"))) for f, kg in PER_DEVICE.items()}


BATCH_OUTPUTS = outputs_for(1)


def scan(code: str, qr_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": new_id(), "type": "dismantled", "qr_id": qr_id, "batch": code, **extra}


def closing(code: str, outputs: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "type": "batch_closed",
        "batch": code,
        "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
        **extra,
    }


def lots_of(session: Session, plant: Actor) -> dict[str, Lot]:
    session.expire_all()
    return {lot.fraction: lot for lot in session.exec(select(Lot).where(Lot.org == plant.org))}


def event_row(session: Session, event_id: str) -> Event:
    return session.exec(select(Event).where(Event.id == event_id)).one()


def batch_of(client: FlaskClient, collector: Actor, plant: Actor, code: str, n: int) -> list[str]:
    """``n`` CRT TV sets received at 30.5 kg each and scanned into batch ``code``."""
    devices = [receive(client, collector, plant) for _ in range(n)]
    results = Handheld(client, plant).post(*(scan(code, q, line="L1") for q in devices))
    assert [r["status"] for r in results] == ["created"] * n, results
    return devices


def test_a_batch_is_scanned_then_closed_and_its_outputs_go_into_the_lots(
    client: FlaskClient, session: Session, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    devices = batch_of(client, collector, plant, "B-0001", 3)
    scanned = at_plant.device(devices[0])
    assert scanned["state"] == "dismantled"  # a device in an open batch counts as dismantled
    assert scanned["batch"] == "B-0001"
    assert "outputs" not in scanned["events"][-1]["payload"]

    event = closing("B-0001", outputs_for(3))
    [result] = at_plant.post(event)
    assert result["status"] == "created", result

    by_fraction = lots_of(session, plant)
    assert set(by_fraction) == set(PER_DEVICE)
    assert by_fraction["pcb"].weight_g == 3 * 1500
    assert by_fraction["pcb"].device_count == 3

    # The closing is an event of its own subject, hashed like every event.
    row = event_row(session, event["id"])
    assert row.batch == f"{plant.org}/B-0001"
    assert (row.device, row.lot, row.prev) == (None, None, None)
    assert row.payload["devices"] == 3
    assert row.payload["intake_g"] == 3 * 30500
    content = event_content(
        id=row.id,
        type="batch_closed",
        org=row.org,
        actor=row.actor,
        occurred_at=iso(row.occurred_at),
        recorded_at=iso(row.recorded_at),
        payload=row.payload,
        prev=None,
        batch=row.batch,
    )
    assert digest_hex(content) == row.digest == result["digest"]


def test_a_retried_closing_is_a_duplicate_and_a_second_closing_is_refused(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    devices = batch_of(client, collector, plant, "B-0002", 2)
    event = closing("B-0002", outputs_for(2))
    [first] = at_plant.post(event)
    [again] = at_plant.post(event)
    assert (first["status"], again["status"]) == ("created", "duplicate")
    assert again["digest"] == first["digest"]

    [second] = at_plant.post(closing("B-0002", outputs_for(2)))
    assert second["status"] == "rejected"
    assert second["error"]["field"] == "batch"
    assert second["error"]["code"] == "batch_closed"

    # Nor can a device join a closed batch.
    late = receive(client, collector, plant)
    [joined] = at_plant.post(scan("B-0002", late))
    assert joined["status"] == "rejected"
    assert joined["error"]["field"] == "batch"
    assert at_plant.device(late)["state"] == "received"
    assert at_plant.device(devices[0])["state"] == "dismantled"


def test_outputs_over_the_batch_intake_plus_tolerance_are_refused_and_change_nothing(
    client: FlaskClient, session: Session, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    batch_of(client, collector, plant, "B-0003", 2)  # 61 kg in; 64.05 kg the most out
    # 51.2 kg of outputs and 12.85 kg more of metal: 64.05 kg, the most; 10 g more is over.
    [over] = at_plant.post(closing("B-0003", outputs_for(2, ferrous_metal="12.86")))
    assert over["status"] == "rejected"
    assert over["error"]["code"] == "outputs_exceed_intake"
    assert over["error"]["field"] == "outputs"
    assert lots_of(session, plant) == {}

    [ok] = at_plant.post(closing("B-0003", outputs_for(2, ferrous_metal="12.85")))
    assert ok["status"] == "created", ok


def test_a_closing_lacking_a_required_fraction_is_refused_naming_it(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    batch_of(client, collector, plant, "B-0004", 1)
    lacking = {k: v for k, v in BATCH_OUTPUTS.items() if k != "crt_phosphor"}
    [result] = at_plant.post(closing("B-0004", lacking))
    assert result["status"] == "rejected"
    assert result["error"]["field"] == "outputs"
    assert "crt_phosphor" in result["error"]["message"]


def test_bad_closings_are_refused_naming_the_field(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    batch_of(client, collector, plant, "B-0005", 1)
    cases = [
        (closing("B-9999", BATCH_OUTPUTS), "batch"),  # no device in it
        ({**closing("B-0005", BATCH_OUTPUTS), "outputs": []}, "outputs"),
        ({**closing("B-0005", BATCH_OUTPUTS), "batch": "no spaces"}, "batch"),
        (closing("B-0005", {"unobtainium": "1"}), "outputs[0].fraction"),
        (closing("B-0005", {"pcb": "-1"}), "outputs[0].weight_kg"),
        ({k: v for k, v in closing("B-0005", BATCH_OUTPUTS).items() if k != "batch"}, "batch"),
    ]
    for event, field in cases:
        [result] = at_plant.post(event)
        assert result["status"] == "rejected", (event, result)
        assert result["error"]["field"] == field, (event, result)
    qr_id = receive(client, collector, plant)
    [bare] = at_plant.post({"id": new_id(), "type": "dismantled", "qr_id": qr_id})
    assert bare["status"] == "rejected"
    assert bare["error"]["field"] == "outputs"
    assert at_plant.device(qr_id)["state"] == "received"


def test_a_collector_cannot_close_a_batch(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    batch_of(client, collector, plant, "B-0006", 1)
    [result] = Handheld(client, collector).post(closing("B-0006", BATCH_OUTPUTS))
    assert result["status"] == "rejected"
    assert result["error"]["code"] == "forbidden"


def test_per_device_outputs_remain_possible_in_a_batch(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    sampled = receive(client, collector, plant)
    at_plant.dismantle(sampled, {"pcb": "1.5", "plastics": "3"}, batch="B-0007")
    assert at_plant.device(sampled)["state"] == "dismantled"


def test_scans_and_closing_in_one_request_close_the_batch_with_all_its_devices(
    client: FlaskClient, session: Session, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    devices = [receive(client, collector, plant) for _ in range(2)]
    results = at_plant.post(
        *(scan("B-0008", q) for q in devices), closing("B-0008", outputs_for(2))
    )
    assert [r["status"] for r in results] == ["created"] * 3, results
    assert event_row(session, results[-1]["id"]).payload["devices"] == 2


def test_a_scanned_batch_reports_its_mass_savings_and_weighed_outputs_like_a_weighed_one(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    at_plant = Handheld(client, plant)
    batch_of(client, collector, plant, "B-SCAN", 2)
    [closed] = at_plant.post(closing("B-SCAN", outputs_for(2)))
    for _ in range(2):  # the same sets, each weighed at its dismantling
        at_plant.dismantle(receive(client, collector, plant), PER_DEVICE, batch="B-WEIGH")
    scan, weigh = at_plant.batch("B-SCAN"), at_plant.batch("B-WEIGH")
    assert scan["device_count"] == weigh["device_count"] == 2
    assert scan["mass_kg"] == weigh["mass_kg"] == Decimal("61")
    assert scan["savings"] == weigh["savings"]
    assert weigh["closing"] is None
    assert scan["closing"]["event"] == closed["id"]
    assert scan["closing"]["outputs_kg"] == sum(PER_DEVICE.values()) * 2
    assert {o["fraction"]: o["weight_kg"] for o in scan["closing"]["outputs"]} == {
        f: kg * 2 for f, kg in PER_DEVICE.items()
    }
    assert scan["closing"]["verification"] == "pending"  # not yet anchored
