"""Revision c0a1e7a10002 gives every existing token an expiry date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from traceability import create_app, migrate
from traceability.app import trace_of
from traceability.db import UTCDateTime, utcnow

BEFORE = "bcd71b558510"
EXPIRY = "c0a1e7a10002"


def _table(name: str, *columns: str, stamps: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(c, UTCDateTime()) for c in stamps)
    )


def test_existing_tokens_expire_a_year_after_creation_but_not_within_30_days(
    settings: dict[str, Any],
) -> None:
    app = create_app(settings)  # a fresh database: no create_all here
    engine = trace_of(app).engine
    migrate.upgrade(engine, BEFORE)
    now = utcnow()
    recent = now - dt.timedelta(days=10)
    ancient = now - dt.timedelta(days=1000)
    org = _table("organisation", "id", "code", "kind", "name", "region", stamps=("created_at",))
    user = _table(
        "user_account", "id", "username", "org_id", "role", "is_active", stamps=("created_at",)
    )
    token = _table("api_token", "id", "user_id", "token_hash", stamps=("created_at", "expires_at"))
    with engine.begin() as conn:
        conn.execute(
            org.insert().values(
                id=1, code="COL-SZ", kind="collector", name="C", region="320500", created_at=now
            )
        )
        conn.execute(
            user.insert().values(
                id=1, username="wang", org_id=1, role="operator", is_active=True, created_at=now
            )
        )
        for token_id, created in ((1, recent), (2, ancient)):
            conn.execute(
                token.insert().values(
                    id=token_id, user_id=1, token_hash=f"{token_id:064x}", created_at=created
                )
            )

    migrate.upgrade(engine, EXPIRY)

    with engine.connect() as conn:
        expiry = dict(conn.execute(sa.select(token.c.id, token.c.expires_at)).all())
    assert expiry[1] == recent + dt.timedelta(days=365)
    assert dt.timedelta(days=30) <= expiry[2] - now < dt.timedelta(days=30, minutes=5)
    engine.dispose()
