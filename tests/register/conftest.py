"""The register's tests: a Jiangsu auditor, a Beijing one, and what a DBA can do to the rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.support.accounts import PASSWORD, Actor
from traceability.app import trace_of


@pytest.fixture
def auditor(make_actor: Callable[..., Actor]) -> Actor:
    """An auditor of Jiangsu (32xxxx): Suzhou's plant (320500) is in its scope."""
    return make_actor(
        "REG-JS", "regulator", role="auditor", region="320000", username="js.auditor",
        password=PASSWORD,
    )  # fmt: skip


@pytest.fixture
def beijing(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("REG-BJ", "regulator", role="auditor", region="110000")


def edit_org_row(app: Flask, code: str, **values: Any) -> None:
    """What the plant's database administrator can do: change the register's row by SQL."""
    sets = ", ".join(f"{name} = :{name}" for name in values)
    with trace_of(app).engine.begin() as conn:
        conn.execute(
            text(f"UPDATE organisation SET {sets} WHERE code = :code"), {**values, "code": code}
        )


def anomalies(client: FlaskClient, actor: Actor, plant: str) -> Any:
    return client.get(f"/api/v1/audit/anomalies?plant={plant}", headers=actor.headers)
