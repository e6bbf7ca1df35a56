"""What a card of a loyalty programme shows beyond HubRise's fields (``lifetime_points``, ``tier``,
``next_expiry``): read by the card routes (``loyalty.service``) and by the tier event (``programmes.tiers``).
Here rather than in ``programmes.service``, which ``programmes.expiry`` builds on: no module imports its importer."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.formats import render_time
from patronage.programmes import expiry
from patronage.programmes.models import LoyaltyProgramme
from patronage.programmes.service import lifetime_points, points, tier_of


@dataclass(frozen=True)
class CardRef:
    id: str
    customer_list_id: str
    ref: str | None


def render_extension(
    programme: LoyaltyProgramme, lifetime_micro: int, next_expiry: tuple[int, Any] | None, timezone: str
) -> dict[str, Any]:
    return {
        "lifetime_points": points(lifetime_micro),
        "tier": tier_of(programme, lifetime_micro),
        "next_expiry": (
            {"amount": points(next_expiry[0]), "date": render_time(next_expiry[1], timezone)}
            if next_expiry is not None
            else None
        ),
    }


async def card_extensions(session: AsyncSession, timezone: str, cards: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """What each card of a programme shows beyond HubRise's fields (``lifetime_points``, ``tier``,
    ``next_expiry``), by card id; a card of no programme shows nothing more."""
    cards = [CardRef(card.id, card.customer_list_id, card.ref) for card in cards]
    if not cards:
        return {}
    list_ids = {card.customer_list_id for card in cards}
    programmes = {
        (programme.customer_list_id, programme.ref): programme
        for programme in await session.scalars(
            select(LoyaltyProgramme).where(LoyaltyProgramme.customer_list_id.in_(list_ids))
        )
    }
    governed = {
        card.id: programmes[(card.customer_list_id, card.ref)]
        for card in cards
        if (card.customer_list_id, card.ref) in programmes
    }
    if not governed:
        return {}
    lifetimes = await lifetime_points(session, governed)
    expiring = [card_id for card_id, programme in governed.items() if programme.expiry_days is not None]
    next_expiries = await expiry.next_expiries(session, {card_id: governed[card_id] for card_id in expiring})
    return {
        card_id: render_extension(programme, lifetimes[card_id], next_expiries.get(card_id), timezone)
        for card_id, programme in governed.items()
    }
