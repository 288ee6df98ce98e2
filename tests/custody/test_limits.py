"""A value the API accepts always fits its column (traceability/limits.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from tests.support.accounts import Actor
from tests.support.floor import Handheld, receive
from traceability import create_app, limits, migrate
from traceability.app import trace_of
from traceability.models import metadata

# Every column that stores a submitted (or derived) string, and the limit its parser enforces.
COLUMNS = {
    ("device", "qr_id"): limits.QR_ID,
    ("device", "category"): limits.CATEGORY,
    ("device", "brand"): limits.NAMEPLATE,
    ("device", "model"): limits.NAMEPLATE,
    ("device", "serial"): limits.NAMEPLATE,
    ("device", "source"): limits.SOURCE,
    ("device", "custodian"): limits.ORG_CODE,
    ("device", "destination"): limits.ORG_CODE,
    ("device", "collected_by"): limits.ORG_CODE,
    ("device", "received_by"): limits.ORG_CODE,
    ("device", "dismantled_by"): limits.ORG_CODE,
    ("device", "line"): limits.CODE,
    ("device", "storage_area"): limits.AREA,
    ("event", "id"): limits.EVENT_ID,
    ("event", "device"): limits.QR_ID,
    ("event", "lot"): limits.LOT_CODE,
    ("event", "org"): limits.ORG_CODE,
    ("lot", "code"): limits.LOT_CODE,
    ("lot", "org"): limits.ORG_CODE,
    ("lot", "fraction"): limits.FRACTION,
    ("lot", "destination"): limits.ORG_CODE,
    ("lot", "manifest_no"): limits.CODE,
    ("lot", "treatment"): limits.METHOD,
    ("lot_item", "lot"): limits.LOT_CODE,
    ("lot_item", "device"): limits.QR_ID,
    ("lot_item", "event_id"): limits.EVENT_ID,
    ("batch", "org"): limits.ORG_CODE,
    ("batch", "code"): limits.CODE,
    ("organisation", "code"): limits.ORG_CODE,
}


def _short(lengths: dict[tuple[str, str], int | None]) -> list[str]:
    return [
        f"{table}.{column} holds {lengths[table, column]} characters, the API accepts {limit}"
        for (table, column), limit in COLUMNS.items()
        if (lengths[table, column] or 0) < limit
    ]


def test_no_model_column_is_shorter_than_its_field_limit() -> None:
    lengths = {
        (table, column): metadata.tables[table].c[column].type.length  # type: ignore[attr-defined]
        for table, column in COLUMNS
    }
    assert _short(lengths) == []


def test_no_migrated_column_is_shorter_than_its_field_limit(settings: dict[str, Any]) -> None:
    app: Flask = create_app(settings)
    engine = trace_of(app).engine
    migrate.upgrade(engine)
    inspector = inspect(engine)
    lengths = {
        (table, c["name"]): getattr(c["type"], "length", None)
        for table in {t for t, _ in COLUMNS}
        for c in inspector.get_columns(table)
    }
    engine.dispose()
    assert _short(lengths) == []


@pytest.mark.parametrize("length", [40, limits.CODE])
def test_a_dismantling_line_of_any_accepted_length_is_stored(
    client: FlaskClient, collector: Actor, plant: Actor, length: int
) -> None:
    qr_id = receive(client, collector, plant)
    line = "L" * length

    Handheld(client, plant).record(
        {
            "type": "dismantled",
            "qr_id": qr_id,
            "line": line,
            "batch": "B" * limits.CODE,
            "outputs": [{"fraction": "pcb", "weight_kg": 1}],
        },
    )

    assert Handheld(client, plant).device(qr_id)["line"] == line


def test_every_text_at_its_limit_is_stored(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    nameplate = {name: "X" * limits.NAMEPLATE for name in ("brand", "model", "serial")}
    qr_id = Handheld(client, collector).collect(**nameplate)
    Handheld(client, collector).record(
        {"type": "shipped", "qr_id": qr_id, "to": plant.org, "manifest_no": "M" * limits.CODE},
    )
    Handheld(client, plant).record(
        {"type": "refused", "qr_id": qr_id, "reason": "R" * limits.REASON}
    )
    Handheld(client, collector).record({"type": "shipped", "qr_id": qr_id, "to": plant.org})
    Handheld(client, plant).record(
        {"type": "received", "qr_id": qr_id, "weight_kg": 30},
        {"type": "stored", "qr_id": qr_id, "area": "A" * limits.AREA},
    )

    detail = Handheld(client, plant).device(qr_id)
    assert {name: detail[name] for name in nameplate} == nameplate
    assert detail["events"][2]["payload"]["reason"] == "R" * limits.REASON
