"""Points expiry (a Patronage extension): each positive operation is a lot of earned points that expires
``expiry_days`` after it was earned; negative operations consume the oldest lots first (FIFO).

The worker (events.delivery) runs :func:`run_pass` now and then; ``patronage admin expire-points --now TIME``
runs one pass at a chosen time. A pass writes, for each lot whose time has come, one ordinary operation taking
off what is left of it (reason "Points expired (earned YYYY-MM-DD)") and a ``loyalty_point_expiry`` row whose
primary key is the lot: a lot expires once, whatever the restarts and concurrent workers. Points earned before
the programme's expiry was switched on never expire.

How a card's lots stand is recomputed from its operations in commit order (:func:`lots_of`): a positive
operation first pays back any debt (a balance below zero), the rest is a lot; a negative operation consumes
the oldest lots, and what they cannot cover is debt; an expiry operation consumes the lot it expired. So, while
a balance is not negative, what is left of the lots is the balance.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.customer_lists.models import CustomerList
from patronage.db import Database
from patronage.formats import render_time
from patronage.loyalty import cards as loyalty
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.programmes import service as programmes
from patronage.programmes.models import LoyaltyProgramme, PointExpiry

log = structlog.get_logger("patronage.expiry")

# How often the worker runs a pass.
PASS_EVERY_SECONDS = 60.0


@dataclass
class Lot:
    operation_id: str
    earned_at: datetime
    remaining: int  # micro-points


@dataclass(frozen=True)
class Expired:
    expired_micro: int
    operation_id: str | None


def lots_of(operations: Iterable[Any], expired: dict[str, Expired]) -> list[Lot]:
    """The card's lots in the order they were earned, with what is left of each (module docstring).
    ``operations`` have ``id``, ``delta_micro`` and ``created_at``, in commit order."""
    expiry_operations = {
        record.operation_id: lot_id for lot_id, record in expired.items() if record.operation_id is not None
    }
    lots: list[Lot] = []
    by_id: dict[str, Lot] = {}
    oldest = 0  # lots before this index are used up
    debt = 0
    for operation in operations:
        delta = operation.delta_micro
        if operation.id in expiry_operations:
            lot = by_id.get(expiry_operations[operation.id])
            if lot is not None:
                lot.remaining = max(0, lot.remaining + delta)
            continue
        if delta > 0:
            paid = min(debt, delta)
            debt -= paid
            lot = Lot(operation.id, operation.created_at, delta - paid)
            lots.append(lot)
            by_id[lot.operation_id] = lot
            continue
        need = -delta
        while need and oldest < len(lots):
            lot = lots[oldest]
            taken = min(lot.remaining, need)
            lot.remaining -= taken
            need -= taken
            if lot.remaining == 0:
                oldest += 1
        debt += need
    return lots


def _may_expire(programme: LoyaltyProgramme, lot: Lot, expired: dict[str, Expired]) -> bool:
    starts = programme.expiry_starts_at
    return lot.operation_id not in expired and starts is not None and lot.earned_at >= starts


def _expires_at(programme: LoyaltyProgramme, lot: Lot) -> datetime:
    return lot.earned_at + timedelta(days=programme.expiry_days or 0)


async def _ledgers(
    session: AsyncSession, card_ids: list[str]
) -> tuple[dict[str, list[Any]], dict[str, dict[str, Expired]]]:
    operations: dict[str, list[Any]] = {card_id: [] for card_id in card_ids}
    expired: dict[str, dict[str, Expired]] = {card_id: {} for card_id in card_ids}
    if not card_ids:
        return operations, expired
    rows = await session.execute(
        select(
            LoyaltyOperation.loyalty_card_id,
            LoyaltyOperation.id,
            LoyaltyOperation.delta_micro,
            LoyaltyOperation.created_at,
        )
        .where(LoyaltyOperation.loyalty_card_id.in_(card_ids))
        .order_by(LoyaltyOperation.loyalty_card_id, LoyaltyOperation.seq)
    )
    for row in rows:
        operations[row.loyalty_card_id].append(row)
    records = await session.execute(
        select(
            PointExpiry.loyalty_card_id,
            PointExpiry.lot_operation_id,
            PointExpiry.expired_micro,
            PointExpiry.operation_id,
        ).where(PointExpiry.loyalty_card_id.in_(card_ids))
    )
    for record in records:
        expired[record.loyalty_card_id][record.lot_operation_id] = Expired(record.expired_micro, record.operation_id)
    return operations, expired


async def next_expiries(
    session: AsyncSession, programme_of: dict[str, LoyaltyProgramme]
) -> dict[str, tuple[int, datetime]]:
    """For each card, what expires next and when: what is left of its oldest lot that may expire."""
    operations, expired = await _ledgers(session, list(programme_of))
    found = {}
    for card_id, programme in programme_of.items():
        for lot in lots_of(operations[card_id], expired[card_id]):
            if lot.remaining > 0 and _may_expire(programme, lot, expired[card_id]):
                found[card_id] = (lot.remaining, _expires_at(programme, lot))
                break
    return found


async def _due_cards(session: AsyncSession, now: datetime) -> list[str]:
    """The cards with a lot whose time has come and that has not expired yet."""
    card_ids: set[str] = set()
    expiring = await session.scalars(select(LoyaltyProgramme).where(LoyaltyProgramme.expiry_days.is_not(None)))
    for programme in expiring:
        cutoff = now - timedelta(days=programme.expiry_days or 0)
        ref = LoyaltyCard.ref.is_(None) if programme.ref is None else LoyaltyCard.ref == programme.ref
        rows = await session.scalars(
            select(LoyaltyOperation.loyalty_card_id)
            .join(LoyaltyCard, LoyaltyCard.id == LoyaltyOperation.loyalty_card_id)
            .where(
                LoyaltyCard.customer_list_id == programme.customer_list_id,
                ref,
                LoyaltyOperation.delta_micro > 0,
                LoyaltyOperation.created_at >= programme.expiry_starts_at,
                LoyaltyOperation.created_at <= cutoff,
                ~exists().where(PointExpiry.lot_operation_id == LoyaltyOperation.id),
            )
            .distinct()
        )
        card_ids.update(rows)
    return sorted(card_ids)


@dataclass
class PassResult:
    cards: int = 0
    lots: int = 0
    operations: int = 0
    points_micro: int = 0

    def render(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "expired_lots": self.lots,
            "operations": self.operations,
            "points": programmes.points(self.points_micro),
        }


async def expire_card(session: AsyncSession, card_id: str, now: datetime, result: PassResult) -> None:
    """Expires the card's due lots, under the card's row lock (a concurrent pass waits, then finds them done)."""
    card = await session.scalar(select(LoyaltyCard).where(LoyaltyCard.id == card_id).with_for_update())
    if card is None:
        return
    programme = await programmes.for_card(session, card)
    if programme is None or programme.expiry_days is None:
        return
    customer_list = await session.get(CustomerList, card.customer_list_id)
    timezone = customer_list.owner_timezone if customer_list is not None else "UTC"
    operations, expired = await _ledgers(session, [card.id])
    touched = False
    for lot in lots_of(operations[card.id], expired[card.id]):
        if not _may_expire(programme, lot, expired[card.id]) or _expires_at(programme, lot) > now:
            continue
        amount = min(lot.remaining, max(card.balance_micro, 0))
        operation_id = None
        if amount > 0:
            earned = (render_time(lot.earned_at, timezone) or "")[:10]
            operation = await loyalty.apply_operation(
                session, card, -Decimal(amount).scaleb(-6), f"Points expired (earned {earned})", created_at=now
            )
            operation_id = operation.id
            result.operations += 1
            result.points_micro += amount
        session.add(
            PointExpiry(
                lot_operation_id=lot.operation_id,
                loyalty_card_id=card.id,
                expired_micro=amount,
                operation_id=operation_id,
                created_at=now,
            )
        )
        result.lots += 1
        touched = True
    if touched:
        result.cards += 1
        await session.flush()


async def run_pass(db: Database, now: datetime) -> PassResult:
    """One pass over every due card, each in a transaction of its own."""
    result = PassResult()
    async with db.session(write=False) as session:
        card_ids = await _due_cards(session, now)
    for card_id in card_ids:
        try:
            async with db.session(write=True) as session:
                await expire_card(session, card_id, now, result)
        except IntegrityError:
            # Another worker expired the same lot between our read and our write: its pass did the work.
            log.info("expiry_raced", loyalty_card_id=card_id)
    return result
