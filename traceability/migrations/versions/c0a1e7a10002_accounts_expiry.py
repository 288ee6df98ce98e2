"""accounts: token expiry

Every API token gets an expiry date. Tokens issued before this revision
expire one default lifetime (365 days) after they were created, but never
sooner than 30 days after the upgrade, so that no handheld drops offline
without warning the moment the plant upgrades.

Revision ID: c0a1e7a10002
Revises: bcd71b558510
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import traceability.db

revision: str = "c0a1e7a10002"
down_revision: str | None = "bcd71b558510"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, not read from the settings: a migration must mean the same thing forever.
_TTL = dt.timedelta(days=365)
_GRACE = dt.timedelta(days=30)


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", traceability.db.UTCDateTime(timezone=True), nullable=True)
        )

    api_token = sa.table(
        "api_token",
        sa.column("id", sa.Integer()),
        sa.column("created_at", traceability.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", traceability.db.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    earliest = dt.datetime.now(dt.UTC) + _GRACE
    rows = bind.execute(
        sa.select(api_token.c.id, api_token.c.created_at).where(api_token.c.expires_at.is_(None))
    ).all()
    for token_id, created_at in rows:
        bind.execute(
            api_token.update()
            .where(api_token.c.id == token_id)
            .values(expires_at=max(created_at + _TTL, earliest))
        )

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at",
            existing_type=traceability.db.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
