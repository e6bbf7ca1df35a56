"""Loyalty cards at the bottom of the feature: the one place a card is made (``add_card``), the one place a balance
moves (``apply_operation``: on PostgreSQL one statement for the balance, the sequence, the hash and the row), and
how a card and an operation are rendered. Every feature that touches cards builds on this module (the card routes'
services in ``loyalty.service``, orders, programmes, imports); it imports none of them."""

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Table, Text, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from patronage.customers.models import Customer
from patronage.db import utcnow
from patronage.errors import field_error
from patronage.formats import render_time
from patronage.ids import new_id
from patronage.loyalty.ledger import KNOWN_PARTS, known_parts, operation_hash, sql_operation_hash
from patronage.loyalty.models import SCALE, LoyaltyCard, LoyaltyOperation, points
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


async def check_ref_free(session: AsyncSession, customer_id: str, ref: str | None, exclude_id: str | None) -> None:
    clash = select(LoyaltyCard.id).where(
        LoyaltyCard.customer_id == customer_id,
        LoyaltyCard.ref.is_(None) if ref is None else LoyaltyCard.ref == ref,
    )
    if exclude_id is not None:
        clash = clash.where(LoyaltyCard.id != exclude_id)
    if await session.scalar(clash.limit(1)):
        raise field_error("ref", NULL_REF_TAKEN if ref is None else REF_TAKEN)


async def flush_card(session: AsyncSession, ref: str | None, field: str = "ref") -> None:
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
    await flush_card(session, ref, ref_field)
    return card


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
