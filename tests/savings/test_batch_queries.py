"""A batch report reads the log in one query and verifies it in one pass, however big the batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.support.accounts import Actor
from tests.support.floor import Handheld, receive
from traceability.app import trace_of


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    engine = trace_of(app).engine
    seen: list[str] = []

    def log(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.lower().split()))

    event.listen(engine, "before_cursor_execute", log)
    yield seen
    event.remove(engine, "before_cursor_execute", log)


@pytest.mark.parametrize("size", [2, 12])
def test_a_batch_report_reads_events_once_and_anchor_leaves_once(
    client: FlaskClient, collector: Actor, plant: Actor, statements: list[str], size: int
) -> None:
    for _ in range(size):
        Handheld(client, plant).dismantle(
            receive(client, collector, plant), {"pcb": "1"}, batch="B1"
        )
    statements.clear()

    response = client.get("/api/v1/batches/B1", headers=plant.headers)

    assert response.status_code == 200 and response.get_json()["device_count"] == size
    selects = [s for s in statements if s.startswith("select")]
    from_event = [s for s in selects if " from event" in s]
    # The devices' events in one query and the batch's closing (SPEC §2.4) in one more,
    # whatever the batch's size: nothing per device.
    assert len(from_event) == 2 and sum("where event.batch = " in s for s in from_event) == 1
    assert len([s for s in selects if " from anchor_leaf" in s]) == 1
