"""The auth revision: one counter that says "a connection changed", read by every process on every request.

Each process caches the tokens it has checked (``PrincipalCache``). The database raises the counter in the
transaction that revokes, deletes or changes a connection (migration 0008's triggers, whoever writes: the
OAuth revoke, the CLI, a cascade, hand-written SQL), so once a revoke has answered, every process on every
host reads the new value on its next request, drops its cache and checks the token in the database again.

Reading it must cost far less than the query the cache saves:

- SQLite: a plain ``sqlite3`` connection of the process's own, read in the event loop. A one-row read of a
  WAL database takes microseconds and never waits for a writer (timeout 0), where a thread hop through
  aiosqlite would cost ten times more. Every process on the host reads the same file.
- PostgreSQL: an ``asyncpg`` connection of the process's own, one round trip outside any transaction.
  Requests that arrive together share one read, but only a read that started after they arrived: one still
  under way when a request comes may have missed a revocation that committed just before it.

When the counter cannot be read (no such table yet, the database away, an in-memory SQLite database), the
reader answers None and requests check their token in the database, as without a cache.
"""

import asyncio
import sqlite3
import time
from typing import Any, Protocol
from urllib.request import pathname2url

import structlog
from sqlalchemy import BigInteger, Integer
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from patronage.db import Base

log = structlog.get_logger("patronage.auth")

READ = "SELECT value FROM auth_revision WHERE id = 1"


class AuthRevision(Base):
    """One row (id 1); its value only ever goes up, raised by triggers (migration 0008)."""

    __tablename__ = "auth_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class RevisionReader(Protocol):
    async def current(self) -> int | None: ...

    async def close(self) -> None: ...


class _Reporter:
    """One warning a minute while the counter cannot be read, not one per request."""

    def __init__(self) -> None:
        self._next = 0.0

    def __call__(self, error: BaseException) -> None:
        now = time.monotonic()
        if now >= self._next:
            log.warning("auth_revision_unavailable", error=type(error).__name__, effect="tokens checked every request")
            self._next = now + 60


class SqliteRevision:
    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._report = _Reporter()

    async def current(self) -> int | None:
        try:
            if self._connection is None:
                # mode=rw: never create the file (the server has not migrated it yet).
                self._connection = sqlite3.connect(
                    f"file:{pathname2url(self.path)}?mode=rw",
                    uri=True,
                    timeout=0,
                    isolation_level=None,
                    check_same_thread=False,
                )
            row = self._connection.execute(READ).fetchone()
        except sqlite3.Error as error:
            self._report(error)
            await self.close()
            return None
        return int(row[0]) if row else None

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresRevision:
    TIMEOUT_SECONDS = 5.0

    def __init__(self, connect_args: dict[str, Any]) -> None:
        self._connect_args = connect_args
        self._connection: Any = None
        self._lock = asyncio.Lock()
        # The read not started yet, which requests arriving now may share.
        self._next: asyncio.Future[int | None] | None = None
        self._report = _Reporter()

    async def current(self) -> int | None:
        if self._next is None:
            self._next = asyncio.ensure_future(self._read_next())
        return await asyncio.shield(self._next)

    async def _read_next(self) -> int | None:
        async with self._lock:
            self._next = None  # from here on the read is under way: later requests need the next one
            try:
                if self._connection is None or self._connection.is_closed():
                    import asyncpg

                    self._connection = await asyncio.wait_for(
                        asyncpg.connect(**self._connect_args), self.TIMEOUT_SECONDS
                    )
                # A timer, not asyncpg's timeout= (a task per read: a fifth of the read's CPU), ends a read
                # the server does not answer.
                watchdog = asyncio.get_running_loop().call_later(self.TIMEOUT_SECONDS, self._connection.terminate)
                try:
                    value = await self._connection.fetchval(READ)
                finally:
                    watchdog.cancel()
            except Exception as error:  # noqa: BLE001 - any failure: check tokens in the database instead
                self._report(error)
                self._drop()
                return None
            return None if value is None else int(value)

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                try:
                    await asyncio.wait_for(self._connection.close(), self.TIMEOUT_SECONDS)
                except Exception:  # noqa: BLE001 - closing at shutdown: nothing left to do about it
                    self._drop()
                self._connection = None


def reader_for(database_url: str) -> RevisionReader | None:
    """The reader for a database URL; None for an in-memory SQLite database (one process: nothing to tell)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:" or path.startswith("file:") or url.query.get("mode") == "memory":
            return None
        return SqliteRevision(path)
    args: dict[str, Any] = url.translate_connect_args(username="user")
    ssl = url.query.get("ssl") or url.query.get("sslmode")
    if ssl:
        args["ssl"] = ssl
    return PostgresRevision(args)
