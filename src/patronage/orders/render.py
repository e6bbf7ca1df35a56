"""An order as the API sends it: its stored elements, times in its location's timezone, the reader's refs."""

from typing import Any

from sqlalchemy import Select, select

from patronage.auth.principal import Principal
from patronage.customers.models import CustomerPrivateRef
from patronage.formats import render_money, render_time
from patronage.orders.models import Order, OrderPrivateRef
from patronage.tenancy.models import Location


def render(order: Order, timezone: str, private_ref: str | None, customer_private_ref: str | None) -> dict[str, Any]:
    """``private_ref`` is the reader's ref of the order; ``customer_private_ref`` its ref of the customer."""
    customer = order.customer
    if customer is not None and "private_ref" in customer:
        # The stored copy holds no private ref: each client reads its own (null once the link is lost).
        customer = {**customer, "private_ref": customer_private_ref if order.customer_id else None}
    return {
        "id": order.id,
        "location_id": order.location_id,
        "status": order.status,
        "ref": order.ref,
        "private_ref": private_ref,
        "service_type": order.service_type,
        "service_type_ref": order.service_type_ref,
        "created_at": render_time(order.created_at, timezone),
        "created_by": order.created_by,
        "expected_time": render_time(order.expected_time, timezone),
        "confirmed_time": render_time(order.confirmed_time, timezone),
        "customer_notes": order.customer_notes,
        "seller_notes": order.seller_notes,
        "collection_code": order.collection_code,
        "coupon_codes": order.coupon_codes or [],
        "total": render_money(order.total_minor, order.currency),
        "items": order.items or [],
        "charges": order.charges or [],
        "discounts": order.discounts or [],
        "payments": order.payments or [],
        "loyalty_operations": order.loyalty_operations or [],
        "customer_id": order.customer_id,
        "customer_list_id": order.customer_list_id,
        "customer": customer,
        "custom_fields": order.custom_fields or {},
    }


def select_rendered(reader: Principal) -> Select:
    """Rows for :func:`render_row`: orders with the reader's private refs (of the order, of its customer) and
    their location's timezone."""
    return (
        select(Order, OrderPrivateRef.ref, CustomerPrivateRef.ref, Location.timezone)
        .join(Location, Location.id == Order.location_id)
        .outerjoin(
            OrderPrivateRef,
            (OrderPrivateRef.order_id == Order.id) & (OrderPrivateRef.client_id == reader.client_id),
        )
        .outerjoin(
            CustomerPrivateRef,
            (CustomerPrivateRef.customer_id == Order.customer_id) & (CustomerPrivateRef.client_id == reader.client_id),
        )
    )


def render_row(row: Any) -> dict[str, Any]:
    order, private_ref, customer_private_ref, timezone = row
    return render(order, timezone, private_ref, customer_private_ref)
