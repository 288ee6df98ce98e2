"""The demo data set: a whole, consistent quarter, loaded through the real services."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, col, select
from werkzeug.security import generate_password_hash

from ledger.canonical import digest_hex
from ledger.node import free_port, latest_block_time
from tests.ledger_fixtures import require_node_binary
from traceability import create_app, demo
from traceability.anchoring.connection import managed_node, open_ledger
from traceability.anchoring.models import AnchorBatch
from traceability.app import trace_of
from traceability.catalog.services import required_fractions
from traceability.cli import main as cli
from traceability.custody.models import Event
from traceability.devices.models import Device, DeviceState
from traceability.lots.models import Lot, LotManifest, LotState
from traceability.models import metadata
from traceability.register.licensing import read_licences
from traceability.savings.models import Batch
from traceability.verification.services import content_of

QUARTER_START = dt.datetime(2026, 7, 1, tzinfo=demo.CST)
QUARTER_END = dt.datetime(2026, 10, 1, tzinfo=demo.CST)
#: The end of the day the demo re-weighs one intake after the quarter closed (demo.cases).
AFTER_CLOSE = dt.datetime(2026, 10, 10, tzinfo=demo.CST)
#: The end of the day the regulator amends a licence with an earlier effect, after the
#: quarter (demo/data/licences.toml [[amendments]]).
AMENDED = dt.datetime(2026, 10, 13, tzinfo=demo.CST)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt costs ~0.1 s per demo user; these tests are about the data, not the hashes."""
    monkeypatch.setattr(
        "traceability.accounts.services.generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1"),
    )


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in metadata.sorted_tables
    }


def test_quarter_covers_every_category_state_batch_and_lot_state(
    app: Flask, session: Session
) -> None:
    summary = demo.load(trace_of(app), devices=300, seed=2026)

    devices = session.exec(select(Device)).all()
    assert len(devices) == 300
    assert {d.category for d in devices} == set(trace_of(app).catalog.categories)
    assert {d.state for d in devices} == set(DeviceState)
    assert {d.custodian for d in devices if d.state == "collected"} & {
        "COL-SZ01",
        "COL-WX01",
        "COL-BJ01",
        "COL-BJ02",
        "COL-GZ01",
    }
    assert any(d.collected_by.startswith("DIS-") for d in devices), "some collected at plants"

    dismantled = [d for d in devices if d.state == "dismantled"]
    assert dismantled and all(d.batch_id is not None for d in dismantled)
    batches = {b.id: b for b in session.exec(select(Batch)).all()}
    assert all(
        d.batch_id in batches and batches[d.batch_id].org == d.dismantled_by for d in dismantled
    )
    assert all(
        b.code[:10] == f"{b.created_at.astimezone(demo.CST):%Y-%m-%d}"
        and b.code[10:] in ("-L1", "-L2", "-L3")
        for b in batches.values()
    )

    lots = session.exec(select(Lot)).all()
    assert {lot.state for lot in lots} == set(LotState)
    shipped = [lot for lot in lots if lot.state != "open"]
    assert all(lot.manifest_no and lot.destination in ("PRO-AH01", "PRO-QY01") for lot in shipped)

    serials = session.exec(
        select(Device.serial, func.count())
        .where(col(Device.serial).is_not(None))
        .group_by(Device.serial)
        .having(func.count() > 1)
    ).all()
    assert serials, "a duplicated manufacturer serial for the audit portal"
    assert (
        session.exec(select(func.count()).select_from(Event).where(Event.type == "corrected")).one()
        >= 2
    )
    assert "sz.intake" in summary and demo.PASSWORD in summary and "trc_" in summary


def test_dismantling_mostly_follows_the_rules_and_balances_mass(
    app: Flask, session: Session
) -> None:
    demo.load(trace_of(app), devices=150, seed=7)
    catalog = trace_of(app).catalog
    devices = {d.qr_id: d for d in session.exec(select(Device)).all()}
    events = session.exec(select(Event).where(Event.type == "dismantled")).all()
    regular = irregular = balanced = 0
    for event in events:
        assert event.device is not None
        device = devices[event.device]
        outputs = {o["fraction"]: o["weight_g"] for o in event.payload["outputs"]}
        needed = required_fractions(catalog, device.category, device.attributes)
        if needed:
            if needed <= {f for f, g in outputs.items() if g > 0}:
                regular += 1
            else:
                irregular += 1
        assert device.received_weight_g
        balanced += 0.85 <= sum(outputs.values()) / device.received_weight_g <= 0.98
    assert irregular >= 1 and regular >= 0.95 * (regular + irregular)
    assert balanced >= 0.97 * len(events)


def test_every_event_chain_links_and_every_digest_recomputes(app: Flask, session: Session) -> None:
    demo.load(trace_of(app), devices=60, seed=11)

    chains: dict[str, list[Event]] = defaultdict(list)
    for event in session.exec(select(Event).order_by(col(Event.seq))).all():
        subject = f"org:{event.organisation}" if event.organisation else f"lot:{event.lot}"
        chains[event.device or subject].append(event)
        assert digest_hex(content_of(event)) == event.digest, event.id
        assert QUARTER_START <= event.occurred_at <= event.recorded_at
        # the quarter's events, the one correction planted after its close (demo.cases)
        # and the licence amended after it (demo/data/licences.toml)
        assert (
            event.recorded_at < QUARTER_END
            or (event.type == "corrected" and event.recorded_at < AFTER_CLOSE)
            or (event.type == "licence_amended" and event.recorded_at < AMENDED)
        ), event
    assert len([k for k in chains if not k.startswith(("lot:", "org:"))]) == 60
    assert any(k.startswith("org:") for k in chains)  # the register, recorded in the quarter
    for events in chains.values():
        assert events[0].prev is None
        for earlier, later in itertools.pairwise(events):
            assert later.prev == earlier.digest
            assert later.occurred_at >= earlier.occurred_at
    for device in session.exec(select(Device)).all():
        assert device.head_digest == chains[device.qr_id][-1].digest


def test_a_second_load_changes_nothing_and_says_so(app: Flask, session: Session) -> None:
    demo.load(trace_of(app), devices=60, seed=3)
    before = _row_counts(session)

    summary = demo.load(trace_of(app), devices=60, seed=3)

    assert _row_counts(session) == before
    assert "already loaded" in summary and "trc_" not in summary


@pytest.mark.integration
def test_on_a_fresh_managed_chain_the_quarter_is_anchored_on_time(tmp_path: Path) -> None:
    """`make run`'s demo: no event of the past quarter verifies as late (SPEC §3 "Time")."""
    require_node_binary("anvil")
    app = create_app(
        {"env": "test", "data_dir": tmp_path, "ledger_mode": "managed", "ledger_port": free_port()}
    )
    try:
        loaded = CliRunner().invoke(cli, ["demo", "--devices", "60"], obj=trace_of(app))
        assert loaded.exit_code == 0, loaded.output
        checked = CliRunner().invoke(cli, ["verify", "--all"], obj=trace_of(app))
        assert checked.exit_code == 0, checked.output
        counts = checked.output.split("events: ", 1)[1].splitlines()[0]
        assert counts.startswith("verified ") and "," not in counts  # only verified: none late
        with managed_node(trace_of(app).settings):
            url = open_ledger(trace_of(app).ledger).submitter.rpc_url
            # anchored day by day inside the quarter, then the chain went on in the present
            with Session(trace_of(app).engine) as session:
                times = [
                    dt.datetime.fromtimestamp(open_ledger(trace_of(app).ledger).submitter.get_anchor(
                        bytes.fromhex(root)).timestamp, dt.UTC)  # type: ignore[union-attr]
                    for root in session.exec(select(AnchorBatch.root)).all()
                ]  # fmt: skip
            # (and the correction planted after the close, and the licence amended after
            # it, each on its own day)
            assert times and all(QUARTER_START <= t < AMENDED for t in times)
            assert sum(t >= QUARTER_END for t in times) <= 2
            assert sum(t >= AFTER_CLOSE for t in times) == 1
            mined = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine"})
            assert "error" not in mined.json()
            assert latest_block_time(url) > time.time() - 600  # a new block is timed now
    finally:
        trace_of(app).engine.dispose()


def test_plants_and_processors_are_licensed_and_lots_travel_on_manifests(
    app: Flask, session: Session
) -> None:
    demo.load(trace_of(app), devices=300, seed=2026)

    book = read_licences(session)
    plants = {"DIS-SZ01", "DIS-BJ01", "DIS-GZ01"}
    july = dt.date(2026, 7, 15)
    assert all(book.licensed_categories(p, july) for p in plants)
    jiangsu = {"DIS-NJ01", "DIS-WX02", "DIS-CZ01", "DIS-NT01"}
    assert all(book.licensed_categories(p, july) for p in jiangsu)
    # withdrawn after the quarter with effect from 1 September (unlicensed_category's case)
    assert "microcomputer" in book.licensed_categories("DIS-NT01", dt.date(2026, 8, 31))
    assert "microcomputer" not in book.licensed_categories("DIS-NT01", dt.date(2026, 9, 1))
    assert book.licensed_categories("DIS-CZ01", july)["air_conditioner"] == 24  # capacity's
    assert all(book.scope_on(p, "hazardous_waste", july) for p in ("PRO-AH01", "PRO-QY01"))
    assert "copier" not in book.licensed_categories("DIS-BJ01", july)  # unlicensed somewhere
    expired = [lic for lic in book.of("PRO-QY01") if lic.terms_on(july) is None]
    assert expired and expired[0].latest.valid_to < july
    copiers = session.exec(select(Device).where(Device.category == "copier")).all()
    assert copiers and all(d.dismantled_by != "DIS-BJ01" for d in copiers)
    shipped = session.exec(select(Lot).where(Lot.state != "open")).all()
    manifests = session.exec(select(LotManifest)).all()
    assert {m.lot for m in manifests} == {lot.code for lot in shipped}
    assert {lot.cross_province for lot in shipped} == {True, False}  # e.g. Suzhou → Anhui
    hazardous = [m for m in manifests if m.hw_code]
    assert hazardous and all(m.number[4:6] in ("32", "11", "44") for m in hazardous)
    stocktakes = session.exec(select(Event).where(Event.type == "stocktake")).all()
    assert stocktakes and all(e.lot for e in stocktakes)
