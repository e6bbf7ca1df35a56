"""``patronage import customers``: a CSV or NDJSON file of customers into a list (docs/import-export.md).

The file is streamed: a reading process (``import_worker``) reads and validates the next batches of rows while
this one writes the current batch, so memory holds a few batches whatever the file's size. A batch is matched
in one SELECT of the customers its keys name, one of their cards and (with a client) private refs; then the new
customers, private refs, cards and opening-balance operations go in by COPY (PostgreSQL) or one executemany
INSERT (SQLite), and the changed customers are updated in one executemany UPDATE.

Two ways of writing (``Mode``): in place, each batch its own transaction (an interrupted import leaves whole
batches; running it again finds them and changes nothing there); in bulk, on PostgreSQL, for a big file into an
empty list of a quiet database: the whole import is one transaction that drops the secondary indexes and foreign
keys of the tables it fills and rebuilds them at the end (``bulk.indexes_rebuilt``); interrupted, it leaves
nothing, indexes included, and running it again does it all.

No event is fired, and the order statistics of customers are left as they are (a new customer has none).
"""

import asyncio
import contextlib
import enum
import json
import operator
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import String, any_, bindparam, delete, literal, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from patronage import bulk
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.customers.schemas import ANONYMISED_FIELDS
from patronage.customers.service import PRIVATE_REF_TAKEN
from patronage.db import Database, dump_json, utcnow
from patronage.errors import ValidationFailed
from patronage.ids import new_ids
from patronage.loyalty.ledger import operation_hash
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.loyalty.service import NULL_REF_TAKEN, REF_TAKEN
from patronage.transfer.customer_rows import CUSTOMER_COLUMNS, OPENING_REASON, Card, CsvRows, Row, from_ndjson
from patronage.transfer.import_reader import CsvFile, NdjsonFile, Record
from patronage.transfer.import_worker import ReadingProcess, quiet_garbage_collector

BATCH_SIZE = 5000
# Rows of one customer (CSV: one per card) are kept in one batch; past this many rows a batch is cut anyway.
MAX_BATCH_FACTOR = 4
# A batch that meets a concurrent writer (a private ref or card ref taken meanwhile, a customer deleted) is
# rolled back and done again from fresh reads, this many times at most.
ATTEMPTS = 3
# A bulk import waits this long for the customer table's lock; then (unless --bulk was given) it imports in
# place: other sessions are using the table, so it is not a quiet one.
BULK_LOCK_TIMEOUT = "5s"
SEVERAL_MATCHES = "matches {count} customers of this list: the match key must name one customer"

# The customer columns a row sets (private refs live in their own table).
FIELDS = tuple(name for name in CUSTOMER_COLUMNS if name != "private_ref")
_DEFAULTS: dict[str, Any] = {name: None for name in FIELDS} | {
    "sms_marketing": False,
    "email_marketing": False,
    "custom_fields": {},
}
_CUSTOMER = Customer.__table__
_CARD = LoyaltyCard.__table__
_OPERATION = LoyaltyOperation.__table__
_PRIVATE_REF = CustomerPrivateRef.__table__
# The card and operation tuples are built in these orders.
CARD_COLUMNS_ORDER = (
    "id",
    "account_id",
    "customer_list_id",
    "customer_id",
    "name",
    "ref",
    "balance_micro",
    "operation_count",
    "ledger_hash",
    "created_at",
)
OPERATION_COLUMNS_ORDER = (
    "id",
    "account_id",
    "customer_list_id",
    "loyalty_card_id",
    "customer_id",
    "seq",
    "delta_micro",
    "new_balance_micro",
    "reason",
    "order_id",
    "order_location_id",
    "created_at",
    "hash",
)
assert sorted(CARD_COLUMNS_ORDER) == sorted(column.name for column in _CARD.columns)
assert sorted(OPERATION_COLUMNS_ORDER) == sorted(column.name for column in _OPERATION.columns)
# The columns of the customers COPY writes, in the order the writer builds its tuples.
_PLAIN_FIELDS = tuple(name for name in FIELDS if name != "custom_fields")
_CUSTOMER_COPY = (
    "id",
    "account_id",
    "customer_list_id",
    "anonymised",
    "email_search",
    "nb_orders",
    "order_total_minor",
    "first_order_at",
    "last_order_at",
    "created_at",
    "updated_at",
    *_PLAIN_FIELDS,
    "custom_fields",
)
assert sorted(_CUSTOMER_COPY) == sorted(column.name for column in _CUSTOMER.columns)
_plain_fields = operator.itemgetter(*_PLAIN_FIELDS)


# What a bulk import keeps of the indexes of the tables it fills: those its own reads need (matching a key, who
# holds a private ref); the others, and the foreign keys, are dropped and made again at the end. Kept, they
# would be maintained row by row, at random places of indexes bigger than the server's buffers: 2.2 times the
# database's work of a million-row import (and the trigram indexes cost 2.4 times their rebuild).
_KEPT_INDEXES = {
    "email": ("ix_customer_list_email", "uq_customer_private_ref_list_client_ref"),
    "private_ref": ("uq_customer_private_ref_list_client_ref",),
}


class ImportArgumentError(ValueError):
    """A bad argument found before anything is written (no such list, client...)."""


class Mode(enum.Enum):
    IN_PLACE = "in place"
    BULK = "bulk"


@dataclass(slots=True)
class Reject:
    line: int
    errors: list[dict[str, str]]
    raw: str

    def json(self) -> str:
        return json.dumps({"line": self.line, "errors": self.errors, "row": self.raw}, ensure_ascii=False)


@dataclass(slots=True)
class Batch:
    rows: list[Row] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    raw: dict[int, str] = field(default_factory=dict)  # the text of each valid row, by line, should it be refused
    read: int = 0
    bytes_read: int = 0


@dataclass(slots=True)
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: "Counts") -> None:
        self.read += other.read
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected


@dataclass(frozen=True)
class Target:
    """Where rows go: the list (and its account), the match key, the client whose private refs are read."""

    customer_list_id: str
    account_id: str
    key: str
    client_id: str | None


# --- reading --------------------------------------------------------------------------------------------


def open_source(stream: Any, fmt: str) -> CsvFile | NdjsonFile:
    """The file, ready to read; a CSV header is read now (``ValueError`` if it cannot be)."""
    return CsvFile(stream) if fmt == "csv" else NdjsonFile(stream)


def batches(
    source: CsvFile | NdjsonFile, key: str, private_refs: bool, context: dict[str, Any], size: int = BATCH_SIZE
) -> Iterator[Batch]:
    """The file's records validated, in batches of about ``size`` records; the rows of one key that follow
    each other stay in one batch. ``private_refs``: a client was given (the private_ref column is read)."""
    csv_rows = (
        CsvRows(source.header, key=key, private_refs=private_refs, context=context)
        if isinstance(source, CsvFile)
        else None
    )
    batch = Batch()
    last_key: str | None = None
    clock = _Clock()
    ids = _Ids()
    record: Record
    for record in source:
        row = None
        if record.problem is not None:
            batch.rejects.append(Reject(record.line, [record.problem], record.raw))
        else:
            try:
                if csv_rows is not None:
                    assert record.cells is not None
                    row = csv_rows.row(record.line, record.cells)
                else:
                    row = from_ndjson(record.line, record.data, key=key, private_refs=private_refs, context=context)
            except ValidationFailed as exc:
                batch.rejects.append(Reject(record.line, exc.errors or [], record.raw))
        if row is not None:
            full = batch.read >= size
            if (full and row.key != last_key) or batch.read >= size * MAX_BATCH_FACTOR:
                batch.bytes_read = source.bytes_read
                yield batch
                batch = Batch()
                clock.catch_up()
            stamp(row, clock, ids)
            batch.rows.append(row)
            batch.raw[row.line] = record.raw
            last_key = row.key
        batch.read += 1
    if batch.read:
        batch.bytes_read = source.bytes_read
        yield batch


def read_in_background(
    source: CsvFile | NdjsonFile,
    *,
    key: str,
    private_refs: bool,
    context: dict[str, Any],
    batch_size: int = BATCH_SIZE,
) -> ReadingProcess:
    """Starts reading and validating the file in a process of its own (call it before any event loop or
    connection is opened: the process is forked); its batches come out of the returned object, in order."""
    return ReadingProcess(lambda: batches(source, key, private_refs, context, batch_size))


class _Clock:
    """Creation times: about now, but strictly increasing, so that customers and cards keep the file's order (the
    API lists a customer's cards, and the export its customers, by creation time). A tick is a microsecond
    after the last one; :meth:`catch_up` (each batch) brings the clock back to now."""

    def __init__(self) -> None:
        self.last = utcnow()

    def catch_up(self) -> None:
        self.last = max(self.last, utcnow())

    def __call__(self) -> datetime:
        self.last += _MICROSECOND
        return self.last


_MICROSECOND = timedelta(microseconds=1)


class _Ids:
    """New ids, drawn a few thousand at a time."""

    def __init__(self) -> None:
        self.ids: Iterator[str] = iter(())

    def __call__(self) -> str:
        new = next(self.ids, None)
        if new is None:
            self.ids = iter(new_ids(BATCH_SIZE))
            new = next(self.ids)
        return new


def stamp(row: Row, clock: _Clock, ids: _Ids) -> None:
    """What a row's customer and cards are given should the loader create them (it only knows then), made by
    the reading process, which has time to spare: creation times in the file's order; each card its id and,
    with a balance, its opening operation's id and hash (``opening_hash``)."""
    row.created_at = clock()
    for card in row.cards:
        card.id = ids()
        card.created_at = clock()
        if card.balance_micro:
            card.operation_id = ids()
            card.ledger_hash = opening_hash(card)


def opening_hash(card: Card) -> str:
    """The one place the import makes a loyalty operation: a new card's opening balance, the card's first
    operation, as ``loyalty.service.apply_operation`` writes one: seq 1, the first link of the card's hash chain
    (``loyalty.ledger``), created with the card; the card is given what apply_operation leaves on it
    (``operation_count`` 1, the operation's ``new_balance`` and hash: see ``Loader._write``)."""
    assert card.operation_id is not None and card.created_at is not None
    return operation_hash(
        None,
        operation_id=card.operation_id,
        seq=1,
        delta_micro=card.balance_micro,
        new_balance_micro=card.balance_micro,
        created_at=card.created_at,
        order_id=None,
    )


class Prefetch:
    """Runs ``produce`` in a daemon thread, one step ahead of the caller: here, receiving the next batch from
    the reading process (unpickling it) while the current one is written. A daemon thread: an interrupted
    import never waits for it."""

    _END = object()

    def __init__(self, items: Iterable[Any]):
        self.loop = asyncio.get_running_loop()
        self.items = iter(items)
        self.requests: queue.SimpleQueue[asyncio.Future[Any]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="import-receiver", daemon=True).start()
        self.ahead = self._request()

    def _request(self) -> "asyncio.Future[Any]":
        future = self.loop.create_future()
        self.requests.put(future)
        return future

    def _run(self) -> None:
        while True:
            future = self.requests.get()
            try:
                result: Any = next(self.items, self._END)
            except BaseException as exc:  # handed to the caller, who re-raises it
                self._deliver(future, None, exc)
                return
            self._deliver(future, result, None)
            if result is self._END:
                return

    def _deliver(self, future: "asyncio.Future[Any]", result: Any, exc: BaseException | None) -> None:
        def settle() -> None:
            if future.done():
                return
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop is closed: the import is over
            self.loop.call_soon_threadsafe(settle)

    async def next(self) -> Any | None:
        """The next item, or None at the end; the one after it is read meanwhile."""
        result = await self.ahead
        if result is self._END:
            return None
        self.ahead = self._request()
        return result


# --- writing --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Customer:
    """A customer as a batch sees it: as stored, then as its rows leave it."""

    id: str
    new: bool
    values: dict[str, Any]
    anonymised: bool = False
    private_ref: str | None = None
    stored_ref: bool = False  # a private ref row exists for it in the database
    card_refs: set[str | None] = field(default_factory=set)
    named: set[str | None] = field(default_factory=set)  # card refs the batch's rows named
    created_at: datetime | None = None
    changed: bool = False
    ref_changed: bool = False


class Loader:
    """Writes batches of valid rows into one list: in place, one transaction each (:meth:`load`), or in bulk,
    all in one transaction (:meth:`bulk`)."""

    def __init__(self, db: Database, target: Target):
        self.db = db
        self.target = target
        self.pg = db.dialect == "postgresql"
        self.list_was_empty = False
        self.conflicts: tuple[type[BaseException], ...] = (IntegrityError,)
        if self.pg:
            import asyncpg

            self.conflicts += (asyncpg.IntegrityConstraintViolationError,)

    async def mode(self, estimated_rows: int | None, forced: bool | None) -> Mode:
        """Bulk (PostgreSQL) when ``forced``, or by default for a big file into an empty list whose rows would
        make at least half the customer table (``bulk.worth_rebuilding``): a new database, which nobody else
        uses yet. In place otherwise, and always on SQLite."""
        if not self.pg or forced is False:
            return Mode.IN_PLACE
        async with self.db.session(write=False) as session:
            c = _CUSTOMER.c
            in_list = select(c.id).where(c.customer_list_id == self.target.customer_list_id).limit(1)
            self.list_was_empty = await session.scalar(in_list) is None
            existing = await bulk.table_rows(await session.connection(), "customer")
        if forced:
            return Mode.BULK
        if estimated_rows is None or not self.list_was_empty:  # stdin: its size is not known
            return Mode.IN_PLACE
        return Mode.BULK if bulk.worth_rebuilding(estimated_rows, existing) else Mode.IN_PLACE

    async def load(self, batch: Batch) -> tuple[Counts, list[Reject]]:
        """One batch, in a transaction of its own (in place)."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.session(write=True) as session:
                    conn = await session.connection()
                    if self.pg:
                        await self._settings(conn)
                        # A batch's commit doesn't wait for its WAL to reach the disk: a server crash may lose the
                        # last batches committed (whole: a transaction is never half there), which running the
                        # import again brings back, as it does any batch not done yet.
                        await conn.execute(text("SET LOCAL synchronous_commit = off"))
                    return await self._load(conn, batch)
            except self.conflicts:
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("not reached")

    @contextlib.asynccontextmanager
    async def bulk(self, rebuilding: Callable[[], None] | None = None) -> Any:
        """A bulk import's one transaction (PostgreSQL): yields the function that loads a batch in it. The tables
        it fills are locked, their indexes (but those the import reads by) and foreign keys dropped, and made again
        when the block ends, then the tables analysed; an error or a kill rolls it all back
        (``bulk.indexes_rebuilt``). A customer's cards are then read without an index: only for a customer that
        rows of an earlier batch created (the rows of one customer that follow each other are in one batch)."""
        tables = ["customer", "loyalty_card", "loyalty_operation"]
        if self.target.client_id is not None:
            tables.append("customer_private_ref")
        keep = _KEPT_INDEXES[self.target.key]
        if not self.list_was_empty:  # (--bulk) most rows may match customers already there: their cards are read
            keep += ("ix_loyalty_card_customer_created",)
        async with self.db.session(write=True) as session:
            conn = await session.connection()
            await self._settings(conn)
            if conn.dialect.server_version_info >= (14,):
                # A backend busy with a long statement (an index build) notices soon that its importer was killed,
                # rolls back and releases the table.
                await conn.execute(text("SET LOCAL client_connection_check_interval = '2s'"))
            async with bulk.indexes_rebuilt(
                conn,
                tables,
                keep=keep,
                lock_timeout=BULK_LOCK_TIMEOUT,
                rebuilding=rebuilding,
            ):

                async def load(batch: Batch) -> tuple[Counts, list[Reject]]:
                    return await self._load(conn, batch)

                yield load
            # Fresh statistics for the planner: the tables were (nearly) empty when last analysed.
            await conn.execute(text(f"ANALYZE {', '.join(tables)}"))

    @staticmethod
    async def _settings(conn: AsyncConnection) -> None:
        # A plan made for each batch's values: a generic plan, cached by the prepared statement when the list (or
        # the table) was small, would scan the whole table for every batch once it has grown, until autovacuum's
        # next ANALYZE.
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    def _among(self, column: Any, values: list[Any]) -> Any:
        if self.pg:  # one array parameter: one prepared statement whatever the batch's size
            return column == any_(literal(values, ARRAY(String)))
        return column.in_(values)

    async def _matches(self, conn: AsyncConnection, keys: list[str]) -> dict[str, list[Any]]:
        c = _CUSTOMER.c
        columns = [c.id, c.anonymised, *(c[name] for name in FIELDS)]
        if self.target.key == "email":
            stmt = select(*columns, c.email_search.label("match_key")).where(
                c.customer_list_id == self.target.customer_list_id, self._among(c.email_search, keys)
            )
        else:
            p = _PRIVATE_REF.c
            stmt = (
                select(*columns, p.ref.label("match_key"))
                .join(_PRIVATE_REF, (p.customer_id == c.id) & (p.client_id == self.target.client_id))
                .where(
                    p.customer_list_id == self.target.customer_list_id,
                    p.client_id == self.target.client_id,
                    self._among(p.ref, keys),
                )
            )
        # No row lock: locking every customer a re-run reads writes each row (2x the time of a re-run that
        # changes nothing). A customer the API changes meanwhile gets the file's values if the row changes it;
        # a private ref or card ref taken meanwhile, or a customer deleted, fails the batch, done again (load).
        found: dict[str, list[Any]] = {}
        for row in (await conn.execute(stmt)).mappings():
            found.setdefault(row["match_key"], []).append(row)
        return found

    async def _card_refs(self, conn: AsyncConnection, ids: list[str]) -> dict[str, set[str | None]]:
        refs: dict[str, set[str | None]] = {customer_id: set() for customer_id in ids}
        if ids:
            c = _CARD.c
            for customer_id, ref in await conn.execute(
                select(c.customer_id, c.ref).where(self._among(c.customer_id, ids))
            ):
                refs[customer_id].add(ref)
        return refs

    async def _private_refs(
        self, conn: AsyncConnection, ids: list[str], rows: list[Row]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """With ``--key email`` and a client: the matched customers' private refs, and who holds the refs the
        batch's rows give."""
        if self.target.client_id is None or self.target.key != "email":
            return {}, {}
        p = _PRIVATE_REF.c
        current: dict[str, str] = {}
        if ids:
            client_id = self.target.client_id
            stmt = select(p.customer_id, p.ref).where(p.client_id == client_id, self._among(p.customer_id, ids))
            current = {customer_id: ref for customer_id, ref in await conn.execute(stmt)}
        wanted = list({row.private_ref for row in rows if row.private_ref is not None})
        holders: dict[str, str] = {}
        if wanted:
            stmt = select(p.ref, p.customer_id).where(
                p.customer_list_id == self.target.customer_list_id,
                p.client_id == self.target.client_id,
                self._among(p.ref, wanted),
            )
            holders = {ref: customer_id for ref, customer_id in await conn.execute(stmt)}
        return current, holders

    async def _load(self, conn: AsyncConnection, batch: Batch) -> tuple[Counts, list[Reject]]:
        target = self.target
        counts = Counts(read=batch.read, rejected=len(batch.rejects))
        rejects = list(batch.rejects)
        rows = batch.rows
        matches = await self._matches(conn, list({row.key for row in rows}))
        matched_ids = [found[0]["id"] for found in matches.values() if len(found) == 1]
        card_refs = await self._card_refs(conn, matched_ids)
        current_refs, holders = await self._private_refs(conn, matched_ids, rows)
        sets_private_ref = target.client_id is not None and target.key == "email"
        by_private_ref = target.key == "private_ref"

        customers: dict[str, _Customer] = {}
        new_ids_ = iter(new_ids(len(rows)))
        new_cards: list[tuple[str, Card]] = []  # (customer id, card)

        def refuse(row: Row, field_name: str, message: str) -> None:
            rejects.append(Reject(row.line, [{"field": field_name, "message": message}], batch.raw[row.line]))
            counts.rejected += 1

        for row in rows:
            customer = customers.get(row.key)
            first = customer is None
            if customer is None:
                found = matches.get(row.key)
                if found is None:
                    customer = _Customer(next(new_ids_), True, _DEFAULTS)
                    if by_private_ref:
                        customer.private_ref, customer.ref_changed = row.key, True
                elif len(found) > 1:
                    refuse(row, target.key, SEVERAL_MATCHES.format(count=len(found)))
                    continue
                else:
                    stored = found[0]
                    customer = _Customer(
                        stored["id"],
                        False,
                        {name: stored[name] for name in FIELDS},
                        anonymised=stored["anonymised"],
                        private_ref=row.key if by_private_ref else current_refs.get(stored["id"]),
                        card_refs=card_refs[stored["id"]],
                    )
                    customer.stored_ref = customer.private_ref is not None
            if customer.anonymised:  # anonymised fields stay null, as an update through the API leaves them
                values = customer.values | {
                    name: value for name, value in row.values.items() if name not in ANONYMISED_FIELDS
                }
            else:
                values = customer.values | row.values
            new_ref = customer.private_ref
            if sets_private_ref and row.sets_private_ref:
                new_ref = row.private_ref
                holder = holders.get(new_ref) if new_ref is not None else None
                if holder is not None and holder != customer.id:
                    refuse(row, "private_ref", PRIVATE_REF_TAKEN)
                    continue
            if not first:
                twice = next((card for card in row.cards if card.ref in customer.named), None)
                if twice is not None:
                    refuse(row, twice.ref_field, NULL_REF_TAKEN if twice.ref is None else REF_TAKEN)
                    continue
            # The row is taken.
            if first:
                customers[row.key] = customer
                if customer.new:
                    customer.created_at = row.created_at
            changed = values != customer.values
            if changed:
                customer.values = values
                customer.changed = True
            ref_changed = new_ref != customer.private_ref
            if ref_changed:
                if customer.private_ref is not None and holders.get(customer.private_ref) == customer.id:
                    del holders[customer.private_ref]
                if new_ref is not None:
                    holders[new_ref] = customer.id
                customer.private_ref = new_ref
                customer.ref_changed = True
            added = self._new_cards(customer, row.cards) if row.cards else ()
            new_cards += added
            if first and customer.new:
                counts.created += 1
            elif changed or ref_changed or added:
                counts.updated += 1
            else:
                counts.unchanged += 1

        await self._write(conn, list(customers.values()), new_cards)
        return counts, rejects

    def _new_cards(self, customer: _Customer, cards: list[Card]) -> list[tuple[str, Card]]:
        added = []
        for card in cards:
            customer.named.add(card.ref)
            if card.ref in customer.card_refs:
                continue  # an existing card is left as it is, its balance above all
            customer.card_refs.add(card.ref)
            added.append((customer.id, card))
        return added

    async def _write(self, conn: AsyncConnection, customers: list[_Customer], cards: list[tuple[str, Card]]) -> None:
        target = self.target
        account_id, list_id = target.account_id, target.customer_list_id
        changed = [customer for customer in customers if customer.changed and not customer.new]
        now = utcnow()
        created = []
        for customer in customers:
            if customer.new:
                values = customer.values
                stored_custom_fields = values["custom_fields"]
                created.append(
                    (
                        customer.id,
                        account_id,
                        list_id,
                        False,
                        _lower(values["email"]),
                        0,
                        0,
                        None,
                        None,
                        customer.created_at,
                        customer.created_at,
                        *_plain_fields(values),
                        dump_json(stored_custom_fields) if stored_custom_fields else "{}",
                    )
                )
        await bulk.insert_rows(conn, _CUSTOMER, _CUSTOMER_COPY, created)
        if changed:
            c = _CUSTOMER.c
            stmt = (
                update(_CUSTOMER)
                .where(c.id == bindparam("b_id"))
                .values({name: bindparam(f"b_{name}") for name in (*FIELDS, "email_search", "updated_at")})
            )
            await conn.execute(
                stmt,
                [
                    {
                        "b_id": customer.id,
                        **{f"b_{name}": value for name, value in customer.values.items()},
                        "b_email_search": _lower(customer.values["email"]),
                        "b_updated_at": now,
                    }
                    for customer in changed
                ],
            )
        moved = [customer.id for customer in customers if customer.ref_changed and customer.stored_ref]
        if moved:
            p = _PRIVATE_REF.c
            await conn.execute(
                delete(_PRIVATE_REF).where(p.customer_id == bindparam("b_id"), p.client_id == target.client_id),
                [{"b_id": customer_id} for customer_id in moved],
            )
        refs = [
            (customer.id, target.client_id, list_id, customer.private_ref)
            for customer in customers
            if customer.ref_changed and customer.private_ref is not None
        ]
        await bulk.insert_rows(conn, _PRIVATE_REF, ("customer_id", "client_id", "customer_list_id", "ref"), refs)
        # A card with an opening balance holds what loyalty.service.apply_operation leaves on a card after its
        # first operation: operation_count 1, the balance, the operation's hash (opening_hash).
        await bulk.insert_rows(
            conn,
            _CARD,
            CARD_COLUMNS_ORDER,
            [
                (
                    card.id,
                    account_id,
                    list_id,
                    customer_id,
                    card.name,
                    card.ref,
                    card.balance_micro,
                    1 if card.ledger_hash else 0,
                    card.ledger_hash,
                    card.created_at,
                )
                for customer_id, card in cards
            ],
        )
        await bulk.insert_rows(
            conn,
            _OPERATION,
            OPERATION_COLUMNS_ORDER,
            [
                (
                    card.operation_id,
                    account_id,
                    list_id,
                    card.id,
                    customer_id,
                    1,
                    card.balance_micro,
                    card.balance_micro,
                    OPENING_REASON,
                    None,
                    None,
                    card.created_at,
                    card.ledger_hash,
                )
                for customer_id, card in cards
                if card.ledger_hash is not None
            ],
        )


def _lower(email: str | None) -> str | None:
    return email.lower() if email is not None else None


# --- the whole import -----------------------------------------------------------------------------------


async def check_target(db: Database, customer_list_id: str, key: str, client_id: str | None) -> Target:
    from patronage.auth.models import Client
    from patronage.customer_lists.models import CustomerList

    async with db.session(write=False) as session:
        customer_list = await session.get(CustomerList, customer_list_id)
        if customer_list is None:
            raise ImportArgumentError(f"no customer list {customer_list_id!r}")
        if client_id is not None and await session.get(Client, client_id) is None:
            raise ImportArgumentError(f"no client {client_id!r}")
        return Target(customer_list.id, customer_list.account_id, key, client_id)


async def run(
    db: Database,
    reader: Iterable[Batch],
    target: Target,
    rejects: TextIO,
    *,
    file_size: int | None = None,
    bulk_mode: bool | None = None,
    progress: Callable[[Counts, int], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> Counts:
    """Imports the batches ``reader`` gives (``read_in_background``); ``rejects`` gets the bad rows of each
    batch once it is written. ``file_size`` (None for stdin) lets the first batch estimate the file's rows, for
    the choice of the mode (``Loader.mode``; ``bulk_mode`` forces it); ``announce`` hears what is under way:
    the mode (``Mode``'s values), then ``"rebuilding indexes"`` at the end of a bulk import."""
    quiet_garbage_collector()
    loader = Loader(db, target)
    totals = Counts()
    received = Prefetch(reader)
    first = await received.next()
    if first is None:
        return totals
    estimated_rows = file_size * first.read // first.bytes_read if file_size and first.bytes_read else None
    mode = await loader.mode(estimated_rows, bulk_mode)
    if announce is not None:
        announce(mode.value)

    async def each(load: Callable[[Batch], Any]) -> None:
        batch: Batch | None = first
        while batch is not None:
            counts, refused = await load(batch)
            for reject in sorted(refused, key=lambda reject: reject.line):
                rejects.write(reject.json() + "\n")
            rejects.flush()
            totals.add(counts)
            if progress is not None:
                progress(totals, batch.bytes_read)
            batch = await received.next()

    if mode is Mode.BULK:
        try:
            async with loader.bulk(rebuilding=lambda: announce("rebuilding indexes") if announce else None) as load:
                await each(load)
            return totals
        except bulk.TablesInUse:
            if bulk_mode:
                raise ImportArgumentError(
                    "--bulk: the customer table is in use by other sessions (a bulk import locks it): "
                    "try again when they are done, or import in place (--no-bulk)"
                ) from None
        if announce is not None:
            announce(Mode.IN_PLACE.value)
    await each(loader.load)
    return totals


def summary(counts: Counts, started: float) -> dict[str, Any]:
    return {
        "read": counts.read,
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "rejected": counts.rejected,
        "seconds": round(time.perf_counter() - started, 2),
    }
