"""ledger hash chain: every loyalty operation hashes its content and the previous operation's hash; the card
keeps its last hash

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:00:00

Existing operations are chained here, card by card in ledger order, with the same function the server uses
(patronage.loyalty.ledger.row_hash), so `admin verify-ledger` holds for a migrated database too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from patronage.loyalty.ledger import row_hash

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

card = sa.table("loyalty_card", sa.column("id", sa.String), sa.column("ledger_hash", sa.String))
operation = sa.table(
    "loyalty_operation",
    sa.column("id", sa.String),
    sa.column("loyalty_card_id", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("delta_micro", sa.BigInteger),
    sa.column("new_balance_micro", sa.BigInteger),
    sa.column("created_at", sa.DateTime),
    sa.column("order_id", sa.String),
    sa.column("hash", sa.String),
)


def upgrade() -> None:
    op.add_column("loyalty_card", sa.Column("ledger_hash", sa.String(64), nullable=True))
    op.add_column("loyalty_operation", sa.Column("hash", sa.String(64), nullable=True))
    _chain_existing_operations(op.get_bind())
    with op.batch_alter_table("loyalty_operation") as batch:
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)


def _chain_existing_operations(bind: sa.Connection) -> None:
    after = ""
    while True:
        card_ids = (
            bind.execute(sa.select(card.c.id).where(card.c.id > after).order_by(card.c.id).limit(BATCH)).scalars().all()
        )
        if not card_ids:
            return
        after = card_ids[-1]
        rows = bind.execute(
            sa.select(operation)
            .where(operation.c.loyalty_card_id.in_(card_ids))
            .order_by(operation.c.loyalty_card_id, operation.c.seq)
        ).all()
        hashes, last = [], {}
        for row in rows:
            chained = row_hash(last.get(row.loyalty_card_id), row)
            last[row.loyalty_card_id] = chained
            hashes.append({"op_id": row.id, "op_hash": chained})
        if hashes:
            bind.execute(
                operation.update().where(operation.c.id == sa.bindparam("op_id")).values(hash=sa.bindparam("op_hash")),
                hashes,
            )
            bind.execute(
                card.update().where(card.c.id == sa.bindparam("card_id")).values(ledger_hash=sa.bindparam("h")),
                [{"card_id": card_id, "h": chained} for card_id, chained in last.items()],
            )


def downgrade() -> None:
    with op.batch_alter_table("loyalty_operation") as batch:
        batch.drop_column("hash")
    with op.batch_alter_table("loyalty_card") as batch:
        batch.drop_column("ledger_hash")
