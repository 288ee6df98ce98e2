"""anchoring: batch leases

Revision ID: c0a1e7a10005
Revises: c0a1e7a10004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db

revision: str = "c0a1e7a10005"
down_revision: str | None = "c0a1e7a10004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("anchor_batch") as batch:
        batch.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("lease_until", traceability.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("anchor_batch") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
