"""What a connection sends for its callback, and what it reads of its callback and events (SPEC §9)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictStr

from patronage.bodies import BodyModel
from patronage.customers.schemas import CustomerOut
from patronage.orders.schemas import OrderOut


class CallbackIn(BodyModel):
    """The resources and event types are checked against the known pairs, and the URL's host resolved, by
    :func:`patronage.events.callbacks.check` (it may take a while: before the write transaction opens)."""

    url: StrictStr | None = Field(None, description="Where events are POSTed; null: passive, events are polled")
    events: dict[StrictStr, list[StrictStr]] = Field(examples=[{"customer": ["create", "update"]}])


# --- what the server sends -------------------------------------------------------------------------------


class CallbackOut(BaseModel):
    url: str | None = Field(examples=["https://app.example.com/hubrise/events"])
    events: dict[str, list[str]] = Field(examples=[{"customer": ["create", "update"], "order": ["create"]}])


# An order as GET /v1/locations/{location_id}/orders/{order_id} renders it for the subscriber.
OrderState = OrderOut


class _EventFields(BaseModel):
    id: str = Field(examples=["5kd0q1wmlz"])
    event_type: Literal["create", "update"]
    created_at: str = Field(examples=["2017-01-12T11:32:08+01:00"], description="In the resource's time zone")
    account_id: str


class CustomerEventSummary(_EventFields):
    resource_type: Literal["customer"]
    customer_list_id: str
    customer_id: str


class OrderEventSummary(_EventFields):
    resource_type: Literal["order"]
    location_id: str
    order_id: str


class CustomerEventOut(CustomerEventSummary):
    previous_state: CustomerOut | None = Field(description="The customer before the change; null on create")
    new_state: CustomerOut


class OrderEventOut(OrderEventSummary):
    previous_state: OrderState | None = Field(description="The order before the change; null on create")
    new_state: OrderState


# The index lists events without their states; one event is read (and acknowledged) with them.
EventSummary = Annotated[CustomerEventSummary | OrderEventSummary, Field(discriminator="resource_type")]
EventOut = Annotated[CustomerEventOut | OrderEventOut, Field(discriminator="resource_type")]
