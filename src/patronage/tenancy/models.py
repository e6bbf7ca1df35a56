"""Users own accounts; accounts have locations."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow


class User(Base):
    __tablename__ = "user"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Account(Base):
    __tablename__ = "account"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    # Numbers the account's locations: location ids are "<account id>-<n>".
    last_location_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Location(Base):
    __tablename__ = "location"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # What a connection may update (HubRise's "Update Location"); migration 0012.
    cutoff_time: Mapped[str] = mapped_column(String(5), default="06:00", server_default="06:00")
    # {"monday": [{"from": "12:00", "to": "14:00"}], ...}; None: never set.
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preparation_time: Mapped[int | None] = mapped_column(Integer)
    # {"mode": "busy", "resume_at": "<UTC ISO>" | None, "extra_preparation_time": 25}; None: online.
    order_acceptance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
