"""A programme per (customer list, card ref); what each order has credited; which earned lots have expired.

Points are micro-points integers (loyalty.models.SCALE), as everywhere else.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, unique_per_ref, utcnow


class LoyaltyProgramme(Base):
    """The rules of one card scheme of a list: the cards of that list's customers whose ``ref`` is ``ref``
    (null: the cards without ref, a scheme like any other)."""

    __tablename__ = "loyalty_programme"
    __table_args__ = (
        # One programme per scheme, as a customer has one card per scheme.
        *unique_per_ref("loyalty_programme_list", "customer_list_id"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    # Indexed on its own too: the partial unique indexes serve a lookup by (list, ref), not a list's programmes.
    customer_list_id: Mapped[str] = mapped_column(ForeignKey("customer_list.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str | None] = mapped_column(String(255))
    # The name given to the cards the programme creates.
    name: Mapped[str | None] = mapped_column(String(255))
    # Micro-points per unit (not minor unit) of the list's currency.
    points_per_unit_micro: Mapped[int] = mapped_column(BigInteger)
    earning_statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    rounding_mode: Mapped[str] = mapped_column(String(8))
    rounding_decimals: Mapped[int] = mapped_column(Integer)
    count_charges: Mapped[bool] = mapped_column(Boolean)
    count_discounts: Mapped[bool] = mapped_column(Boolean)
    allow_negative_balance: Mapped[bool] = mapped_column(Boolean)
    expiry_days: Mapped[int | None] = mapped_column(Integer)
    # When expiry was switched on: points earned before then never expire.
    expiry_starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    # [{"name": ..., "threshold_micro": ...}], ascending thresholds.
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OrderEarning(Base):
    """What an order has credited to a card so far. The primary key makes it one row per (order, card): every
    change of the order moves the card by (what it should have earned now − ``credited_micro``), under this
    row's lock, so no status is ever credited twice, whatever the retries and concurrent updates."""

    __tablename__ = "loyalty_order_earning"

    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    loyalty_card_id: Mapped[str] = mapped_column(ForeignKey("loyalty_card.id", ondelete="CASCADE"), primary_key=True)
    credited_micro: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PointExpiry(Base):
    """An earned lot (a positive operation) whose time has come: how much of it expired (0 when later operations
    had consumed it all) and the operation that took it off. The primary key makes each lot expire once."""

    __tablename__ = "loyalty_point_expiry"

    lot_operation_id: Mapped[str] = mapped_column(
        ForeignKey("loyalty_operation.id", ondelete="CASCADE"), primary_key=True
    )
    loyalty_card_id: Mapped[str] = mapped_column(ForeignKey("loyalty_card.id", ondelete="CASCADE"), index=True)
    expired_micro: Mapped[int] = mapped_column(BigInteger)
    operation_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
