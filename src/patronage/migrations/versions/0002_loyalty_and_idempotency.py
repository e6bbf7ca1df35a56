"""loyalty cards, operations, idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 07:01:05.760142
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("connection_id", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "key", name=op.f("pk_idempotency_key")),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_key_created_at"), ["created_at"], unique=False)

    op.create_table(
        "loyalty_card",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("customer_list_id", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("ref", sa.String(length=255), nullable=True),
        sa.Column("balance_micro", sa.BigInteger(), nullable=False),
        sa.Column("operation_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_loyalty_card_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_loyalty_card_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_loyalty_card_customer_list_id_customer_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_card")),
    )
    with op.batch_alter_table("loyalty_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loyalty_card_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_loyalty_card_list_created", ["customer_list_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "uq_loyalty_card_customer_null_ref",
            ["customer_id"],
            unique=True,
            sqlite_where=sa.text("ref IS NULL"),
            postgresql_where=sa.text("ref IS NULL"),
        )
        batch_op.create_index(
            "uq_loyalty_card_customer_ref",
            ["customer_id", "ref"],
            unique=True,
            sqlite_where=sa.text("ref IS NOT NULL"),
            postgresql_where=sa.text("ref IS NOT NULL"),
        )

    op.create_table(
        "loyalty_operation",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("customer_list_id", sa.String(length=16), nullable=False),
        sa.Column("loyalty_card_id", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("delta_micro", sa.BigInteger(), nullable=False),
        sa.Column("new_balance_micro", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("order_id", sa.String(length=16), nullable=True),
        sa.Column("order_location_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_loyalty_operation_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_loyalty_operation_customer_list_id_customer_list"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["loyalty_card_id"],
            ["loyalty_card.id"],
            name=op.f("fk_loyalty_operation_loyalty_card_id_loyalty_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_operation")),
    )
    with op.batch_alter_table("loyalty_operation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loyalty_operation_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loyalty_operation_customer_list_id"), ["customer_list_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loyalty_operation_order_id"), ["order_id"], unique=False)
        batch_op.create_index("uq_loyalty_operation_card_seq", ["loyalty_card_id", "seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("loyalty_operation", schema=None) as batch_op:
        batch_op.drop_index("uq_loyalty_operation_card_seq")
        batch_op.drop_index(batch_op.f("ix_loyalty_operation_order_id"))
        batch_op.drop_index(batch_op.f("ix_loyalty_operation_customer_list_id"))
        batch_op.drop_index(batch_op.f("ix_loyalty_operation_account_id"))

    op.drop_table("loyalty_operation")
    with op.batch_alter_table("loyalty_card", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_loyalty_card_customer_ref",
            sqlite_where=sa.text("ref IS NOT NULL"),
            postgresql_where=sa.text("ref IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_loyalty_card_customer_null_ref",
            sqlite_where=sa.text("ref IS NULL"),
            postgresql_where=sa.text("ref IS NULL"),
        )
        batch_op.drop_index("ix_loyalty_card_list_created")
        batch_op.drop_index(batch_op.f("ix_loyalty_card_account_id"))

    op.drop_table("loyalty_card")
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_key_created_at"))

    op.drop_table("idempotency_key")
