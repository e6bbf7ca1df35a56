"""What reading the auth revision adds to a request answered from the token cache (issue 15.7).

    .venv/bin/python bench/revocation.py                    # SQLite, in a temporary file
    .venv/bin/python bench/revocation.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench

Authenticates one token over and over, as every request does (``patronage.auth.principal.authenticate``),
with ``--concurrency`` calls in flight, three ways:

- ``cache only``: the cache trusted for its TTL without reading the revision (what it cost before; revoked
  tokens then lived on in other processes for up to the TTL): the baseline;
- ``cache + revision``: the revision read before the cache is trusted (what every request now costs);
- ``no cache``: the token checked in the database on every call (what the cache saves).

Reports, per call, the CPU of this process, the CPU of the PostgreSQL backend that serves the revision reads
(PostgreSQL only: read from /proc, so the server must run on this machine), and the wall time. Median of 3
runs. The database is migrated and a tenant made in it (PostgreSQL: created when missing, left in place).
"""

import argparse
import asyncio
import os
import resource
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from patronage import migrate
from patronage.auth import service as auth
from patronage.auth.principal import PrincipalCache, authenticate
from patronage.auth.revision import PostgresRevision
from patronage.db import Database
from patronage.settings import Settings
from patronage.tenancy import service as tenancy


class _Fixed:
    """A revision that never changes, read for free: the cache as it was."""

    async def current(self) -> int:
        return 0

    async def close(self) -> None:
        pass


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _ensure_postgres_database(url: str) -> None:
    import asyncpg

    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database):
            await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


async def _token(db: Database) -> str:
    async with db.session(write=True) as session:
        user = await tenancy.create_user(session, f"revocation-bench-{secrets.token_hex(4)}@patronage.invalid", "x")
        account = await tenancy.create_account(session, user, "Bench", "EUR", "FR", "Europe/Paris")
        location = await tenancy.create_location(session, account, "Bench")
        client = (await auth.create_client(session, "Revocation bench", [])).client
        answer = await auth.connect(
            session, client, account=account, location=location, scope_text="location[all_customer_lists.read]"
        )
        return answer["access_token"]


async def _backend_pid(cache: PrincipalCache, db: Database) -> int | None:
    await cache.revision(db)
    reader = cache._reader
    if isinstance(reader, PostgresRevision) and reader._connection is not None:
        return await reader._connection.fetchval("SELECT pg_backend_pid()")
    return None


async def measure(db: Database, token: str, mode: str, calls: int, concurrency: int) -> tuple[float, float, float]:
    cache = PrincipalCache(0 if mode == "no cache" else 3600)
    if mode == "cache only":
        cache._reader_for, cache._reader = db, _Fixed()
    backend = await _backend_pid(cache, db) if mode == "cache + revision" else None

    async def worker(count: int) -> None:
        for _ in range(count):
            await authenticate(db, token, cache)

    await asyncio.gather(*(worker(50) for _ in range(concurrency)))  # warm-up
    each = calls // concurrency
    own, server, started = _own_cpu(), _process_cpu(backend), time.perf_counter()
    await asyncio.gather(*(worker(each) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    done = each * concurrency
    result = ((_own_cpu() - own) / done * 1e6, (_process_cpu(backend) - server) / done * 1e6, wall / done * 1e6)
    if cache._reader is not None:
        await cache._reader.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--concurrency", default="1,32", help="comma-separated: calls in flight")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{scratch}/revocation.db"
        if url.startswith("postgresql"):
            asyncio.run(_ensure_postgres_database(url))
        migrate.upgrade(url)
        asyncio.run(run(url, args.calls, [int(c) for c in args.concurrency.split(",")]))


async def run(url: str, calls: int, concurrencies: list[int]) -> None:
    db = Database(Settings(database_url=url))
    try:
        token = await _token(db)
        print(f"{db.dialect}: {calls} authentications of one token; µs per call, median of 3 runs")
        for concurrency in concurrencies:
            print(f"  {concurrency} in flight")
            for mode in ("cache only", "cache + revision", "no cache"):
                count = calls if mode != "no cache" else max(calls // 10, concurrency * 10)
                runs = [await measure(db, token, mode, count, concurrency) for _ in range(3)]
                own, server, wall = sorted(runs)[1]
                backend = f", revision backend {server:5.1f} CPU" if db.dialect == "postgresql" else ""
                print(f"    {mode:16}: this process {own:6.1f} CPU{backend}, wall {wall:6.1f}")
    finally:
        await db.dispose()


if __name__ == "__main__":
    main()
