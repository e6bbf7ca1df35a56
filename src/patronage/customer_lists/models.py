from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, false, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from patronage.db import Base, utcnow
from patronage.tenancy.models import Account, Location


class CustomerList(Base):
    """A list of customers, at account level (location_id null) or at one location's level."""

    __tablename__ = "customer_list"
    __table_args__ = (Index("ix_customer_list_account_created", "account_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), index=True, nullable=True
    )
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Whether the list has a loyalty programme (a Patronage extension), kept by programmes.service's PUT and
    # DELETE under the list's row lock: read with the list, it spares a list without programme every programme
    # lookup (an order's earning, a card's programme fields, an operation's guard). Never false with a programme.
    has_loyalty_programmes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # What every rendering of the list's content needs (times in its owner's zone, money in its currency):
    # loaded with the list, in the same statement, rather than by a second query per request.
    owner_timezone: Mapped[str] = column_property(
        func.coalesce(
            select(Location.timezone).where(Location.id == location_id).correlate_except(Location).scalar_subquery(),
            select(Account.timezone).where(Account.id == account_id).correlate_except(Account).scalar_subquery(),
        )
    )
    owner_currency: Mapped[str] = column_property(
        func.coalesce(
            select(Location.currency).where(Location.id == location_id).correlate_except(Location).scalar_subquery(),
            select(Account.currency).where(Account.id == account_id).correlate_except(Account).scalar_subquery(),
        )
    )
