"""What ``patronage import hubrise`` remembers of a source, so that a re-run resumes and never duplicates.

A source is a base URL and what its token reaches (account, location); it is keyed by a hash of those, never by
the token (which is not stored: the operator gives it again on each run).
"""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow


class HubriseSource(Base):
    """One source API and the local account (and client) its data lands in."""

    __tablename__ = "hubrise_source"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    base_url: Mapped[str] = mapped_column(String(1000))
    source_account_id: Mapped[str] = mapped_column(String(64))
    source_location_id: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str | None] = mapped_column(ForeignKey("client.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)


class HubriseMapping(Base):
    """A source resource (``kind``: list, customer, card, operation) and the local row it became.

    ``done`` on a card: every operation the source had when the card was last read is applied locally.
    ``parent_id``: the source list of a customer, the source customer of a card, the source card of an operation."""

    __tablename__ = "hubrise_mapping"
    __table_args__ = (Index("ix_hubrise_mapping_local", "source_key", "kind", "local_id"),)

    source_key: Mapped[str] = mapped_column(ForeignKey("hubrise_source.key", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(64))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    # On a card: its balance on the source when it was last brought in step (the card is read again when the
    # source's balance moves from it; the local balance may differ once a switched-over client writes locally).
    state: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
