"""Points earned on orders (a Patronage extension), in the order's transaction.

A linked order (an order with a customer of a list that has programmes) earns, for each programme of the list,
on the customer's card of the programme's scheme (created if missing): once it has reached one of the
programme's earning statuses, it should have credited ``points(amount)``; once cancelled or rejected, nothing.
``loyalty_order_earning`` holds, per (order, card), what the order has credited so far: every change of the
order moves the card by the difference, in one ordinary operation with the order's id, under that row's lock
(taken after an INSERT ... ON CONFLICT DO NOTHING, never a check then an insert). A retry or a concurrent update
of the same order finds the difference already made: no status is ever credited twice.

The amount that earns: the items' subtotals, plus the charges if the programme counts them, minus the discounts
if it counts them (never below zero), of the elements not deleted, in the order's currency; an order in another
currency than the list's earns nothing. Points = amount × points_per_unit, rounded as the programme says.
"""

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists.models import CustomerList
from patronage.db import utcnow
from patronage.formats import currency_exponent
from patronage.loyalty import cards as loyalty
from patronage.loyalty.models import LoyaltyCard
from patronage.orders.models import Order
from patronage.orders.pricing import stored_minor
from patronage.programmes import service as programmes
from patronage.programmes import tiers
from patronage.programmes.models import LoyaltyProgramme, OrderEarning
from patronage.programmes.schemas import REVERSING_STATUSES

EARNED = "Points earned on order"
ADJUSTED = "Points adjusted: order amount changed"


def _live(elements: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [element for element in elements or [] if not element.get("deleted", False)]


def earning_amount(order: Order, programme: LoyaltyProgramme) -> int:
    """The amount that earns, in the order's minor units (module docstring)."""
    amount = sum(stored_minor(item["subtotal"]) for item in _live(order.items))
    if programme.count_charges:
        amount += sum(stored_minor(charge["price"]) for charge in _live(order.charges))
    if programme.count_discounts:
        amount -= sum(stored_minor(discount["price_off"]) for discount in _live(order.discounts))
    return max(amount, 0)


def points_for(amount_minor: int, exponent: int, programme: LoyaltyProgramme) -> int:
    """``amount_minor`` (10**-exponent units) × points per unit, in micro-points, rounded to the programme's
    decimals: down, to the nearest (halves up) or up. Exact: integers only."""
    unit = 10 ** (6 - programme.rounding_decimals)
    numerator = amount_minor * programme.points_per_unit_micro
    denominator = 10**exponent * unit
    quotient, remainder = divmod(numerator, denominator)
    if remainder and (
        programme.rounding_mode == "up" or (programme.rounding_mode == "nearest" and 2 * remainder >= denominator)
    ):
        quotient += 1
    return quotient * unit


def _insert(session: AsyncSession) -> Any:
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def _earning_card(session: AsyncSession, order: Order, programme: LoyaltyProgramme) -> LoyaltyCard | None:
    """The card this order has already credited in the programme's scheme, if any."""
    ref = LoyaltyCard.ref.is_(None) if programme.ref is None else LoyaltyCard.ref == programme.ref
    return await session.scalar(
        select(LoyaltyCard)
        .join(OrderEarning, OrderEarning.loyalty_card_id == LoyaltyCard.id)
        .where(OrderEarning.order_id == order.id, LoyaltyCard.customer_id == order.customer_id, ref)
    )


async def _scheme_card(session: AsyncSession, order: Order, programme: LoyaltyProgramme) -> LoyaltyCard:
    """The customer's card of the scheme, created as an order's loyalty operations create one (the customer's
    row is locked by the order's create or update)."""
    ref = LoyaltyCard.ref.is_(None) if programme.ref is None else LoyaltyCard.ref == programme.ref
    card = await session.scalar(select(LoyaltyCard).where(LoyaltyCard.customer_id == order.customer_id, ref))
    if card is not None:
        return card
    owner = SimpleNamespace(id=order.customer_id, account_id=order.account_id, customer_list_id=order.customer_list_id)
    return await loyalty.add_card(session, owner, programme.name, programme.ref)


async def _settle(
    session: AsyncSession,
    cause: Principal | None,
    order: Order,
    programme: LoyaltyProgramme,
    exponent: int,
    *,
    created: bool,
) -> None:
    earning_now = order.status in programme.earning_statuses
    if created:
        # A new order has credited nothing yet, and no other request can see it: one INSERT records the credit.
        if not earning_now:
            return
        due = points_for(earning_amount(order, programme), exponent, programme)
        if due == 0:
            return
        card = await _scheme_card(session, order, programme)
        await _credit(session, cause, order, programme, card, due, EARNED)
        session.add(OrderEarning(order_id=order.id, loyalty_card_id=card.id, credited_micro=due, updated_at=utcnow()))
        await session.flush()
        return
    card = await _earning_card(session, order, programme)
    if card is None:
        if not earning_now:
            return
        card = await _scheme_card(session, order, programme)
    await session.execute(
        _insert(session)(OrderEarning)
        .values(order_id=order.id, loyalty_card_id=card.id, credited_micro=0, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    credited = await session.scalar(
        select(OrderEarning.credited_micro)
        .where(OrderEarning.order_id == order.id, OrderEarning.loyalty_card_id == card.id)
        .with_for_update()
    )
    assert credited is not None
    due = 0 if order.status in REVERSING_STATUSES else points_for(earning_amount(order, programme), exponent, programme)
    if due == credited:
        return
    reasons = {True: f"Points reversed: order {order.status}", False: EARNED if credited == 0 else ADJUSTED}
    await _credit(session, cause, order, programme, card, due - credited, reasons[due == 0])
    await session.execute(
        update(OrderEarning)
        .where(OrderEarning.order_id == order.id, OrderEarning.loyalty_card_id == card.id)
        .values(credited_micro=due, updated_at=utcnow())
    )


async def _credit(
    session: AsyncSession,
    cause: Principal | None,
    order: Order,
    programme: LoyaltyProgramme,
    card: LoyaltyCard,
    delta_micro: int,
    reason: str,
) -> None:
    await loyalty.apply_operation(
        session,
        card,
        Decimal(delta_micro).scaleb(-6),
        reason,
        order_id=order.id,
        order_location_id=order.location_id,
    )
    await tiers.after_credit(session, cause, card, delta_micro, programme)


async def settle_order(session: AsyncSession, cause: Principal | None, order: Order, *, created: bool = False) -> None:
    """Brings each of the list's programmes' credit for ``order`` to what it should be now (module docstring).
    Called by orders.service after a create, and after an update that changed the status or the elements."""
    if order.customer_id is None or order.customer_list_id is None:
        return
    schemes = await programmes.of_list(session, order.customer_list_id)
    if not schemes:
        return
    customer_list = await session.get(CustomerList, order.customer_list_id)
    if customer_list is None or customer_list.owner_currency != order.currency:
        return
    exponent = currency_exponent(order.currency)
    for programme in sorted(schemes, key=lambda p: (p.ref is not None, p.ref or "")):
        await _settle(session, cause, order, programme, exponent, created=created)
