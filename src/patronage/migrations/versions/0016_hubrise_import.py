"""hubrise import: the sources `patronage import hubrise` read, and the local row each source resource became

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-02 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hubrise_source",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("base_url", sa.String(length=1000), nullable=False),
        sa.Column("source_account_id", sa.String(length=64), nullable=False),
        sa.Column("source_location_id", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_hubrise_source_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_hubrise_source_client_id_client"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_hubrise_source")),
    )
    with op.batch_alter_table("hubrise_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hubrise_source_account_id"), ["account_id"], unique=False)
    op.create_table(
        "hubrise_mapping",
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_key"],
            ["hubrise_source.key"],
            name=op.f("fk_hubrise_mapping_source_key_hubrise_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_key", "kind", "source_id", name=op.f("pk_hubrise_mapping")),
    )
    with op.batch_alter_table("hubrise_mapping", schema=None) as batch_op:
        batch_op.create_index("ix_hubrise_mapping_local", ["source_key", "kind", "local_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hubrise_mapping", schema=None) as batch_op:
        batch_op.drop_index("ix_hubrise_mapping_local")
    op.drop_table("hubrise_mapping")
    with op.batch_alter_table("hubrise_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hubrise_source_account_id"))
    op.drop_table("hubrise_source")
