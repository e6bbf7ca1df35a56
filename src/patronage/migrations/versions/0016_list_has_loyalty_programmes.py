"""customer_list.has_loyalty_programmes: whether the list has a loyalty programme, read with the list so that a
list without one pays no programme lookup; an index on loyalty_programme.customer_list_id (a list's programmes)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:00:00

Set here for the lists that already have programmes; programmes.service keeps it from then on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customer_list",
        sa.Column("has_loyalty_programmes", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    customer_list = sa.table("customer_list", sa.column("id"), sa.column("has_loyalty_programmes", sa.Boolean))
    programme = sa.table("loyalty_programme", sa.column("customer_list_id"))
    op.execute(
        customer_list.update()
        .where(customer_list.c.id.in_(sa.select(programme.c.customer_list_id)))
        .values(has_loyalty_programmes=True)
    )
    # A list's programmes (earning, a card's programme fields): the partial unique indexes on (list, ref) cannot
    # serve a lookup without ref, which scanned the whole table.
    op.create_index(op.f("ix_loyalty_programme_customer_list_id"), "loyalty_programme", ["customer_list_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_loyalty_programme_customer_list_id"), table_name="loyalty_programme")
    with op.batch_alter_table("customer_list") as batch:
        batch.drop_column("has_loyalty_programmes")
