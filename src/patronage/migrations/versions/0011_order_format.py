"""orders in HubRise's whole format: each client's own private ref of an order's item, charge, discount or
payment; the order's deal map

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE (no batch): SQLite adds a nullable column in place. Null: an order without deals.
    op.add_column("order", sa.Column("deals", sa.JSON(), nullable=True))
    op.create_table(
        "order_element_private_ref",
        sa.Column("order_id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("element_id", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_order_element_private_ref_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["order.id"],
            name=op.f("fk_order_element_private_ref_order_id_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "client_id", "element_id", name=op.f("pk_order_element_private_ref")),
    )


def downgrade() -> None:
    op.drop_table("order_element_private_ref")
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_column("deals")
