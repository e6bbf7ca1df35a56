"""Engine, sessions and the declarative base shared by every feature."""

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import orjson
from sqlalchemy import Index, MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from patronage.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def unique_per_ref(name: str, scope: str) -> tuple[Index, Index]:
    """``ref`` unique among the rows of one ``scope``, and at most one row of a scope without ref: two partial
    unique indexes, ``uq_<name>_ref`` and ``uq_<name>_null_ref`` (a unique index alone lets NULLs repeat)."""
    return (
        Index(
            f"uq_{name}_ref",
            scope,
            "ref",
            unique=True,
            sqlite_where=text("ref IS NOT NULL"),
            postgresql_where=text("ref IS NOT NULL"),
        ),
        Index(
            f"uq_{name}_null_ref",
            scope,
            unique=True,
            sqlite_where=text("ref IS NULL"),
            postgresql_where=text("ref IS NULL"),
        ),
    )


def utcnow() -> datetime:
    """Naive UTC: both databases store it the same way and it sorts as text on SQLite."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: AsyncEngine, begin_statement: str) -> None:
    # The driver's own transaction handling is switched off so that we can say BEGIN IMMEDIATE for
    # writes: a write transaction then takes SQLite's write lock up front and waits for it
    # (busy_timeout) instead of failing when two readers both try to upgrade.
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # pragma: no cover - exercised through the engine
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):  # pragma: no cover - exercised through the engine
        conn.exec_driver_sql(begin_statement)


def dump_json(value: object) -> str:
    """JSON columns never store what JSON cannot say: SQLite would keep ``Infinity`` and fail every read."""
    return json.dumps(value, allow_nan=False)


def _finite_float(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:  # more than 4,300 digits
        return None


def _null(_: str) -> None:
    return None


def load_json(text: str) -> object:
    """JSON columns as stored, except numbers no response can render (``Infinity``, ``NaN``, ``1e400``, a
    huge integer), which read as null: a row written before they were refused must still be listed. orjson reads
    the common case (50 times faster than ``json``); what it refuses (those numbers, a lone surrogate, very deep
    nesting) is read by ``json`` as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_null)
    except ValueError:  # an integer of more than 4,300 digits; integers are parsed in C otherwise (2.5x faster)
        return json.loads(text, parse_float=_finite_float, parse_int=_integer, parse_constant=_null)


def make_engine(settings: Settings, *, for_writes: bool = False, custom_plans: bool = False) -> AsyncEngine:
    url = settings.database_url
    common = {
        "echo": settings.db_echo,
        # Statement parameters are request values (names, emails, custom fields): a database error's message
        # and traceback would log them. Only the explicit debugging setting shows them.
        "hide_parameters": not settings.log_request_values,
        "json_serializer": dump_json,
        "json_deserializer": load_json,
    }
    if is_sqlite(url):
        engine = create_async_engine(url, **common)
        _configure_sqlite(engine, "BEGIN IMMEDIATE" if for_writes else "BEGIN")
        return engine
    if custom_plans:
        return create_async_engine(
            url,
            **common,
            connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
            pool_size=max(1, settings.db_pool_size // 2),
            max_overflow=settings.db_max_overflow // 2,
            pool_timeout=settings.db_pool_timeout,
            pool_pre_ping=False,
        )
    return create_async_engine(
        url,
        **common,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=False,
    )


class Database:
    """Two session factories: reads, and writes (which on SQLite start with BEGIN IMMEDIATE)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.read_engine = make_engine(settings)
        self.write_engine = (
            make_engine(settings, for_writes=True) if is_sqlite(settings.database_url) else self.read_engine
        )
        # PostgreSQL reads run without a transaction: under READ COMMITTED each statement takes its own snapshot
        # anyway, so BEGIN and COMMIT only cost two round trips per request (the pool is shared with writes).
        read_bind = (
            self.read_engine
            if is_sqlite(settings.database_url)
            else self.read_engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # PostgreSQL: a second, smaller pool whose connections plan every statement with its values, for the
        # statements whose best plan depends on them (wildcard searches, customers.service.index); a generic
        # plan made without the values can read a whole list. Globally it would halve the rate of a primary
        # key lookup (pgbench: 10,800 -> 5,400 tps), and SET/RESET around each search costs two round trips.
        # Its connections open on first use. Sessions find it in ``session.info["custom_plans"]``.
        self.custom_plan_engine = (
            None
            if is_sqlite(settings.database_url)
            else make_engine(settings, custom_plans=True).execution_options(isolation_level="AUTOCOMMIT")
        )
        info = {"custom_plans": self.custom_plan_engine}
        self._read = async_sessionmaker(read_bind, expire_on_commit=False, autoflush=False, info=info)
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False, autoflush=False, info=info)
        self._on_dispose: list[Callable[[], Awaitable[None]]] = []

    def on_dispose(self, close: Callable[[], Awaitable[None]]) -> None:
        """``close`` runs when the database is disposed of (connections of its own that a feature keeps)."""
        self._on_dispose.append(close)

    @property
    def dialect(self) -> str:
        return self.read_engine.dialect.name

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block succeeds, rolled back when it raises."""
        factory = self._write if write else self._read
        async with factory() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        closers, self._on_dispose = self._on_dispose, []
        for close in closers:
            await close()
        await self.read_engine.dispose()
        if self.custom_plan_engine is not None:
            await self.custom_plan_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()
