"""deliveries (HubRise's deliveries.md): the delivery attached to an order, a JSON document beside its elements

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ALTER TABLE (no batch): SQLite adds a nullable column in place. Null: an order without delivery.
    op.add_column("order", sa.Column("delivery", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_column("delivery")
