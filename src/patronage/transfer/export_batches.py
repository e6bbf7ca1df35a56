"""How an export reads its rows: in batches, along an index (keyset pages) or through a server-side cursor, the next
batch read while this one is written."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import tuple_
from sqlalchemy.ext.asyncio import AsyncConnection


async def cursor_batches(conn: AsyncConnection, stmt: Any, size: int) -> AsyncIterator[list[Any]]:
    """The statement's rows through a server-side cursor, ``size`` at a time."""
    result = await conn.stream(stmt.execution_options(yield_per=size))
    while rows := await result.fetchmany(size):
        yield rows


def keyset_page(stmt: Any, key: tuple[Any, ...], after: tuple[Any, ...] | None, size: int) -> Any:
    """``stmt`` in ``key`` order (an index's columns after the statement's equality conditions), ``size`` rows
    after the key ``after``: a short index range scan."""
    if after is not None:
        stmt = stmt.where(tuple_(*key) > tuple_(*after))
    return stmt.order_by(*key).limit(size)


async def keyset_batches(
    conn: AsyncConnection, page: Callable[[tuple[Any, ...] | None], Any], key: Callable[[Any], tuple[Any, ...]]
) -> AsyncIterator[list[Any]]:
    """Batches of ``page(after)``, each starting after the previous one's last ``key(row)``. ``page`` returns the
    statement, its size and how to count a batch's resources: a batch of fewer than ``size`` is the last."""
    after: tuple[Any, ...] | None = None
    while True:
        stmt, size, count = page(after)
        rows = (await conn.execute(stmt)).all()
        if rows:
            yield rows
        if count(rows) < size:
            return
        after = key(rows[-1])


async def read_ahead(batches: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``batches``, the next one asked for before this one is handed over: its statement is on its way (the
    database reads it) while the caller renders and writes this one."""
    pending = asyncio.ensure_future(anext(batches))
    try:
        while True:
            try:
                batch = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(batches))
            await asyncio.sleep(0)  # lets the next read send its statement
            yield batch
    finally:
        if not pending.done():  # the caller stopped (an error, a closed pipe): let the read end before the rollback
            with contextlib.suppress(BaseException):
                await pending
