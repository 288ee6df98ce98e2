"""JSON columns go through orjson, and still store what the standard library could."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from traceability.db import make_engine


@pytest.mark.parametrize(
    "value",
    [
        {"note": "冰箱 \u2028 \U0001f600", "list": [1, True, None]},
        {"big": 2**70},  # orjson refuses integers beyond 64 bits
        {1: "non-string key"},  # orjson refuses non-string keys; json writes "1"
    ],
)
def test_a_json_value_round_trips(tmp_path: Path, value: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", JSON))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": 1, "v": value}])
    with engine.connect() as conn:
        stored = conn.execute(select(table.c.v)).scalar_one()
    engine.dispose()
    expected = {str(k): v for k, v in value.items()}  # type: ignore[attr-defined]
    assert stored == expected
