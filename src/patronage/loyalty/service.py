"""Loyalty cards and operations (seed §3–4, SPEC §7): an exact ledger under concurrency."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Table, Text, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from patronage.auth.principal import Principal
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import context_of
from patronage.customers.models import Customer
from patronage.db import utcnow
from patronage.errors import NotFound, ValidationFailed, field_error
from patronage.formats import TIME_SYNTAX, parse_time, render_time
from patronage.ids import new_id
from patronage.loyalty.ledger import KNOWN_PARTS, known_parts, operation_hash, sql_operation_hash
from patronage.loyalty.models import SCALE, LoyaltyCard, LoyaltyOperation, points
from patronage.loyalty.schemas import CardCreate, CardUpdate, OperationCreate
from patronage.orders.models import Order
from patronage.pagination import Page, PageRequest, cut_page, keyset, keyset_on
from patronage.validators import MAX_POINTS

REF_TAKEN = "is already used by another loyalty card of this customer"
NULL_REF_TAKEN = "can't be null: this customer already has a loyalty card without ref"
OVERDRAFT = "would make the balance negative, which this card's loyalty programme does not allow"


def render_card(card: LoyaltyCard, extension: dict[str, Any] | None = None) -> dict[str, Any]:
    """``extension``: what a card of a loyalty programme shows beyond HubRise's fields (programmes.service)."""
    return {
        "id": card.id,
        "customer_id": card.customer_id,
        "name": card.name,
        "ref": card.ref,
        "balance": points(card.balance_micro),
        **(extension or {}),
    }


async def render_cards(
    session: AsyncSession, customer_list: CustomerList, cards: list[LoyaltyCard]
) -> list[dict[str, Any]]:
    """Cards as the card routes answer them: with their programme's fields, if they have one (looked up only
    for a list with programmes)."""
    from patronage.programmes.service import card_extensions

    if not customer_list.has_loyalty_programmes:
        return [render_card(card) for card in cards]
    extensions = await card_extensions(session, customer_list.owner_timezone, cards)
    return [render_card(card, extensions.get(card.id)) for card in cards]


def render_card_summary(card: LoyaltyCard) -> dict[str, Any]:
    """The card as the customer resource shows it."""
    return {"id": card.id, "ref": card.ref, "name": card.name, "balance": points(card.balance_micro)}


def render_operation(operation: LoyaltyOperation, timezone: str) -> dict[str, Any]:
    return {
        "id": operation.id,
        "customer_id": operation.customer_id,
        "created_at": render_time(operation.created_at, timezone),
        "order_location_id": operation.order_location_id,
        "order_id": operation.order_id,
        "reason": operation.reason,
        "delta": points(operation.delta_micro),
        "new_balance": points(operation.new_balance_micro),
    }


async def cards_of_customers(session: AsyncSession, customer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every card of these customers, in one query (a page of customers costs one more query, not 100)."""
    cards: dict[str, list[dict[str, Any]]] = {customer_id: [] for customer_id in customer_ids}
    if not customer_ids:
        return cards
    # Plain rows (render_card_summary reads columns only): no ORM object per card.
    rows = await session.execute(
        select(LoyaltyCard.__table__)
        .where(LoyaltyCard.customer_id.in_(customer_ids))
        .order_by(LoyaltyCard.created_at, LoyaltyCard.id)
    )
    for card in rows:
        cards[card.customer_id].append(render_card_summary(card))
    return cards


# --- cards ------------------------------------------------------------------------------------------


async def load_card(
    session: AsyncSession, customer_list: CustomerList, card_id: str, *, for_update: bool = False
) -> LoyaltyCard:
    """The list's card (404 otherwise); ``for_update`` locks its row until the transaction ends."""
    stmt = select(LoyaltyCard).where(LoyaltyCard.id == card_id, LoyaltyCard.customer_list_id == customer_list.id)
    card = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if card is None:
        raise NotFound("Loyalty card not found")
    return card


async def _check_ref_free(session: AsyncSession, customer_id: str, ref: str | None, exclude_id: str | None) -> None:
    clash = select(LoyaltyCard.id).where(
        LoyaltyCard.customer_id == customer_id,
        LoyaltyCard.ref.is_(None) if ref is None else LoyaltyCard.ref == ref,
    )
    if exclude_id is not None:
        clash = clash.where(LoyaltyCard.id != exclude_id)
    if await session.scalar(clash.limit(1)):
        raise field_error("ref", NULL_REF_TAKEN if ref is None else REF_TAKEN)


async def _flush_card(session: AsyncSession, ref: str | None, field: str = "ref") -> None:
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent request took the same ref for this customer between our check and our insert.
        raise field_error(field, NULL_REF_TAKEN if ref is None else REF_TAKEN) from None


async def add_card(
    session: AsyncSession, customer: Customer | Any, name: str | None, ref: str | None, *, ref_field: str = "ref"
) -> LoyaltyCard:
    """The one place a card is made (the card route, an order's loyalty operations). ``customer`` is the
    row, locked by the caller; a ref taken meanwhile by a concurrent request is a 422 on ``ref_field``."""
    card = LoyaltyCard(
        id=new_id(),
        account_id=customer.account_id,
        customer_list_id=customer.customer_list_id,
        customer_id=customer.id,
        name=name,
        ref=ref,
        balance_micro=0,
        operation_count=0,
        created_at=utcnow(),
    )
    session.add(card)
    await _flush_card(session, ref, ref_field)
    return card


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
    await _check_ref_free(session, fields.customer_id, fields.ref, None)
    card = await add_card(session, customer, fields.name, fields.ref)
    return (await render_cards(session, customer_list, [card]))[0]


async def update_card(
    session: AsyncSession, customer_list: CustomerList, card: LoyaltyCard, fields: CardUpdate
) -> dict[str, Any]:
    """``card`` is locked by the caller (read-only fields are checked against what it holds now)."""
    fields.check_echoed((await render_cards(session, customer_list, [card]))[0])
    if "ref" in fields.model_fields_set and fields.ref != card.ref:
        await _check_ref_free(session, card.customer_id, fields.ref, card.id)
        card.ref = fields.ref
    if "name" in fields.model_fields_set:
        card.name = fields.name
    await _flush_card(session, card.ref)
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


async def apply_operation(
    session: AsyncSession,
    card: LoyaltyCard,
    delta: Decimal,
    reason: str | None,
    *,
    order_id: str | None = None,
    order_location_id: str | None = None,
    created_at: datetime | None = None,
    operation_id: str | None = None,
    no_overdraft: bool = False,
    companion: tuple[Table, dict[str, Any]] | None = None,
) -> LoyaltyOperation:
    """Adds ``delta`` to the card and writes the operation, in the caller's transaction.

    The balance moves in one UPDATE ... RETURNING: the row lock it takes orders concurrent operations on
    the card, so each one's ``new_balance``, ``seq`` and hash follow the previous one's, in commit order.
    ``no_overdraft`` (a loyalty programme's guard): a negative delta that would take the balance below zero
    is a 422 on ``delta``, decided by the same UPDATE (no race lets two debits overdraw the card).
    ``companion``: a row (table, values) written with the operation, only if the balance moved (a programme's
    record of what an order has credited): in the same statement on PostgreSQL, the next one on SQLite.
    """
    delta_micro = int(delta.scaleb(6))
    # An imported operation keeps its original time, stored (and hashed) as naive UTC like every other.
    created_at = utcnow() if created_at is None else created_at
    if created_at.tzinfo is not None:
        created_at = created_at.astimezone(UTC).replace(tzinfo=None)
    operation = LoyaltyOperation(
        id=operation_id or new_id(),  # an imported operation may keep its source's id
        account_id=card.account_id,
        customer_list_id=card.customer_list_id,
        loyalty_card_id=card.id,
        customer_id=card.customer_id,
        delta_micro=delta_micro,
        reason=reason,
        order_id=order_id,
        order_location_id=order_location_id,
        created_at=created_at,
    )
    guard = no_overdraft and delta_micro < 0  # programmes: the balance may not go below zero
    if session.get_bind().dialect.name == "postgresql":
        moved = await _move_in_one_statement(session, card, operation, guard, companion)
    else:
        moved = await _move_then_insert(session, card, operation, guard)
        if moved is not None and companion is not None:
            await session.execute(insert(companion[0]).values(**companion[1]))
    if moved is None:
        if guard:  # a negative delta: only the guard can have refused it
            raise field_error("delta", OVERDRAFT)
        raise field_error("delta", f"would take the balance beyond {MAX_POINTS} points")
    operation.seq, operation.new_balance_micro, operation.hash = moved
    # The row already holds these values: set them on the object without making the ORM write them again.
    set_committed_value(card, "balance_micro", operation.new_balance_micro)
    set_committed_value(card, "operation_count", operation.seq)
    set_committed_value(card, "ledger_hash", operation.hash)
    return operation


def _within_bounds(delta_micro: Any, guard: bool = False) -> list[Any]:
    """The balance stays within ±MAX_POINTS; with ``guard`` (a programme's no-overdraft rule), at or above 0."""
    limit = MAX_POINTS * SCALE
    bounds = [LoyaltyCard.balance_micro + delta_micro < limit, LoyaltyCard.balance_micro + delta_micro > -limit]
    return [*bounds, LoyaltyCard.balance_micro + delta_micro >= 0] if guard else bounds


async def _move_then_insert(
    session: AsyncSession, card: LoyaltyCard, operation: LoyaltyOperation, guard: bool = False
) -> Any:
    """SQLite: the write lock is the whole transaction's anyway; the hash is computed here, between the
    UPDATE that moves the balance and the INSERT of the operation."""
    moved = (
        await session.execute(
            update(LoyaltyCard)
            .where(LoyaltyCard.id == card.id, *_within_bounds(operation.delta_micro, guard))
            .values(
                balance_micro=LoyaltyCard.balance_micro + operation.delta_micro,
                operation_count=LoyaltyCard.operation_count + 1,
            )
            .returning(LoyaltyCard.balance_micro, LoyaltyCard.operation_count, LoyaltyCard.ledger_hash)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if moved is None:
        return None
    new_balance, seq, previous_hash = moved
    chained = operation_hash(
        previous_hash,
        operation_id=operation.id,
        seq=seq,
        delta_micro=operation.delta_micro,
        new_balance_micro=new_balance,
        created_at=operation.created_at,
        order_id=operation.order_id,
    )
    await session.execute(
        update(LoyaltyCard)
        .where(LoyaltyCard.id == card.id)
        .values(ledger_hash=chained)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        insert(LoyaltyOperation).values(**_columns(operation), seq=seq, new_balance_micro=new_balance, hash=chained)
    )
    return seq, new_balance, chained


async def _move_in_one_statement(
    session: AsyncSession,
    card: LoyaltyCard,
    operation: LoyaltyOperation,
    guard: bool = False,
    companion: tuple[Table, dict[str, Any]] | None = None,
) -> Any:
    """PostgreSQL: the balance, the sequence, the hash and the operation row in one statement, so the card's
    row lock is held for that statement and the commit only (a hot card is not a queue behind Python work)."""
    table, values = companion if companion is not None else (None, {})
    stmt = _one_statement(guard, table, tuple(values))
    # Every name prefixed: a parameter named as a column of the card would be added to the UPDATE's SET clause.
    parameters = {
        **{f"operation_{name}": value for name, value in _columns(operation).items()},
        "moved_card_id": card.id,
        **{
            f"hash_{name}": part
            for name, part in known_parts(
                operation_id=operation.id,
                delta_micro=operation.delta_micro,
                created_at=operation.created_at,
                order_id=operation.order_id,
            ).items()
        },
        **{f"companion_{name}": value for name, value in values.items()},
    }
    return (await session.execute(stmt, parameters)).first()


@cache
def _one_statement(guard: bool, companion: Table | None, companion_columns: tuple[str, ...]) -> Any:
    """The statement of :func:`_move_in_one_statement`, with bound parameters: built once per shape (building
    and keying it cost more than running it), its values given at each execution. The companion row is
    inserted by a CTE reading the moved card's row: nothing is written when the balance does not move."""
    table = LoyaltyCard.__table__
    target = LoyaltyOperation.__table__
    delta = bindparam("operation_delta_micro", type_=target.c.delta_micro.type)
    new_count = table.c.operation_count + 1
    new_balance = table.c.balance_micro + delta
    hashed = sql_operation_hash(
        table.c.ledger_hash,
        seq=new_count,
        new_balance_micro=new_balance,
        **{name: bindparam(f"hash_{name}", type_=Text()) for name in KNOWN_PARTS},
    )
    moved = (
        update(table)
        .where(table.c.id == bindparam("moved_card_id", type_=table.c.id.type), *_within_bounds(delta, guard))
        .values(balance_micro=new_balance, operation_count=new_count, ledger_hash=hashed)
        .returning(table.c.balance_micro, table.c.operation_count, table.c.ledger_hash)
        .cte("moved")
    )
    rows = select(
        *(bindparam(f"operation_{name}", type_=target.c[name].type) for name in OPERATION_COLUMNS),
        moved.c.operation_count,
        moved.c.balance_micro,
        moved.c.ledger_hash,
    )
    columns = [*OPERATION_COLUMNS, "seq", "new_balance_micro", "hash"]
    stmt = insert(target).from_select(columns, rows).returning(target.c.seq, target.c.new_balance_micro, target.c.hash)
    if companion is not None:
        companion_rows = select(
            *(bindparam(f"companion_{name}", type_=companion.c[name].type) for name in companion_columns)
        ).select_from(moved)
        stmt = stmt.add_cte(insert(companion).from_select(list(companion_columns), companion_rows).cte("companion"))
    return stmt


# What the operation row holds before the card's row has been moved.
OPERATION_COLUMNS = (
    "id",
    "account_id",
    "customer_list_id",
    "loyalty_card_id",
    "customer_id",
    "delta_micro",
    "reason",
    "order_id",
    "order_location_id",
    "created_at",
)


def _columns(operation: LoyaltyOperation) -> dict[str, Any]:
    return {name: getattr(operation, name) for name in OPERATION_COLUMNS}


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
    from patronage.programmes import service as programmes
    from patronage.programmes import tiers

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
