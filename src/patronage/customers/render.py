"""A customer as the API sends it (seed §2.2): rendered for its list, with its cards and the reader's private ref."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from patronage.customer_lists.service import ListContext
from patronage.customers.models import Customer
from patronage.formats import render_money, render_time
from patronage.loyalty import cards as loyalty


def render(
    customer: Customer,
    context: ListContext,
    private_ref: str | None,
    loyalty_cards: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    timezone = context.timezone
    return {
        "id": customer.id,
        "customer_list_id": customer.customer_list_id,
        "anonymised": customer.anonymised,
        "private_ref": private_ref,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "gender": customer.gender,
        "birth_date": customer.birth_date.isoformat() if customer.birth_date else None,
        "created_at": render_time(customer.created_at, timezone),
        "company_name": customer.company_name,
        "phone": customer.phone,
        "phone_access_code": customer.phone_access_code,
        "address_1": customer.address_1,
        "address_2": customer.address_2,
        "postal_code": customer.postal_code,
        "city": customer.city,
        "state": customer.state,
        "country": customer.country,
        "latitude": customer.latitude,
        "longitude": customer.longitude,
        "delivery_notes": customer.delivery_notes,
        "sms_marketing": customer.sms_marketing,
        "email_marketing": customer.email_marketing,
        "nb_orders": customer.nb_orders,
        "order_total": render_money(customer.order_total_minor, context.currency),
        "first_order_date": render_time(customer.first_order_at, timezone),
        "last_order_date": render_time(customer.last_order_at, timezone),
        "loyalty_cards": loyalty_cards or [],
        "custom_fields": customer.custom_fields or {},
    }


async def render_with_cards(
    session: AsyncSession, customer: Customer, context: ListContext, private_ref: str | None
) -> dict[str, Any]:
    """One customer with its loyalty cards, looked up now."""
    cards = await loyalty.cards_of_customers(session, [customer.id])
    return render(customer, context, private_ref, cards[customer.id])
