"""EPCIS documents as the tests read them: the query as a client, GS1's schema's verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft7Validator

SCHEMA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "epcis"
URL = "/api/v1/epcis/events"


def errors(validator: Draft7Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def event_list(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def export(client: FlaskClient, headers: dict[str, str], query: str = "") -> Any:
    response = client.get(f"{URL}?perPage=500{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/ld+json"
    return response.get_json()
