"""Orders (SPEC §8): create, retrieve, list and update; the order's customer, loyalty operations in an
order, and the customer statistics they drive.

Amounts are integers of the currency's minor units end to end. An item's subtotal is
``(price + Σ option price × option quantity) × quantity``, computed exactly on integers; only when a
fractional quantity leaves a fraction of a minor unit is the subtotal rounded, once, half away from zero.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import custom_fields
from patronage.auth.principal import Principal
from patronage.customer_lists import access
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import ListContext, context_of
from patronage.customers import service as customers
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.customers.render import render as render_customer
from patronage.customers.render import render_with_cards
from patronage.customers.schemas import ANONYMISED_FIELDS
from patronage.customers.statistics import refresh_customer_statistics
from patronage.db import utcnow
from patronage.errors import Forbidden, NotFound, ValidationFailed, field_error, validation_failed
from patronage.events import service as events
from patronage.formats import render_decimal, render_money, render_time
from patronage.ids import new_id
from patronage.loyalty import service as loyalty
from patronage.loyalty.models import LoyaltyCard
from patronage.orders.models import Order, OrderPrivateRef
from patronage.orders.schemas import (
    CREATE_READ_ONLY,
    MAX_TOTAL_MINOR,
    READ_ONLY,
    STATUSES,
    ItemIn,
    OrderCreate,
    OrderLoyaltyOperationIn,
    OrderUpdate,
    parse_time,
)
from patronage.pagination import Page, PageRequest, cut_page, keyset
from patronage.readonly import strip_read_only
from patronage.tenancy import service as tenancy
from patronage.tenancy.models import Location

SCOPE = "orders"
_MICRO = 10**6  # quantities are exact to 6 decimal places
CUSTOMER_REFERENCES = ("customer_id", "customer_list_id", "customer_private_ref", "customer")
NOT_A_VISIBLE_CUSTOMER = "is not a customer of a customer list this connection can see"


# --- access --------------------------------------------------------------------------------------------


def require_scope(principal: Principal, *, write: bool) -> None:
    if principal.scope.allows(SCOPE, write=write):
        return
    if write and principal.scope.allows(SCOPE, write=False):
        raise Forbidden("This connection's scope is read-only for orders")
    raise Forbidden("This connection's scope does not include orders")


# --- rendering -----------------------------------------------------------------------------------------


def render(order: Order, timezone: str, private_ref: str | None, customer_private_ref: str | None) -> dict[str, Any]:
    """``private_ref`` is the caller's ref of the order; ``customer_private_ref`` its ref of the customer."""
    customer = order.customer
    if customer is not None and "private_ref" in customer:
        # The stored copy holds no private ref: each client reads its own (null once the link is lost).
        customer = {**customer, "private_ref": customer_private_ref if order.customer_id else None}
    return {
        "id": order.id,
        "location_id": order.location_id,
        "status": order.status,
        "ref": order.ref,
        "private_ref": private_ref,
        "service_type": order.service_type,
        "service_type_ref": order.service_type_ref,
        "created_at": render_time(order.created_at, timezone),
        "created_by": order.created_by,
        "expected_time": render_time(order.expected_time, timezone),
        "confirmed_time": render_time(order.confirmed_time, timezone),
        "customer_notes": order.customer_notes,
        "seller_notes": order.seller_notes,
        "collection_code": order.collection_code,
        "coupon_codes": order.coupon_codes or [],
        "total": render_money(order.total_minor, order.currency),
        "items": order.items or [],
        "charges": order.charges or [],
        "discounts": order.discounts or [],
        "payments": order.payments or [],
        "loyalty_operations": order.loyalty_operations or [],
        "customer_id": order.customer_id,
        "customer_list_id": order.customer_list_id,
        "customer": customer,
        "custom_fields": order.custom_fields or {},
    }


def _select(principal: Principal) -> Select:
    """Orders with the caller's private refs (of the order, of its customer) and the location's timezone."""
    return (
        select(Order, OrderPrivateRef.ref, CustomerPrivateRef.ref, Location.timezone)
        .join(Location, Location.id == Order.location_id)
        .outerjoin(
            OrderPrivateRef,
            (OrderPrivateRef.order_id == Order.id) & (OrderPrivateRef.client_id == principal.client_id),
        )
        .outerjoin(
            CustomerPrivateRef,
            (CustomerPrivateRef.customer_id == Order.customer_id)
            & (CustomerPrivateRef.client_id == principal.client_id),
        )
    )


def _render_row(row: Any) -> dict[str, Any]:
    order, private_ref, customer_private_ref, timezone = row
    return render(order, timezone, private_ref, customer_private_ref)


# --- events ---------------------------------------------------------------------------------------------


def _sees(reader: Principal, order: Order) -> bool:
    return (
        reader.scope.allows(SCOPE, write=False)
        and reader.account_id == order.account_id
        and (reader.is_account_level or reader.location_id == order.location_id)
    )


def _renderer(session: AsyncSession, order: Order) -> events.Render:
    """Renders the order as another connection reads it (its own private refs), for events."""

    async def render_for(reader: Principal) -> dict[str, Any]:
        return _render_row((await session.execute(_select(reader).where(Order.id == order.id))).one())

    return render_for


async def _watch(
    session: AsyncSession,
    cause: Principal | None,
    event_type: str,
    order: Order,
    render: events.Render,
    candidates: list[events.Subscriber] | None = None,
) -> events.Watch:
    return await events.watch(
        session,
        cause,
        "order",
        event_type,
        order.account_id,
        lambda reader: _sees(reader, order),
        render,
        candidates=candidates,
    )


def _event_ids(order: Order) -> dict[str, Any]:
    return {"account_id": order.account_id, "location_id": order.location_id, "order_id": order.id}


# --- validation helpers --------------------------------------------------------------------------------


def _parse(model: type[BaseModel], data: dict[str, Any], location: Location) -> Any:
    try:
        return model.model_validate(data, context={"currency": location.currency, "timezone": location.timezone})
    except ValidationError as exc:
        raise validation_failed(exc.errors(include_url=False)) from None


def _prefixed(error: ValidationFailed, prefix: str) -> ValidationFailed:
    errors = [{**e, "field": f"{prefix}.{e['field']}"} for e in (error.errors or [])]
    return ValidationFailed(errors, error.message)


# --- amounts -------------------------------------------------------------------------------------------


def _round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def _micro(quantity: Decimal) -> int:
    return int(quantity.scaleb(6))


def _check_size(minor: int, field: str) -> None:
    if abs(minor) >= MAX_TOTAL_MINOR:
        raise field_error(field, "is too large")


def _item(item: ItemIn, index: int, currency: str) -> tuple[dict[str, Any], int]:
    # The unit price in millionths of a minor unit: exact, since option quantities have 6 decimals at most.
    unit = item.price * _MICRO
    options = []
    for option in item.options or []:
        price = option.price or 0
        unit += price * _micro(option.quantity)
        options.append(
            {
                "option_list_name": option.option_list_name,
                "name": option.name,
                "ref": option.ref,
                "price": render_money(price, currency),
                "quantity": render_decimal(option.quantity),
            }
        )
    subtotal = _round_half_up(unit * _micro(item.quantity), _MICRO * _MICRO)
    _check_size(subtotal, f"items.{index}.subtotal")
    rendered = {
        "id": new_id(),
        "product_name": item.product_name,
        "sku_name": item.sku_name,
        "sku_ref": item.sku_ref,
        "price": render_money(item.price, currency),
        "quantity": render_decimal(item.quantity),
        "subtotal": render_money(subtotal, currency),
        "options": options,
        "points_earned": render_decimal(item.points_earned) if item.points_earned is not None else None,
        "points_used": render_decimal(item.points_used) if item.points_used is not None else None,
        "customer_notes": item.customer_notes,
    }
    return rendered, subtotal


@dataclass
class _Elements:
    items: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    discounts: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    total_minor: int


def _elements(fields: OrderCreate, currency: str) -> _Elements:
    items, total = [], 0
    for index, item in enumerate(fields.items or []):
        rendered, subtotal = _item(item, index, currency)
        items.append(rendered)
        total += subtotal
    charges = []
    for charge in fields.charges or []:
        total += charge.price
        charges.append(
            {"id": new_id(), "name": charge.name, "ref": charge.ref, "price": render_money(charge.price, currency)}
        )
    discounts = []
    for discount in fields.discounts or []:
        total -= discount.price_off
        discounts.append(
            {
                "id": new_id(),
                "name": discount.name,
                "ref": discount.ref,
                "price_off": render_money(discount.price_off, currency),
            }
        )
    payments = [
        {"id": new_id(), "name": payment.name, "ref": payment.ref, "amount": render_money(payment.amount, currency)}
        for payment in fields.payments or []
    ]
    _check_size(total, "total")
    return _Elements(items, charges, discounts, payments, total)


# --- the order's customer ------------------------------------------------------------------------------


@dataclass
class _Link:
    customer: Customer | None = None
    customer_list: CustomerList | None = None
    guest: dict[str, Any] | None = None


async def _linked_by_id(session: AsyncSession, principal: Principal, customer_id: str) -> _Link:
    row = (
        await session.execute(
            select(Customer, CustomerList)
            .join(CustomerList, CustomerList.id == Customer.customer_list_id)
            .where(Customer.id == customer_id, access.visible_filter(principal))
            .with_for_update(of=Customer)
        )
    ).first()
    if row is None:
        raise field_error("customer_id", NOT_A_VISIBLE_CUSTOMER)
    return _Link(customer=row[0], customer_list=row[1])


async def _linked_by_private_ref(
    session: AsyncSession, principal: Principal, customer_list_id: str | None, private_ref: str | None
) -> _Link:
    if customer_list_id is None:
        raise field_error("customer_list_id", "is required with customer_private_ref")
    if private_ref is None:
        raise field_error("customer_private_ref", "is required with customer_list_id")
    customer_list = await session.scalar(
        select(CustomerList).where(CustomerList.id == customer_list_id, access.visible_filter(principal))
    )
    if customer_list is None:
        raise field_error("customer_list_id", "is not a customer list this connection can see")
    customer = await session.scalar(
        select(Customer)
        .join(CustomerPrivateRef, CustomerPrivateRef.customer_id == Customer.id)
        .where(
            CustomerPrivateRef.customer_list_id == customer_list.id,
            CustomerPrivateRef.client_id == principal.client_id,
            CustomerPrivateRef.ref == private_ref,
        )
        .with_for_update(of=Customer)
    )
    if customer is None:
        raise field_error("customer_private_ref", "is not the private ref of a customer of this list")
    return _Link(customer=customer, customer_list=customer_list)


def _guest(fields: BaseModel, location: Location) -> dict[str, Any]:
    """The inline customer of a guest order, in the shape of a customer resource (id and statistics null)."""
    values = {name: getattr(fields, name) for name in type(fields).model_fields}
    transient = Customer(
        id=None,
        customer_list_id=None,
        anonymised=False,
        created_at=None,
        nb_orders=0,
        order_total_minor=0,
        first_order_at=None,
        last_order_at=None,
        custom_fields={},
        **values,
    )
    context = ListContext(None, location.timezone, location.currency)  # type: ignore[arg-type]
    rendered = render_customer(transient, context, None, [])
    rendered.update(nb_orders=None, order_total=None, first_order_date=None, last_order_date=None)
    return rendered


async def _resolve_customer(
    session: AsyncSession, principal: Principal, fields: OrderCreate, location: Location
) -> _Link:
    by_id = fields.customer_id is not None
    by_ref = fields.customer_list_id is not None or fields.customer_private_ref is not None
    guest = fields.customer is not None
    if by_id + by_ref + guest > 1:
        message = "only one of customer_id, customer_list_id + customer_private_ref, or customer may be given"
        sent = [name for name in CUSTOMER_REFERENCES if getattr(fields, name) is not None]
        raise ValidationFailed([{"field": name, "message": message} for name in sent])
    if by_id:
        return await _linked_by_id(session, principal, fields.customer_id)  # type: ignore[arg-type]
    if by_ref:
        return await _linked_by_private_ref(session, principal, fields.customer_list_id, fields.customer_private_ref)
    if guest:
        return _Link(guest=_guest(fields.customer, location))
    return _Link()


async def _render_customer_copy(session: AsyncSession, link: _Link) -> dict[str, Any] | None:
    if link.customer is None or link.customer_list is None:
        return link.guest
    context = await context_of(session, link.customer_list)
    # No private ref in the copy: render() puts in the reader's own.
    return await render_with_cards(session, link.customer, context, None)


# --- loyalty operations in an order --------------------------------------------------------------------


async def _card_for(
    session: AsyncSession, customer: Customer, operation: OrderLoyaltyOperationIn, index: int
) -> LoyaltyCard:
    """The customer's card with this ref (null: the card without ref): created if missing, renamed if needed."""
    ref_matches = LoyaltyCard.ref.is_(None) if operation.ref is None else LoyaltyCard.ref == operation.ref
    card = await session.scalar(select(LoyaltyCard).where(LoyaltyCard.customer_id == customer.id, ref_matches))
    if card is None:
        return await loyalty.add_card(
            session, customer, operation.name, operation.ref, ref_field=f"loyalty_operations.{index}.ref"
        )
    if operation.name is not None and card.name != operation.name:
        card.name = operation.name
    return card


async def _apply_loyalty(
    session: AsyncSession, principal: Principal, link: _Link, order: Order, operations: list[OrderLoyaltyOperationIn]
) -> list[dict[str, Any]]:
    if link.customer is None or link.customer_list is None:
        raise field_error(
            "loyalty_operations",
            "need a linked customer (customer_id, or customer_list_id and customer_private_ref); "
            "a guest order or an order without customer can't have loyalty operations",
        )
    if not access.may_write_in(principal, link.customer_list):
        raise Forbidden("This connection may not write in this customer's list (loyalty operations)")
    rendered = []
    for index, operation in enumerate(operations):
        card = await _card_for(session, link.customer, operation, index)
        try:
            applied = await loyalty.apply_operation(
                session,
                card,
                operation.delta,
                operation.reason,
                order_id=order.id,
                order_location_id=order.location_id,
            )
        except ValidationFailed as error:
            raise _prefixed(error, f"loyalty_operations.{index}") from None
        rendered.append(
            {
                "ref": card.ref,
                "name": card.name,
                "delta": loyalty.points(applied.delta_micro),
                "reason": applied.reason,
                "new_balance": loyalty.points(applied.new_balance_micro),
            }
        )
    return rendered


# --- create ----------------------------------------------------------------------------------------------


async def create(session: AsyncSession, principal: Principal, location_id: str, data: dict[str, Any]) -> dict[str, Any]:
    require_scope(principal, write=True)
    location = await tenancy.visible_location(session, principal, location_id)
    fields: OrderCreate = _parse(OrderCreate, strip_read_only(data, CREATE_READ_ONLY, None), location)
    elements = _elements(fields, location.currency)
    merged_fields = custom_fields.merge({}, fields.custom_fields, reset=True)
    link = await _resolve_customer(session, principal, fields, location)
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
        expected_time=fields.expected_time,
        confirmed_time=fields.confirmed_time,
        customer_notes=fields.customer_notes,
        seller_notes=fields.seller_notes,
        collection_code=fields.collection_code,
        coupon_codes=list(fields.coupon_codes or []),
        currency=location.currency,
        total_minor=elements.total_minor,
        items=elements.items,
        charges=elements.charges,
        discounts=elements.discounts,
        payments=elements.payments,
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
        order.loyalty_operations = await _apply_loyalty(session, principal, link, order, fields.loyalty_operations)
    if link.customer is not None:
        await refresh_customer_statistics(session, link.customer.id)
    # The customer as it is once this order is in: its statistics and balances include the order.
    order.customer = await _render_customer_copy(session, link)
    if fields.private_ref is not None:
        session.add(OrderPrivateRef(order_id=order.id, client_id=principal.client_id, ref=fields.private_ref))
    await session.flush()
    render_for = _renderer(session, order)
    watch = await _watch(session, principal, "create", order, render_for)
    await watch.record(session, render_for, _event_ids(order), location.timezone)
    customer_private_ref = None
    if link.customer is not None:
        customer_private_ref = await session.scalar(
            select(CustomerPrivateRef.ref).where(
                CustomerPrivateRef.customer_id == link.customer.id,
                CustomerPrivateRef.client_id == principal.client_id,
            )
        )
    return render(order, location.timezone, fields.private_ref, customer_private_ref)


# --- retrieve, list -------------------------------------------------------------------------------------


async def retrieve(session: AsyncSession, principal: Principal, location_id: str, order_id: str) -> dict[str, Any]:
    require_scope(principal, write=False)
    location = await tenancy.visible_location(session, principal, location_id)
    row = (
        await session.execute(_select(principal).where(Order.id == order_id, Order.location_id == location.id))
    ).first()
    if row is None:
        raise NotFound("Order not found")
    return _render_row(row)


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
            raise field_error(name, "must be a time in ISO 8601 format, such as 2020-06-25T11:43:51+02:00") from None
        stmt = stmt.where(Order.created_at >= moment if name == "after" else Order.created_at < moment)
    return stmt


async def _index(
    session: AsyncSession, principal: Principal, where: Any, filters: Filters, timezone: str, page: PageRequest
) -> Page:
    stmt = _filtered(_select(principal).where(where), filters, timezone)
    rows = (await session.execute(keyset(stmt, Order.created_at, Order.id, page))).all()
    result = cut_page(rows, page, key=lambda row: (row[0].created_at, row[0].id))
    result.items = [_render_row(row) for row in result.items]
    return result


async def index_of_location(
    session: AsyncSession, principal: Principal, location_id: str, filters: Filters, page: PageRequest
) -> Page:
    require_scope(principal, write=False)
    location = await tenancy.visible_location(session, principal, location_id)
    return await _index(session, principal, Order.location_id == location.id, filters, location.timezone, page)


async def index_of_account(
    session: AsyncSession, principal: Principal, account_id: str, filters: Filters, page: PageRequest
) -> Page:
    """Every order of the account's locations (account-level connections only)."""
    require_scope(principal, write=False)
    tenancy.require_account_endpoint(principal, account_id)
    account = await tenancy.visible_account(session, principal, account_id)
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
    session: AsyncSession, principal: Principal, location_id: str, order_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    require_scope(principal, write=True)
    location = await tenancy.visible_location(session, principal, location_id)
    found = (
        await session.execute(
            select(Order.id, Order.customer_id).where(Order.id == order_id, Order.location_id == location.id)
        )
    ).first()
    if found is None:
        raise NotFound("Order not found")
    if found.customer_id is not None and "status" in data:
        # Locks in the order every writer takes them: the customer first, then its orders.
        await session.execute(select(Customer.id).where(Customer.id == found.customer_id).with_for_update())
    row = (await session.execute(_select(principal).where(Order.id == order_id).with_for_update(of=Order))).one()
    order, private_ref, customer_private_ref, _ = row
    fields: OrderUpdate = _parse(
        OrderUpdate,
        strip_read_only(data, READ_ONLY, render(order, location.timezone, private_ref, customer_private_ref)),
        location,
    )
    render_for = _renderer(session, order)
    watch = await _watch(session, principal, "update", order, render_for)
    sent = fields.model_fields_set
    status_changed = "status" in sent and fields.status != order.status
    if status_changed:
        order.status = fields.status
    for name in ("confirmed_time", "seller_notes", "collection_code"):
        if name in sent:
            setattr(order, name, getattr(fields, name))
    if "custom_fields" in sent:
        order.custom_fields = custom_fields.merge(
            order.custom_fields or {}, fields.custom_fields, reset=fields.custom_fields is None
        )
    if "private_ref" in sent and fields.private_ref != private_ref:
        await _set_private_ref(session, order, principal.client_id, fields.private_ref)
        private_ref = fields.private_ref
    order.updated_at = utcnow()
    await session.flush()
    if status_changed and order.customer_id is not None:
        await refresh_customer_statistics(session, order.customer_id)
    await watch.record(session, render_for, _event_ids(order), location.timezone)
    return render(order, location.timezone, private_ref, customer_private_ref)


# --- anonymisation --------------------------------------------------------------------------------------


@customers.anonymises_copies
async def anonymise_customer_orders(
    session: AsyncSession, customer_id: str, cause: Principal | None = None
) -> list[str]:
    """Anonymises the customer copy inside each of the customer's orders (SPEC §7); returns the ids changed.

    Called by customers.service.anonymise in its transaction, after it has locked the customer. Each
    changed order fires an ``order.update`` event (seed §2.5) for its subscribers other than ``cause``.
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
