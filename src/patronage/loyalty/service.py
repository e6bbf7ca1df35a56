"""Loyalty cards and operations (seed §3–4, SPEC §7): an exact ledger under concurrency."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import context_of
from patronage.customers.models import Customer
from patronage.errors import NotFound, ValidationFailed, field_error
from patronage.formats import TIME_SYNTAX, parse_time, render_time
from patronage.loyalty.cards import (  # the messages are imported from here by transfer/customer_rows.py too
    NULL_REF_TAKEN,  # noqa: F401
    REF_TAKEN,  # noqa: F401
    add_card,
    apply_operation,
    check_ref_free,
    flush_card,
    render_card,
    render_operation,
)
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation, points
from patronage.loyalty.schemas import CardCreate, CardUpdate, OperationCreate
from patronage.orders.models import Order
from patronage.pagination import Page, PageRequest, cut_page, keyset, keyset_on
from patronage.programmes import service as programmes
from patronage.programmes import tiers
from patronage.programmes.card_fields import card_extensions


async def render_cards(
    session: AsyncSession, customer_list: CustomerList, cards: list[LoyaltyCard]
) -> list[dict[str, Any]]:
    """Cards as the card routes answer them: with their programme's fields, if they have one (looked up only
    for a list with programmes)."""
    if not customer_list.has_loyalty_programmes:
        return [render_card(card) for card in cards]
    extensions = await card_extensions(session, customer_list.owner_timezone, cards)
    return [render_card(card, extensions.get(card.id)) for card in cards]


# --- cards ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardFilters:
    customer_id: str | None = None
    name: str | None = None
    ref: str | None = None


async def index_cards(
    session: AsyncSession, customer_list: CustomerList, filters: CardFilters, page: PageRequest
) -> Page:
    stmt = select(LoyaltyCard).where(LoyaltyCard.customer_list_id == customer_list.id)
    if filters.customer_id is not None:
        stmt = stmt.where(LoyaltyCard.customer_id == filters.customer_id)
    if filters.name is not None:
        stmt = stmt.where(LoyaltyCard.name == filters.name)
    if filters.ref is not None:
        stmt = stmt.where(LoyaltyCard.ref == filters.ref)
    rows = (await session.scalars(keyset(stmt, LoyaltyCard.created_at, LoyaltyCard.id, page))).all()
    result = cut_page(rows, page, key=lambda card: (card.created_at, card.id))
    result.items = await render_cards(session, customer_list, result.items)
    return result


async def create_card(session: AsyncSession, customer_list: CustomerList, fields: CardCreate) -> dict[str, Any]:
    # The customer's row is locked: its cards' refs are checked and taken one request at a time.
    customer = (
        await session.execute(
            select(Customer.id, Customer.account_id, Customer.customer_list_id)
            .where(Customer.id == fields.customer_id, Customer.customer_list_id == customer_list.id)
            .with_for_update()
        )
    ).first()
    if customer is None:
        raise field_error("customer_id", "is not a customer of this customer list")
    await check_ref_free(session, fields.customer_id, fields.ref, None)
    card = await add_card(session, customer, fields.name, fields.ref)
    return (await render_cards(session, customer_list, [card]))[0]


async def update_card(
    session: AsyncSession, customer_list: CustomerList, card: LoyaltyCard, fields: CardUpdate
) -> dict[str, Any]:
    """``card`` is locked by the caller (read-only fields are checked against what it holds now)."""
    fields.check_echoed((await render_cards(session, customer_list, [card]))[0])
    if "ref" in fields.model_fields_set and fields.ref != card.ref:
        await check_ref_free(session, card.customer_id, fields.ref, card.id)
        card.ref = fields.ref
    if "name" in fields.model_fields_set:
        card.name = fields.name
    await flush_card(session, card.ref)
    return (await render_cards(session, customer_list, [card]))[0]


# --- operations -------------------------------------------------------------------------------------


async def card_as_of(session: AsyncSession, customer_list: CustomerList, card: LoyaltyCard, moment: str) -> dict:
    """The card with its balance at ``moment``: the new balance of its last operation made by then (in
    ledger order), "0.0" before its first one."""
    context = await context_of(session, customer_list)
    try:
        as_of = parse_time(moment, context.timezone)
    except ValueError:
        raise field_error("as_of", TIME_SYNTAX) from None
    balance = await session.scalar(
        select(LoyaltyOperation.new_balance_micro)
        .where(LoyaltyOperation.loyalty_card_id == card.id, LoyaltyOperation.created_at <= as_of)
        .order_by(LoyaltyOperation.seq.desc())
        .limit(1)
    )
    return {**render_card(card), "balance": points(balance or 0), "as_of": render_time(as_of, context.timezone)}


async def retrieve_operation(
    session: AsyncSession, customer_list: CustomerList, card: LoyaltyCard, operation_id: str
) -> dict[str, Any]:
    operation = await session.scalar(
        select(LoyaltyOperation).where(LoyaltyOperation.id == operation_id, LoyaltyOperation.loyalty_card_id == card.id)
    )
    if operation is None:
        raise NotFound("Loyalty operation not found")
    context = await context_of(session, customer_list)
    return render_operation(operation, context.timezone)


async def index_operations(
    session: AsyncSession, customer_list: CustomerList, card: LoyaltyCard, page: PageRequest
) -> Page:
    """Newest first: the card's operations in reverse commit order."""
    context = await context_of(session, customer_list)
    stmt = select(LoyaltyOperation).where(LoyaltyOperation.loyalty_card_id == card.id)
    rows = (await session.scalars(keyset_on(stmt, (LoyaltyOperation.seq,), page))).all()
    result = cut_page(rows, page, key=lambda operation: (operation.seq,))
    result.items = [render_operation(operation, context.timezone) for operation in result.items]
    return result


async def create_operation(
    session: AsyncSession,
    principal: Principal,
    customer_list: CustomerList,
    card: LoyaltyCard,
    fields: OperationCreate,
) -> dict[str, Any]:
    context = await context_of(session, customer_list)
    order_location_id = None
    if fields.order_id is not None:
        order_location_id = await _order_location(session, principal, card, fields.order_id)
    programme = await programmes.governing(session, customer_list, card)  # an extension: its guard and tiers
    # Everything is read before the balance moves: the card's row lock is held from here to commit.
    operation = await apply_operation(
        session,
        card,
        fields.delta,
        fields.reason,
        order_id=fields.order_id,
        order_location_id=order_location_id,
        no_overdraft=programmes.no_overdraft(programme),
    )
    await tiers.after_credit(session, principal, card, operation.delta_micro, programme)
    return render_operation(operation, context.timezone)


async def _order_location(session: AsyncSession, principal: Principal, card: LoyaltyCard, order_id: str) -> str:
    """The location of an order of the card's account that the connection may see (422 otherwise).

    An account-level connection sees every order of its account, a location-level one its location's orders.
    No ``orders`` scope is needed: the operation only shows the id the client sent and the order's location.
    """
    location_id = await session.scalar(
        select(Order.location_id).where(Order.id == order_id, Order.account_id == card.account_id)
    )
    if location_id is None or (not principal.is_account_level and location_id != principal.location_id):
        raise ValidationFailed([{"field": "order_id", "message": "is not an order of this account"}])
    return location_id
