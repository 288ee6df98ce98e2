"""claims: mode, supplements, conditions, policy; flags on claimed devices (issue 18)

Claims already stored are in yuan (``mode`` = yuan), supplement nothing and
carry no flags; the columns are filled for claims computed from now on.

Revision ID: f18c1a100001
Revises: e17b0c0a0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f18c1a100001"
down_revision: str | None = "e17b0c0a0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mode",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="yuan",
            )
        )
        batch_op.add_column(sa.Column("supplements", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("conditions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("policy", sa.JSON(), nullable=True))
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.alter_column(
            "mode", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16), server_default=None
        )
    with op.batch_alter_table("claim_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claim_item", schema=None) as batch_op:
        batch_op.drop_column("flags")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("policy")
        batch_op.drop_column("conditions")
        batch_op.drop_column("supplements")
        batch_op.drop_column("mode")
