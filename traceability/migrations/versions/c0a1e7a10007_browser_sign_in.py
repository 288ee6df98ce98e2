"""accounts: browser sessions and sign-in attempts

Revision ID: c0a1e7a10007
Revises: c0a1e7a10005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db

revision: str = "c0a1e7a10007"
down_revision: str | None = "c0a1e7a10005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_login_attempt_username"), "login_attempt", ["username"])
    op.create_index(op.f("ix_login_attempt_address"), "login_attempt", ["address"])
    op.create_index(op.f("ix_login_attempt_at"), "login_attempt", ["at"])
    op.create_table(
        "browser_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", traceability.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_browser_session_token_hash"), "browser_session", ["token_hash"], unique=True
    )
    op.create_index(op.f("ix_browser_session_user_id"), "browser_session", ["user_id"])


def downgrade() -> None:
    op.drop_table("browser_session")
    op.drop_table("login_attempt")
