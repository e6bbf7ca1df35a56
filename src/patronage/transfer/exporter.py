"""``patronage export ...``: a customer list's customers, loyalty cards or operations, or orders, streamed to CSV or
NDJSON in constant memory (docs/import-export.md has the formats).

Everything is read in one read-only transaction (REPEATABLE READ on PostgreSQL, a deferred transaction on SQLite):
the file is one consistent snapshot, whatever is written meanwhile. Rows come ``batch_size`` at a time, as plain
rows (no ORM object per row): keyset batches along the index that gives the export's order (customers and cards by
(created_at, id) in their list, orders by location or account), or a server-side cursor where no index does
(operations in ledger order, a list's orders). A batch of customers comes with its private refs and cards in the
same statement. The next batch is read while this one is rendered and written (the database works on one core,
Python on the other). Rows are rendered by the API's own renderers, so a value reads in the file as ``GET``
answers it: times in the list's timezone (an order's in its location's), money and points as the API writes them.
"""

import contextlib
import gc
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from patronage.db import Database
from patronage.transfer.export_batches import read_ahead
from patronage.transfer.export_format import CsvChunks, dumps
from patronage.transfer.export_kinds import ExportError, Kind, Request, Summary, kind_of

__all__ = ["ExportError", "Request", "Summary", "export"]


async def _snapshot(conn: AsyncConnection) -> AsyncConnection:
    """One snapshot for the whole export, read only. The export's statements are short index range scans (and
    one sort for operations): parallel workers would cost more than they save."""
    if conn.dialect.name == "postgresql":
        return await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


async def export(db: Database, request: Request, out: Any, opened: Callable[[], None] | None = None) -> Summary:
    """Writes the export to ``out`` (``write(bytes)``, ``flush()``); ``opened()`` is called once the arguments are
    checked, before the first byte (the CLI creates the output file then)."""
    kind = kind_of(request.kind)
    summary = Summary()
    csv_chunks = CsvChunks() if request.format == "csv" else None
    # A batch is thousands of short-lived objects (rows, dicts) and no reference cycles to speak of: the collector's
    # default young-generation passes, every 700 allocations, walk the batch under way again and again (10-15 % of
    # the CPU time). The start-up's objects are set aside for good, and the passes made rarer (the process ends).
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    async with db.read_engine.connect() as raw:
        conn = await _snapshot(raw)
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            plan = await kind.plan(conn, request)
            if opened is not None:
                opened()
            if csv_chunks is not None:
                out.write(csv_chunks.encode([list(kind.header)]))
            # Closed on the way out whatever happens: a read still under way ends before the rollback.
            async with contextlib.aclosing(read_ahead(plan.batches)) as batches:
                async for rows in batches:
                    _write(out, kind, plan.render(rows), csv_chunks, summary)
    out.flush()
    return summary


def _write(out: Any, kind: Kind, batch: list[dict[str, Any]], csv_chunks: CsvChunks | None, summary: Summary) -> None:
    summary.count += len(batch)
    if csv_chunks is None:
        out.write(b"".join([dumps(resource) + b"\n" for resource in batch]))
        summary.rows += len(batch)
        return
    rows = [row for resource in batch for row in kind.csv_rows(resource)]
    out.write(csv_chunks.encode(rows))
    summary.rows += len(rows)
