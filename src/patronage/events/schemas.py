"""What a connection sends for its callback, and what it reads of its callback and events (SPEC §9)."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, StrictStr, Tag, WithJsonSchema

from patronage.bodies import BodyModel
from patronage.customers.schemas import CustomerOut
from patronage.events.service import ACCEPTED
from patronage.loyalty.schemas import LoyaltyCardOut
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
            # No space nor control character anywhere (callbacks.check_destination).
            "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\u0000-\u0020\u007f-\u009f][^\u0000-\u0020\u007f-\u009f]*$",
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
        description="Event types by resource: customer and order events fire, HubRise's others are accepted;"
        " loyalty_card.update (a Patronage extension: a card changed tier) fires too",
        json_schema_extra=lambda schema: schema.update(_EVENTS_SCHEMA),
    )


# --- what the server sends -------------------------------------------------------------------------------


class CallbackOut(BaseModel):
    url: str | None = Field(examples=["https://app.example.com/hubrise/events"])
    events: dict[str, list[str]] = Field(examples=[{"customer": ["create", "update"], "order": ["create"]}])


# An order as GET /v1/locations/{location_id}/orders/{order_id} renders it for the subscriber.
OrderState = OrderOut

_ACCOUNT_ID = "The account of the resource (beyond HubRise's example, which shows the resource's own ids)"


class _EventFields(BaseModel):
    id: str = Field(examples=["ks8f6"])
    event_type: Literal["create", "update"]
    created_at: str = Field(examples=["2020-06-25T11:43:51+02:00"], description="In the resource's time zone")
    account_id: str = Field(description=_ACCOUNT_ID)


class CustomerEventSummary(_EventFields):
    resource_type: Literal["customer"]
    customer_id: str = Field(examples=["ve343"])
    customer_list_id: str = Field(examples=["sdakm"])


class OrderEventSummary(_EventFields):
    resource_type: Literal["order"]
    order_id: str
    location_id: str = Field(examples=["3r4s3-1"])


class LoyaltyCardEventSummary(_EventFields):
    """A Patronage extension: a loyalty card changed tier (programmes.tiers); only for those who subscribe."""

    resource_type: Literal["loyalty_card"]
    loyalty_card_id: str = Field(examples=["slp8q"])
    customer_id: str = Field(examples=["ve343"])
    customer_list_id: str = Field(examples=["sdakm"])


# HubRise: ``new_state`` only for create and update, ``previous_state`` only for update (and delete, which
# Patronage never fires): a create event has no ``previous_state`` key at all.
class CustomerCreateEvent(CustomerEventSummary):
    event_type: Literal["create"]
    new_state: CustomerOut = Field(description="The customer as created")


class CustomerUpdateEvent(CustomerEventSummary):
    event_type: Literal["update"]
    previous_state: CustomerOut = Field(description="The customer before the change")
    new_state: CustomerOut = Field(description="The customer after the change")


class OrderCreateEvent(OrderEventSummary):
    event_type: Literal["create"]
    new_state: OrderState = Field(description="The order as created")


class OrderUpdateEvent(OrderEventSummary):
    event_type: Literal["update"]
    previous_state: OrderState = Field(description="The order before the change")
    new_state: OrderState = Field(description="The order after the change")


class LoyaltyCardUpdateEvent(LoyaltyCardEventSummary):
    event_type: Literal["update"]
    previous_state: LoyaltyCardOut = Field(description="The card before the change of tier")
    new_state: LoyaltyCardOut = Field(description="The card after the change of tier")


# The index lists events without their states; one event is read (and acknowledged) with them.
EventSummary = Annotated[
    CustomerEventSummary | OrderEventSummary | LoyaltyCardEventSummary, Field(discriminator="resource_type")
]


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('resource_type')}.{value.get('event_type')}"
    return f"{value.resource_type}.{value.event_type}"


# One model per resource and event type (the states differ); documented as a plain oneOf.
EventOut = Annotated[
    Annotated[CustomerCreateEvent, Tag("customer.create")]
    | Annotated[CustomerUpdateEvent, Tag("customer.update")]
    | Annotated[OrderCreateEvent, Tag("order.create")]
    | Annotated[OrderUpdateEvent, Tag("order.update")]
    | Annotated[LoyaltyCardUpdateEvent, Tag("loyalty_card.update")],
    Discriminator(_kind),
]
