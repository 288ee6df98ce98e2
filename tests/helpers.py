"""What tests (and bench/) share: throwaway databases, actors, API steps, waiting.

Test modules import helpers from here, never from another test module or a
conftest, so moving a test never breaks another.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine, create_engine, func, make_url, select, text, update
from sqlmodel import Session
from werkzeug.serving import make_server

from ledger.chain import Web3Ledger
from ledger.node import DEV_KEYS, ManagedNode
from traceability import create_app, migrate
from traceability.accounts import services as accounts
from traceability.anchoring.connection import open_ledger, read_meta
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.labels.ids import mint_id
from traceability.labels.models import MintedId
from traceability.models import metadata
from traceability.register.services import register_org

T = TypeVar("T")

# -- databases ------------------------------------------------------------------

PG_URL = os.environ.get("TRACE_TEST_DATABASE_URL", "")


def postgres_schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's search_path set to ``schema``."""
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}"


def unique_name(prefix: str) -> str:
    """A schema or database name no other test, xdist worker or benchmark uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def postgres_schema(base_url: str, prefix: str = "t") -> Iterator[str]:
    """A new, empty schema in ``base_url``'s database, dropped afterwards; yields its URL."""
    schema = unique_name(prefix)
    admin = create_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            yield postgres_schema_url(base_url, schema)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@contextmanager
def postgres_database(base_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database beside ``base_url``'s (a copy of ``template`` if given), dropped afterwards.

    Copying a template database is PostgreSQL's own way to clone a whole
    database; it needs the template to have no open connection.
    """
    name = unique_name(prefix)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = f" TEMPLATE {template}" if template else ""
            conn.execute(text(f"CREATE DATABASE {name}{copy}"))
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@dataclass(frozen=True)
class DatabaseTemplate:
    """A database built once (by a module-scoped fixture) that tests start from a copy of."""

    url: str

    @property
    def postgres_name(self) -> str:
        name = make_url(self.url).database
        assert name, self.url
        return name


@contextmanager
def template_database(directory: Path) -> Iterator[DatabaseTemplate]:
    """An empty database to build a template in: a SQLite file, or a PostgreSQL database."""
    if not PG_URL:
        yield DatabaseTemplate(f"sqlite:///{directory / 'template.db'}")
        return
    with postgres_database(PG_URL, "tpl") as url:
        yield DatabaseTemplate(url)


@contextmanager
def fresh_database(directory: Path, template: DatabaseTemplate | None = None) -> Iterator[str]:
    """The URL of a database of one test's own: empty, or a copy of ``template``.

    SQLite by default (a file in ``directory``); with TRACE_TEST_DATABASE_URL a
    PostgreSQL schema (empty) or database (copied), unique across xdist workers.
    """
    if not PG_URL:
        path = directory / "trace.db"
        if template is not None:
            # The backup API copies a consistent image, WAL content included.
            source, copy = (
                sqlite3.connect(make_url(template.url).database or ""),
                sqlite3.connect(path),
            )
            try:
                source.backup(copy)
            finally:
                source.close()
                copy.close()
        yield f"sqlite:///{path}"
        return
    if template is None:
        with postgres_schema(PG_URL) as url:
            yield url
    else:
        with postgres_database(PG_URL, "t", template=template.postgres_name) as url:
            yield url


def default_settings(database_url: str, data_dir: Path) -> dict[str, Any]:
    """The settings every test app starts from."""
    return {
        "env": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "ledger_mode": "off",
        "public_url": "https://trace.example.cn",
        # One deployment's secret: apps sharing a database (a template's and its
        # copies', a plant's and its regulator's view) seal audit snapshots alike.
        "secret_key": "tests-only-secret-key-0123456789abcdef",
    }


def snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of every table and the full content of the event log and devices."""
    with engine.connect() as conn:
        state: dict[str, Any] = {
            f"count:{t.name}": conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
        for table in (metadata.tables["event"], metadata.tables["device"]):
            state[table.name] = [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
    return state


def edit_row(app: Flask, qr_id: str, **values: Any) -> None:
    """What a DB admin can do: change a projection row behind the application's back."""
    with trace_of(app).engine.begin() as conn:
        conn.execute(update(Device).where(Device.qr_id == qr_id).values(**values))  # type: ignore[arg-type]


# -- actors ---------------------------------------------------------------------


@dataclass
class Actor:
    username: str
    org: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_id() -> str:
    return str(uuid.uuid4())


def add_actor(
    app: Flask,
    org: str,
    kind: str,
    role: str = "operator",
    region: str = "320500",
    username: str | None = None,
    password: str | None = None,
) -> Actor:
    """Create (or reuse) an organisation and a user in it, and give the user a token.

    With ``password`` the user can also sign in to the browser pages.
    """
    from traceability.accounts.models import Organisation

    with Session(trace_of(app).engine) as session:
        if session.scalars(select(Organisation).where(Organisation.code == org)).first() is None:
            register_org(  # the register's event, as `traceability orgs add` records it
                session=session,
                code=org,
                kind=kind,
                name=f"{org} Co.",
                region=region,
                license_no="LIC-" + org if kind == "dismantler" else None,
                capacity_units=200_000 if kind == "dismantler" else None,
                now=trace_of(app).now(),  # the time the test's app lives in
            )
        name = username or f"{org.lower()}-{role}-{uuid.uuid4().hex[:6]}"
        accounts.add_user(
            session=session, username=name, org_code=org, role=role, password=password
        )
        token = accounts.create_token(session=session, username=name, ttl_days=30).token
        session.commit()
    return Actor(username=name, org=org, token=token)


# -- browsers (Flask's test client) ---------------------------------------------

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page carries (its form field, else its meta tag)."""
    found = _CSRF_FIELD.search(html) or _CSRF_META.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, next_path: str | None = None
) -> Any:
    """Fill in /login as a browser would (with the form's CSRF token); the response."""
    query = f"?next={next_path}" if next_path else ""
    token = csrf_token(client.get(f"/login{query}").get_data(as_text=True))
    return client.post(
        f"/login{query}", data={"username": username, "password": password, "csrf_token": token}
    )


def manager_headers(client: FlaskClient, actor: Actor) -> dict[str, str]:
    """A manager of ``actor``'s organisation (created once): only managers anchor on demand."""
    app = client.application
    cache: dict[str, dict[str, str]] = app.extensions.setdefault("tests.managers", {})
    if actor.org not in cache:
        name = f"{actor.org.lower()}-manager-{uuid.uuid4().hex[:6]}"
        with Session(trace_of(app).engine) as session:
            accounts.add_user(session=session, username=name, org_code=actor.org, role="manager")
            token = accounts.create_token(session=session, username=name, ttl_days=30).token
            session.commit()
        cache[actor.org] = {"Authorization": f"Bearer {token}"}
    return cache[actor.org]


# -- steps through the API ------------------------------------------------------

CATALOG_DATA = Path(__file__).parents[1] / "traceability" / "catalog" / "data"
CRT_TV: dict[str, Any] = {"category": "tv", "attributes": {"display": "crt", "screen_in": 21}}
OUTPUTS = {"pcb": "1.5", "plastics": "3"}  # what a CRT TV set is usually dismantled into


def catalog_toml() -> dict[str, Any]:
    with (CATALOG_DATA / "catalog.toml").open("rb") as f:
        return tomllib.load(f)


def factors_toml() -> dict[str, Any]:
    with (CATALOG_DATA / "factors.toml").open("rb") as f:
        return tomllib.load(f, parse_float=Decimal)


def post_events(client: FlaskClient, actor: Actor, *events: dict[str, Any]) -> list[dict]:
    """POST /events and return the per-item results (the request itself must succeed)."""
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]  # type: ignore[no-any-return]


def record(client: FlaskClient, actor: Actor, *events: dict[str, Any]) -> list[str]:
    """Like post_events, but every item must be created; returns the digests."""
    events = tuple({"id": new_id(), **e} for e in events)
    results = post_events(client, actor, *events)
    assert [r["status"] for r in results] == ["created"] * len(events), results
    return [r["digest"] for r in results]


def collect(client: FlaskClient, actor: Actor, **fields: Any) -> str:
    """A CRT TV set (unless ``fields`` say otherwise) collected by ``actor``; its QR ID."""
    response = client.post("/api/v1/devices", json={**CRT_TV, **fields}, headers=actor.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["qr_id"]  # type: ignore[no-any-return]


def receive(client: FlaskClient, collector: Actor, plant: Actor, weight_kg: Any = "30.5") -> str:
    """A device collected by ``collector``, shipped to ``plant`` and received there."""
    qr_id = collect(client, collector)
    record(client, collector, {"type": "shipped", "qr_id": qr_id, "to": plant.org})
    record(client, plant, {"type": "received", "qr_id": qr_id, "weight_kg": weight_kg})
    return qr_id


def dismantle(
    client: FlaskClient, plant: Actor, qr_id: str, outputs: dict[str, Any], **extra: Any
) -> str:
    [digest] = record(
        client,
        plant,
        {
            "type": "dismantled",
            "qr_id": qr_id,
            **extra,
            "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
        },
    )
    return digest


def device(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def batch(client: FlaskClient, actor: Actor, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/batches/{code}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return json.loads(response.get_data(), parse_float=Decimal)  # type: ignore[no-any-return]


@dataclass
class World:
    """Organisations (Suzhou unless said otherwise), their users and devices in every state.

    Built by tests/api/conftest.py's ``world`` fixture.
    """

    collector: Actor  # COL-SZ operator
    plant: Actor  # DIS-SZ operator
    plant_manager: Actor  # DIS-SZ manager
    plant_bj: Actor  # DIS-BJ operator, Beijing (110000)
    processor: Actor  # PRO-SZ operator
    auditor: Actor  # REG-JS auditor, Jiangsu (320000)
    auditor_bj: Actor  # REG-BJ auditor, Beijing (110000)
    admin: Actor  # SYS admin, Jiangsu (320000): reads Suzhou, not Beijing
    at_collector: str  # collected by COL-SZ
    in_transit: str  # collected by COL-SZ, shipped to DIS-SZ
    plant_collected: str  # collected by DIS-SZ itself, not yet received
    received: str  # received at DIS-SZ
    dismantled: str  # dismantled at DIS-SZ into open lots (pcb, plastics)
    bj_device: str  # received at DIS-BJ
    collected_event: str  # id of COL-SZ's `collected` event of at_collector
    shipped_event: str  # id of COL-SZ's `shipped` event of in_transit
    pcb_lot: str  # DIS-SZ's open pcb lot
    shipped_lot: str  # DIS-SZ's plastics lot, shipped to PRO-SZ
    received_lot: str  # DIS-SZ's copper lot, received by PRO-SZ
    # Ids of DIS-SZ's received/stored/dismantled events of `dismantled`, its
    # lot_shipped of shipped_lot and PRO-SZ's lot_received of received_lot.
    event_ids: dict[str, str]
    revoked: Actor  # DIS-SZ operator whose token has been revoked
    max_content_length: int  # the app's request body limit
    extra: dict[str, Any] = field(default_factory=dict)


# -- against a ledger -----------------------------------------------------------


def make_device(
    client: FlaskClient, collector: Actor, plant: Actor, weight_kg: str = "30.5"
) -> str:
    """A device collected, shipped to ``plant`` and received there: three events."""
    qr_id = collect(client, collector)
    [shipped] = post_events(
        client, collector, {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
    )
    [received] = post_events(
        client, plant, {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": weight_kg}
    )
    assert shipped["status"] == received["status"] == "created"
    return qr_id


def anchor(client: FlaskClient, actor: Actor) -> dict[str, Any]:
    """Anchor now, as a manager of ``actor``'s organisation."""
    response = client.post("/api/v1/anchors", headers=manager_headers(client, actor))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def verification(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}/verify", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def statuses(client: FlaskClient, actor: Actor, qr_id: str) -> list[str]:
    return [e["status"] for e in verification(client, actor, qr_id)["events"]]


def event_ids(client: FlaskClient, actor: Actor, qr_id: str) -> list[str]:
    return [e["id"] for e in device(client, actor, qr_id)["events"]]


def submitter(app: Flask) -> Web3Ledger:
    """The app's own submitter client, pointed at the registry it recorded."""
    with Session(trace_of(app).engine) as session:
        contract = read_meta(session)["contract"]
    return open_ledger(trace_of(app).ledger).submitter.at_address(contract)


@dataclass(frozen=True)
class Tally:
    events: int
    leaves: int
    distinct_leaves: int
    batches: int
    batch_sizes: int
    distinct_roots: int


def tally(app: Flask) -> Tally:
    """Counts that show whether every event sits in exactly one batch."""
    with Session(trace_of(app).engine) as s:

        def one(query: Any) -> int:
            return int(s.execute(query).scalar_one())

        return Tally(
            events=one(select(func.count()).select_from(Event)),
            leaves=one(select(func.count()).select_from(AnchorLeaf)),
            distinct_leaves=one(select(func.count(func.distinct(AnchorLeaf.event_seq)))),
            batches=one(select(func.count()).select_from(AnchorBatch)),
            batch_sizes=one(select(func.coalesce(func.sum(AnchorBatch.size), 0))),
            distinct_roots=one(select(func.count(func.distinct(AnchorBatch.root)))),
        )


# -- waiting --------------------------------------------------------------------


def wait_until(
    condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.05
) -> T:
    """Poll ``condition`` until it returns something truthy (and return that), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def dumped_block_number(state_path: Path) -> int:
    """The newest block in anvil's state dump (-1 while there is no complete dump)."""
    try:
        state = json.loads(state_path.read_bytes())
    except (OSError, ValueError):
        return -1  # not written yet, or caught mid-write
    number = state.get("best_block_number", -1)
    return int(number, 16) if isinstance(number, str) else int(number)


def wait_for_state_dump(state_path: Path, block_number: int, timeout: float = 15) -> None:
    """Wait until anvil's periodic dump (``--state-interval``) holds ``block_number``."""
    wait_until(
        lambda: dumped_block_number(state_path) >= block_number,
        timeout=timeout,
        what=f"anvil to dump block {block_number} to {state_path}",
    )


def published_trust(app: Flask) -> dict[str, Any]:
    """What `traceability ledger trust` prints for this deployment."""
    done = CliRunner().invoke(main, ["ledger", "trust"], obj=trace_of(app), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)  # type: ignore[no-any-return]


@contextmanager
def regulator_app(app: Flask, settings: dict[str, Any], data_dir: Path) -> Iterator[Flask]:
    """The regulator's view of the plant's database: trust from the published file, no key."""
    trust = published_trust(app)
    regulator = create_app(
        {
            **settings,
            "data_dir": data_dir,
            "ledger_key": None,
            "ledger_owner_key": None,
            "ledger_contract": trust["registry"],
            "ledger_chain_id": trust["chain_id"],
            "ledger_genesis_hash": trust["genesis_hash"],
            "ledger_registry_owner": trust["owner"],
        }
    )
    try:
        yield regulator
    finally:
        trace_of(regulator).engine.dispose()


# -- live servers and a real browser ----------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: The handheld's screen: every browser test of the floor app runs at this size.
PHONE = {"width": 360, "height": 640}
#: Screenshots the browser tests take (gitignored): looked at by people, not compared.
ARTIFACTS = Path(__file__).parent / "artifacts"


@dataclass
class LiveServer:
    """The real app (its own database, migrated by Alembic) served over HTTP on a free port."""

    app: Flask
    url: str

    def client(self) -> FlaskClient:
        """A test client of the same app, for setting up and checking through the API."""
        return self.app.test_client()

    def actor(self, org: str, kind: str, role: str = "operator", **kwargs: Any) -> Actor:
        """A user who can sign in (password ``PASSWORD``) and call the API (token)."""
        return add_actor(self.app, org, kind, role, password=PASSWORD, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _whole_bodies(app: Any) -> Any:
    """``app`` answering with bodies read whole and their files closed.

    Werkzeug's development server (3.1) skips closing a response whose client
    reset the connection (the reset surfaces while it drains the request), so a
    browser leaving a page mid-download would leave a static file open, and
    ``filterwarnings = error`` turns its ResourceWarning into a failure of
    whichever test the garbage collector happens to run in. No route streams.
    """

    def whole(environ: Any, start_response: Any) -> list[bytes]:
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()

    return whole


@contextmanager
def live_server(directory: Path, **overrides: Any) -> Iterator[LiveServer]:
    """Serve a fresh app on 127.0.0.1 (a secure context for service workers and the camera)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fresh_database(directory) as database_url:
        app = create_app(
            {**default_settings(database_url, directory), "public_url": url, **overrides}
        )
        migrate.upgrade(trace_of(app).engine)
        server = make_server("127.0.0.1", port, _whole_bodies(app), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(app, url)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            trace_of(app).engine.dispose()


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def phone_context(browser: Any, lang: str = "zh-CN", **kwargs: Any) -> Any:
    """A new browser profile on a 360×640 touch phone whose language is ``lang``."""
    return browser.new_context(
        viewport=PHONE, locale=lang, has_touch=True, is_mobile=True, **kwargs
    )


def screenshot(page: Any, name: str) -> Path:
    """Save the page as tests/artifacts/screens/{name}.png and return the path."""
    path = ARTIFACTS / "screens" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


def sign_in_page(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the /login form as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def premint(app: Flask, org: str, count: int = 1) -> list[str]:
    """Pre-printed label IDs issued to ``org`` (what a label sheet holds)."""
    ids = [mint_id() for _ in range(count)]
    with Session(trace_of(app).engine) as session:
        session.add_all(MintedId(qr_id=qr_id, org=org, sheet_id=None) for qr_id in ids)
        session.commit()
    return ids


def queued_items(page: Any) -> list[dict[str, Any]]:
    """What the handheld app holds in its IndexedDB queue."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("weee-scan");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains("queue")) { resolve([]); return; }
                const all = db.transaction("queue").objectStore("queue").getAll();
                all.onsuccess = () => resolve(all.result);
            };
        })"""
    )


def wedge_scan(page: Any, text: str) -> None:
    """What a keyboard-wedge scanner does: the code typed at machine speed, then Enter."""
    page.keyboard.type(text, delay=0)
    page.keyboard.press("Enter")


def open_scanner(page: Any, base_url: str, username: str, step: str | None = None) -> None:
    """Sign in and open the handheld app (at ``step``'s screen if given)."""
    sign_in_page(page, base_url, username)
    page.wait_for_selector("#app[data-ready=true]")
    if step is not None:
        page.goto(f"{base_url}/scan/#/{step}")
        page.wait_for_selector(f".screen[data-step={step}]")


def submit(page: Any, selector: str = "button.submit", timeout_ms: int = 15_000) -> None:
    """Press the screen's record button; wait until what it queued has the server's answer."""
    before = int(page.get_attribute("#app", "data-recorded") or 0)
    page.click(selector)
    page.wait_for_function(
        "n => Number(document.getElementById('app').dataset.recorded || 0) > n",
        arg=before,
        timeout=timeout_ms,
        polling=50,
    )
    page.wait_for_function(
        """() => {
            const app = document.getElementById("app").dataset;
            return Number(app.settled || 0) >= Number(app.recorded || 0);
        }""",
        timeout=timeout_ms,
        polling=50,
    )


def write_y4m(path: Path, image: Any, frames: int = 4, fps: int = 10) -> Path:
    """A YUV4MPEG2 video of ``image`` (a Pillow image) standing still: Chromium's fake camera.

    4:2:0 planes from Pillow's YCbCr conversion (JPEG's full range, so C420jpeg).
    """
    width, height = image.size
    ycbcr = image.convert("RGB").convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (width // 2, height // 2)
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + frame)
    return path


def rpc_settings(base: dict[str, Any], node: ManagedNode) -> dict[str, Any]:
    """App settings anchoring to ``node`` with its well-known development keys."""
    keys = DEV_KEYS[node.kind]
    return {
        **base,
        "ledger_mode": "rpc",
        "ledger_url": node.url,
        "ledger_owner_key": keys[0],
        "ledger_key": keys[1],
    }
