"""Shared by the EPCIS tests: GS1's JSON Schema, the in-process chain, the query as a client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from tests.epcis.documents import SCHEMA_DIR


@pytest.fixture(scope="session")
def validator() -> Draft7Validator:
    schema = json.loads((SCHEMA_DIR / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=FormatChecker())


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "ledger_mode": "memory"}  # anchors are real, on the in-process chain
