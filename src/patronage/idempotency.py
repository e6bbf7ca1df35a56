"""Idempotency keys for POST (SPEC §7): a write is performed once per connection and key for 24 h.

The key is reserved by inserting its row at the start of the write transaction, and the response is
stored in that row before commit: the key, the write and the stored response commit together or not at
all. A concurrent request with the same key blocks on the row (PostgreSQL's unique index; SQLite's
single writer) and then replays the stored response.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.responses import JSONResponse

from patronage.auth.principal import Principal, get_db
from patronage.db import Base, utcnow
from patronage.errors import field_error

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyKey(Base):
    __tablename__ = "idempotency_key"

    connection_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


Work = Callable[[AsyncSession], Awaitable[Any]]


def fingerprint(request: Request, data: dict[str, Any]) -> str:
    """The request a key stands for: method, path and the body's JSON value (whitespace aside)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


class _KeyTaken(Exception):
    pass


async def run_write(
    request: Request, principal: Principal, data: dict[str, Any], work: Work, *, status_code: int = 200
) -> JSONResponse:
    """Runs ``work(session)`` in one write transaction and renders its result as JSON.

    With an ``Idempotency-Key`` header, a retry of the same request replays the first response.
    """
    db = get_db(request)
    key = request.headers.get(HEADER)
    if key is None:
        async with db.session(write=True) as session:
            result = await work(session)
        return JSONResponse(result, status_code=status_code)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise field_error(HEADER, f"must be 1 to {MAX_KEY_LENGTH} characters")
    print_ = fingerprint(request, data)
    for _ in range(3):
        try:
            async with db.session(write=True) as session:
                stored = await _lookup(session, principal.connection_id, key)
                if stored is not None:
                    return _replay(stored, print_)
                row = await _reserve(session, principal.connection_id, key, print_)
                result = await work(session)
                await _store(session, row, status_code, result)
            return JSONResponse(result, status_code=status_code)
        except _KeyTaken:
            continue  # a concurrent request with this key committed first: replay it
    raise field_error(HEADER, "is being used by a concurrent request; retry later")


async def _lookup(session: AsyncSession, connection_id: str, key: str) -> IdempotencyKey | None:
    row = await session.get(IdempotencyKey, (connection_id, key))
    if row is None:
        return None
    if row.created_at < utcnow() - TTL or row.status_code is None:
        await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.connection_id == connection_id, IdempotencyKey.key == key)
        )
        await session.flush()
        session.expunge(row)
        return None
    return row


def _replay(stored: IdempotencyKey, print_: str) -> JSONResponse:
    if stored.fingerprint != print_:
        raise field_error(HEADER, "was already used with a different request")
    response = JSONResponse(json.loads(stored.body or "null"), status_code=stored.status_code or 200)
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def _reserve(session: AsyncSession, connection_id: str, key: str, print_: str) -> IdempotencyKey:
    row = IdempotencyKey(connection_id=connection_id, key=key, fingerprint=print_, created_at=utcnow())
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise _KeyTaken() from None
    return row


async def _store(session: AsyncSession, row: IdempotencyKey, status_code: int, result: Any) -> None:
    row.status_code = status_code
    row.body = json.dumps(result, separators=(",", ":"))
    await session.flush()


async def purge_expired(session: AsyncSession) -> int:
    """Deletes keys older than 24 h (run by the worker; expired keys are also replaced on use)."""
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - TTL))
    return result.rowcount or 0
