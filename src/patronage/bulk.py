"""Many rows into one table at once, the fastest way each database offers (bulk loads: ``admin seed-customers``,
``import customers``): ``COPY`` on PostgreSQL (asyncpg's ``copy_records_to_table``), one ``executemany`` INSERT
on SQLite. Either runs in the caller's transaction."""

import json
from collections.abc import Sequence
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
