"""Orders, as far as customers and loyalty need them (SPEC §8). Money is kept in integer minor units."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow


class Order(Base):
    """One order of a location. Its elements and its customer copy are JSON documents, rendered as stored."""

    __tablename__ = "order"
    __table_args__ = (
        # Newest-first pages of a location's orders and of an account's, keyset on (created_at, id).
        Index("ix_order_location_created", "location_id", "created_at", "id"),
        Index("ix_order_account_created", "account_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(255))
    service_type: Mapped[str | None] = mapped_column(String(16))
    service_type_ref: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(255))
    expected_time: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_time: Mapped[datetime | None] = mapped_column(DateTime)
    customer_notes: Mapped[str | None] = mapped_column(Text)
    seller_notes: Mapped[str | None] = mapped_column(Text)
    collection_code: Mapped[str | None] = mapped_column(String(255))
    coupon_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The location's currency when the order was created; the total in its minor units.
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # Elements as rendered on the wire (money as "8.90 EUR", quantities as decimal strings, element ids).
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    charges: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    discounts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    payments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The deal map, keyed "0", "1", … (null in orders stored before deals were kept).
    deals: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    loyalty_operations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The linked customer; both links are lost (set null) when the customer or its list is deleted.
    customer_list_id: Mapped[str | None] = mapped_column(
        ForeignKey("customer_list.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"), index=True)
    # The customer as rendered when the order was created (guest orders: the same shape, id null).
    customer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The delivery attached to the order (orders.deliveries), times in naive UTC ISO text; null: none.
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OrderPrivateRef(Base):
    """A client's own reference for an order: each client sees and filters on its own refs only."""

    __tablename__ = "order_private_ref"
    __table_args__ = (Index("ix_order_private_ref_client_ref", "client_id", "ref"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), primary_key=True)
    ref: Mapped[str] = mapped_column(String(255))


class OrderElementPrivateRef(Base):
    """A client's own reference for an element of an order (item, charge, discount, payment), like an order's:
    only that client sees it."""

    __tablename__ = "order_element_private_ref"

    order_id: Mapped[str] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref: Mapped[str] = mapped_column(String(255))
