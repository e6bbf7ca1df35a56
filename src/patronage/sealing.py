"""Client secrets sealed at rest: the server signs webhooks with them (SPEC §9), so unlike tokens they cannot
be stored as hashes. They are encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The key is ``PATRONAGE_SECRET_KEY`` when it is set: a database leak alone then reveals no secret. Without it,
a key generated once and kept in the database itself is used, so that every process and host of a deployment
(CLI included) agrees with zero set-up. Opening tries both, so setting ``PATRONAGE_SECRET_KEY`` later keeps
the secrets sealed before readable.
"""

import base64
import hashlib
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import DateTime, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base, utcnow
from patronage.settings import Settings, get_settings

DATABASE_KEY = "client-secrets"


class ServerKey(Base):
    __tablename__ = "server_key"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SealError(Exception):
    """A sealed secret that none of this server's keys opens."""


@lru_cache
def _fernet(material: str) -> Fernet:
    # Any string makes a key: its SHA-256 is the 32 bytes Fernet wants.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


async def _database_key(session: AsyncSession) -> str:
    row = await session.get(ServerKey, DATABASE_KEY)
    if row is None:
        try:
            async with session.begin_nested():  # another process may create it at the same moment
                row = ServerKey(name=DATABASE_KEY, value=Fernet.generate_key().decode(), created_at=utcnow())
                session.add(row)
        except IntegrityError:
            row = await session.get(ServerKey, DATABASE_KEY, populate_existing=True)
    assert row is not None
    return row.value


async def _keys(session: AsyncSession, settings: Settings | None) -> MultiFernet:
    settings = settings or get_settings()
    keys = [_fernet(settings.secret_key)] if settings.secret_key else []
    return MultiFernet([*keys, _fernet(await _database_key(session))])


async def seal(session: AsyncSession, secret: str, settings: Settings | None = None) -> str:
    return (await _keys(session, settings)).encrypt(secret.encode()).decode()


async def unseal(session: AsyncSession, sealed: str, settings: Settings | None = None) -> str:
    try:
        return (await _keys(session, settings)).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealError("this client secret was sealed with a PATRONAGE_SECRET_KEY this server does not have") from None
