"""OAuth clients and the connections (grants + access tokens) made for them."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow


class Client(Base):
    __tablename__ = "client"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The secret itself, encrypted (patronage.sealing): webhooks are signed with it.
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Connection(Base):
    __tablename__ = "connection"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    # "location" or "account"
    access_level: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(512))
    customer_list_id: Mapped[str | None] = mapped_column(
        ForeignKey("customer_list.id", ondelete="SET NULL"), nullable=True, index=True
    )
    device_id: Mapped[str | None] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Connections made through OAuth answer the same token when the same grant is authorised again (SPEC §10):
    # their token is derived from the client's secret and this random salt (patronage.oauth.service), so no
    # form of it is stored. Null for tokens issued by the CLI.
    token_salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # OAuth tokens issued before that (migration 0009) were kept sealed (patronage.sealing) instead.
    token_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # This connection's own rate limits, replacing the defaults: {"per_minute": 2000, ...}.
    rate_limits: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
