"""custody: field limits

Revision ID: c0a1e7a10003
Revises: c0a1e7a10002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0a1e7a10003"
down_revision: str | None = "c0a1e7a10002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# traceability/limits.py: a dismantling line is a code of up to 64 characters,
# as the API has always accepted (the column held 32: a 500 on PostgreSQL).


def upgrade() -> None:
    with op.batch_alter_table("device") as batch_op:
        batch_op.alter_column(
            "line", existing_type=sa.String(length=32), type_=sa.String(length=64)
        )


def downgrade() -> None:
    with op.batch_alter_table("device") as batch_op:
        batch_op.alter_column(
            "line", existing_type=sa.String(length=64), type_=sa.String(length=32)
        )
