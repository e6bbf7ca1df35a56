"""Idempotency keys for POST (SPEC §7): a write is performed once per connection and key for 24 h.

A route takes ``idempotency: Idempotent`` and answers through ``idempotency.respond(result)``. The key is
reserved by inserting its row in the write transaction, and the response is stored in that row before
commit: the key, the write and the stored response commit together or not at all. A concurrent request
with the same key waits on the row (PostgreSQL's unique index; SQLite's single writer), then replays the
stored response.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, Integer, String, Text, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.responses import JSONResponse

from patronage.bodies import json_object
from patronage.db import Base, utcnow
from patronage.deps import Caller, WriteSession
from patronage.errors import field_error
from patronage.responses import JsonResponse

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


def fingerprint(request: Request, data: dict[str, Any]) -> str:
    """The request a key stands for: method, path and the body's JSON value (whitespace aside)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


class Replayed(Exception):  # noqa: N818 - not an error: the answer to a retried request
    """Raised by the dependency when the key was used before: its handler sends the stored response."""

    def __init__(self, response: JSONResponse):
        super().__init__("replayed")
        self.response = response


class Idempotency:
    """The request's key, reserved in the write transaction; :meth:`respond` stores the answer with the write."""

    def __init__(self, row: IdempotencyKey | None):
        self.row = row

    def respond(self, result: Any, status_code: int = 200) -> JSONResponse:
        if self.row is not None:
            self.row.status_code = status_code
            self.row.body = json.dumps(result, separators=(",", ":"))
        return JsonResponse(result, status_code=status_code)


async def idempotency(request: Request, principal: Caller, session: WriteSession) -> Idempotency:
    key = request.headers.get(HEADER)
    if key is None:
        return Idempotency(None)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise field_error(HEADER, f"must be 1 to {MAX_KEY_LENGTH} characters")
    print_ = fingerprint(request, await json_object(request))
    stored = await _lookup(session, principal.connection_id, key)
    if stored is None:
        row = await _reserve(session, principal.connection_id, key, print_)
        if row is not None:
            return Idempotency(row)
        # A concurrent request with this key committed while we waited on its row: replay it.
        stored = await _lookup(session, principal.connection_id, key)
        if stored is None:
            raise field_error(HEADER, "is being used by a concurrent request; retry later")
    raise Replayed(_replay(stored, print_))


Idempotent = Annotated[Idempotency, Depends(idempotency)]


async def _lookup(session: AsyncSession, connection_id: str, key: str) -> IdempotencyKey | None:
    row = (
        await session.execute(
            select(IdempotencyKey)
            .where(IdempotencyKey.connection_id == connection_id, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.created_at < utcnow() - TTL or row.status_code is None:
        await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.connection_id == connection_id, IdempotencyKey.key == key)
        )
        session.expunge(row)
        return None
    return row


def _replay(stored: IdempotencyKey, print_: str) -> JSONResponse:
    if stored.fingerprint != print_:
        raise field_error(HEADER, "was already used with a different request")
    response = JsonResponse(json.loads(stored.body or "null"), status_code=stored.status_code or 200)
    response.headers["Idempotent-Replayed"] = "true"
    return response


async def _reserve(session: AsyncSession, connection_id: str, key: str, print_: str) -> IdempotencyKey | None:
    """The key's row, inserted now; None when another transaction took it first (PostgreSQL waits for that
    one to end; SQLite's single writer never gets here)."""
    values = {"connection_id": connection_id, "key": key, "fingerprint": print_, "created_at": utcnow()}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING hands back the ORM row (no second SELECT); nothing comes back when the key was taken.
    return await session.scalar(
        insert(IdempotencyKey).values(**values).on_conflict_do_nothing().returning(IdempotencyKey)
    )


async def purge_expired(session: AsyncSession) -> int:
    """Deletes keys older than 24 h (run by the worker; expired keys are also replaced on use)."""
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - TTL))
    return result.rowcount or 0
