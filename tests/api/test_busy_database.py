"""A write that waits out another writer's lock (SQLite) is answered 503 with Retry-After,
records nothing, and the client's retry of the same request records it once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, func, select

from tests.support.accounts import Actor
from tests.support.databases import sqlite_path
from tests.support.floor import Handheld, new_id
from traceability.app import trace_of
from traceability.custody.models import Event


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    if sqlite_path(settings["database_url"]) is None:
        pytest.skip("a SQLite writer's lock; PostgreSQL writers do not wait on one another here")
    return {**settings, "database_busy_timeout_s": 0.2}


@pytest.fixture
def another_writer(app: Flask) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction, holding SQLite's write lock until released."""
    path = sqlite_path(str(trace_of(app).engine.url))
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    conn.close()


def events(app: Flask) -> int:
    with Session(trace_of(app).engine) as session:
        return session.exec(select(func.count()).select_from(Event)).one()


def test_a_write_blocked_by_another_writer_is_a_503_and_its_retry_records_once(
    app: Flask, client: FlaskClient, plant: Actor, request: pytest.FixtureRequest
) -> None:
    qr_id = Handheld(client, plant).collect()
    body = {"events": [{"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": 30}]}
    before = events(app)
    another_writer = request.getfixturevalue("another_writer")

    busy = client.post("/api/v1/events", json=body, headers=plant.headers)
    assert busy.status_code == 503, busy.get_json()
    assert busy.get_json()["error"]["code"] == "database_busy"
    assert int(busy.headers["Retry-After"]) > 0
    page = client.get("/portal/", headers={"Accept-Language": "zh-CN"})
    assert events(app) == before

    another_writer.execute("COMMIT")
    retried = client.post("/api/v1/events", json=body, headers=plant.headers)
    assert retried.get_json()["results"][0]["status"] == "created"
    assert events(app) == before + 1
    assert page.status_code in (302, 200)  # a read does not wait on the lock (WAL)
