"""Callbacks (one per connection) and the events recorded for them: an outbox written in the same
transaction as the change that causes each event (SPEC §9)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY (its rowid).
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")


class Callback(Base):
    __tablename__ = "callback"

    connection_id: Mapped[str] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"), primary_key=True)
    # None: passive (events are polled); otherwise the URL the worker POSTs each event to.
    url: Mapped[str | None] = mapped_column(String(2048))
    # {"customer": ["create", "update"], "order": ["create"]}
    events: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_connection_seq", "connection_id", "seq"),
        Index("ix_event_next_attempt_at", "next_attempt_at"),
    )

    # Insertion order: events are listed and delivered oldest first.
    seq: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(16), unique=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("connection.id", ondelete="CASCADE"))
    resource_type: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(32))
    # The resource's ids and its parent's: {"customer_list_id": ..., "customer_id": ...}.
    resource_ids: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The time zone created_at is rendered in (the resource's location or list).
    timezone: Mapped[str] = mapped_column(String(64))
    # The resource's JSON as this connection reads it, before and after (JSON text, rendered once).
    previous_state: Mapped[str | None] = mapped_column(Text)
    new_state: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Active delivery: due when next_attempt_at has passed; a claim pushes it past the delivery timeout.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
