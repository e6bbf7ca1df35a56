"""Tiers (a Patronage extension): a card's tier follows its lifetime points (the sum of its positive operations,
never the balance), against the thresholds of its programme. A credit that moves a card into another tier
fires ``loyalty_card.update`` for the connections that subscribed to it (PUT /callback, a Patronage extension)
and see the card's list, except the one whose request caused it; HubRise clients, which never subscribe to it,
see nothing new."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists import access
from patronage.customer_lists.models import CustomerList
from patronage.events import service as events
from patronage.loyalty import cards as loyalty
from patronage.loyalty.models import LoyaltyCard
from patronage.programmes import card_fields
from patronage.programmes import service as programmes
from patronage.programmes.models import LoyaltyProgramme

RESOURCE_TYPE = "loyalty_card"
EVENT_TYPE = "update"


async def after_credit(
    session: AsyncSession,
    cause: Principal | None,
    card: LoyaltyCard,
    delta_micro: int,
    programme: LoyaltyProgramme | None,
) -> None:
    """Called after an operation of ``delta_micro`` moved ``card`` (in the same transaction), with the card's
    programme (programmes.service.for_card, read before): fires the event when it changed the card's tier."""
    if delta_micro <= 0 or programme is None or not programme.tiers:
        return
    after = (await programmes.lifetime_points(session, [card.id]))[card.id]
    before = after - delta_micro
    if programmes.tier_of(programme, before) == programmes.tier_of(programme, after):
        return
    customer_list = await session.get(CustomerList, card.customer_list_id)
    assert customer_list is not None
    subscribers = await events.subscribers(
        session,
        cause,
        card.account_id,
        RESOURCE_TYPE,
        EVENT_TYPE,
        lambda reader: access.sees(reader, customer_list),
    )
    if not subscribers:
        return
    timezone = customer_list.owner_timezone
    now_state: dict[str, Any] = {
        **loyalty.render_card(card),
        **(await card_fields.card_extensions(session, timezone, [card])).get(card.id, {}),
    }
    previous_state = {
        **now_state,
        "balance": loyalty.points(card.balance_micro - delta_micro),
        "lifetime_points": programmes.points(before),
        "tier": programmes.tier_of(programme, before),
    }
    watch = events.Watch(
        RESOURCE_TYPE,
        EVENT_TYPE,
        subscribers,
        previous={subscriber.principal.connection_id: events.dump(previous_state) for subscriber in subscribers},
    )

    async def render(_: Principal) -> dict[str, Any]:
        return now_state

    ids = {
        "account_id": card.account_id,
        "loyalty_card_id": card.id,
        "customer_id": card.customer_id,
        "customer_list_id": card.customer_list_id,
    }
    await watch.record(session, render, ids, timezone)
