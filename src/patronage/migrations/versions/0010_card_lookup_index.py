"""the cards of a customer: an index on loyalty_card (customer_id, created_at, id)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:05:00

Every customer the API renders carries its cards (seed §2.2), looked up by customer id in creation order. The
two unique indexes on customer_id are partial (cards with a ref, the card without one), so that lookup had no
usable index: a customer read scanned every card of the database, and a page of customers sorted them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loyalty_card", schema=None) as batch_op:
        batch_op.create_index("ix_loyalty_card_customer_created", ["customer_id", "created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loyalty_card", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_card_customer_created")
