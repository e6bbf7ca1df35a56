"""A customer as the API sends it (seed §2.2): rendered for its list, with its cards and the reader's private ref."""

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.customer_lists.service import ListContext
from patronage.customers.models import Customer
from patronage.formats import render_money, render_time
from patronage.loyalty import cards as loyalty


def render(
    customer: Customer | Row,
    context: ListContext,
    private_ref: str | None,
    loyalty_cards: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    timezone = context.timezone
    # A page's rows are read by key: a Row's attribute access costs ~1 µs, and a page reads 30 fields of 100.
    get = customer._mapping.__getitem__ if isinstance(customer, Row) else customer.__getattribute__
    return {
        "id": get("id"),
        "customer_list_id": get("customer_list_id"),
        "anonymised": get("anonymised"),
        "private_ref": private_ref,
        "email": get("email"),
        "first_name": get("first_name"),
        "last_name": get("last_name"),
        "gender": get("gender"),
        "birth_date": birth_date.isoformat() if (birth_date := get("birth_date")) else None,
        "created_at": render_time(get("created_at"), timezone),
        "company_name": get("company_name"),
        "phone": get("phone"),
        "phone_access_code": get("phone_access_code"),
        "address_1": get("address_1"),
        "address_2": get("address_2"),
        "postal_code": get("postal_code"),
        "city": get("city"),
        "state": get("state"),
        "country": get("country"),
        "latitude": get("latitude"),
        "longitude": get("longitude"),
        "delivery_notes": get("delivery_notes"),
        "sms_marketing": get("sms_marketing"),
        "email_marketing": get("email_marketing"),
        "nb_orders": get("nb_orders"),
        "order_total": render_money(get("order_total_minor"), context.currency),
        "first_order_date": render_time(get("first_order_at"), timezone),
        "last_order_date": render_time(get("last_order_at"), timezone),
        "loyalty_cards": loyalty_cards or [],
        "custom_fields": get("custom_fields") or {},
    }


async def render_with_cards(
    session: AsyncSession, customer: Customer, context: ListContext, private_ref: str | None
) -> dict[str, Any]:
    """One customer with its loyalty cards, looked up now."""
    cards = await loyalty.cards_of_customers(session, [customer.id])
    return render(customer, context, private_ref, cards[customer.id])
