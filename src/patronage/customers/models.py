from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        # Newest-first pages of one list, keyset on (created_at, id).
        Index("ix_customer_list_created", "customer_list_id", "created_at", "id"),
        # Exact and prefix searches (pattern ops on PostgreSQL, whatever its collation); infix and
        # suffix searches use the trigram indexes that the migration adds on PostgreSQL.
        Index(
            "ix_customer_list_email",
            "customer_list_id",
            "email_search",
            postgresql_ops={"email_search": "text_pattern_ops"},
        ),
        Index(
            "ix_customer_list_phone",
            "customer_list_id",
            "phone",
            postgresql_ops={"phone": "text_pattern_ops"},
        ),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    customer_list_id: Mapped[str] = mapped_column(ForeignKey("customer_list.id", ondelete="CASCADE"))
    anonymised: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    # lower(email), computed in Python so that both databases compare the same characters.
    email_search: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    gender: Mapped[str | None] = mapped_column(String(6))
    birth_date: Mapped[date | None] = mapped_column(Date)
    company_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_access_code: Mapped[str | None] = mapped_column(String(255))
    address_1: Mapped[str | None] = mapped_column(String(255))
    address_2: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(2))
    # Exact decimals kept as their canonical text: SQLite has no exact NUMERIC.
    latitude: Mapped[str | None] = mapped_column(String(40))
    longitude: Mapped[str | None] = mapped_column(String(40))
    delivery_notes: Mapped[str | None] = mapped_column(String(1000))
    sms_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    email_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Order statistics, maintained by the orders feature; order_total in minor units of the list's currency.
    nb_orders: Mapped[int] = mapped_column(Integer, default=0)
    order_total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    first_order_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_order_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CustomerPrivateRef(Base):
    """A client's own reference for a customer: each client sees and filters on its own refs only."""

    __tablename__ = "customer_private_ref"
    __table_args__ = (
        Index("uq_customer_private_ref_list_client_ref", "customer_list_id", "client_id", "ref", unique=True),
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), primary_key=True)
    customer_list_id: Mapped[str] = mapped_column(ForeignKey("customer_list.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(255))
