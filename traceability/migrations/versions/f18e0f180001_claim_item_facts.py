"""claim_item.facts: the attributes, identity, intake, batch, line and operator of a claimed
device, as replayed when the claim was computed (issue 18 item 5)

Rows computed before stay without them (None): their exports leave those cells empty.

Revision ID: f18e0f180001
Revises: f21e0c150002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f18e0f180001"
down_revision: str | None = "f21e0c150002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("claim_item", schema=None) as batch_op:
        batch_op.drop_column("facts")
