"""The regulator's instance (issue 21 item 4, SPEC §3): two served deployments — a plant's and
the regulator's, each with its own database — and one anvil.

The regulator deploys the registry, registers the plant and authorises its
address; the plant configures only the published trust file and anchors with
its own key. The plant's database administrator then edits an anchored
receipt, deletes an anchored dismantling and back-dates a washer (recorded
under a September clock while the chain's blocks are timed in December). The
regulator imports over HTTP (`traceability import DIS-SZ01 --from URL --token
TOKEN`, the EPCIS query's pages) and must store the honest events as
verified, the back-dated ones as ``late``, refuse the edited one with its
reason, find the deleted one missing, raise each as a finding on its own
instance, and keep its figures when the plant's database changes again.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from ledger.chain import Web3Ledger
from ledger.node import DEV_KEYS, ManagedNode, set_chain_time
from tests.ledger_fixtures import require_node_binary
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id
from tests.support.ledger import anchor
from tests.support.live import LiveServer, live_server
from tests.support.web import sign_in
from traceability import create_app
from traceability.anchoring.models import AnchorLeaf
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import run_audit
from traceability.cli import main
from traceability.clock import ShiftedClock
from traceability.custody.models import Event
from traceability.federation import ImportRun, PlantSource, import_plant, watch
from traceability.federation import source as source_module
from traceability.periods import CHINA
from traceability.register.services import register_org
from traceability.reports.devices import open_reader
from traceability.verification.models import ImportRecord

pytestmark = pytest.mark.integration

OWNER_KEY, PLANT_KEY = DEV_KEYS["anvil"][0], DEV_KEYS["anvil"][1]
PLANT = "DIS-SZ01"
GENESIS = dt.datetime(2026, 7, 1, tzinfo=CHINA)
AUGUST = dt.datetime(2026, 8, 10, 9, 0, tzinfo=CHINA)
SEPTEMBER = dt.datetime(2026, 9, 15, 9, 0, tzinfo=CHINA)
DECEMBER = dt.datetime(2026, 12, 5, 10, 0, tzinfo=CHINA)
WASHER = {"category": "washing_machine", "attributes": {"type": "drum", "dry_load_kg": "7"}}
OUTPUTS = [
    {"fraction": "motor", "weight_kg": "8"},
    {"fraction": "ferrous_metal", "weight_kg": "14"},
    {"fraction": "plastics", "weight_kg": "5"},
]


def invoke(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj=trace_of(app), catch_exceptions=False)


def ok(app: Flask, *args: str) -> Result:
    done = invoke(app, *args)
    assert done.exit_code == 0, done.output
    return done


def washer(client: FlaskClient, plant: Actor, at: dt.datetime) -> str:
    """Collected, received and dismantled at the plant, at ``at`` and the minutes after."""
    stamps = [(at + dt.timedelta(minutes=m)).isoformat() for m in (0, 30, 60)]
    response = client.post(
        "/api/v1/devices", json={**WASHER, "occurred_at": stamps[0]}, headers=plant.headers
    )
    assert response.status_code == 201, response.get_json()
    qr_id: str = response.get_json()["qr_id"]
    Handheld(client, plant).record(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": "30",
         "occurred_at": stamps[1]},
        {"id": new_id(), "type": "dismantled", "qr_id": qr_id, "outputs": OUTPUTS,
         "occurred_at": stamps[2]},
    )  # fmt: skip
    return qr_id


def events_of(app: Flask, qr_id: str) -> list[tuple[str, str, str]]:
    """(id, type, digest) of a device's events, in recording order."""
    with Session(trace_of(app).engine) as session:
        rows = session.execute(
            select(Event.id, Event.type, Event.digest)
            .where(Event.device == qr_id)
            .order_by(Event.seq)  # type: ignore[arg-type]
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def imports(app: Flask) -> list[ImportRecord]:
    with Session(trace_of(app).engine) as session:
        return list(session.execute(select(ImportRecord).order_by(ImportRecord.id)).scalars())  # type: ignore[arg-type]


def run_import(regulator: Flask, plant: LiveServer, token: str) -> Result:
    return invoke(regulator, "import", PLANT, "--from", plant.url, "--token", token)


@dataclass
class Federation:
    regulator: LiveServer
    plant: LiveServer
    auditor: Actor  # the regulator's auditor, on the regulator's instance
    token: str  # the regulator's reader token at the plant
    honest: list[str]
    edited: tuple[str, str]  # (device, event id) edited after anchoring
    deleted: tuple[str, str]  # (device, event id) deleted after anchoring
    backdated: str
    first: Result  # the first import's output

    def verify(self, qr_id: str) -> dict[str, Any]:
        response = self.regulator.client().get(
            f"/api/v1/devices/{qr_id}/verify", headers=self.auditor.headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def detail(self, qr_id: str) -> dict[str, Any]:
        response = self.regulator.client().get(
            f"/api/v1/devices/{qr_id}", headers=self.auditor.headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedNode]:
    require_node_binary("anvil")
    with ManagedNode(
        "anvil",
        data_dir=tmp_path_factory.mktemp("federation-node"),
        genesis_time=int(GENESIS.timestamp()),
    ) as started:
        yield started


def _regulator_sets_up(regulator: LiveServer, plant_address: str, trust: Path) -> None:
    ok(regulator.app, "ledger", "deploy", "--out", str(trust))
    ok(regulator.app, "orgs", "add", PLANT, "--kind", "dismantler", "--name", "苏州拆解厂",
       "--region", "320500", "--license", "苏环废电证第01号")  # fmt: skip
    ok(regulator.app, "ledger", "authorize", plant_address, "--org", PLANT, "--out", str(trust))


def _tamper(plant: LiveServer, edited: str, deleted: str) -> None:
    """The plant's database administrator: one receipt 1 kg lighter, one dismantling gone."""
    with Session(trace_of(plant.app).engine) as session:
        payload = session.execute(select(Event.payload).where(Event.id == edited)).scalar_one()
        session.execute(
            update(Event)
            .where(Event.id == edited)  # type: ignore[arg-type]
            .values(payload={**payload, "weight_g": payload["weight_g"] - 1000})
        )
        seq = session.execute(select(Event.seq).where(Event.id == deleted)).scalar_one()
        session.execute(delete(AnchorLeaf).where(AnchorLeaf.event_seq == seq))  # type: ignore[arg-type]
        session.execute(delete(Event).where(Event.id == deleted))  # type: ignore[arg-type]
        session.commit()


def _backdate(plant: LiveServer, operator: Actor, node: ManagedNode) -> str:
    """December on the chain; the admin's app says September."""
    set_chain_time(node.url, int(DECEMBER.timestamp()))
    settings = trace_of(plant.app).settings.model_dump()
    forger = create_app(settings, clock=ShiftedClock(SEPTEMBER))
    try:
        qr_id = washer(forger.test_client(), operator, SEPTEMBER - dt.timedelta(hours=3))
        assert anchor(forger.test_client(), operator)["anchored"] == 3
    finally:
        trace_of(forger).engine.dispose()
    return qr_id


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory, node: ManagedNode) -> Iterator[Federation]:
    base = tmp_path_factory.mktemp("federation")
    (base / "regulator").mkdir()
    (base / "plant").mkdir()
    trust = base / "published-trust.json"
    plant_address = Web3Ledger.from_rpc(
        node.url, private_key=PLANT_KEY, contract_address=None
    ).address
    rpc = {"ledger_mode": "rpc", "ledger_url": node.url, "anchor_max_delay_s": 3600}
    # the regulator's instance lives in December (its default portal quarter: 2026Q3)
    with live_server(base / "regulator", clock=ShiftedClock(DECEMBER),
                     ledger_owner_key=OWNER_KEY, ledger_key=None, **rpc) as regulator:  # fmt: skip
        _regulator_sets_up(regulator, plant_address, trust)
        auditor = regulator.actor("REG-JS", "regulator", "auditor", region="320000")
        with live_server(
            base / "plant", clock=ShiftedClock(AUGUST), ledger_key=PLANT_KEY,
            ledger_owner_key=None, ledger_trust_file=trust, **rpc,
        ) as plant:  # fmt: skip
            operator = plant.actor(PLANT, "dismantler", "operator")
            reader = plant.actor("REG-JS", "regulator", "auditor", region="320000")
            set_chain_time(node.url, int(AUGUST.timestamp()))
            client = plant.client()
            # two honest washers in one batch; then two the administrator will tamper with
            honest = [washer(client, operator, AUGUST - dt.timedelta(hours=3, minutes=n))
                      for n in range(2)]  # fmt: skip
            assert anchor(client, operator)["anchored"] >= 6
            devices = [washer(client, operator, AUGUST - dt.timedelta(hours=2, minutes=n))
                       for n in range(2)]  # fmt: skip
            assert anchor(client, operator)["anchored"] == 6
            [edited] = [i for i, t, _ in events_of(plant.app, devices[0]) if t == "received"]
            [deleted] = [i for i, t, _ in events_of(plant.app, devices[1]) if t == "dismantled"]
            _tamper(plant, edited, deleted)
            backdated = _backdate(plant, operator, node)
            first = run_import(regulator.app, plant, reader.token)
            yield Federation(
                regulator, plant, auditor, reader.token, honest,
                (devices[0], edited), (devices[1], deleted), backdated, first,
            )  # fmt: skip


def test_the_plants_events_are_imported_and_verified_on_the_regulators_instance(
    federation: Federation,
) -> None:
    f = federation
    assert f.first.exit_code == 1, f.first.output  # something was refused or missing
    assert "Traceback" not in f.first.output
    for qr_id in f.honest:
        plants = events_of(f.plant.app, qr_id)
        assert [t for _, t, _ in plants] == ["collected", "received", "dismantled"]
        assert events_of(f.regulator.app, qr_id) == plants  # same ids, same digests
        verdict = f.verify(qr_id)
        assert verdict["verified"] is True, verdict
        assert {e["status"] for e in verdict["events"]} == {"verified"}
        assert f.detail(qr_id)["state"] == "dismantled"  # the projection, replayed here
    outcomes = {(r.event_id, r.status) for r in imports(f.regulator.app)}
    for qr_id in f.honest:
        assert {(i, "imported") for i, _, _ in events_of(f.plant.app, qr_id)} <= outcomes


def test_an_event_edited_after_anchoring_is_refused_with_its_reason_and_is_a_finding(
    federation: Federation,
) -> None:
    f = federation
    qr_id, edited = f.edited
    stored = [i for i, _, _ in events_of(f.regulator.app, qr_id)]
    assert edited not in stored  # never a fact
    assert [t for _, t, _ in events_of(f.regulator.app, qr_id)] == ["collected"]
    [refusal] = [r for r in imports(f.regulator.app) if r.event_id == edited]
    assert refusal.status == "refused" and refusal.plant == PLANT
    assert refusal.reason is not None and refusal.reason.startswith("tampered")
    assert "edited after anchoring" in refusal.reason
    assert f"refused  {edited}: tampered" in f.first.output
    # the dismantling after it links to a record refused here: refused too, not stored
    [after] = [i for i, t, _ in events_of(f.plant.app, qr_id) if t == "dismantled"]
    [chained] = [r for r in imports(f.regulator.app) if r.event_id == after]
    assert chained.status == "refused" and "broken chain" in (chained.reason or "")
    findings = _findings(f.regulator.app)
    found = [x for x in findings if x.rule == "import_refused" and edited in x.events]
    assert [(x.org, x.subject) for x in found] == [(PLANT, qr_id)]
    assert "edited after anchoring" in found[0].params["problem"]
    # and the device itself no longer verifies on the regulator's instance
    assert f.verify(qr_id)["verified"] is False


def test_an_event_deleted_from_the_plants_database_shows_as_missing(
    federation: Federation,
) -> None:
    f = federation
    qr_id, _ = f.deleted
    assert [t for _, t, _ in events_of(f.regulator.app, qr_id)] == ["collected", "received"]
    missing = [r for r in imports(f.regulator.app) if r.status == "missing"]
    assert len(missing) == 1
    [gone] = missing
    assert gone.root is not None and gone.leaf_index is not None
    assert "does not produce its record" in (gone.reason or "")
    # the leaf that is missing is the deleted event's anchored digest
    with Session(trace_of(f.regulator.app).engine) as session:
        from traceability.anchoring.models import AnchorBatch

        batch = session.execute(
            select(AnchorBatch).where(AnchorBatch.root == gone.root)
        ).scalar_one()  # type: ignore[arg-type]
        leaf = bytes(batch.leaves)[gone.leaf_index * 32 : (gone.leaf_index + 1) * 32].hex()
    assert leaf == gone.digest
    findings = [x for x in _findings(f.regulator.app) if x.rule == "import_refused"]
    assert any(x.params["status"] == "missing" and x.org == PLANT for x in findings)
    verdict = f.verify(qr_id)
    assert verdict["verified"] is False and "incomplete" in verdict.get("ledger_problem", "")


def test_a_backdated_event_is_late_on_the_regulators_instance(federation: Federation) -> None:
    f = federation
    plants = events_of(f.plant.app, f.backdated)
    assert events_of(f.regulator.app, f.backdated) == plants  # stored: late is a fact
    verdict = f.verify(f.backdated)
    assert [e["status"] for e in verdict["events"]] == ["late"] * 3
    assert verdict["verified"] is False
    late = [r for r in imports(f.regulator.app) if r.status == "late"]
    assert {r.event_id for r in late} == {i for i, _, _ in plants}


def test_the_regulators_portal_reads_the_imported_devices_and_the_refusals(
    federation: Federation,
) -> None:
    f = federation
    refresh(trace_of(f.regulator.app), force=True)  # serve's refresher does this in the background
    client = f.regulator.client()
    assert sign_in(client, f.auditor.username).status_code == 302
    english = {"Accept-Language": "en"}
    qr_id, _ = f.edited
    listed = client.get("/portal/anomalies?period=2026Q3&rule=import_refused", headers=english)
    assert listed.status_code == 200
    page = listed.get_data(as_text=True)
    assert "Imported record refused or missing" in page
    assert qr_id in page and "edited after anchoring" in page and "on chain, but the plant" in page
    honest = client.get(f"/portal/devices/{f.honest[0]}", headers=english)
    assert 'data-device-verification="verified"' in honest.get_data(as_text=True)
    late = client.get(f"/portal/devices/{f.backdated}", headers=english).get_data(as_text=True)
    assert 'data-device-verification="late"' in late
    refused = client.get(f"/portal/devices/{qr_id}", headers=english).get_data(as_text=True)
    assert 'data-device-verification="verified"' not in refused


def test_importing_again_stores_nothing_twice(federation: Federation) -> None:
    f = federation
    before = _state(f.regulator.app)
    again = run_import(f.regulator.app, f.plant, f.token)
    assert "Traceback" not in again.output
    assert "imported 0, late 0" in again.output and "duplicate" in again.output
    assert _state(f.regulator.app) == before


def test_the_regulators_figures_do_not_change_when_the_plants_database_does(
    federation: Federation,
) -> None:
    f = federation
    honest = f.honest[0]
    details = {q: f.detail(q) for q in f.honest}
    events = _state(f.regulator.app)["events"]
    audit = _figures(f.regulator.app)
    # the plant's administrator now rewrites an imported receipt and deletes an imported event
    [received] = [i for i, t, _ in events_of(f.plant.app, honest) if t == "received"]
    [gone] = [i for i, t, _ in events_of(f.plant.app, f.honest[1]) if t == "dismantled"]
    _tamper(f.plant, received, gone)

    done = run_import(f.regulator.app, f.plant, f.token)

    assert "Traceback" not in done.output
    assert {q: f.detail(q) for q in f.honest} == details
    assert _state(f.regulator.app)["events"] == events
    assert _figures(f.regulator.app) == audit
    [changed] = [r for r in imports(f.regulator.app) if r.key.startswith(f"event:{received}:")]
    assert changed.status == "refused" and "the imported one stands" in (changed.reason or "")


def test_bad_input_is_refused_by_name_without_a_traceback(federation: Federation) -> None:
    f = federation
    cases = {
        ("DIS-XX99", f.plant.url, f.token): "no organisation DIS-XX99",
        (PLANT, f.plant.url, "not-a-token"): "refused the token (401)",
        (PLANT, "http://127.0.0.1:9", f.token): "cannot reach the plant",
        (PLANT, "ftp://plant", f.token): "--from must be the plant's http(s) URL",
    }
    before = _state(f.regulator.app)
    for (plant, url, token), said in cases.items():
        done = invoke(f.regulator.app, "import", plant, "--from", url, "--token", token)
        assert done.exit_code == 1, done.output
        assert said in done.output and "Traceback" not in done.output
    # the regulator's own URL: a deployment that does not anchor with the plant's submitter
    own = invoke(f.regulator.app, "import", PLANT, "--from", f.regulator.url, "--token",
                 f.auditor.token)  # fmt: skip
    assert own.exit_code == 1 and "is it DIS-SZ01's deployment?" in own.output
    assert _state(f.regulator.app) == before


def test_the_plant_publishes_an_anchored_batch_to_readers_only(federation: Federation) -> None:
    f = federation
    client = f.plant.client()
    headers = {"Authorization": f"Bearer {f.token}"}
    assert client.get("/api/v1/ledger/batches/xyz", headers=headers).status_code == 422
    assert client.get("/api/v1/ledger/batches/" + "ab" * 32, headers=headers).status_code == 404
    assert client.get("/api/v1/ledger/batches/" + "ab" * 32).status_code == 401
    root = next(r.root for r in imports(f.regulator.app) if r.root)
    body = client.get(f"/api/v1/ledger/batches/{root}", headers=headers).get_json()
    assert body["root"] == root and len(body["leaves"]) == body["size"]


# -- helpers reading the regulator's instance ----------------------------------------------


def _findings(app: Flask) -> list[Any]:
    trace = trace_of(app)
    with Session(trace.engine) as session:
        audit = run_audit(
            session,
            ledger=open_reader(session, trace.ledger),
            catalog=trace.catalog,
            ruleset=load_ruleset(),
            period=None,
            now=DECEMBER + dt.timedelta(days=1),
        )
    return list(audit.findings)


def _figures(app: Flask) -> list[tuple[str, str, str, str]]:
    return sorted(
        (x.rule, x.org, x.subject, json.dumps(x.params, sort_keys=True, default=str))
        for x in _findings(app)
        if x.rule != "import_refused"
    )


def _state(app: Flask) -> dict[str, Any]:
    with Session(trace_of(app).engine) as session:
        events = list(session.execute(select(Event.id, Event.digest).order_by(Event.seq)))  # type: ignore[arg-type]
        count = session.execute(select(func.count()).select_from(ImportRecord)).scalar_one()
    return {"events": [tuple(e) for e in events], "imports": count}


def test_watch_imports_as_a_service_until_stopped(federation: Federation) -> None:
    f = federation
    stop, runs = threading.Event(), []

    def report(run: ImportRun) -> None:
        runs.append(run)
        stop.set()  # one round is enough here: the service would wait its interval

    before = _state(f.regulator.app)["events"]
    source = PlantSource(f.plant.url, f.token)
    try:
        watch(trace_of(f.regulator.app), PLANT, source, interval_s=3600, report=report, stop=stop)
    finally:
        source.close()
    [run] = runs
    assert run.counts["duplicate"] > 0 and run.counts["imported"] == 0
    assert _state(f.regulator.app)["events"] == before


@contextmanager
def _another_regulator(f: Federation, directory: Path) -> Iterator[LiveServer]:
    """A second regulator's instance on a database of its own: the published trust file, the
    plant registered with its submitter, nothing imported yet."""
    settings = trace_of(f.plant.app).settings
    plant_address = Web3Ledger.from_rpc(
        str(settings.ledger_url), private_key=PLANT_KEY, contract_address=None
    ).address
    with live_server(
        directory, clock=ShiftedClock(DECEMBER), ledger_mode="rpc",
        ledger_url=settings.ledger_url, ledger_trust_file=settings.ledger_trust_file,
        ledger_key=None, ledger_owner_key=None, anchor_max_delay_s=3600,
    ) as regulator:  # fmt: skip
        with Session(trace_of(regulator.app).engine) as session:
            register_org(session=session, code=PLANT, kind="dismantler", name="苏州拆解厂",
                         region="320500", license_no="苏环废电证第01号",
                         submitter=plant_address)  # fmt: skip
            session.commit()
        yield regulator


def _fresh_import(f: Federation, directory: Path) -> tuple[ImportRun, list[Any], list[Any]]:
    """A second regulator's import of the plant as it is now: the run, the events stored,
    the outcomes (key, status, event)."""
    source = PlantSource(f.plant.url, f.token)
    with _another_regulator(f, directory) as regulator:
        try:
            run = import_plant(trace_of(regulator.app), PLANT, source)
        finally:
            source.close()
        outcomes = sorted((r.key, r.status, r.event_id) for r in imports(regulator.app))
        with Session(trace_of(regulator.app).engine) as session:
            stored = session.execute(  # the plant's events (not this register's own)
                select(Event.id, Event.digest).where(Event.organisation.is_(None))  # type: ignore[union-attr]
            )
            events = sorted(tuple(e) for e in stored)
        assert len(events) == run.counts["imported"] + run.counts["late"]
        return run, events, outcomes


def test_an_import_in_small_pages_stores_what_one_page_does(
    federation: Federation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of three events (the next one fetched while this one is checked): every chain
    crosses pages, and the same events are stored with the same outcomes as in one page."""
    one_page = _fresh_import(federation, tmp_path / "one")
    monkeypatch.setattr(source_module, "PER_PAGE", 3)
    small = _fresh_import(federation, tmp_path / "small")
    assert one_page[0].pages == 1 and small[0].pages > 3
    assert small[0].counts == one_page[0].counts
    assert small[0].counts["imported"] > 0 and small[0].counts["refused"] > 0
    assert small[1] == one_page[1]
    assert small[2] == one_page[2]


class _RenamingPlant(PlantSource):
    """A plant whose export lists two records each under the other's eventID (a forged page:
    the plant's own software never does this)."""

    swapped: tuple[str, str] = ("", "")

    def pages(self) -> Iterator[dict[str, Any]]:
        for document in super().pages():
            proofs = document["trace:proofs"]
            first, second = (
                next(k for k, v in proofs.items() if v[0]["trace:record"]["id"] == event_id)
                for event_id in self.swapped
            )
            proofs[first], proofs[second] = proofs[second], proofs[first]
            yield document


def test_an_event_under_another_events_id_is_refused_with_both_hashes(
    federation: Federation, tmp_path: Path
) -> None:
    """Item 2: the regulator recomputes each record's eventID (GS1 event hash) and refuses one
    the plant lists under another ID — here on a regulator database of its own."""
    f = federation
    collected = [next(i for i, t, _ in events_of(f.plant.app, q) if t == "collected")
                 for q in f.honest]  # fmt: skip
    source = _RenamingPlant(f.plant.url, f.token)
    source.swapped = (collected[0], collected[1])
    with _another_regulator(f, tmp_path) as regulator:
        try:
            run = import_plant(trace_of(regulator.app), PLANT, source)
        finally:
            source.close()
        stored = {i for i, _, _ in events_of(regulator.app, f.honest[0])}
        stored |= {i for i, _, _ in events_of(regulator.app, f.honest[1])}
        refusals = {r.event_id: r for r in imports(regulator.app) if r.status == "refused"}
    assert run.counts["imported"] > 0  # the records under their own IDs were imported
    for event_id in collected:
        assert event_id not in stored
        reason = refusals[event_id].reason or ""
        assert "is not the GS1 event hash of its record" in reason
        # both hashes are named: the ID it was listed under and the one recomputed here
        assert reason.count("ni:///sha-256;") == 2
    # what follows a renamed collection links to a refused record: refused, never stored
    for qr_id in f.honest:
        later = [i for i, t, _ in events_of(f.plant.app, qr_id) if t != "collected"]
        assert not stored & set(later)
        assert all(i in refusals for i in later)
