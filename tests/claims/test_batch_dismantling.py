"""Claims treat devices dismantled in a batch like those dismantled one by one (SPEC §2.4):
a device of a closed batch is regular by the batch's weighed outputs, and its hazardous
outputs are in the lots the closing filled; a device of a batch never closed is excluded,
saying so. On a real anvil node, through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.claims.quarter import CRT_OUT, Quarter, at
from tests.support.accounts import Actor
from tests.support.floor import Handheld

pytestmark = pytest.mark.integration

CRT_21 = ("tv", {"display": "crt", "screen_in": 21}, "25")


@pytest.fixture
def q(client: Any, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    return Quarter(client, collector, plant, processor)


def scanned(q: Quarter, batch: str, dismantled: str) -> str:
    """A CRT TV set collected, shipped, received, then dismantled by one scan into ``batch``."""
    category, attributes, weight = CRT_21
    day = dt.datetime.fromisoformat(dismantled) - dt.timedelta(days=2)
    qr_id = Handheld(q.client, q.collector).collect(
        category=category, attributes=attributes, occurred_at=at(day.isoformat())
    )
    Handheld(q.client, q.collector).record(
        {"type": "shipped", "qr_id": qr_id, "to": q.plant.org,
         "occurred_at": at((day + dt.timedelta(hours=2)).isoformat())},
    )  # fmt: skip
    Handheld(q.client, q.plant).record(
        {"type": "received", "qr_id": qr_id, "weight_kg": weight,
         "occurred_at": at((day + dt.timedelta(days=1)).isoformat())},
        {"type": "dismantled", "qr_id": qr_id, "batch": batch, "line": "L1",
         "occurred_at": at(dismantled)},
    )  # fmt: skip
    return qr_id


def close(q: Quarter, batch: str, devices: int, when: str, **without: bool) -> None:
    outputs = {f: str(float(kg) * devices) for f, kg in CRT_OUT.items() if f not in without}
    Handheld(q.client, q.plant).record(
        {"type": "batch_closed", "batch": batch, "occurred_at": at(when),
         "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()]},
    )  # fmt: skip


def claim_rows(q: Quarter) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    shown = q.show(q.claim()["id"], per_page=1000)
    devices = {d["qr_id"]: d for d in shown["devices"]}
    excluded = {
        e["qr_id"]: {r["code"]: r["detail"] for r in e["reasons"]} for e in shown["excluded"]
    }
    return devices, excluded


def test_closed_batch_devices_are_claimed_and_an_unclosed_batch_is_excluded_with_its_reason(
    q: Quarter,
) -> None:
    single = q.device("single", *CRT_21, CRT_OUT, "2026-08-03T09:00:00")
    closed = [scanned(q, "L1-0803", f"2026-08-03T1{n}:00:00") for n in range(2)]
    close(q, "L1-0803", 2, "2026-08-03T17:00:00")
    unclosed = [scanned(q, "L1-0804", f"2026-08-04T1{n}:00:00") for n in range(2)]
    q.ship_and_confirm_lots()
    q.anchor()

    devices, excluded = claim_rows(q)
    assert set(devices) == {single, *closed}
    assert {devices[d]["tier"] for d in closed} == {devices[single]["tier"]}
    assert set(excluded) == set(unclosed)
    for qr_id in unclosed:
        assert list(excluded[qr_id]) == ["batch_not_closed"]
        assert "L1-0804" in excluded[qr_id]["batch_not_closed"]


def test_a_closed_batch_whose_hazardous_lot_is_unconfirmed_excludes_its_devices(
    q: Quarter,
) -> None:
    devices_in = [scanned(q, "L1-0805", f"2026-08-05T1{n}:00:00") for n in range(2)]
    close(q, "L1-0805", 2, "2026-08-05T17:00:00")
    q.ship_and_confirm_lots(confirm=False)  # shipped, the processor's receipt not recorded
    q.anchor()

    devices, excluded = claim_rows(q)
    assert devices == {}
    for qr_id in devices_in:
        assert list(excluded[qr_id]) == ["hazardous_output_unconfirmed"]
        assert "pcb" in excluded[qr_id]["hazardous_output_unconfirmed"]


def test_a_batch_closing_not_yet_anchored_does_not_make_its_devices_claimable(
    q: Quarter,
) -> None:
    devices_in = [scanned(q, "L1-0806", f"2026-08-06T1{n}:00:00") for n in range(2)]
    q.ship_and_confirm_lots()
    q.anchor()  # the scans anchored; the closing comes after
    close(q, "L1-0806", 2, "2026-08-06T17:00:00")

    _, excluded = claim_rows(q)
    for qr_id in devices_in:
        assert "pending" in excluded[qr_id]["not_verified"]
