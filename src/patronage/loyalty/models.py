"""Loyalty cards and their ledger of operations. Amounts are exact: integers of micro-points."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, unique_per_ref, utcnow
from patronage.formats import render_decimal

# Balances and deltas are stored scaled by 10**6 (deltas have at most 6 decimal places).
SCALE = 10**6


def points(micro: int) -> str:
    """Stored micro-points -> the API's decimal string ("12.5", "0.0")."""
    return render_decimal(Decimal(micro).scaleb(-6))


class LoyaltyCard(Base):
    __tablename__ = "loyalty_card"
    __table_args__ = (
        Index("ix_loyalty_card_list_created", "customer_list_id", "created_at", "id"),
        # A customer's cards, in the order a customer renders them (the unique indexes below are partial).
        Index("ix_loyalty_card_customer_created", "customer_id", "created_at", "id"),
        # A ref is unique among one customer's cards, and at most one card per customer has no ref.
        *unique_per_ref("loyalty_card_customer", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    customer_list_id: Mapped[str] = mapped_column(ForeignKey("customer_list.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(255))
    ref: Mapped[str | None] = mapped_column(String(255))
    balance_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    # How many operations the card has had: the last operation's sequence number.
    operation_count: Mapped[int] = mapped_column(Integer, default=0)
    # The last operation's hash (loyalty/ledger.py): a removed last operation shows as a mismatch.
    ledger_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoyaltyOperation(Base):
    __tablename__ = "loyalty_operation"
    __table_args__ = (
        # Operations of a card in commit order (seq is taken under the card's row lock).
        Index("uq_loyalty_operation_card_seq", "loyalty_card_id", "seq", unique=True),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    customer_list_id: Mapped[str] = mapped_column(ForeignKey("customer_list.id", ondelete="CASCADE"), index=True)
    loyalty_card_id: Mapped[str] = mapped_column(ForeignKey("loyalty_card.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    delta_micro: Mapped[int] = mapped_column(BigInteger)
    new_balance_micro: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(255))
    order_id: Mapped[str | None] = mapped_column(String(16), index=True)
    order_location_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Chains the operation to the previous one of its card (loyalty/ledger.py).
    hash: Mapped[str] = mapped_column(String(64))
