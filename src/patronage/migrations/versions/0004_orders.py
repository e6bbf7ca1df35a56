"""orders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:15:43.429328
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=True),
        sa.Column("service_type", sa.String(length=16), nullable=True),
        sa.Column("service_type_ref", sa.String(length=255), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("expected_time", sa.DateTime(), nullable=True),
        sa.Column("confirmed_time", sa.DateTime(), nullable=True),
        sa.Column("customer_notes", sa.Text(), nullable=True),
        sa.Column("seller_notes", sa.Text(), nullable=True),
        sa.Column("collection_code", sa.String(length=255), nullable=True),
        sa.Column("coupon_codes", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("charges", sa.JSON(), nullable=False),
        sa.Column("discounts", sa.JSON(), nullable=False),
        sa.Column("payments", sa.JSON(), nullable=False),
        sa.Column("loyalty_operations", sa.JSON(), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("customer_list_id", sa.String(length=16), nullable=True),
        sa.Column("customer_id", sa.String(length=16), nullable=True),
        sa.Column("customer", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_order_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_order_customer_id_customer"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_order_customer_list_id_customer_list"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_order_location_id_location"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order")),
    )
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.create_index("ix_order_account_created", ["account_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_customer_list_id"), ["customer_list_id"], unique=False)
        batch_op.create_index("ix_order_location_created", ["location_id", "created_at", "id"], unique=False)

    op.create_table(
        "order_private_ref",
        sa.Column("order_id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_order_private_ref_client_id_client"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["order.id"], name=op.f("fk_order_private_ref_order_id_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", "client_id", name=op.f("pk_order_private_ref")),
    )
    with op.batch_alter_table("order_private_ref", schema=None) as batch_op:
        batch_op.create_index("ix_order_private_ref_client_ref", ["client_id", "ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_private_ref", schema=None) as batch_op:
        batch_op.drop_index("ix_order_private_ref_client_ref")

    op.drop_table("order_private_ref")
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_index("ix_order_location_created")
        batch_op.drop_index(batch_op.f("ix_order_customer_list_id"))
        batch_op.drop_index(batch_op.f("ix_order_customer_id"))
        batch_op.drop_index("ix_order_account_created")

    op.drop_table("order")
