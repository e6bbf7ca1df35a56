"""Loyalty programmes (a Patronage extension): one per (customer list, card ref), read and replaced whole.

The scheme a programme governs is a card ``ref``: the cards of the list's customers with that ref, the null ref
(the cards without ref) being a scheme like any other. In a URL the ref is one path segment: ``~`` stands for
the null ref, and a ref that is empty or starts with ``~`` is written with ``~~`` in front (``~~`` is the empty
ref, ``~~~x`` the ref ``~x``); any other segment is the ref itself.
"""

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from patronage.customer_lists.models import CustomerList
from patronage.db import utcnow
from patronage.errors import NotFound, field_error
from patronage.formats import render_decimal, render_time
from patronage.ids import new_id
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.pagination import Page, PageRequest, cut_page, keyset
from patronage.programmes.models import LoyaltyProgramme
from patronage.programmes.schemas import ProgrammeIn

NULL_REF_SEGMENT = "~"
MAX_REF = 255


def ref_from_segment(segment: str) -> str | None:
    """The ref a path segment names (module docstring); a segment no ref is written as is a 404."""
    if segment == NULL_REF_SEGMENT:
        return None
    if segment.startswith("~~"):
        return segment[2:]
    if segment.startswith("~"):
        raise NotFound("Loyalty programme not found")
    return segment


def ref_to_segment(ref: str | None) -> str:
    if ref is None:
        return NULL_REF_SEGMENT
    return f"~~{ref}" if ref == "" or ref.startswith("~") else ref


def micro_points(value: Decimal) -> int:
    return int(value.scaleb(6))


def points(micro: int) -> str:
    return render_decimal(Decimal(micro).scaleb(-6))


def _ref_matches(column: Any, ref: str | None) -> Any:
    return column.is_(None) if ref is None else column == ref


def render(programme: LoyaltyProgramme, timezone: str) -> dict[str, Any]:
    return {
        "customer_list_id": programme.customer_list_id,
        "ref": programme.ref,
        "name": programme.name,
        "points_per_unit": points(programme.points_per_unit_micro),
        "earning_statuses": list(programme.earning_statuses),
        "rounding": {"mode": programme.rounding_mode, "decimals": programme.rounding_decimals},
        "count_charges": programme.count_charges,
        "count_discounts": programme.count_discounts,
        "allow_negative_balance": programme.allow_negative_balance,
        "expiry_days": programme.expiry_days,
        "tiers": [{"name": tier["name"], "threshold": points(tier["threshold_micro"])} for tier in programme.tiers],
        "created_at": render_time(programme.created_at, timezone),
        "updated_at": render_time(programme.updated_at, timezone),
    }


async def find(session: AsyncSession, customer_list_id: str, ref: str | None) -> LoyaltyProgramme | None:
    return await session.scalar(
        select(LoyaltyProgramme).where(
            LoyaltyProgramme.customer_list_id == customer_list_id, _ref_matches(LoyaltyProgramme.ref, ref)
        )
    )


async def of_list(session: AsyncSession, customer_list_id: str) -> list[LoyaltyProgramme]:
    return list(
        await session.scalars(select(LoyaltyProgramme).where(LoyaltyProgramme.customer_list_id == customer_list_id))
    )


async def for_card(session: AsyncSession, card: LoyaltyCard) -> LoyaltyProgramme | None:
    return await find(session, card.customer_list_id, card.ref)


def no_overdraft(programme: LoyaltyProgramme | None) -> bool:
    """Whether the card's programme forbids a negative balance (no programme: HubRise's rule, it may)."""
    return programme is not None and not programme.allow_negative_balance


async def _found(session: AsyncSession, customer_list: CustomerList, ref: str | None) -> LoyaltyProgramme:
    programme = await find(session, customer_list.id, ref)
    if programme is None:
        raise NotFound("Loyalty programme not found")
    return programme


async def retrieve(session: AsyncSession, customer_list: CustomerList, ref: str | None) -> dict[str, Any]:
    return render(await _found(session, customer_list, ref), customer_list.owner_timezone)


async def index(session: AsyncSession, customer_list: CustomerList, page: PageRequest) -> Page:
    stmt = select(LoyaltyProgramme).where(LoyaltyProgramme.customer_list_id == customer_list.id)
    rows = (await session.scalars(keyset(stmt, LoyaltyProgramme.created_at, LoyaltyProgramme.id, page))).all()
    result = cut_page(rows, page, key=lambda programme: (programme.created_at, programme.id))
    result.items = [render(programme, customer_list.owner_timezone) for programme in result.items]
    return result


async def put(
    session: AsyncSession, customer_list: CustomerList, ref: str | None, fields: ProgrammeIn
) -> dict[str, Any]:
    """Creates or replaces the scheme's programme. The list's row is locked, by the UPDATE that marks it as a
    list with programmes: two PUTs of one scheme go one after the other (the second replaces what the first
    wrote), and a DELETE of the list's last programme cannot unmark it meanwhile."""
    if ref is not None and len(ref) > MAX_REF:
        raise field_error("ref", f"is longer than a card ref may be ({MAX_REF} characters)")
    await _mark(session, customer_list, true())
    timezone = customer_list.owner_timezone
    programme = await find(session, customer_list.id, ref)
    now = utcnow()
    if programme is None:
        fields.check_echoed({"ref": ref, "customer_list_id": customer_list.id})
        programme = LoyaltyProgramme(
            id=new_id(),
            account_id=customer_list.account_id,
            customer_list_id=customer_list.id,
            ref=ref,
            created_at=now,
            expiry_starts_at=None,
        )
        session.add(programme)
    else:
        fields.check_echoed(render(programme, timezone))
    programme.name = fields.name
    programme.points_per_unit_micro = micro_points(fields.points_per_unit)
    programme.earning_statuses = fields.earning_statuses
    programme.rounding_mode = fields.rounding.mode
    programme.rounding_decimals = fields.rounding.decimals
    programme.count_charges = fields.count_charges
    programme.count_discounts = fields.count_discounts
    programme.allow_negative_balance = fields.allow_negative_balance
    if fields.expiry_days is None:
        programme.expiry_starts_at = None
    elif programme.expiry_starts_at is None:
        programme.expiry_starts_at = now  # points earned before expiry was switched on never expire
    programme.expiry_days = fields.expiry_days
    programme.tiers = [{"name": tier.name, "threshold_micro": micro_points(tier.threshold)} for tier in fields.tiers]
    programme.updated_at = now
    await session.flush()
    return render(programme, timezone)


async def delete(session: AsyncSession, customer_list: CustomerList, ref: str | None) -> dict[str, Any]:
    """Removes the programme; the cards, their balances and their operations stay as they are. Under the list's
    row lock, taken first (a PUT meanwhile waits): the list stays marked while it has another programme."""
    await session.execute(select(CustomerList.id).where(CustomerList.id == customer_list.id).with_for_update())
    programme = await _found(session, customer_list, ref)
    rendered = render(programme, customer_list.owner_timezone)
    await session.delete(programme)
    await session.flush()
    await _mark(session, customer_list, exists().where(LoyaltyProgramme.customer_list_id == customer_list.id))
    return rendered


async def _mark(session: AsyncSession, customer_list: CustomerList, has_programmes: Any) -> None:
    """Sets the list's ``has_loyalty_programmes`` (customer_lists.models) to a SQL boolean, on the row and the
    object."""
    marked = await session.scalar(
        update(CustomerList)
        .where(CustomerList.id == customer_list.id)
        .values(has_loyalty_programmes=has_programmes)
        .returning(CustomerList.has_loyalty_programmes)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(customer_list, "has_loyalty_programmes", bool(marked))


async def governing(session: AsyncSession, customer_list: CustomerList, card: LoyaltyCard) -> LoyaltyProgramme | None:
    """The card's programme; none, without a lookup, on a list without programme."""
    return await for_card(session, card) if customer_list.has_loyalty_programmes else None


# --- what a card shows of its programme ------------------------------------------------------------------


def tier_of(programme: LoyaltyProgramme, lifetime_micro: int) -> str | None:
    """The highest tier whose threshold the lifetime points reach (none: null)."""
    reached = None
    for tier in programme.tiers:
        if lifetime_micro >= tier["threshold_micro"]:
            reached = tier["name"]
    return reached


async def lifetime_points(session: AsyncSession, card_ids: Iterable[str]) -> dict[str, int]:
    """Micro-points earned over each card's life: the sum of its positive operations (never the balance)."""
    ids = list(card_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(LoyaltyOperation.loyalty_card_id, func.sum(LoyaltyOperation.delta_micro))
        .where(LoyaltyOperation.loyalty_card_id.in_(ids), LoyaltyOperation.delta_micro > 0)
        .group_by(LoyaltyOperation.loyalty_card_id)
    )
    found = {card_id: int(total or 0) for card_id, total in rows}
    return {card_id: found.get(card_id, 0) for card_id in ids}


def expires_at(programme: LoyaltyProgramme, earned_at: Any) -> Any:
    assert programme.expiry_days is not None
    return earned_at + timedelta(days=programme.expiry_days)
