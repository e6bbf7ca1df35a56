"""Orders (SPEC §8): create, retrieve, list and update; the anonymisation of their customer copies; the events
they fire. Amounts come from orders.pricing, the customer from orders.customer_link."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import custom_fields
from patronage.auth.principal import Principal
from patronage.customer_lists.models import CustomerList
from patronage.customers import service as customers
from patronage.customers.models import Customer
from patronage.customers.schemas import ANONYMISED_FIELDS
from patronage.customers.statistics import refresh_customer_statistics
from patronage.db import utcnow
from patronage.errors import NotFound, field_error
from patronage.events import service as events
from patronage.formats import TIME_SYNTAX, in_utc, parse_time
from patronage.ids import new_id
from patronage.orders import access
from patronage.orders.customer_link import callers_private_ref, customer_copy, resolve_customer
from patronage.orders.elements import apply_element_changes, plan_element_changes, set_element_private_ref
from patronage.orders.loyalty_operations import apply_loyalty_operations
from patronage.orders.models import Order, OrderPrivateRef
from patronage.orders.pricing import price_order
from patronage.orders.render import element_refs, render, render_rows, select_rendered
from patronage.orders.schemas import ELEMENT_LISTS, STATUSES, OrderCreate, OrderUpdate
from patronage.pagination import Page, PageRequest, cut_page, keyset
from patronage.programmes import earning
from patronage.tenancy.models import Account, Location

# --- events ---------------------------------------------------------------------------------------------


def _renderer(session: AsyncSession, order: Order) -> events.Render:
    """Renders the order as another connection reads it (its own private refs), for events."""

    async def render_for(reader: Principal) -> dict[str, Any]:
        row = (await session.execute(select_rendered(reader).where(Order.id == order.id))).one()
        return (await render_rows(session, reader, [row]))[0]

    return render_for


async def _watch(
    session: AsyncSession,
    cause: Principal | None,
    event_type: str,
    order: Order,
    render_for: events.Render,
    candidates: list[events.Subscriber] | None = None,
) -> events.Watch:
    return await events.watch(
        session,
        cause,
        "order",
        event_type,
        order.account_id,
        lambda reader: access.sees(reader, order),
        render_for,
        candidates=candidates,
    )


def _event_ids(order: Order) -> dict[str, Any]:
    return {"account_id": order.account_id, "location_id": order.location_id, "order_id": order.id}


@dataclass
class UpdateWatch:
    """An ``order.update`` about to happen, for changes made outside this module (its delivery)."""

    order: Order
    watch: events.Watch
    render_for: events.Render

    async def record(self, session: AsyncSession, timezone: str) -> None:
        await self.watch.record(session, self.render_for, _event_ids(self.order), timezone)


async def watch_update(session: AsyncSession, cause: Principal, order: Order) -> UpdateWatch:
    """Captures the order as each subscriber reads it, before the change; ``record`` once it is made."""
    render_for = _renderer(session, order)
    return UpdateWatch(order, await _watch(session, cause, "update", order, render_for), render_for)


# --- create ----------------------------------------------------------------------------------------------


def _in_utc(moment: datetime | None, location: Location) -> datetime | None:
    return in_utc(moment, location.timezone) if moment is not None else None


async def create(
    session: AsyncSession, principal: Principal, location: Location, fields: OrderCreate
) -> dict[str, Any]:
    """An order in a location the caller may write in (orders.access). The body was validated on its own:
    its amounts and times are read here, in the location's currency and timezone."""
    priced = price_order(fields, location.currency)
    merged_fields = custom_fields.merge({}, fields.custom_fields, reset=True)
    link = await resolve_customer(session, principal, fields, location)
    now = utcnow()
    order = Order(
        id=new_id(),
        account_id=location.account_id,
        location_id=location.id,
        status=fields.status,
        ref=fields.ref,
        service_type=fields.service_type,
        service_type_ref=fields.service_type_ref,
        created_by=principal.client_name,
        expected_time=_in_utc(fields.expected_time, location),
        confirmed_time=_in_utc(fields.confirmed_time, location),
        customer_notes=fields.customer_notes,
        seller_notes=fields.seller_notes,
        collection_code=fields.collection_code,
        coupon_codes=list(fields.coupon_codes or []),
        currency=location.currency,
        total_minor=priced.total_minor,
        items=priced.items,
        charges=priced.charges,
        discounts=priced.discounts,
        payments=priced.payments,
        deals=priced.deals,
        loyalty_operations=[],
        custom_fields=merged_fields,
        customer_list_id=link.customer_list.id if link.customer_list else None,
        customer_id=link.customer.id if link.customer else None,
        customer=None,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    if fields.loyalty_operations:
        order.loyalty_operations = await apply_loyalty_operations(
            session, principal, link, order, fields.loyalty_operations
        )
    if link.customer is not None and link.customer_list is not None:
        # Loyalty programmes (an extension): nothing to do, and no lookup, on a list without one.
        await earning.settle_order(session, principal, order, link.customer_list.has_loyalty_programmes, created=True)
        await refresh_customer_statistics(session, link.customer.id)
    # The customer as it is once this order is in: its statistics and balances include the order.
    order.customer = await customer_copy(session, link)
    if fields.private_ref is not None:
        session.add(OrderPrivateRef(order_id=order.id, client_id=principal.client_id, ref=fields.private_ref))
    for element_id, ref in priced.private_refs.items():
        await set_element_private_ref(session, order.id, principal.client_id, element_id, ref)
    await session.flush()
    render_for = _renderer(session, order)
    watch = await _watch(session, principal, "create", order, render_for)
    await watch.record(session, render_for, _event_ids(order), location.timezone)
    customer_private_ref = await callers_private_ref(session, link, principal.client_id)
    return render(order, location.timezone, fields.private_ref, customer_private_ref, priced.private_refs)


# --- retrieve, list -------------------------------------------------------------------------------------


async def retrieve(session: AsyncSession, principal: Principal, location: Location, order_id: str) -> dict[str, Any]:
    row = (
        await session.execute(select_rendered(principal).where(Order.id == order_id, Order.location_id == location.id))
    ).first()
    if row is None:
        raise NotFound("Order not found")
    return (await render_rows(session, principal, [row]))[0]


@dataclass(frozen=True)
class Filters:
    private_ref: str | None = None
    status: str | None = None
    created_by: str | None = None
    after: str | None = None
    before: str | None = None
    customer_id: str | None = None


def _filtered(stmt: Select, filters: Filters, timezone: str) -> Select:
    if filters.private_ref is not None:
        stmt = stmt.where(OrderPrivateRef.ref == filters.private_ref)
    if filters.status is not None:
        if filters.status not in STATUSES:
            raise field_error("status", f"must be one of {', '.join(STATUSES)}")
        stmt = stmt.where(Order.status == filters.status)
    if filters.created_by is not None:
        stmt = stmt.where(Order.created_by == filters.created_by)
    if filters.customer_id is not None:
        stmt = stmt.where(Order.customer_id == filters.customer_id)
    for name, bound in (("after", filters.after), ("before", filters.before)):
        if bound is None:
            continue
        try:
            moment: datetime = parse_time(bound, timezone, date_only=True)
        except ValueError:
            raise field_error(name, TIME_SYNTAX) from None
        stmt = stmt.where(Order.created_at >= moment if name == "after" else Order.created_at < moment)
    return stmt


async def _index(
    session: AsyncSession, principal: Principal, where: Any, filters: Filters, timezone: str, page: PageRequest
) -> Page:
    stmt = _filtered(select_rendered(principal).where(where), filters, timezone)
    rows = (await session.execute(keyset(stmt, Order.created_at, Order.id, page))).all()
    result = cut_page(rows, page, key=lambda row: (row[0].created_at, row[0].id))
    result.items = await render_rows(session, principal, result.items)
    return result


async def index_of_location(
    session: AsyncSession, principal: Principal, location: Location, filters: Filters, page: PageRequest
) -> Page:
    return await _index(session, principal, Order.location_id == location.id, filters, location.timezone, page)


async def index_of_account(
    session: AsyncSession, principal: Principal, account: Account, filters: Filters, page: PageRequest
) -> Page:
    """Every order of the account's locations (account-level connections only)."""
    return await _index(session, principal, Order.account_id == account.id, filters, account.timezone, page)


# --- update ---------------------------------------------------------------------------------------------


async def _set_private_ref(session: AsyncSession, order: Order, client_id: str, ref: str | None) -> None:
    if ref is None:
        await session.execute(
            delete(OrderPrivateRef).where(OrderPrivateRef.order_id == order.id, OrderPrivateRef.client_id == client_id)
        )
        return
    row = await session.get(OrderPrivateRef, (order.id, client_id))
    if row is None:
        session.add(OrderPrivateRef(order_id=order.id, client_id=client_id, ref=ref))
    else:
        row.ref = ref


async def update(
    session: AsyncSession, principal: Principal, location: Location, order_id: str, fields: OrderUpdate
) -> dict[str, Any]:
    found = (
        await session.execute(
            select(Order.id, Order.customer_id).where(Order.id == order_id, Order.location_id == location.id)
        )
    ).first()
    if found is None:
        raise NotFound("Order not found")
    sent = fields.model_fields_set
    changes_elements = any(getattr(fields, name) for name in ELEMENT_LISTS)
    has_programmes = False
    if found.customer_id is not None and ("status" in sent or changes_elements):
        # Locks in the order every writer takes them: the customer first, then its orders. Whether its list has
        # loyalty programmes (an extension) comes with it: a list without one has no earning to settle.
        has_programmes = await session.scalar(
            select(CustomerList.has_loyalty_programmes)
            .select_from(Customer)
            .join(CustomerList, CustomerList.id == Customer.customer_list_id)
            .where(Customer.id == found.customer_id)
            .with_for_update(of=Customer)
        )
    locked = select_rendered(principal).where(Order.id == order_id).with_for_update(of=Order)
    order, private_ref, customer_private_ref, _ = (await session.execute(locked)).one()
    refs = (await element_refs(session, principal.client_id, [order.id]))[order.id]
    current = render(order, location.timezone, private_ref, customer_private_ref, refs)
    fields.check_echoed(current)
    # Checked in full before anything changes.
    element_changes = plan_element_changes(order, current, fields) if changes_elements else None
    render_for = _renderer(session, order)
    watch = await _watch(session, principal, "update", order, render_for)
    status_changed = "status" in sent and fields.status != order.status
    if status_changed:
        order.status = fields.status
    if "confirmed_time" in sent:
        order.confirmed_time = _in_utc(fields.confirmed_time, location)
    for name in ("seller_notes", "collection_code"):
        if name in sent:
            setattr(order, name, getattr(fields, name))
    if "custom_fields" in sent:
        order.custom_fields = custom_fields.merge(
            order.custom_fields or {}, fields.custom_fields, reset=fields.custom_fields is None
        )
    if "private_ref" in sent and fields.private_ref != private_ref:
        await _set_private_ref(session, order, principal.client_id, fields.private_ref)
        private_ref = fields.private_ref
    total_before = order.total_minor
    if element_changes is not None:
        refs = await apply_element_changes(session, principal.client_id, order, element_changes, refs)
    order.updated_at = utcnow()
    await session.flush()
    if status_changed or element_changes is not None:
        await earning.settle_order(session, principal, order, bool(has_programmes))  # loyalty programmes
    if (status_changed or order.total_minor != total_before) and order.customer_id is not None:
        await refresh_customer_statistics(session, order.customer_id)
    await watch.record(session, render_for, _event_ids(order), location.timezone)
    return render(order, location.timezone, private_ref, customer_private_ref, refs)


# --- anonymisation --------------------------------------------------------------------------------------


@customers.anonymises_copies
async def anonymise_customer_orders(
    session: AsyncSession, customer_id: str, cause: Principal | None = None
) -> list[str]:
    """Anonymises the customer copy inside each of the customer's orders (SPEC §7); returns the ids changed.

    Run by customers.service.anonymise in its transaction, after it has locked the customer. Each changed
    order fires an ``order.update`` event (seed §2.5) for its subscribers other than ``cause``.
    """
    rows = (
        await session.execute(
            select(Order, Location.timezone)
            .join(Location, Location.id == Order.location_id)
            .where(Order.customer_id == customer_id)
            .order_by(Order.created_at, Order.id)
            .with_for_update(of=Order)
        )
    ).all()
    changed = []
    now = utcnow()
    candidates = None
    for order, timezone in rows:
        copy = dict(order.customer or {})
        if copy.get("anonymised") is True and all(copy.get(name) is None for name in ANONYMISED_FIELDS):
            continue
        if candidates is None:  # the account's subscribers, looked up once for all the orders
            candidates = await events.subscribers(session, cause, order.account_id, "order", "update", lambda _: True)
        render_for = _renderer(session, order)
        watch = await _watch(session, cause, "update", order, render_for, candidates)
        for name in ANONYMISED_FIELDS:
            copy[name] = None
        copy["anonymised"] = True
        order.customer = copy
        order.updated_at = now
        await session.flush()
        await watch.record(session, render_for, _event_ids(order), timezone)
        changed.append(order.id)
    return changed
