"""Customers: retrieve, search, create, update, anonymise (seed §2, SPEC §7)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import custom_fields
from patronage.auth.principal import Principal
from patronage.customer_lists import access
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import ListContext, context_of
from patronage.customers import erasure
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.customers.render import render as render_customer
from patronage.customers.render import render_with_cards
from patronage.customers.schemas import ANONYMISED_FIELDS, CustomerCreate, CustomerFields, CustomerUpdate
from patronage.db import utcnow
from patronage.errors import NotFound, field_error
from patronage.events import service as events
from patronage.ids import new_id
from patronage.loyalty import cards as loyalty
from patronage.pagination import Page, PageRequest, cut_page, keyset

PRIVATE_REF_TAKEN = "is already used by another customer of this list"

# Other features keep copies of a customer (each of its orders does). Anonymising the customer anonymises
# them in the same transaction, through the hooks they register here: customers never call those features
# (they depend on customers). A hook gets the customer's id and the connection that anonymised it.
CopiesHook = Callable[[AsyncSession, str, Principal], Awaitable[object]]
_copies_hooks: list[CopiesHook] = []


def anonymises_copies(hook: CopiesHook) -> CopiesHook:
    """Registers ``hook`` (a decorator): run by :func:`anonymise` once the customer itself is anonymised."""
    _copies_hooks.append(hook)
    return hook


@dataclass(frozen=True)
class Filters:
    email: str | None = None
    phone: str | None = None
    private_ref: str | None = None


def like_pattern(value: str) -> str | None:
    """``*`` matches any run of characters; everything else is literal. None when there is no wildcard."""
    if "*" not in value:
        return None
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _match(column: Any, value: str) -> Any:
    pattern = like_pattern(value)
    return column == value if pattern is None else column.like(pattern, escape="\\")


async def _private_ref_of(session: AsyncSession, customer_id: str, client_id: str) -> str | None:
    return await session.scalar(
        select(CustomerPrivateRef.ref).where(
            CustomerPrivateRef.customer_id == customer_id, CustomerPrivateRef.client_id == client_id
        )
    )


def _renderer(session: AsyncSession, customer: Customer, context: ListContext) -> events.Render:
    """Renders the customer as another connection reads it (its own private ref), for events."""

    async def render_for(reader: Principal) -> dict[str, Any]:
        return await render_with_cards(
            session, customer, context, await _private_ref_of(session, customer.id, reader.client_id)
        )

    return render_for


async def _watch(
    session: AsyncSession, principal: Principal, event_type: str, customer_list: Any, render: events.Render
) -> events.Watch:
    return await events.watch(
        session,
        principal,
        "customer",
        event_type,
        customer_list.account_id,
        lambda reader: access.sees(reader, customer_list),
        render,
    )


def _event_ids(customer: Customer) -> dict[str, Any]:
    return {
        "account_id": customer.account_id,
        "customer_list_id": customer.customer_list_id,
        "customer_id": customer.id,
    }


async def _load(
    session: AsyncSession,
    principal: Principal,
    customer_list: str | CustomerList,
    customer_id: str,
    *,
    write: bool = False,
    for_update: bool = False,
) -> tuple[Customer, str | None, CustomerList]:
    """The list's customer (404 otherwise), the reader's private ref for it and the list, in one statement.
    ``customer_list`` is the id of a list the caller must see (404 otherwise; 403 for a ``write`` it may not
    make), read with the customer, or a list already checked."""
    own_ref = (CustomerPrivateRef.customer_id == Customer.id) & (CustomerPrivateRef.client_id == principal.client_id)
    stmt = select(Customer, CustomerPrivateRef.ref).outerjoin(CustomerPrivateRef, own_ref)
    stmt = stmt.where(Customer.id == customer_id)
    if isinstance(customer_list, CustomerList):
        stmt = stmt.where(Customer.customer_list_id == customer_list.id)
    else:
        stmt = access.with_list(stmt, Customer.customer_list_id, customer_list)
    if for_update:
        stmt = stmt.with_for_update(of=Customer)
    if isinstance(customer_list, CustomerList):
        row = (await session.execute(stmt)).first()
        if row is None:
            raise NotFound("Customer not found")
        return row[0], row[1], customer_list
    row = await access.row_in_visible_list(
        session, principal, customer_list, stmt, write=write, missing="Customer not found"
    )
    return row[0], row[1], row[2]


async def retrieve(
    session: AsyncSession, principal: Principal, customer_list: str | CustomerList, customer_id: str
) -> dict[str, Any]:
    customer, private_ref, customer_list = await _load(session, principal, customer_list, customer_id)
    context = await context_of(session, customer_list)
    return await render_with_cards(session, customer, context, private_ref)


async def index(
    session: AsyncSession, principal: Principal, customer_list: CustomerList, filters: Filters, page: PageRequest
) -> Page:
    context = await context_of(session, customer_list)
    own_ref = (CustomerPrivateRef.customer_id == Customer.id) & (CustomerPrivateRef.client_id == principal.client_id)
    # Plain rows, not ORM objects: a page renders up to 100 customers and reads nothing else of them (building
    # the objects cost more than the query; rows have the same attribute names).
    stmt = select(Customer.__table__, CustomerPrivateRef.ref.label("reader_private_ref")).where(
        Customer.customer_list_id == customer_list.id
    )
    if filters.private_ref is not None:
        # The list's id lets the unique (list, client, ref) index answer in one probe.
        stmt = stmt.join(CustomerPrivateRef, own_ref).where(
            CustomerPrivateRef.customer_list_id == customer_list.id, CustomerPrivateRef.ref == filters.private_ref
        )
    else:
        stmt = stmt.outerjoin(CustomerPrivateRef, own_ref)
    if filters.email is not None:
        stmt = stmt.where(_match(Customer.email_search, filters.email.lower()))
    if filters.phone is not None:
        stmt = stmt.where(_match(Customer.phone, filters.phone))
    wildcard = any(value is not None and "*" in value for value in (filters.email, filters.phone))
    custom_plans = session.info.get("custom_plans") if wildcard else None
    # How many customers a pattern matches decides the plan: walk the list newest first and stop at a page
    # (common matches: jo*, *@example.com), or fetch the few matches through the trigram or prefix index and
    # sort them (rare ones: *6789). A cached generic plan of this prepared statement, made without the pattern,
    # walks for every pattern: ~0.5 s for *6789 on a million customers. On PostgreSQL the search runs on a
    # connection that plans each statement with its values (patronage.db).
    bind = {"bind": custom_plans.sync_engine} if custom_plans is not None else None
    rows = (await session.execute(keyset(stmt, Customer.created_at, Customer.id, page), bind_arguments=bind)).all()
    result = cut_page(rows, page, key=lambda row: (row.created_at, row.id))
    cards = await loyalty.cards_of_customers(session, [row.id for row in result.items])
    result.items = [render_customer(row, context, row.reader_private_ref, cards[row.id]) for row in result.items]
    return result


async def _set_private_ref(session: AsyncSession, customer: Customer, client_id: str, ref: str | None) -> None:
    if ref is None:
        await session.execute(
            delete(CustomerPrivateRef).where(
                CustomerPrivateRef.customer_id == customer.id, CustomerPrivateRef.client_id == client_id
            )
        )
        return
    holder = await session.scalar(
        select(CustomerPrivateRef.customer_id).where(
            CustomerPrivateRef.customer_list_id == customer.customer_list_id,
            CustomerPrivateRef.client_id == client_id,
            CustomerPrivateRef.ref == ref,
        )
    )
    if holder is not None and holder != customer.id:
        raise field_error("private_ref", PRIVATE_REF_TAKEN)
    row = await session.get(CustomerPrivateRef, (customer.id, client_id))
    if row is None:
        session.add(
            CustomerPrivateRef(
                customer_id=customer.id,
                client_id=client_id,
                customer_list_id=customer.customer_list_id,
                ref=ref,
            )
        )
    else:
        row.ref = ref


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # Only the private ref is unique among a customer's columns: a concurrent writer took it.
        raise field_error("private_ref", PRIVATE_REF_TAKEN) from None


def _apply(customer: Customer, fields: CustomerFields) -> None:
    for name in fields.model_fields_set - {"private_ref", "custom_fields"}:
        if customer.anonymised and name in ANONYMISED_FIELDS:
            continue  # anonymisation is irreversible: silently ignored (seed §2.5)
        value = getattr(fields, name)
        setattr(customer, name, value)
        if name == "email":
            customer.email_search = value.lower() if value is not None else None


async def create(
    session: AsyncSession, principal: Principal, customer_list: CustomerList, fields: CustomerCreate
) -> dict[str, Any]:
    now = utcnow()
    customer = Customer(
        id=new_id(),
        account_id=customer_list.account_id,
        customer_list_id=customer_list.id,
        anonymised=False,
        sms_marketing=False,
        email_marketing=False,
        custom_fields=custom_fields.merge({}, fields.custom_fields, reset=True),
        nb_orders=0,
        order_total_minor=0,
        created_at=now,
        updated_at=now,
    )
    _apply(customer, fields)
    session.add(customer)
    await _flush(session)
    if fields.private_ref is not None:
        await _set_private_ref(session, customer, principal.client_id, fields.private_ref)
        await _flush(session)
    context = await context_of(session, customer_list)
    render = _renderer(session, customer, context)
    watch = await _watch(session, principal, "create", customer_list, render)
    await watch.record(session, render, _event_ids(customer), context.timezone)
    return render_customer(customer, context, fields.private_ref, [])  # a new customer has no cards yet


async def update(
    session: AsyncSession, principal: Principal, customer_list_id: str, customer_id: str, fields: CustomerUpdate
) -> dict[str, Any]:
    customer, private_ref, customer_list = await _load(
        session, principal, customer_list_id, customer_id, write=True, for_update=True
    )
    context = await context_of(session, customer_list)
    # A customer's update leaves its cards as they are: looked up once, for the echo check and the answer.
    cards = (await loyalty.cards_of_customers(session, [customer.id]))[customer.id]
    if fields.echoes_read_only:
        fields.check_echoed(render_customer(customer, context, private_ref, cards))
    render = _renderer(session, customer, context)
    watch = await _watch(session, principal, "update", customer_list, render)
    _apply(customer, fields)
    if "custom_fields" in fields.model_fields_set:
        customer.custom_fields = custom_fields.merge(
            customer.custom_fields or {}, fields.custom_fields, reset=fields.custom_fields is None
        )
    if "private_ref" in fields.model_fields_set and fields.private_ref != private_ref:
        await _set_private_ref(session, customer, principal.client_id, fields.private_ref)
        private_ref = fields.private_ref
    customer.updated_at = utcnow()
    await _flush(session)
    await watch.record(session, render, _event_ids(customer), context.timezone)
    return render_customer(customer, context, private_ref, cards)


async def anonymise(
    session: AsyncSession, principal: Principal, customer_list_id: str, customer_id: str
) -> dict[str, Any]:
    """Irreversibly nulls the personal fields; a second call is a no-op success."""
    customer, private_ref, customer_list = await _load(
        session, principal, customer_list_id, customer_id, write=True, for_update=True
    )
    context = await context_of(session, customer_list)
    if not customer.anonymised:
        render = _renderer(session, customer, context)
        watch = await _watch(session, principal, "update", customer_list, render)
        for name in ANONYMISED_FIELDS:
            setattr(customer, name, None)
        customer.email_search = None
        customer.anonymised = True
        customer.updated_at = utcnow()
        await session.flush()
        await watch.record(session, render, _event_ids(customer), context.timezone)
        for anonymise_copies in _copies_hooks:
            await anonymise_copies(session, customer.id, principal)
    # Also on a repeated call: it finishes the erasure of customers anonymised before copies were scrubbed.
    await erasure.scrub_stored_copies(session, customer.account_id, customer.id)
    return await render_with_cards(session, customer, context, private_ref)
