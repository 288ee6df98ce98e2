"""A device's facts are what its events say, replayed in order (SPEC §2.4, §3)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from traceability.custody.facts import Output, projection_mismatch, replay

START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
CRT = {"display": "crt", "screen_in": 21}


@dataclass(frozen=True)
class Ev:
    type: str
    org: str
    payload: dict[str, Any]
    id: str = ""
    occurred_at: dt.datetime = START
    digest: str = ""


@dataclass
class Log:
    """Builds a device's events with ids, increasing times and digests."""

    events: list[Ev] = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)

    def add(self, type_: str, org: str, **payload: Any) -> str:
        n = next(self.counter)
        event_id = f"e{n}"
        self.events.append(
            Ev(type_, org, payload, event_id, START + dt.timedelta(hours=n), f"d{n}")
        )
        return event_id


def collected(log: Log, org: str = "COL-SZ", **extra: Any) -> str:
    return log.add("collected", org, category="tv", attributes=dict(CRT), **extra)


def test_a_full_life_replays_to_its_facts() -> None:
    log = Log()
    collected(log, weight_g=31_500, brand="Konka", model="T21", serial="SN-1", source="household")
    log.add("shipped", "COL-SZ", to="DIS-SZ", manifest_no="M-1")
    log.add("received", "DIS-SZ", weight_g=30_250)
    log.add("stored", "DIS-SZ", area="A-3")
    log.add(
        "dismantled",
        "DIS-SZ",
        outputs=[
            {"fraction": "pcb", "weight_g": 2_125},
            {"fraction": "plastics", "weight_g": 7_000},
        ],
        batch="B1",
        line="L1",
    )

    facts = replay("QR1", log.events)

    assert (facts.category, facts.attributes) == ("tv", CRT)
    assert (facts.brand, facts.model, facts.serial, facts.source) == (
        "Konka",
        "T21",
        "SN-1",
        "household",
    )
    assert (facts.collected_weight_g, facts.received_weight_g) == (31_500, 30_250)
    assert (facts.state, facts.custodian, facts.destination) == ("dismantled", "DIS-SZ", None)
    assert (facts.collected_by, facts.collected_at) == ("COL-SZ", START)
    assert (facts.received_by, facts.received_at) == ("DIS-SZ", START + dt.timedelta(hours=2))
    assert (facts.dismantled_by, facts.dismantled_at) == ("DIS-SZ", START + dt.timedelta(hours=4))
    assert (facts.batch, facts.line, facts.storage_area) == ("B1", "L1", "A-3")
    assert facts.outputs == (Output("pcb", 2_125), Output("plastics", 7_000))
    assert (facts.head_digest, facts.event_count, facts.anomalies) == ("d4", 5, ())


def test_a_shipment_in_transit_names_its_destination_and_keeps_the_sender_as_custodian() -> None:
    log = Log()
    collected(log)
    log.add("shipped", "COL-SZ", to="DIS-SZ")

    facts = replay("QR1", log.events)

    assert (facts.state, facts.custodian, facts.destination) == ("in_transit", "COL-SZ", "DIS-SZ")


def test_a_refused_shipment_returns_a_collected_device_to_its_collector() -> None:
    log = Log()
    collected(log)
    log.add("shipped", "COL-SZ", to="DIS-SZ")
    log.add("refused", "DIS-SZ", reason="no licence for this category")

    facts = replay("QR1", log.events)

    assert (facts.state, facts.custodian, facts.destination) == ("collected", "COL-SZ", None)
    assert facts.received_by is None and facts.anomalies == ()


def test_a_refused_shipment_between_plants_leaves_the_device_received_at_the_sender() -> None:
    log = Log()
    collected(log)
    log.add("shipped", "COL-SZ", to="DIS-SZ")
    log.add("received", "DIS-SZ", weight_g=30_000)
    log.add("shipped", "DIS-SZ", to="DIS-WX")
    log.add("refused", "DIS-WX", reason="over capacity")

    facts = replay("QR1", log.events)

    assert (facts.state, facts.custodian, facts.destination) == ("received", "DIS-SZ", None)
    assert (facts.received_by, facts.received_weight_g) == ("DIS-SZ", 30_000)


def test_a_device_refused_once_can_be_shipped_elsewhere_and_received() -> None:
    log = Log()
    collected(log)
    log.add("shipped", "COL-SZ", to="DIS-SZ")
    log.add("refused", "DIS-SZ", reason="full")
    log.add("shipped", "COL-SZ", to="DIS-WX")
    log.add("received", "DIS-WX", weight_g=25_000)

    facts = replay("QR1", log.events)

    assert (facts.state, facts.custodian, facts.received_by) == ("received", "DIS-WX", "DIS-WX")


def test_a_refusal_without_a_shipment_is_an_anomaly_and_changes_nothing() -> None:
    log = Log()
    collected(log)
    log.add("refused", "DIS-SZ", reason="?")

    facts = replay("QR1", log.events)

    assert (facts.state, facts.custodian) == ("collected", "COL-SZ")
    assert len(facts.anomalies) == 1 and "refused" in facts.anomalies[0]


def test_a_corrected_intake_weight_replaces_the_weighed_one() -> None:
    log = Log()
    collected(log, weight_g=31_000)
    received = log.add("received", "COL-SZ", weight_g=30_000)
    log.add("corrected", "COL-SZ", corrects=received, reason="tare", fields={"weight_g": 28_400})

    facts = replay("QR1", log.events)

    assert (facts.collected_weight_g, facts.received_weight_g) == (31_000, 28_400)
    [correction] = facts.corrections
    assert (correction.corrects, correction.corrects_type, correction.fields) == (
        received,
        "received",
        {"weight_g": 28_400},
    )


def test_corrected_attributes_replace_the_collected_ones_even_after_dismantling() -> None:
    log = Log()
    first = collected(log)
    log.add("received", "COL-SZ", weight_g=30_000)
    log.add("dismantled", "COL-SZ", outputs=[{"fraction": "pcb", "weight_g": 1_000}])
    flat = {"display": "flat", "screen_in": 32}
    log.add(
        "corrected",
        "COL-SZ",
        corrects=first,
        reason="misread",
        fields={"attributes": flat},
        flag="subsidy_tier",
    )

    facts = replay("QR1", log.events)

    assert facts.attributes == flat
    assert facts.state == "dismantled"  # a correction never moves the device
    assert [(c.corrects, c.flag) for c in facts.flagged] == [(first, "subsidy_tier")]


def test_the_latest_correction_of_a_field_wins() -> None:
    log = Log()
    first = collected(log, brand="Knoka")
    log.add("corrected", "COL-SZ", corrects=first, reason="typo", fields={"brand": "Konca"})
    log.add("corrected", "COL-SZ", corrects=first, reason="typo again", fields={"brand": "Konka"})

    facts = replay("QR1", log.events)

    assert facts.brand == "Konka" and len(facts.corrections) == 2 and facts.flagged == ()


def test_a_correction_amends_only_the_event_it_names() -> None:
    log = Log()
    collected(log, org="DIS-SZ")
    log.add("received", "DIS-SZ", weight_g=30_000)
    first_store = log.add("stored", "DIS-SZ", area="A-1")
    log.add("stored", "DIS-SZ", area="B-2")
    log.add("corrected", "DIS-SZ", corrects=first_store, reason="typo", fields={"area": "A-7"})

    facts = replay("QR1", log.events)

    assert facts.storage_area == "B-2"  # the device was moved on from the corrected area


def test_a_correction_naming_no_event_of_the_device_is_an_anomaly() -> None:
    log = Log()
    collected(log, weight_g=31_000)
    log.add("corrected", "COL-SZ", corrects="elsewhere", reason="x", fields={"weight_g": 1})

    facts = replay("QR1", log.events)

    assert facts.collected_weight_g == 31_000
    assert facts.corrections[0].corrects_type is None
    assert len(facts.anomalies) == 1


def test_an_empty_log_has_no_facts() -> None:
    facts = replay("QR1", [])

    assert (facts.state, facts.category, facts.event_count, facts.head_digest) == (
        None,
        None,
        0,
        None,
    )


@dataclass
class Row:
    """A projection row as the handlers write it, for comparing."""

    category: str = "tv"
    attributes: dict[str, Any] = field(default_factory=lambda: dict(CRT))
    brand: str | None = None
    model: str | None = None
    serial: str | None = None
    source: str | None = None
    collected_weight_g: int | None = None
    received_weight_g: int | None = 30_000
    state: str = "dismantled"
    custodian: str = "DIS-SZ"
    destination: str | None = None
    collected_by: str = "DIS-SZ"
    collected_at: dt.datetime = START
    received_by: str | None = "DIS-SZ"
    received_at: dt.datetime | None = START + dt.timedelta(hours=1)
    dismantled_by: str | None = "DIS-SZ"
    dismantled_at: dt.datetime | None = START + dt.timedelta(hours=2)
    line: str | None = None
    storage_area: str | None = None
    head_digest: str = "d2"
    event_count: int = 3


@pytest.fixture
def dismantled_facts() -> Any:
    log = Log()
    collected(log, org="DIS-SZ")
    log.add("received", "DIS-SZ", weight_g=30_000)
    log.add("dismantled", "DIS-SZ", outputs=[{"fraction": "pcb", "weight_g": 1_000}], batch="B1")
    return replay("QR1", log.events)


def test_a_faithful_projection_shows_no_mismatch(dismantled_facts: Any) -> None:
    assert projection_mismatch(dismantled_facts, Row(), ("DIS-SZ", "B1")) == []


@pytest.mark.parametrize(
    ("edit", "batch", "fields"),
    [
        ({"received_weight_g": 3_000_000}, ("DIS-SZ", "B1"), ["received_weight_g"]),
        ({"attributes": {"display": "flat", "screen_in": 21}}, ("DIS-SZ", "B1"), ["attributes"]),
        (
            {"state": "received", "dismantled_at": None},
            ("DIS-SZ", "B1"),
            ["state", "dismantled_at"],
        ),
        ({}, ("DIS-SZ", "B2"), ["batch"]),
        ({}, ("DIS-WX", "B1"), ["batch"]),
        ({}, None, ["batch"]),
    ],
)
def test_every_edited_projection_field_is_named(
    dismantled_facts: Any, edit: dict[str, Any], batch: Any, fields: list[str]
) -> None:
    assert projection_mismatch(dismantled_facts, Row(**edit), batch) == fields


@pytest.mark.parametrize(
    ("steps", "broken"),
    [
        # shipped by someone who does not hold the device
        ([("shipped", "DIS-SZ", {"to": "DIS-BJ"})], "shipped"),
        # received by a plant it was not shipped to
        (
            [("shipped", "COL-SZ", {"to": "DIS-SZ"}), ("received", "DIS-BJ", {"weight_g": 1})],
            "received",
        ),
        # dismantled twice
        (
            [
                ("shipped", "COL-SZ", {"to": "DIS-SZ"}),
                ("received", "DIS-SZ", {"weight_g": 30_000}),
                ("dismantled", "DIS-SZ", {"outputs": []}),
                ("dismantled", "DIS-SZ", {"outputs": []}),
            ],
            "dismantled",
        ),
        # stored before it was received
        ([("stored", "COL-SZ", {"area": "A"})], "stored"),
    ],
    ids=["ship-not-held", "receive-not-destination", "dismantle-twice", "store-unreceived"],
)
def test_a_step_the_custody_rules_forbid_is_an_anomaly(
    steps: list[tuple[str, str, dict[str, Any]]], broken: str
) -> None:
    log = Log()
    collected(log)
    for kind, org, payload in steps:
        log.add(kind, org, **payload)

    anomalies = replay("QR1", log.events).anomalies

    assert len(anomalies) == 1
    assert anomalies[0].startswith(broken) and "breaks the custody rules" in anomalies[0]
