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

from sqlalchemy import and_, bindparam, select, update
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


# The list's programmes, each with the customer's card of its scheme (null: none yet; a customer has one card per
# ref), what the order has credited to that card (null: no earning row) and the list's currency: all an order's
# earning reads, in one statement. Built once (bound parameters): building a statement costs more than running it.
_SCHEMES = (
    select(LoyaltyProgramme, LoyaltyCard, OrderEarning.credited_micro, CustomerList.owner_currency)
    .join(CustomerList, CustomerList.id == LoyaltyProgramme.customer_list_id)
    .outerjoin(
        LoyaltyCard,
        and_(
            LoyaltyCard.customer_id == bindparam("customer_id"),
            LoyaltyCard.ref.is_not_distinct_from(LoyaltyProgramme.ref),
        ),
    )
    .outerjoin(
        OrderEarning,
        and_(OrderEarning.order_id == bindparam("order_id"), OrderEarning.loyalty_card_id == LoyaltyCard.id),
    )
    .where(LoyaltyProgramme.customer_list_id == bindparam("customer_list_id"))
)


async def _new_card(session: AsyncSession, order: Order, programme: LoyaltyProgramme) -> LoyaltyCard:
    """The customer's card of the scheme, created as an order's loyalty operations create one (the customer's
    row is locked by the order's create or update)."""
    owner = SimpleNamespace(id=order.customer_id, account_id=order.account_id, customer_list_id=order.customer_list_id)
    return await loyalty.add_card(session, owner, programme.name, programme.ref)


async def _settle_new(
    session: AsyncSession,
    cause: Principal | None,
    order: Order,
    programme: LoyaltyProgramme,
    card: LoyaltyCard | None,
    exponent: int,
) -> None:
    """A new order has credited nothing yet, and no other request can see it: its earning row is written with
    the credit's operation (loyalty.apply_operation's companion row), no upsert, lock or update needed."""
    if order.status not in programme.earning_statuses:
        return
    due = points_for(earning_amount(order, programme), exponent, programme)
    if due == 0:
        return
    if card is None:
        card = await _new_card(session, order, programme)
    earned = {"order_id": order.id, "loyalty_card_id": card.id, "credited_micro": due, "updated_at": utcnow()}
    await _credit(session, cause, order, programme, card, due, EARNED, companion=(OrderEarning.__table__, earned))


async def _settle_changed(
    session: AsyncSession,
    cause: Principal | None,
    order: Order,
    programme: LoyaltyProgramme,
    card: LoyaltyCard | None,
    credited_before: int | None,
    exponent: int,
) -> None:
    """An order that changed: moves the card by (what it should have credited now − what it has), under the
    earning row's lock, taken after an INSERT ... ON CONFLICT DO NOTHING (never a check then an insert)."""
    if card is None or credited_before is None:  # nothing credited to this scheme so far
        if order.status not in programme.earning_statuses:
            return
        if card is None:
            card = await _new_card(session, order, programme)
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
    companion: tuple[Any, dict[str, Any]] | None = None,
) -> None:
    await loyalty.apply_operation(
        session,
        card,
        Decimal(delta_micro).scaleb(-6),
        reason,
        order_id=order.id,
        order_location_id=order.location_id,
        companion=companion,
    )
    await tiers.after_credit(session, cause, card, delta_micro, programme)


async def settle_order(
    session: AsyncSession, cause: Principal | None, order: Order, has_programmes: bool, *, created: bool = False
) -> None:
    """Brings each of the list's programmes' credit for ``order`` to what it should be now (module docstring).
    Called by orders.service after a create, and after an update that changed the status or the elements, with
    the order's list's ``has_loyalty_programmes`` as read with the customer: a list without programme costs
    nothing more."""
    if not has_programmes or order.customer_id is None or order.customer_list_id is None:
        return
    parameters = {"customer_list_id": order.customer_list_id, "customer_id": order.customer_id, "order_id": order.id}
    schemes = (await session.execute(_SCHEMES, parameters)).all()
    if not schemes or schemes[0].owner_currency != order.currency:
        return
    exponent = currency_exponent(order.currency)
    for programme, card, credited, _ in sorted(schemes, key=lambda row: (row[0].ref is not None, row[0].ref or "")):
        if created:
            await _settle_new(session, cause, order, programme, card, exponent)
        else:
            await _settle_changed(session, cause, order, programme, card, credited, exponent)
