"""What each export reads and how a row becomes a resource, as the API renders it: customers (with their cards),
loyalty cards, operations, orders; their CSV columns and rows."""

import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from patronage.auth.models import Client
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import ListContext, context_of
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.customers.render import render as render_customer
from patronage.formats import render_time
from patronage.loyalty import cards as loyalty
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.orders import render as orders
from patronage.orders.models import Order, OrderPrivateRef
from patronage.tenancy.models import Account, Location
from patronage.transfer.export_batches import cursor_batches, keyset_batches, keyset_page
from patronage.transfer.export_format import cell, cells

CUSTOMER = Customer.__table__
PRIVATE_REF = CustomerPrivateRef.__table__
CARD = LoyaltyCard.__table__
OPERATION = LoyaltyOperation.__table__
ORDER = Order.__table__
ORDER_REF = OrderPrivateRef.__table__
LOCATION = Location.__table__
ACCOUNT = Account.__table__
CLIENT = Client.__table__

DEFAULT_BATCH_SIZE = 5_000
# An IN list of a batch's ids is one bind parameter per id (SQLite allows 32,766 of them).
MAX_BATCH_SIZE = 20_000

# The CSV columns of docs/import-export.md, in the API's order of the customer's fields; the import reads them back
# (and refuses any other name), so none is added here without the doc and the import.
CUSTOMER_COLUMNS = (
    "id", "anonymised", "private_ref", "email", "first_name", "last_name", "gender", "birth_date", "created_at",
    "company_name", "phone", "phone_access_code", "address_1", "address_2", "postal_code", "city", "state",
    "country", "latitude", "longitude", "delivery_notes", "sms_marketing", "email_marketing", "nb_orders",
    "order_total", "first_order_date", "last_order_date", "custom_fields",
)  # fmt: skip
CARD_COLUMNS = ("loyalty_card_ref", "loyalty_card_name", "balance")
LOYALTY_CARD_COLUMNS = ("id", "customer_id", "ref", "name", "balance", "created_at")
OPERATION_COLUMNS = ("id", "loyalty_card_id", "customer_id", "delta", "new_balance", "reason", "order_id", "created_at")
# An order's fields that are not scalars: JSON text in CSV.
ORDER_JSON_COLUMNS = frozenset(
    {"coupon_codes", "items", "deals", "charges", "discounts", "payments", "loyalty_operations", "customer",
     "delivery", "custom_fields"}
)  # fmt: skip


class ExportError(ValueError):
    """A bad argument (no such list, location, account or client): a message, exit 1, nothing written."""


@dataclass
class Request:
    kind: str
    format: str
    customer_list_id: str | None = None
    location_id: str | None = None
    account_id: str | None = None
    client_id: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE


@dataclass
class Summary:
    """What was written: ``count`` resources (customers, cards, operations, orders), ``rows`` lines of data."""

    count: int = 0
    rows: int = 0


@dataclass
class Plan:
    """An export whose arguments were checked: the batches of rows it reads, and how a batch is rendered (as a
    list of resources as the API renders them)."""

    batches: AsyncIterator[Any]
    render: Callable[[Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Kind:
    """One export: its CSV header, the CSV rows of one rendered resource, and how it is planned."""

    header: tuple[str, ...]
    csv_rows: Callable[[dict[str, Any]], Iterable[list[str]]]
    plan: Callable[[AsyncConnection, Request], Awaitable[Plan]]


async def _exists(conn: AsyncConnection, table: Any, row_id: str) -> bool:
    return (await conn.execute(select(table.c.id).where(table.c.id == row_id))).first() is not None


async def _customer_list(conn: AsyncConnection, customer_list_id: str) -> ListContext:
    """The list with its timezone and currency (what rendering its content needs)."""
    session = AsyncSession(bind=conn)
    found = await session.get(CustomerList, customer_list_id)
    if found is None:
        raise ExportError(f"no customer list {customer_list_id!r}")
    return await context_of(session, found)


async def _check_client(conn: AsyncConnection, client_id: str | None) -> None:
    if client_id is not None and not await _exists(conn, CLIENT, client_id):
        raise ExportError(f"no client {client_id!r}")


# customers: one rendered customer per resource (GET .../customers/:id with the client's private ref); in CSV one
# row per (customer, card).


def _customers_with_cards(dialect: str, customer_list_id: str, client_id: str | None, size: int) -> Callable:
    """``page(after)``: a batch of the list's customers (a range of its index), each with the client's private ref
    and its cards, one row per (customer, card), in one statement. The refs and the cards are subqueries per
    customer (on PostgreSQL a LATERAL one for the cards): a nested loop on their indexes. A join, or an IN list of
    the batch's ids, is planned as a scan of every card or ref of the database (the planner cannot tell how few
    customers a range of the index holds): a second per batch at a million customers."""
    key = (CUSTOMER.c.created_at, CUSTOMER.c.id)

    def page(after: tuple[Any, ...] | None) -> tuple[Any, int, Callable[[list[Any]], int]]:
        customers = keyset_page(
            select(CUSTOMER).where(CUSTOMER.c.customer_list_id == customer_list_id), key, after, size
        )
        batch = customers.subquery("batch")
        if dialect == "postgresql":
            cards: Any = (
                select(CARD.c.id, CARD.c.ref, CARD.c.name, CARD.c.balance_micro, CARD.c.created_at)
                .where(CARD.c.customer_id == batch.c.id)
                .offset(0)  # keeps the subquery a subquery, not a join the planner would hash
                .lateral("card")
            )
            on_card: Any = true()
        else:
            cards, on_card = CARD, CARD.c.customer_id == batch.c.id
        stmt = select(
            batch,
            cards.c.id.label("card_id"),
            cards.c.ref.label("card_ref"),
            cards.c.name.label("card_name"),
            cards.c.balance_micro.label("card_balance_micro"),
        ).select_from(batch)
        if client_id is not None:
            # A subquery per customer (one probe of the ref's primary key): a join is hashed, like the cards.
            own = (PRIVATE_REF.c.customer_id == batch.c.id) & (PRIVATE_REF.c.client_id == client_id)
            stmt = stmt.add_columns(select(PRIVATE_REF.c.ref).where(own).scalar_subquery().label("reader_private_ref"))
        stmt = stmt.outerjoin(cards, on_card).order_by(batch.c.created_at, batch.c.id, cards.c.created_at, cards.c.id)
        return stmt, size, _customers_in

    return page


def _customers_in(rows: list[Any]) -> int:
    return len({row.id for row in rows})


async def _customers(conn: AsyncConnection, request: Request) -> Plan:
    context = await _customer_list(conn, request.customer_list_id or "")
    await _check_client(conn, request.client_id)
    page = _customers_with_cards(conn.dialect.name, context.customer_list.id, request.client_id, request.batch_size)
    with_ref = request.client_id is not None

    def render(rows: list[Any]) -> list[dict[str, Any]]:
        # A customer's rows are consecutive (its cards in the API's order): the customer is rendered at its last.
        customers: list[dict[str, Any]] = []
        cards: list[dict[str, Any]] = []
        for n, row in enumerate(rows):
            if row.card_id is not None:
                card = SimpleNamespace(id=row.card_id, ref=row.card_ref, name=row.card_name,
                                       balance_micro=row.card_balance_micro)  # fmt: skip
                cards.append(loyalty.render_card_summary(card))
            if n + 1 == len(rows) or rows[n + 1].id != row.id:
                customers.append(render_customer(row, context, row.reader_private_ref if with_ref else None, cards))
                cards = []
        return customers

    return Plan(keyset_batches(conn, page, lambda row: (row.created_at, row.id)), render)


_CUSTOMER_VALUES = operator.itemgetter(*CUSTOMER_COLUMNS)
# The customer columns whose values are not text, a number or null (which the csv module writes as they should be:
# null as an empty cell): booleans and the custom fields' object.
_CUSTOMER_CELLS = [CUSTOMER_COLUMNS.index(name) for name in ("anonymised", "sms_marketing", "email_marketing",
                                                             "custom_fields")]  # fmt: skip


def _customer_csv_rows(customer: dict[str, Any]) -> Iterable[list[Any]]:
    values = list(_CUSTOMER_VALUES(customer))
    for index in _CUSTOMER_CELLS:
        values[index] = cell(values[index])
    cards = customer["loyalty_cards"]
    if not cards:
        return [[*values, None, None, None]]
    return [[*values, card["ref"], card["name"], card["balance"]] for card in cards]


# loyalty cards and operations: the API's card and operation, with the fields of docs/import-export.md.


async def _cards(conn: AsyncConnection, request: Request) -> Plan:
    context = await _customer_list(conn, request.customer_list_id or "")
    timezone, size = context.timezone, request.batch_size
    stmt = select(CARD).where(CARD.c.customer_list_id == context.customer_list.id)
    key = (CARD.c.created_at, CARD.c.id)

    def render(rows: list[Any]) -> list[dict[str, Any]]:
        batch = []
        for row in rows:
            card = loyalty.render_card(row)
            batch.append({**{name: card[name] for name in LOYALTY_CARD_COLUMNS[:-1]},
                          "created_at": render_time(row.created_at, timezone)})  # fmt: skip
        return batch

    def page(after: tuple[Any, ...] | None) -> tuple[Any, int, Callable[[list[Any]], int]]:
        return keyset_page(stmt, key, after, size), size, len

    return Plan(keyset_batches(conn, page, lambda row: (row.created_at, row.id)), render)


def operation_columns() -> tuple[str, ...]:
    """The doc's columns, and ``hash`` last once operations have one (the ledger's chain)."""
    return (*OPERATION_COLUMNS, "hash") if "hash" in OPERATION.c else OPERATION_COLUMNS


async def _operations(conn: AsyncConnection, request: Request) -> Plan:
    context = await _customer_list(conn, request.customer_list_id or "")
    timezone = context.timezone
    columns = operation_columns()
    has_hash = "hash" in columns
    # Cards oldest first (as the cards export), each card's operations in ledger order: one sorted stream.
    stmt = (
        select(OPERATION)
        .join(CARD, CARD.c.id == OPERATION.c.loyalty_card_id)
        .where(CARD.c.customer_list_id == context.customer_list.id)
        .order_by(CARD.c.created_at, CARD.c.id, OPERATION.c.seq)
    )

    def render(rows: list[Any]) -> list[dict[str, Any]]:
        batch = []
        for row in rows:
            rendered = {**loyalty.render_operation(row, timezone), "loyalty_card_id": row.loyalty_card_id}
            if has_hash:
                rendered.setdefault("hash", row.hash)
            batch.append({name: rendered[name] for name in columns})
        return batch

    return Plan(cursor_batches(conn, stmt, request.batch_size), render)


def _plain_csv_row(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], Iterable[list[str]]]:
    def rows(resource: dict[str, Any]) -> Iterable[list[str]]:
        return [cells(resource, columns)]

    return rows


# orders: as GET .../orders/:id renders them for the client (its private refs), in their location's timezone.


async def _order_where(conn: AsyncConnection, request: Request) -> tuple[Any, bool]:
    """The orders' condition, and whether an index walks them in (created_at, id) order (a list's orders have
    none: a sorted stream)."""
    if request.customer_list_id is not None:
        context = await _customer_list(conn, request.customer_list_id)
        return ORDER.c.customer_list_id == context.customer_list.id, False
    if request.location_id is not None:
        if not await _exists(conn, LOCATION, request.location_id):
            raise ExportError(f"no location {request.location_id!r}")
        return ORDER.c.location_id == request.location_id, True
    if not await _exists(conn, ACCOUNT, request.account_id or ""):
        raise ExportError(f"no account {request.account_id!r}")
    return ORDER.c.account_id == request.account_id, True


async def _with_element_refs(
    conn: AsyncConnection, batches: AsyncIterator[list[Any]], client_id: str
) -> AsyncIterator[tuple[list[Any], dict[str, dict[str, str]]]]:
    session = AsyncSession(bind=conn)
    async for rows in batches:
        yield rows, await orders.element_refs(session, client_id, [row.id for row in rows])


async def _orders(conn: AsyncConnection, request: Request) -> Plan:
    where, indexed = await _order_where(conn, request)
    await _check_client(conn, request.client_id)
    client_id, size = request.client_id, request.batch_size
    stmt = select(ORDER, LOCATION.c.timezone.label("location_timezone")).join(
        LOCATION, LOCATION.c.id == ORDER.c.location_id
    )
    if client_id is not None:
        stmt = (
            stmt.add_columns(
                ORDER_REF.c.ref.label("reader_private_ref"), PRIVATE_REF.c.ref.label("reader_customer_ref")
            )
            .outerjoin(ORDER_REF, (ORDER_REF.c.order_id == ORDER.c.id) & (ORDER_REF.c.client_id == client_id))
            .outerjoin(
                PRIVATE_REF,
                (PRIVATE_REF.c.customer_id == ORDER.c.customer_id) & (PRIVATE_REF.c.client_id == client_id),
            )
        )
    stmt = stmt.where(where)
    key = (ORDER.c.created_at, ORDER.c.id)
    if indexed:
        rows = keyset_batches(
            conn, lambda after: (keyset_page(stmt, key, after, size), size, len), lambda r: (r.created_at, r.id)
        )
    else:
        rows = cursor_batches(conn, stmt.order_by(*key), size)
    if client_id is None:

        def render(batch: list[Any]) -> list[dict[str, Any]]:
            return [orders.render(row, row.location_timezone, None, None) for row in batch]

        return Plan(rows, render)

    def render_with_refs(batch: tuple[list[Any], dict[str, dict[str, str]]]) -> list[dict[str, Any]]:
        found, refs = batch
        return [
            orders.render(row, row.location_timezone, row.reader_private_ref, row.reader_customer_ref, refs[row.id])
            for row in found
        ]

    return Plan(_with_element_refs(conn, rows, client_id), render_with_refs)


ORDER_COLUMNS = (
    "id", "location_id", "status", "ref", "private_ref", "service_type", "service_type_ref", "created_at",
    "created_by", "expected_time", "confirmed_time", "customer_notes", "seller_notes", "collection_code",
    "coupon_codes", "total", "total_discrepancy", "payment_discrepancy", "items", "deals", "charges", "discounts",
    "payments", "loyalty_operations", "customer_id", "customer_list_id", "customer", "delivery", "custom_fields",
)  # fmt: skip


def _order_csv_rows(order: dict[str, Any]) -> Iterable[list[str]]:
    # A JSON column's null (a guest order's customer, a delivery) is an empty cell, like any null.
    return [cells(order, ORDER_COLUMNS)]


def kind_of(name: str) -> Kind:
    if name == "customers":
        return Kind((*CUSTOMER_COLUMNS, *CARD_COLUMNS), _customer_csv_rows, _customers)
    if name == "loyalty-cards":
        return Kind(LOYALTY_CARD_COLUMNS, _plain_csv_row(LOYALTY_CARD_COLUMNS), _cards)
    if name == "operations":
        columns = operation_columns()
        return Kind(columns, _plain_csv_row(columns), _operations)
    if name == "orders":
        return Kind(ORDER_COLUMNS, _order_csv_rows, _orders)
    raise ExportError(f"unknown export {name!r}")
