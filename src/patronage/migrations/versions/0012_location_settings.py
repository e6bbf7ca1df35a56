"""location settings: what HubRise's Update Location changes (cutoff time, opening hours, preparation time,
order acceptance, custom fields)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:30:00

Plain ADD COLUMNs (SQLite takes them without recreating the table): every existing location reads as HubRise's
defaults, a 06:00 cutoff, no opening hours, no preparation time, online, no custom fields.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("location", sa.Column("cutoff_time", sa.String(5), nullable=False, server_default="06:00"))
    op.add_column("location", sa.Column("opening_hours", sa.JSON(), nullable=True))
    op.add_column("location", sa.Column("preparation_time", sa.Integer(), nullable=True))
    op.add_column("location", sa.Column("order_acceptance", sa.JSON(), nullable=True))
    op.add_column("location", sa.Column("custom_fields", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("location") as batch:
        for name in ("custom_fields", "order_acceptance", "preparation_time", "opening_hours", "cutoff_time"):
            batch.drop_column(name)
