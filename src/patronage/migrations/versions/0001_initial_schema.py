"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 06:56:01.679399
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("email", name=op.f("uq_user_email")),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("last_location_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_account_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_user_id"), ["user_id"], unique=False)

    op.create_table(
        "location",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_location_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_account_id"), ["account_id"], unique=False)

    op.create_table(
        "customer_list",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_customer_list_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_customer_list_location_id_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_list")),
    )
    with op.batch_alter_table("customer_list", schema=None) as batch_op:
        batch_op.create_index("ix_customer_list_account_created", ["account_id", "created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_list_location_id"), ["location_id"], unique=False)

    op.create_table(
        "connection",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=True),
        sa.Column("access_level", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=512), nullable=False),
        sa.Column("customer_list_id", sa.String(length=16), nullable=True),
        sa.Column("device_id", sa.String(length=255), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_connection_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_connection_client_id_client"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_connection_customer_list_id_customer_list"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_connection_location_id_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_connection_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_connection_token_hash")),
    )
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connection_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connection_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connection_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connection_customer_list_id"), ["customer_list_id"], unique=False)

    op.create_table(
        "customer",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("customer_list_id", sa.String(length=16), nullable=False),
        sa.Column("anonymised", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_search", sa.String(length=254), nullable=True),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("gender", sa.String(length=6), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("company_name", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("phone_access_code", sa.String(length=255), nullable=True),
        sa.Column("address_1", sa.String(length=255), nullable=True),
        sa.Column("address_2", sa.String(length=255), nullable=True),
        sa.Column("postal_code", sa.String(length=255), nullable=True),
        sa.Column("city", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("latitude", sa.String(length=40), nullable=True),
        sa.Column("longitude", sa.String(length=40), nullable=True),
        sa.Column("delivery_notes", sa.String(length=1000), nullable=True),
        sa.Column("sms_marketing", sa.Boolean(), nullable=False),
        sa.Column("email_marketing", sa.Boolean(), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("nb_orders", sa.Integer(), nullable=False),
        sa.Column("order_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("first_order_at", sa.DateTime(), nullable=True),
        sa.Column("last_order_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_customer_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_customer_customer_list_id_customer_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_customer_list_created", ["customer_list_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_customer_list_email",
            ["customer_list_id", "email_search"],
            unique=False,
            postgresql_ops={"email_search": "text_pattern_ops"},
        )
        batch_op.create_index(
            "ix_customer_list_phone",
            ["customer_list_id", "phone"],
            unique=False,
            postgresql_ops={"phone": "text_pattern_ops"},
        )

    op.create_table(
        "customer_private_ref",
        sa.Column("customer_id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("customer_list_id", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_customer_private_ref_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_customer_private_ref_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_list_id"],
            ["customer_list.id"],
            name=op.f("fk_customer_private_ref_customer_list_id_customer_list"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "client_id", name=op.f("pk_customer_private_ref")),
    )
    with op.batch_alter_table("customer_private_ref", schema=None) as batch_op:
        batch_op.create_index(
            "uq_customer_private_ref_list_client_ref", ["customer_list_id", "client_id", "ref"], unique=True
        )

    if op.get_bind().dialect.name == "postgresql":
        # Infix and suffix wildcard searches (email=*@example.com, phone=*6789) on large lists.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_customer_email_trgm ON customer USING gin (email_search gin_trgm_ops)")
        op.execute("CREATE INDEX ix_customer_phone_trgm ON customer USING gin (phone gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customer_phone_trgm")
        op.execute("DROP INDEX IF EXISTS ix_customer_email_trgm")
    with op.batch_alter_table("customer_private_ref", schema=None) as batch_op:
        batch_op.drop_index("uq_customer_private_ref_list_client_ref")

    op.drop_table("customer_private_ref")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_list_phone")
        batch_op.drop_index("ix_customer_list_email")
        batch_op.drop_index("ix_customer_list_created")
        batch_op.drop_index(batch_op.f("ix_customer_account_id"))

    op.drop_table("customer")
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_user_id"))
        batch_op.drop_index(batch_op.f("ix_connection_customer_list_id"))
        batch_op.drop_index(batch_op.f("ix_connection_client_id"))
        batch_op.drop_index(batch_op.f("ix_connection_account_id"))

    op.drop_table("connection")
    with op.batch_alter_table("customer_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_list_location_id"))
        batch_op.drop_index("ix_customer_list_account_created")

    op.drop_table("customer_list")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_account_id"))

    op.drop_table("location")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_user_id"))

    op.drop_table("account")
    op.drop_table("user")
    op.drop_table("client")
