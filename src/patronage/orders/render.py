"""An order as the API sends it: its stored elements, times in its location's timezone, the reader's refs."""

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customers.models import CustomerPrivateRef
from patronage.formats import render_money, render_time
from patronage.orders.models import Order, OrderElementPrivateRef, OrderPrivateRef
from patronage.orders.pricing import payment_discrepancy
from patronage.tenancy.models import Location

# Each element as HubRise renders it, in its order. Elements stored before a field existed get its default;
# ``private_ref`` is the reader's own, never stored in the element.
_ITEM = {
    "id": None,
    "private_ref": None,
    "product_name": None,
    "sku_name": None,
    "sku_ref": None,
    "price": None,
    "quantity": None,
    "subtotal": None,
    "tax_rate": None,
    "customer_notes": None,
    "points_earned": None,
    "points_used": None,
    "options": [],
    "deleted": False,
}
_OPTION = {"option_list_name": None, "name": None, "ref": None, "price": None, "quantity": None, "removed": False}
_CHARGE = {
    "id": None,
    "private_ref": None,
    "type": "other",
    "name": None,
    "ref": None,
    "price": None,
    "tax_rate": None,
    "deleted": False,
}
_DISCOUNT = {"id": None, "private_ref": None, "name": None, "ref": None, "price_off": None, "deleted": False}
_PAYMENT = {
    "id": None,
    "private_ref": None,
    "type": "online",
    "name": None,
    "ref": None,
    "amount": None,
    "info": None,
    "deleted": False,
}


# The delivery resource's fields (deliveries.md), in its order; times are stored in naive UTC ISO text.
DELIVERY_FIELDS = (
    "carrier",
    "carrier_ref",
    "ref",
    "status",
    "fee",
    "estimated_pickup_at",
    "estimated_dropoff_at",
    "tracking_url",
    "driver_pickup_url",
    "driver_name",
    "driver_phone",
    "driver_phone_access_code",
    "driver_latitude",
    "driver_longitude",
    "assigned_at",
    "pickup_at",
    "delivered_at",
    "cancelled_at",
)
DELIVERY_TIMES = (
    "estimated_pickup_at",
    "estimated_dropoff_at",
    "assigned_at",
    "pickup_at",
    "delivered_at",
    "cancelled_at",
)
# What the order's ``delivery`` field leaves out (orders.md §11): the driver's position changes often and
# fires no order.update, so order readers never see it.
DRIVER_POSITION = ("driver_latitude", "driver_longitude")


def _delivery_fields(stored: dict[str, Any], timezone: str) -> dict[str, Any]:
    rendered = {name: stored.get(name) for name in DELIVERY_FIELDS}
    for name in DELIVERY_TIMES:
        if rendered[name] is not None:
            rendered[name] = render_time(datetime.fromisoformat(rendered[name]), timezone)
    return rendered


def render_delivery(order: Any, timezone: str) -> dict[str, Any]:
    """The delivery resource of ``order`` (which has one), times in ``timezone`` (its location's)."""
    ids = {"id": order.delivery["id"], "order_id": order.id, "location_id": order.location_id}
    return {**ids, **_delivery_fields(order.delivery, timezone)}


def order_delivery(stored: dict[str, Any] | None, timezone: str) -> dict[str, Any] | None:
    """The order's ``delivery`` field: the delivery without its ids and the driver's position; null: none."""
    if stored is None:
        return None
    fields = _delivery_fields(stored, timezone)
    return {name: value for name, value in fields.items() if name not in DRIVER_POSITION}


def _option_quantity(option: dict[str, Any]) -> int:
    """An integer, as the reference has it; orders stored before it was one hold a decimal string ("3.0")."""
    stored = option.get("quantity", 1)
    if isinstance(stored, int):
        return stored
    return int(Decimal(stored).to_integral_value(ROUND_HALF_UP))


def _item(stored: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    item = {**_ITEM, **stored, "private_ref": refs.get(stored["id"])}
    item["options"] = [{**_OPTION, **option, "quantity": _option_quantity(option)} for option in item["options"]]
    return item


def _charge(stored: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    charge = {**_CHARGE, **stored, "private_ref": refs.get(stored["id"])}
    # HubRise's deprecated copies, kept for older integrations.
    deprecated = {"charge_type": charge["type"], "charge_ref": charge["ref"], "charge_price": charge["price"]}
    deleted = charge.pop("deleted")
    return {**charge, **deprecated, "deleted": deleted}


def _discount(stored: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    discount = {**_DISCOUNT, **stored, "private_ref": refs.get(stored["id"])}
    # Deprecated: a discount's effect is always its price_off.
    return {
        "id": discount["id"],
        "private_ref": discount["private_ref"],
        "name": discount["name"],
        "ref": discount["ref"],
        "pricing_effect": "price_off",
        "pricing_value": discount["price_off"],
        "price_off": discount["price_off"],
        "deleted": discount["deleted"],
    }


def _payment(stored: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    return {**_PAYMENT, **stored, "private_ref": refs.get(stored["id"])}


def render(
    order: Order,
    timezone: str,
    private_ref: str | None,
    customer_private_ref: str | None,
    element_refs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``private_ref`` is the reader's ref of the order; ``customer_private_ref`` its ref of the customer;
    ``element_refs`` its refs of the order's elements (element id -> ref)."""
    refs = element_refs or {}
    customer = order.customer
    if customer is not None and "private_ref" in customer:
        # The stored copy holds no private ref: each client reads its own (null once the link is lost).
        customer = {**customer, "private_ref": customer_private_ref if order.customer_id else None}
    discrepancy = payment_discrepancy(order.payments or [], order.total_minor)
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
        # Deprecated in HubRise; the total is always computed here, so there is never a discrepancy to report.
        "total_discrepancy": None,
        "payment_discrepancy": render_money(discrepancy, order.currency) if discrepancy is not None else None,
        "items": [_item(item, refs) for item in order.items or []],
        "deals": order.deals or {},
        "charges": [_charge(charge, refs) for charge in order.charges or []],
        "discounts": [_discount(discount, refs) for discount in order.discounts or []],
        "payments": [_payment(payment, refs) for payment in order.payments or []],
        "loyalty_operations": order.loyalty_operations or [],
        "customer_id": order.customer_id,
        "customer_list_id": order.customer_list_id,
        "customer": customer,
        "delivery": order_delivery(order.delivery, timezone),
        "custom_fields": order.custom_fields or {},
    }


def select_rendered(reader: Principal) -> Select:
    """Rows for :func:`render_rows`: orders with the reader's private refs (of the order, of its customer) and
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


async def element_refs(session: AsyncSession, client_id: str, order_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """The client's private refs of the elements of these orders: order id -> element id -> ref."""
    refs: dict[str, dict[str, str]] = {order_id: {} for order_id in order_ids}
    if not order_ids:
        return refs
    rows = await session.execute(
        select(OrderElementPrivateRef.order_id, OrderElementPrivateRef.element_id, OrderElementPrivateRef.ref).where(
            OrderElementPrivateRef.client_id == client_id, OrderElementPrivateRef.order_id.in_(list(order_ids))
        )
    )
    for order_id, element_id, ref in rows:
        refs[order_id][element_id] = ref
    return refs


async def render_rows(session: AsyncSession, reader: Principal, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of :func:`select_rendered`, rendered with the reader's element refs (one query for them all)."""
    refs = await element_refs(session, reader.client_id, [row[0].id for row in rows])
    return [
        render(order, timezone, private_ref, customer_private_ref, refs[order.id])
        for order, private_ref, customer_private_ref, timezone in rows
    ]
