"""An order's customer (SPEC §8): at most one of ``customer_id``, ``customer_list_id`` + ``customer_private_ref``
(the caller's ref), or an inline guest ``customer``; and the copy of the customer the order keeps."""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists import access
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import ListContext, context_of
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.customers.render import render, render_with_cards
from patronage.errors import ValidationFailed, field_error
from patronage.orders.schemas import OrderCreate
from patronage.tenancy.models import Location

CUSTOMER_REFERENCES = ("customer_id", "customer_list_id", "customer_private_ref", "customer")
NOT_A_VISIBLE_CUSTOMER = "is not a customer of a customer list this connection can see"


@dataclass
class Link:
    """A linked customer (row locked, with its list), a guest's rendered copy, or neither."""

    customer: Customer | None = None
    customer_list: CustomerList | None = None
    guest: dict[str, Any] | None = None


async def _linked_by_id(session: AsyncSession, principal: Principal, customer_id: str) -> Link:
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
    return Link(customer=row[0], customer_list=row[1])


async def _linked_by_private_ref(
    session: AsyncSession, principal: Principal, customer_list_id: str | None, private_ref: str | None
) -> Link:
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
    return Link(customer=customer, customer_list=customer_list)


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
    rendered = render(transient, context, None, [])
    rendered.update(nb_orders=None, order_total=None, first_order_date=None, last_order_date=None)
    return rendered


async def resolve_customer(
    session: AsyncSession, principal: Principal, fields: OrderCreate, location: Location
) -> Link:
    """The customer an order names: a linked one is locked (its statistics and cards change with the order)."""
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
        return Link(guest=_guest(fields.customer, location))
    return Link()


async def customer_copy(session: AsyncSession, link: Link) -> dict[str, Any] | None:
    """The customer as the order keeps it: as it is now (call it once the order counts in its statistics)."""
    if link.customer is None or link.customer_list is None:
        return link.guest
    context = await context_of(session, link.customer_list)
    # No private ref in the copy: orders.render puts in the reader's own.
    return await render_with_cards(session, link.customer, context, None)


async def callers_private_ref(session: AsyncSession, link: Link, client_id: str) -> str | None:
    """The client's own private ref of the linked customer."""
    if link.customer is None:
        return None
    return await session.scalar(
        select(CustomerPrivateRef.ref).where(
            CustomerPrivateRef.customer_id == link.customer.id, CustomerPrivateRef.client_id == client_id
        )
    )
