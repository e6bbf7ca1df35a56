"""Right of access (GDPR Art. 15): one JSON document with everything Patronage holds about a customer.

It gathers what each feature keeps (the customer, its cards and their whole ledgers, its orders as stored,
the events still pending about it); the reader's own private refs are shown, no other client's.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.models import Client, Connection
from patronage.auth.principal import Principal
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.service import context_of
from patronage.customers import erasure
from patronage.customers import service as customers
from patronage.db import utcnow
from patronage.events.models import Event
from patronage.events.service import render_event
from patronage.formats import render_time
from patronage.loyalty.cards import render_card, render_operation
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.orders.models import Order
from patronage.orders.render import render_rows, select_rendered


@dataclass(frozen=True)
class Reader:
    """Who reads the export, as far as it matters: whose private refs it shows (None: nobody's, the operator's
    export from the CLI). A connection's principal serves as one."""

    client_id: str | None


def _hide_private_refs(value: Any) -> Any:
    """Another client's private refs are theirs: null wherever they appear in an event's state."""
    if isinstance(value, dict):
        return {key: None if key == "private_ref" else _hide_private_refs(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_hide_private_refs(item) for item in value]
    return value


async def _cards(session: AsyncSession, customer_id: str, timezone: str) -> list[dict[str, Any]]:
    cards = (
        await session.scalars(
            select(LoyaltyCard).where(LoyaltyCard.customer_id == customer_id).order_by(LoyaltyCard.created_at)
        )
    ).all()
    operations: dict[str, list[dict[str, Any]]] = {card.id: [] for card in cards}
    rows = await session.scalars(
        select(LoyaltyOperation)
        .where(LoyaltyOperation.customer_id == customer_id)
        .order_by(LoyaltyOperation.loyalty_card_id, LoyaltyOperation.seq)
    )
    for operation in rows:
        operations[operation.loyalty_card_id].append(render_operation(operation, timezone))
    return [{**render_card(card), "operations": operations[card.id]} for card in cards]


async def _pending_events(
    session: AsyncSession, reader: Principal | Reader, customer_list: CustomerList, customer_id: str
) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Event, Connection.client_id, Client.name)
        .join(Connection, Connection.id == Event.connection_id)
        .join(Client, Client.id == Connection.client_id)
        .where(Connection.account_id == customer_list.account_id, erasure.event_shows(customer_id))
        .order_by(Event.seq)
    )
    found = []
    for event, client_id, client_name in rows:
        rendered = render_event(event)
        if client_id != reader.client_id:
            rendered = _hide_private_refs(rendered)
        found.append(
            {
                "id": rendered["id"],
                "client_name": client_name,
                "resource_type": rendered["resource_type"],
                "event_type": rendered["event_type"],
                "created_at": rendered["created_at"],
                "previous_state": rendered.get("previous_state"),  # creates have none
                "new_state": rendered.get("new_state"),
            }
        )
    return found


async def export_customer(
    session: AsyncSession, reader: Principal | Reader, customer_list: CustomerList, customer_id: str
) -> dict[str, Any]:
    # Only the reader's client_id is read from it, by every rendering below.
    principal: Principal = reader  # type: ignore[assignment]
    customer = await customers.retrieve(session, principal, customer_list, customer_id)  # 404 first
    context = await context_of(session, customer_list)
    orders = (
        await session.execute(
            select_rendered(principal).where(Order.customer_id == customer_id).order_by(Order.created_at, Order.id)
        )
    ).all()
    return {
        "exported_at": render_time(utcnow(), context.timezone),
        "customer": customer,
        "loyalty_cards": await _cards(session, customer_id, context.timezone),
        "orders": await render_rows(session, principal, orders),
        "pending_events": await _pending_events(session, reader, customer_list, customer_id),
    }
