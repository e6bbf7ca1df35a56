"""A revoked token stops at once on every worker and host (issue 15.7, SPEC §1, §10).

Two ``create_app`` on the same database stand for two workers (or hosts): each has its own token cache. The
database raises the auth revision in the transaction that revokes or changes a connection (migration 0008's
triggers); each process reads it before trusting its cache.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from helpers import Tenant
from live import live_server
from patronage.app import create_app
from patronage.auth import service as auth
from patronage.auth.principal import Principal, PrincipalCache
from patronage.auth.revision import PostgresRevision, SqliteRevision, reader_for
from patronage.auth.scopes import parse_scope
from patronage.ids import hash_secret
from patronage.settings import Settings

READ = "location[all_customer_lists.read]"


class Worker:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://patronage.test")

    @property
    def cache(self) -> PrincipalCache:
        return self.app.state.principal_cache

    async def location(self, token: str) -> int:
        return (await self.http.get("/v1/location", headers={"X-Access-Token": token})).status_code


@pytest.fixture
async def workers(settings: Settings) -> AsyncIterator[tuple[Worker, Worker]]:
    """Two processes' worth of app on the one database, caching tokens for a minute."""
    pair = [Worker(create_app(settings.model_copy(update={"auth_cache_seconds": 60}))) for _ in range(2)]
    yield pair[0], pair[1]
    for worker in pair:
        await worker.http.aclose()
        await worker.app.state.db.dispose()


async def _client(tenant: Tenant) -> tuple[str, str]:
    async with tenant.db.session(write=True) as session:
        made = await auth.create_client(session, "Revoking app", [])
        return made.client.id, made.secret


async def test_a_token_revoked_through_one_worker_is_refused_by_the_other_at_once(
    tenant: Tenant, workers: tuple[Worker, Worker]
) -> None:
    a, b = workers
    client_id, secret = await _client(tenant)
    token = await tenant.token(READ, client_id=client_id)
    for _ in range(3):
        assert await b.location(token) == 200
    assert b.cache.get(hash_secret(token), b.cache._revision) is not None, "B answers from its cache"
    revoked = await a.http.post(
        "/oauth2/v1/revoke", data={"token": token, "client_id": client_id, "client_secret": secret}
    )
    assert revoked.status_code == 200
    assert await b.location(token) == 401
    assert await a.location(token) == 401


async def test_any_writer_that_revokes_or_changes_a_connection_reaches_the_caches(
    tenant: Tenant, workers: tuple[Worker, Worker], db
) -> None:
    """The CLI, another host, a cascade or hand-written SQL: the triggers raise the revision for each."""
    _, b = workers
    token = await tenant.token(READ)
    other = await tenant.token(READ)
    assert await b.location(token) == 200 and await b.location(other) == 200
    key = hash_secret(token)

    async with db.session(write=True) as session:
        await session.execute(
            text("UPDATE connection SET rate_limits = :limits WHERE token_hash = :h"),
            {"limits": '{"per_minute": 7}', "h": key},
        )
    assert await b.location(token) == 200
    assert b.cache.get(key, b.cache._revision).rate_limits == {"per_minute": 7}

    async with db.session(write=True) as session:
        await session.execute(text("UPDATE connection SET revoked_at = created_at WHERE token_hash = :h"), {"h": key})
    assert await b.location(token) == 401
    assert await b.location(other) == 200

    async with db.session(write=True) as session:
        await session.execute(text("DELETE FROM connection WHERE token_hash = :h"), {"h": hash_secret(other)})
    assert await b.location(other) == 401


async def test_changes_that_no_cache_holds_leave_the_caches_alone(
    tenant: Tenant, workers: tuple[Worker, Worker], db
) -> None:
    _, b = workers
    token = await tenant.token(READ)
    assert await b.location(token) == 200
    before = b.cache._revision
    await tenant.token(READ)  # a new connection
    async with db.session(write=True) as session:
        await session.execute(
            text("UPDATE connection SET device_id = 'pos-2' WHERE token_hash = :h"), {"h": hash_secret(token)}
        )
    assert await b.location(token) == 200
    assert b.cache._revision == before


async def test_a_served_process_refuses_a_revoked_token_on_every_worker(tenant: Tenant, database_url: str) -> None:
    """The issue's run: after the revoke answered, 401, 401, 200, 401... from two workers. Now 401 only."""
    client_id, secret = await _client(tenant)
    token = await tenant.token(READ, client_id=client_id)
    env = {"PATRONAGE_AUTH_CACHE_SECONDS": "60", "PATRONAGE_CALLBACK_WORKER": "false"}
    with live_server(database_url, workers=2, env=env) as base:
        async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}) as http:
            # Several connections at once, so that both workers see (and cache) the token.
            for _ in range(4):
                answers = await asyncio.gather(*(_fresh_get(base, token) for _ in range(8)))
                assert set(answers) == {200}
            revoked = await http.post(
                "/oauth2/v1/revoke", data={"token": token, "client_id": client_id, "client_secret": secret}
            )
            assert revoked.status_code == 200
            answers = await asyncio.gather(*(_fresh_get(base, token) for _ in range(32)))
            assert set(answers) == {401}


async def _fresh_get(base: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}) as http:
        return (await http.get("/v1/location")).status_code


# --- the cache and the readers ---------------------------------------------------------------------------


def _principal() -> Principal:
    return Principal("c1", "cl", "POS", "acc", "loc", parse_scope(READ), None)


async def test_a_principal_read_before_a_revision_moved_on_is_not_kept() -> None:
    cache = PrincipalCache(60)
    cache._revision = 5
    cache.put("k", _principal(), revision=4)  # checked in the database before revision 5 was seen
    assert cache.get("k", 5) is None
    cache.put("k", _principal(), revision=5)
    assert cache.get("k", 5) is not None
    assert cache.get("k", None) is None, "an unknown revision never trusts the cache"


async def test_without_a_readable_revision_every_request_checks_the_database(
    tenant: Tenant, workers: tuple[Worker, Worker], tmp_path
) -> None:
    a, b = workers
    token = await tenant.token(READ)
    b.cache._reader_for = b.app.state.db
    b.cache._reader = SqliteRevision(str(tmp_path / "missing.db"))  # cannot be opened: reads answer None
    assert await b.location(token) == 200
    assert b.cache._entries == {}
    async with tenant.db.session(write=True) as session:
        await session.execute(
            text("UPDATE connection SET revoked_at = created_at WHERE token_hash = :h"), {"h": hash_secret(token)}
        )
    assert await b.location(token) == 401
    assert not (tmp_path / "missing.db").exists(), "the reader never creates a database file"


def test_readers_for_each_kind_of_database() -> None:
    assert isinstance(reader_for("sqlite+aiosqlite:///./patronage.db"), SqliteRevision)
    assert reader_for("sqlite+aiosqlite:///:memory:") is None
    assert reader_for("sqlite+aiosqlite://") is None
    pg = reader_for("postgresql+asyncpg://app:pw@db.example:6543/patronage?ssl=require")
    assert isinstance(pg, PostgresRevision)
    assert pg._connect_args == {
        "host": "db.example",
        "port": 6543,
        "user": "app",
        "password": "pw",
        "database": "patronage",
        "ssl": "require",
    }


class _SlowConnection:
    """Stands for asyncpg: each read returns the value current when it started, once released."""

    def __init__(self) -> None:
        self.value = 1
        self.reads = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    def is_closed(self) -> bool:
        return False

    def terminate(self) -> None:
        raise AssertionError("no read took too long")

    async def fetchval(self, _: str) -> int:
        self.reads += 1
        seen = self.value
        self.started.set()
        await self.release.wait()
        return seen


async def test_postgres_reads_are_shared_but_never_older_than_the_request() -> None:
    reader = PostgresRevision({})
    connection = _SlowConnection()
    reader._connection = connection
    early = [asyncio.ensure_future(reader.current()) for _ in range(10)]
    await connection.started.wait()  # the first read is under way, with value 1
    connection.value = 2  # a revocation commits while it runs
    late = [asyncio.ensure_future(reader.current()) for _ in range(10)]
    await asyncio.sleep(0)
    connection.release.set()
    assert await asyncio.gather(*early) == [1] * 10
    assert await asyncio.gather(*late) == [2] * 10, "requests that came after the revocation see it"
    assert connection.reads == 2, "twenty requests, two reads"


async def test_the_postgres_reader_reads_the_revision(settings: Settings, db) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    reader = reader_for(settings.database_url)
    assert isinstance(reader, PostgresRevision)
    try:
        first = await reader.current()
        async with db.session(write=True) as session:
            await session.execute(text("UPDATE auth_revision SET value = value + 1 WHERE id = 1"))
        assert await reader.current() == first + 1
    finally:
        await reader.close()
