"""Audit sampling seeded by the first block after the period closed, on a real anvil node."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from ledger.node import ManagedNode, set_chain_time
from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld
from tests.support.ledger import anchor, rpc_settings
from tests.support.web import sign_in
from traceability.anchoring.service import reader_ledger
from traceability.app import trace_of
from traceability.audit.ruleset import SamplingSizes, load_ruleset
from traceability.audit.sampling import audit_sample, candidates, draw, seed_of
from traceability.cli import main
from traceability.clock import ShiftedClock
from traceability.custody.models import Event, EventType
from traceability.periods import CHINA, Period, parse_period

LCD_40 = {"display": "lcd", "backlight": "led", "screen_in": 40}

pytestmark = [pytest.mark.integration]

SIZES = SamplingSizes(days=3, devices=5)


#: The app lives on 20 June 2026 (China time) whatever the date: June is the open
#: month, May the last closed one. The chain starts before May and keeps its own time.
NOW = dt.datetime(2026, 6, 20, 12, 0, tzinfo=CHINA)
GENESIS = dt.datetime(2026, 4, 30, tzinfo=CHINA)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(NOW)


@pytest.fixture
def genesis() -> dt.datetime:
    """The chain is born before the months the test records in (it mines blocks at
    chosen times and reverts them)."""
    return GENESIS


@pytest.fixture
def ledger_node(dated_node: ManagedNode) -> ManagedNode:
    return dated_node


@pytest.fixture
def settings(settings: dict[str, Any], dated_node: ManagedNode) -> dict[str, Any]:
    return rpc_settings(settings, dated_node)


def anchor_now(client: FlaskClient, plant: Actor, node: ManagedNode, clock: ShiftedClock) -> None:
    """Anchor in a block timed at the app's now, as a chain running beside it would."""
    set_chain_time(node.url, int(clock.now().timestamp()))
    anchor(client, plant)


def rpc(node: ManagedNode, method: str, *params: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer = requests.post(node.url, json=body, timeout=10).json()
    assert "error" not in answer, answer
    return answer["result"]


def mine_at(node: ManagedNode, moment: dt.datetime) -> str:
    rpc(node, "evm_setNextBlockTimestamp", int(moment.timestamp()))
    rpc(node, "evm_mine")
    block = rpc(node, "eth_getBlockByNumber", "latest", False)
    return str(block["hash"])


def this_month(now: dt.datetime) -> Period:
    return parse_period(now.astimezone(CHINA).strftime("%Y-%m"))


def last_month(now: dt.datetime) -> Period:
    return parse_period((this_month(now).start - dt.timedelta(days=1)).strftime("%Y-%m"))


def dismantle_in(
    client: FlaskClient, plant: Actor, period: Period, n: int, now: dt.datetime
) -> None:
    """``n`` devices collected, received and dismantled at times spread over the period."""
    end = min(period.end, now - dt.timedelta(minutes=10))
    step = (end - period.start) / (n + 1)
    for i in range(n):
        at = period.start + step * (i + 1) - dt.timedelta(minutes=3)
        stamps = [(at + dt.timedelta(minutes=m)).isoformat() for m in (0, 1, 2)]
        response = client.post(
            "/api/v1/devices",
            json={"category": "tv", "attributes": LCD_40, "occurred_at": stamps[0]},
            headers=plant.headers,
        )  # fmt: skip
        assert response.status_code == 201, response.get_json()
        qr_id = response.get_json()["qr_id"]
        Handheld(client, plant).record(
            {"type": "received", "qr_id": qr_id, "weight_kg": "20", "occurred_at": stamps[1]},
            {"type": "dismantled", "qr_id": qr_id, "occurred_at": stamps[2],
             "line": f"L{i % 2 + 1}", "outputs": [{"fraction": "pcb", "weight_kg": "2"},
                         {"fraction": "lcd_panel", "weight_kg": "6"}]},
        )  # fmt: skip


def sample_of(
    app: Flask, plant: str, period: Period, now: dt.datetime, sizes: SamplingSizes = SIZES
) -> Any:
    with Session(trace_of(app).engine) as session, app.app_context():
        return audit_sample(
            session,
            reader_ledger(session, trace_of(app).ledger),
            plant=plant,
            period=period,
            sizes=sizes,
            now=now,
        )


def test_the_sample_is_seeded_by_the_first_block_after_the_close(
    app: Flask, client: FlaskClient, plant: Actor, dated_node: ManagedNode, clock: ShiftedClock
) -> None:
    private_node = dated_node
    now = clock.now()
    period = this_month(now)
    dismantle_in(client, plant, period, 12, now)
    anchor_now(client, plant, dated_node, clock)  # deploys the registry: the reader knows the chain

    # Still open by the clock: no sample, whatever the chain holds.
    assert sample_of(app, plant.org, period, now).status == "open"
    after_close = period.end + dt.timedelta(days=1)
    # Closed, but no block since the close yet: nothing to seed from.
    assert sample_of(app, plant.org, period, after_close).status == "waiting"

    snapshot = rpc(private_node, "evm_snapshot")
    first_hash = mine_at(private_node, period.end + dt.timedelta(seconds=5))
    mine_at(private_node, period.end + dt.timedelta(seconds=60))  # a later block changes nothing
    first = sample_of(app, plant.org, period, after_close)
    again = sample_of(app, plant.org, period, after_close)
    assert first.status == "drawn" and first.block.hash == first_hash
    assert again == first
    assert first.candidate_devices == 12 and len(first.days) == SIZES.days
    # one device a day here: the devices are those of the sampled days
    assert sorted(d.day for d in first.devices) == sorted(first.days)
    # Anyone can redo it from the block hash alone.
    seed = seed_of(first_hash, plant.org, period.name)
    assert first.seed == seed.hex()
    with Session(trace_of(app).engine) as session:
        found = candidates(session, plant.org, period)
    assert list(first.days) == draw(seed, list(found.days), SIZES.days)

    rpc(private_node, "evm_revert", snapshot)
    other_hash = mine_at(private_node, period.end + dt.timedelta(seconds=9))
    other = sample_of(app, plant.org, period, after_close)
    assert other_hash != first_hash and other.block.hash == other_hash
    assert other.seed != first.seed
    assert other.devices != first.devices


def test_the_cli_prints_the_same_sample_on_every_run(
    app: Flask, client: FlaskClient, plant: Actor, dated_node: ManagedNode, clock: ShiftedClock
) -> None:
    now = clock.now()
    closed = last_month(now)
    dismantle_in(client, plant, closed, 6, now)
    anchor_now(client, plant, dated_node, clock)
    runs = [
        CliRunner().invoke(main, ["audit", "sample", plant.org, closed.name], obj=trace_of(app))
        for _ in range(2)
    ]
    assert [r.exit_code for r in runs] == [0, 0], runs[0].output
    assert runs[0].output == runs[1].output
    shown = json.loads(runs[0].output)
    assert shown["status"] == "drawn" and shown["block"]["hash"] and "SHA-256" in shown["method"]
    assert shown["candidates"]["devices"] == 6
    assert len(shown["days"]) == 5 and len(shown["devices"]) == 5  # one device a day
    block_time = dt.datetime.fromisoformat(shown["block"]["timestamp"])
    assert block_time >= closed.end

    still_open = CliRunner().invoke(
        main, ["audit", "sample", plant.org, this_month(now).name], obj=trace_of(app)
    )
    assert still_open.exit_code == 1 and "has not closed yet" in still_open.output
    assert json.loads(still_open.output.split("Error:")[0])["devices"] == []


def dismantlings(app: Flask, plant: str) -> dict[str, Event]:
    with Session(trace_of(app).engine) as session:
        query = select(Event).where(Event.org == plant, Event.type == EventType.dismantled)
        return {str(e.device): e for e in session.exec(query)}


def test_the_sample_is_a_work_order_with_the_video_window_to_review(
    app: Flask,
    client: FlaskClient,
    plant: Actor,
    dated_node: ManagedNode,
    clock: ShiftedClock,
    make_actor: Any,
) -> None:
    now = clock.now()
    closed = last_month(now)
    dismantle_in(client, plant, closed, 6, now)
    anchor_now(client, plant, dated_node, clock)
    drawn = sample_of(app, plant.org, closed, now)
    events = dismantlings(app, plant.org)
    assert drawn.status == "drawn" and len(drawn.devices) == SIZES.days  # one device a day
    assert not drawn.seeded_by_genesis
    for line in drawn.devices:
        event = events[line.qr_id]
        at = dt.datetime.fromisoformat(event.occurred_at.isoformat())
        assert line.dismantled_at == at and line.operator == event.actor == plant.username
        assert line.line == event.payload["line"] and line.category == "tv"
        assert (line.video_from, line.video_to) == (
            at - dt.timedelta(minutes=30),
            at + dt.timedelta(minutes=5),
        )  # rules.toml's practice default

    # The portal's page and sheet: the auditor of the plant's region reads the work order.
    make_actor("REG-SZ", "regulator", role="auditor", region="320500", username="sz.reviewer",
               password=PASSWORD)  # fmt: skip
    assert sign_in(client, "sz.reviewer").status_code == 302
    page = client.get(f"/portal/plants/{plant.org}/sample?period={closed.name}")  # Chinese
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-warning="genesis"' not in html
    drawn = sample_of(app, plant.org, closed, now, load_ruleset().sampling)  # the portal's sizes
    first = drawn.devices[0]
    shown = first.dismantled_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    assert f'data-device="{first.qr_id}"' in html and shown in html and "视频时段" in html
    sheet = client.get(f"/portal/plants/{plant.org}/sample.xlsx?period={closed.name}")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == [d.qr_id for d in drawn.devices]

    # Beijing wall-clock cells to the second, as the header says
    def beijing(moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(CHINA).replace(tzinfo=None, microsecond=0)

    assert rows[1][5:8] == (
        beijing(first.dismantled_at),
        beijing(first.video_from),
        beijing(first.video_to),
    )
    assert "UTC+8" in str(rows[0][5])


def test_a_sample_seeded_by_the_genesis_block_is_flagged_as_predictable(
    app: Flask,
    client: FlaskClient,
    plant: Actor,
    dated_node: ManagedNode,
    clock: ShiftedClock,
    make_actor: Any,
) -> None:
    anchor_now(client, plant, dated_node, clock)  # deploys the registry
    before_the_chain = parse_period("2026-03")  # closed before the chain's first block
    assert before_the_chain.end < GENESIS
    drawn = sample_of(app, plant.org, before_the_chain, clock.now())
    assert drawn.status == "drawn" and drawn.block.number == 0 and drawn.seeded_by_genesis
    shown = CliRunner().invoke(
        main, ["audit", "sample", plant.org, before_the_chain.name], obj=trace_of(app)
    )
    assert json.loads(shown.output)["seeded_by_genesis"] is True
    make_actor("REG-SZ", "regulator", role="auditor", region="320500", username="sz.reviewer",
               password=PASSWORD)  # fmt: skip
    assert sign_in(client, "sz.reviewer").status_code == 302
    page = client.get(f"/portal/plants/{plant.org}/sample?period=2026-03")
    assert 'data-warning="genesis"' in page.get_data(as_text=True)
    # no sample yet (open period): the sheet is refused, not empty
    still_open = this_month(clock.now()).name
    sheet = client.get(f"/portal/plants/{plant.org}/sample.csv?period={still_open}")
    assert sheet.status_code == 409


def test_the_reviewer_records_each_devices_outcome_and_a_mismatch_opens_a_case(
    app: Flask,
    client: FlaskClient,
    plant: Actor,
    dated_node: ManagedNode,
    clock: ShiftedClock,
    make_actor: Any,
) -> None:
    from tests.support.web import csrf_token
    from traceability.audit.cases import CaseKey
    from traceability.audit.sample_outcomes import sample_code

    now = clock.now()
    closed = last_month(now)
    dismantle_in(client, plant, closed, 6, now)
    anchor_now(client, plant, dated_node, clock)
    make_actor("REG-SZ", "regulator", role="auditor", region="320500", username="sz.reviewer",
               password=PASSWORD)  # fmt: skip
    assert sign_in(client, "sz.reviewer").status_code == 302
    drawn = sample_of(app, plant.org, closed, now, load_ruleset().sampling)
    first, second = drawn.devices[0].qr_id, drawn.devices[1].qr_id
    url = f"/portal/plants/{plant.org}/sample?period={closed.name}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    target = f"/portal/plants/{plant.org}/sample/outcome?period={closed.name}"

    def record(**form: str) -> Any:
        return client.post(target, data={"csrf_token": token, **form})

    # Bad input: a 4xx naming the field, nothing recorded.
    assert record(qr_id=first, outcome="maybe").status_code == 422
    outside = record(qr_id="NOT-SAMPLED", outcome="matches")
    assert outside.status_code == 422 and "qr_id" in outside.get_data(as_text=True)
    code = sample_code(plant.org, closed.name)
    with Session(trace_of(app).engine) as session:
        assert not session.exec(select(Event).where(Event.claim == code)).all()

    assert record(qr_id=first, outcome="matches").status_code == 302
    assert record(qr_id=second, outcome="mismatch", note="two operators on film").status_code == 302
    case = CaseKey("sample_mismatch", plant.org, second).code
    with Session(trace_of(app).engine) as session:
        steps = session.exec(select(Event).where(Event.claim == code).order_by(Event.seq)).all()
        opened = session.exec(select(Event).where(Event.claim == case)).all()
    assert [(e.type, e.payload["qr_id"], e.payload["outcome"]) for e in steps] == [
        ("sample_outcome", first, "matches"), ("sample_outcome", second, "mismatch"),
    ]  # fmt: skip
    assert steps[1].prev == steps[0].digest and steps[0].payload["block"] == drawn.block.number
    assert [e.type for e in opened] == ["case_opened"]

    # The page and the sheet carry the outcomes; the mismatch is an open high case.
    html = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-outcome="matches"' in html and 'data-outcome="mismatch"' in html
    assert f"/portal/cases/{case}" in html
    sheet = client.get(f"/portal/plants/{plant.org}/sample.csv?period={closed.name}",
                       headers={"Accept-Language": "en"})  # fmt: skip
    lines = {row.split(",")[1]: row for row in sheet.get_data(as_text=True).splitlines()[1:]}
    assert "matches the records" in lines[first] and "does not match" in lines[second]
    assert case in lines[second] and "two operators on film" in lines[second]
    from traceability.audit.refresh import refresh

    refresh(trace_of(app), force=True)  # the plant page reads the audit's snapshot
    plant_page = client.get(f"/portal/plants/{plant.org}?period=2026Q2").get_data(as_text=True)
    assert f'data-case="{case}"' in plant_page
    # The case the mismatch opened is this device's, with its opening step on the timeline.
    shown = client.get(f"/portal/cases/{case}", headers={"Accept-Language": "en"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and f'data-case="{case}"' in text
    assert f"/portal/devices/{second}" in text and 'data-step="case_opened"' in text
    assert "Sampled video does not match the records" in text
    assert f"Video review of the {closed.name} sample: device {second} does not match" in text
    # ... and on the device's page, with its close form (closing it takes it off the plant).
    device = client.get(f"/portal/devices/{second}").get_data(as_text=True)
    assert f'data-close-case="{case}"' in device
    shut = client.post(f"/portal/cases/{case}", data={
        "csrf_token": token, "action": "close", "reason": "confirmed_deduction",
        "next": f"/portal/devices/{second}"})  # fmt: skip
    assert shut.status_code == 302
    after = client.get(f"/portal/plants/{plant.org}?period=2026Q2").get_data(as_text=True)
    assert f'data-case="{case}"' not in after

    # Another region's auditor: 403 on the page, the sheet and the action.
    make_actor("REG-AH", "regulator", role="auditor", region="341282", username="ah.reviewer",
               password=PASSWORD)  # fmt: skip
    assert sign_in(client, "ah.reviewer").status_code == 302
    assert client.get(url).status_code == 403
    assert (
        client.get(f"/portal/plants/{plant.org}/sample.csv?period={closed.name}").status_code == 403
    )
    token = csrf_token(client.get("/portal/cases").get_data(as_text=True))
    assert record(qr_id=first, outcome="no_footage").status_code == 403
