"""The trace search stays an index lookup on a province's devices (issue 20 item 9): every
comparison it makes is one its expression indexes serve (migration f20a9e200001).

The planner is told not to scan the table (PostgreSQL: ``enable_seqscan = off``; SQLite
prefers an index for an equality anyway); a comparison no index serves still scans it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Connection, Select, text

from traceability.app import trace_of
from traceability.reports.search import batch_query, device_query


def plan(conn: Connection, query: Select[Any]) -> str:
    compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))
    return "\n".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_each_comparison_of_the_device_search_is_served_by_its_index(app: Flask) -> None:
    with trace_of(app).engine.begin() as conn:
        shown = plan(conn, device_query("sn-0042", ["DIS-SZ", "COL-SZ"]))
    for index in ("ix_device_serial_lower", "ix_device_model_lower", "ix_device_brand_model_lower"):
        assert index in shown, shown


def test_the_batch_search_is_an_index_lookup(app: Flask) -> None:
    """By its code's index or by the organisation's (a plant's batches): never a scan."""
    with trace_of(app).engine.begin() as conn:
        shown = plan(conn, batch_query("b-0915", ["DIS-SZ"]))
    assert "index" in shown.lower(), shown
    assert "SCAN batch\n" not in shown + "\n" and "Seq Scan" not in shown, shown
