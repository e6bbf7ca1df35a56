"""Many rows into tables at once, the fastest way each database offers (bulk loads: ``admin seed-customers``,
``import customers``): ``COPY`` on PostgreSQL (asyncpg's ``copy_records_to_table``), one ``executemany`` INSERT
on SQLite. Either runs in the caller's transaction.

A big load into a quiet PostgreSQL table is faster still with its secondary indexes and foreign keys dropped
and rebuilt once the rows are in (:func:`indexes_rebuilt`): building an index from all the rows at once is
several times cheaper than maintaining it row by row, and one validating query per foreign key than a check
per row."""

import json
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``rows`` are tuples in ``columns`` order, JSON columns given as JSON text (what COPY takes)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))
        return
    json_columns = [name for name in columns if isinstance(table.c[name].type, JSON)]
    values = [dict(zip(columns, row, strict=True)) for row in rows]
    for value in values:
        for name in json_columns:
            value[name] = json.loads(value[name])
    await conn.execute(insert(table), values)


# Above this many rows, and when the new rows make at least half the table, a load is faster with the table's
# indexes rebuilt afterwards (rebuilding costs the whole table's rows, old ones included).
REBUILD_THRESHOLD = 50_000


def worth_rebuilding(count: int, existing: int) -> bool:
    """Whether loading ``count`` rows into a table of about ``existing`` rows is faster with
    :func:`indexes_rebuilt`."""
    return count >= REBUILD_THRESHOLD and 2 * count >= existing


# Memory each index build may use while indexes are rebuilt (SET LOCAL: this transaction only).
MAINTENANCE_WORK_MEM = "256MB"

# The indexes of a table that back no constraint (the primary key and unique constraints stay), and its
# foreign keys; both as the SQL that makes them again.
_SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
WHERE i.indrelid = $1::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
ORDER BY 1
"""
_FOREIGN_KEYS = """
SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE conrelid = $1::regclass AND contype = 'f'
ORDER BY 1
"""


async def table_rows(conn: AsyncConnection, table: str) -> int:
    """The planner's estimate of a PostgreSQL table's rows (0 for a table never analysed): cheap, for choosing
    whether a load is big next to what is there."""
    driver = await _driver(conn)
    return await driver.fetchval("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = $1::regclass", table)


class TablesInUse(RuntimeError):
    """The tables could not be locked in time: other sessions are using them."""


@asynccontextmanager
async def indexes_rebuilt(
    conn: AsyncConnection,
    tables: Sequence[str],
    *,
    keep: Collection[str] = (),
    lock_timeout: str | None = None,
    rebuilding: Callable[[], None] | None = None,
) -> AsyncIterator[None]:
    """PostgreSQL, in the caller's transaction: ``tables`` are locked (ACCESS EXCLUSIVE: nobody else reads or
    writes them until the transaction ends), their secondary indexes but those named in ``keep`` and their
    foreign keys are dropped, and once the block is done they are made again (``rebuilding`` is called first),
    each index in one pass over the rows, each foreign key checked by one query. With ``lock_timeout``
    (``"5s"``), :class:`TablesInUse` if the lock is not had by then.

    All of it is the caller's transaction: if the block fails, or the process is killed, or the server stops,
    the transaction rolls back with the drops, so no one ever sees the tables without their indexes or
    constraints and nothing is left to repair. The price: one transaction for the whole load, holding the
    lock (a load cut short leaves nothing of itself)."""
    import asyncpg

    driver = await _driver(conn)
    # Locked first, all at once, so that no reader sees a table without its indexes.
    if lock_timeout is not None:
        await driver.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
    try:
        await driver.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    except asyncpg.LockNotAvailableError:
        raise TablesInUse(f"{', '.join(tables)}: in use by other sessions") from None
    if lock_timeout is not None:
        await driver.execute("SET LOCAL lock_timeout = DEFAULT")
    dropped_indexes, dropped_keys = [], []
    for table in tables:
        dropped_indexes += [row for row in await driver.fetch(_SECONDARY_INDEXES, table) if row["name"] not in keep]
        dropped_keys += [(table, row) for row in await driver.fetch(_FOREIGN_KEYS, table)]
    for table, row in dropped_keys:
        await driver.execute(f"ALTER TABLE {table} DROP CONSTRAINT {row['name']}")
    for row in dropped_indexes:
        await driver.execute(f"DROP INDEX {row['name']}")
    yield
    if rebuilding is not None:
        rebuilding()
    await driver.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
    for row in dropped_indexes:
        await driver.execute(row["definition"])
    for table, row in dropped_keys:
        await driver.execute(f"ALTER TABLE {table} ADD CONSTRAINT {row['name']} {row['definition']}")


async def _driver(conn: AsyncConnection) -> Any:
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    return driver
