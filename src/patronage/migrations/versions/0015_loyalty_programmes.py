"""loyalty programmes (a Patronage extension): a programme per (customer list, card ref), what each order has
credited to a card, and which earned lots have expired

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 07:00:00

New tables only: nothing existing changes, and a database without programmes behaves as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loyalty_programme",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(16), nullable=False),
        sa.Column("customer_list_id", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(255), nullable=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("points_per_unit_micro", sa.BigInteger(), nullable=False),
        sa.Column("earning_statuses", sa.JSON(), nullable=False),
        sa.Column("rounding_mode", sa.String(8), nullable=False),
        sa.Column("rounding_decimals", sa.Integer(), nullable=False),
        sa.Column("count_charges", sa.Boolean(), nullable=False),
        sa.Column("count_discounts", sa.Boolean(), nullable=False),
        sa.Column("allow_negative_balance", sa.Boolean(), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=True),
        sa.Column("expiry_starts_at", sa.DateTime(), nullable=True),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_loyalty_programme_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_loyalty_programme_customer_list_id_customer_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_programme")),
    )
    op.create_index(op.f("ix_loyalty_programme_account_id"), "loyalty_programme", ["account_id"])
    op.create_index(
        "uq_loyalty_programme_list_ref",
        "loyalty_programme",
        ["customer_list_id", "ref"],
        unique=True,
        sqlite_where=sa.text("ref IS NOT NULL"),
        postgresql_where=sa.text("ref IS NOT NULL"),
    )
    op.create_index(
        "uq_loyalty_programme_list_null_ref",
        "loyalty_programme",
        ["customer_list_id"],
        unique=True,
        sqlite_where=sa.text("ref IS NULL"),
        postgresql_where=sa.text("ref IS NULL"),
    )
    op.create_table(
        "loyalty_order_earning",
        sa.Column("order_id", sa.String(16), nullable=False),
        sa.Column("loyalty_card_id", sa.String(16), nullable=False),
        sa.Column("credited_micro", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["order.id"], name=op.f("fk_loyalty_order_earning_order_id_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["loyalty_card_id"],
            ["loyalty_card.id"],
            name=op.f("fk_loyalty_order_earning_loyalty_card_id_loyalty_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "loyalty_card_id", name=op.f("pk_loyalty_order_earning")),
    )
    op.create_table(
        "loyalty_point_expiry",
        sa.Column("lot_operation_id", sa.String(16), nullable=False),
        sa.Column("loyalty_card_id", sa.String(16), nullable=False),
        sa.Column("expired_micro", sa.BigInteger(), nullable=False),
        sa.Column("operation_id", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_operation_id"],
            ["loyalty_operation.id"],
            name=op.f("fk_loyalty_point_expiry_lot_operation_id_loyalty_operation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["loyalty_card_id"],
            ["loyalty_card.id"],
            name=op.f("fk_loyalty_point_expiry_loyalty_card_id_loyalty_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lot_operation_id", name=op.f("pk_loyalty_point_expiry")),
    )
    op.create_index(op.f("ix_loyalty_point_expiry_loyalty_card_id"), "loyalty_point_expiry", ["loyalty_card_id"])


def downgrade() -> None:
    op.drop_table("loyalty_point_expiry")
    op.drop_table("loyalty_order_earning")
    op.drop_table("loyalty_programme")
