"""The delivery attached to an order (HubRise's deliveries.md): create, retrieve, update.

A delivery is a JSON document in its order's row (``order.delivery``): times in naive UTC ISO text, the fee as
``"4.50 EUR"``. The order shows it in its ``delivery`` field without the driver's position, so that a change of
position alone (frequent) changes nothing an order reader sees and fires no ``order.update``; attaching a
delivery, or changing anything else in it, fires one (orders.md §11).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.bodies import BodyModel
from patronage.db import utcnow
from patronage.errors import NotFound, field_error
from patronage.formats import in_utc, render_money
from patronage.ids import new_id
from patronage.orders import service
from patronage.orders.models import Order
from patronage.orders.pricing import MinorUnits
from patronage.orders.render import DELIVERY_FIELDS, DELIVERY_TIMES, order_delivery, render_delivery
from patronage.orders.schemas import Money, OrderDeliveryOut, Time
from patronage.tenancy.models import Location
from patronage.validators import Latitude, Longitude, Str255

STATUSES = (
    "pending",
    "pickup_enroute",
    "pickup_approaching",
    "pickup_waiting",
    "dropoff_enroute",
    "dropoff_approaching",
    "dropoff_waiting",
    "delivered",
    "cancelled",
)
# The time a status stamps when the delivery reaches it, unless the request sets that time itself.
STAMPS = {
    "pickup_enroute": "assigned_at",
    "dropoff_enroute": "pickup_at",
    "delivered": "delivered_at",
    "cancelled": "cancelled_at",
}
# Set once, when the delivery is attached (deliveries.md §3: every other field may be updated).
FIXED = ("carrier", "carrier_ref", "fee")

Status = Literal[STATUSES]  # type: ignore[valid-type]
Url = Annotated[str, StringConstraints(strict=True, max_length=2048)]


class _Updatable(BodyModel):
    """The fields a delivery's update may change (all but carrier, carrier_ref and fee)."""

    ref: Str255 | None = None
    estimated_pickup_at: Time | None = None
    estimated_dropoff_at: Time | None = None
    tracking_url: Url | None = None
    driver_pickup_url: Url | None = None
    driver_name: Str255 | None = None
    driver_phone: Str255 | None = None
    driver_phone_access_code: Str255 | None = None
    driver_latitude: Latitude | None = None
    driver_longitude: Longitude | None = None
    assigned_at: Time | None = None
    pickup_at: Time | None = None
    delivered_at: Time | None = None
    cancelled_at: Time | None = None


class DeliveryCreate(_Updatable):
    read_only = ("id", "order_id", "location_id")

    carrier: Str255
    carrier_ref: Str255 | None = None
    status: Status
    fee: Money | None = None


class DeliveryUpdate(_Updatable):
    """Echoed unchanged, the fixed and computed fields are accepted (a client may send back what it read)."""

    read_only = ("id", "order_id", "location_id", *FIXED)
    echo_read_only = True

    # Optional in an update, but never null.
    status: Status = None  # type: ignore[assignment]


class DeliveryOut(OrderDeliveryOut):
    """The delivery resource: what an order shows of it, its ids and the driver's position."""

    id: str
    order_id: str
    location_id: str
    driver_latitude: str | None = Field(examples=["48.856614"])
    driver_longitude: str | None = Field(examples=["2.3522219"])


# --- service --------------------------------------------------------------------------------------------


async def _order(session: AsyncSession, location: Location, order_id: str, *, lock: bool) -> Order:
    stmt = select(Order).where(Order.id == order_id, Order.location_id == location.id)
    order = await session.scalar(stmt.with_for_update() if lock else stmt)
    if order is None:
        raise NotFound("Order not found")
    return order


def _stored_time(value: datetime | None, location: Location) -> str | None:
    return in_utc(value, location.timezone).isoformat() if value is not None else None


def _changes(fields: _Updatable, location: Location) -> dict[str, Any]:
    """The fields sent, as stored."""
    changes = {}
    for name in fields.model_fields_set:
        value = getattr(fields, name)
        changes[name] = _stored_time(value, location) if name in DELIVERY_TIMES else value
    return changes


def _stamp(delivery: dict[str, Any], sent: set[str], status_changed: bool) -> None:
    """Sets the time the delivery's new status stamps, unless the request set it (deliveries.md, auto-updated
    fields)."""
    stamp = STAMPS.get(delivery["status"])
    if status_changed and stamp is not None and stamp not in sent:
        delivery[stamp] = utcnow().isoformat()


async def create(
    session: AsyncSession, principal: Principal, location: Location, order_id: str, fields: DeliveryCreate
) -> dict[str, Any]:
    order = await _order(session, location, order_id, lock=True)
    if order.delivery is not None:
        raise field_error("delivery", "is already attached to this order: update it instead")
    if order.service_type != "delivery":
        raise field_error("service_type", "must be delivery: a delivery attaches to delivery orders only")
    minor = MinorUnits(order.currency)
    fee = minor(fields.fee, "fee") if fields.fee is not None else None
    minor.check()
    delivery: dict[str, Any] = {"id": new_id(), **{name: None for name in DELIVERY_FIELDS}}
    delivery.update(_changes(fields, location))
    delivery["fee"] = render_money(fee, order.currency) if fee is not None else None
    _stamp(delivery, fields.model_fields_set, status_changed=True)
    watch = await service.watch_update(session, principal, order)
    order.delivery = delivery
    order.updated_at = utcnow()
    await session.flush()
    await watch.record(session, location.timezone)
    return render_delivery(order, location.timezone)


async def retrieve(session: AsyncSession, location: Location, order_id: str) -> dict[str, Any]:
    order = await _order(session, location, order_id, lock=False)
    if order.delivery is None:
        raise NotFound("This order has no delivery")
    return render_delivery(order, location.timezone)


async def update(
    session: AsyncSession, principal: Principal, location: Location, order_id: str, fields: DeliveryUpdate
) -> dict[str, Any]:
    order = await _order(session, location, order_id, lock=True)
    if order.delivery is None:
        raise NotFound("This order has no delivery")
    fields.check_echoed(render_delivery(order, location.timezone))
    sent = fields.model_fields_set
    delivery = {**order.delivery, **_changes(fields, location)}
    _stamp(delivery, sent, status_changed="status" in sent and delivery["status"] != order.delivery["status"])
    if delivery == order.delivery:
        return render_delivery(order, location.timezone)
    # The driver's position alone is not in the order's rendering: no order.update for it (orders.md §11).
    seen_by_order_readers = order_delivery(delivery, "UTC") != order_delivery(order.delivery, "UTC")
    watch = await service.watch_update(session, principal, order) if seen_by_order_readers else None
    order.delivery = delivery
    order.updated_at = utcnow()
    await session.flush()
    if watch is not None:
        await watch.record(session, location.timezone)
    return render_delivery(order, location.timezone)
