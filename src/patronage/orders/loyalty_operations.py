"""Loyalty operations in an order (SPEC §8): applied to the linked customer's cards in the order's transaction."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists import access
from patronage.customers.models import Customer
from patronage.errors import Forbidden, ValidationFailed, field_error
from patronage.loyalty import cards as loyalty
from patronage.loyalty.models import LoyaltyCard
from patronage.orders.customer_link import Link
from patronage.orders.models import Order
from patronage.orders.schemas import OrderLoyaltyOperationIn
from patronage.programmes import service as programmes
from patronage.programmes import tiers


def _prefixed(error: ValidationFailed, prefix: str) -> ValidationFailed:
    errors = [{**e, "field": f"{prefix}.{e['field']}"} for e in (error.errors or [])]
    return ValidationFailed(errors, error.message)


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


async def apply_loyalty_operations(
    session: AsyncSession, principal: Principal, link: Link, order: Order, operations: list[OrderLoyaltyOperationIn]
) -> list[dict[str, Any]]:
    """Applies each operation with the order's id; returns them as the order shows them."""
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
        programme = await programmes.governing(session, link.customer_list, card)  # an extension: guard, tiers
        try:
            applied = await loyalty.apply_operation(
                session,
                card,
                operation.delta,
                operation.reason,
                order_id=order.id,
                order_location_id=order.location_id,
                no_overdraft=programmes.no_overdraft(programme),
            )
        except ValidationFailed as error:
            raise _prefixed(error, f"loyalty_operations.{index}") from None
        await tiers.after_credit(session, principal, card, applied.delta_micro, programme)
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
