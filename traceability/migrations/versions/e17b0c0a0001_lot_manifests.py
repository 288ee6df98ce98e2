"""lots: transfer manifests per shipment, and the cross-province mark (issue 17, SPEC §2.8)

A lot shipment now carries one or more manifests (``lot_manifest``, a
projection of the lot's events: find a lot by its manifest, refuse a number
used twice) and says whether it crossed a provincial border
(``lot.cross_province``). Lots shipped before keep their one ``manifest_no``
and no manifest rows: their events stay as recorded and anchored.
Licences and stocktakes are events only (the register's and the lots' logs):
no table.

Revision ID: e17b0c0a0001
Revises: d15f8a0e0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e17b0c0a0001"
down_revision: str | None = "d15f8a0e0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cross_province", sa.Boolean(), nullable=True))
    op.create_table(
        "lot_manifest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("hw_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("transporter", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("shipped_weight_g", sa.Integer(), nullable=False),
        sa.Column("received_weight_g", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lot"], ["lot.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_lot_manifest_lot"), "lot_manifest", ["lot"], unique=False)
    op.create_index(op.f("ix_lot_manifest_number"), "lot_manifest", ["number"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_lot_manifest_number"), table_name="lot_manifest")
    op.drop_index(op.f("ix_lot_manifest_lot"), table_name="lot_manifest")
    op.drop_table("lot_manifest")
    with op.batch_alter_table("lot", schema=None) as batch_op:
        batch_op.drop_column("cross_province")
