"""What a connection sends for its callback, and what it reads of its callback and events (SPEC §9)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictStr, WithJsonSchema

from patronage.bodies import BodyModel
from patronage.customers.schemas import CustomerOut
from patronage.events.service import ACCEPTED
from patronage.orders.schemas import OrderOut

# What `callbacks.check` accepts, documented: the known pairs; another resource only with no event type.
_EVENTS_SCHEMA = {
    "properties": {
        resource: {
            "type": "array",
            "items": {"type": "string", "enum": sorted(t for r, t in ACCEPTED if r == resource)},
        }
        for resource in sorted({resource for resource, _ in ACCEPTED})
    },
    "additionalProperties": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
}


# Checked by `callbacks.check` (which also resolves the host: it must be a public address).
CallbackUrl = Annotated[
    StrictStr,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",
            "maxLength": 2048,
            "description": "An http or https URL with a host that does not resolve to a non-public address",
        }
    ),
]


class CallbackIn(BodyModel):
    """The resources and event types are checked against the known pairs, and the URL's host resolved, by
    :func:`patronage.events.callbacks.check` (it may take a while: before the write transaction opens)."""

    url: CallbackUrl | None = Field(None, description="Where events are POSTed; null: passive, events are polled")
    events: dict[StrictStr, list[StrictStr]] = Field(
        examples=[{"customer": ["create", "update"]}],
        description="Event types by resource: customer and order events fire, HubRise's others are accepted",
        json_schema_extra=lambda schema: schema.update(_EVENTS_SCHEMA),
    )


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
