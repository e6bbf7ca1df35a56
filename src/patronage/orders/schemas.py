"""What a client may send for an order (SPEC §8).

A body is validated on its own, before any transaction: shapes, syntax and ranges. What depends on the
order's location is left to the service: an amount is kept as sent (:class:`Amount`) until orders.pricing
checks its currency against the location's, a time without offset as a naive ``datetime`` until
:func:`in_utc` reads it in the location's timezone.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from patronage.bodies import BodyModel
from patronage.customers.schemas import CustomerFields, CustomerOut
from patronage.errors import UNION_TAG, UNION_TAG_OTHER
from patronage.formats import TIME_SYNTAX, YEAR_PATTERN, read_time
from patronage.validators import Delta, Points, Str255, Str1000, decimal_schema, exact_decimal

STATUSES = (
    "new",
    "received",
    "accepted",
    "in_preparation",
    "awaiting_shipment",
    "awaiting_collection",
    "in_delivery",
    "completed",
    "rejected",
    "cancelled",
    "delivery_failed",
)
SERVICE_TYPES = ("delivery", "collection", "eat_in")

# Computed fields: none may be sent on a create.
CREATE_READ_ONLY = (
    "id",
    "location_id",
    "created_at",
    "created_by",
    "total",
    "total_discrepancy",
    "payment_discrepancy",
    "delivery",
)
# Fields a PATCH / PUT may change, and the element lists it may add to, delete from and set private refs in;
# every other field of the order is read-only (echoing it unchanged is fine).
UPDATABLE = ("status", "confirmed_time", "seller_notes", "collection_code", "private_ref", "custom_fields")
ELEMENT_LISTS = ("items", "charges", "discounts", "payments")
READ_ONLY = (
    "id",
    "location_id",
    "ref",
    "service_type",
    "service_type_ref",
    "created_at",
    "created_by",
    "expected_time",
    "customer_notes",
    "coupon_codes",
    "total",
    "total_discrepancy",
    "payment_discrepancy",
    "deals",
    "delivery",
    "loyalty_operations",
    "customer_id",
    "customer_list_id",
    "customer",
)

# Quantities: exact decimals with at most 6 decimal places, 0 < quantity < 10**9.
QUANTITY_DECIMALS = 6
MAX_QUANTITY = 10**9
# Amounts: at most 12 digits before the decimal point; computed totals stay far inside 64 bits.
MAX_AMOUNT_DIGITS = 12
MAX_TOTAL_MINOR = 10**17

# Tax rates and deal percentages: percentages from 0 to 100.
MAX_PERCENTAGE = 100
PRICING_EFFECTS = ("unchanged", "fixed_price", "price_off", "percentage_off")

_MONEY = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]+))? ([A-Z]{3})$")
MONEY_SYNTAX = 'must be an amount and a currency, such as "8.90 EUR"'


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


@dataclass(frozen=True)
class Amount:
    """An amount as sent, ``"-8.90 EUR"``: its digits as written (``decimals`` keeps trailing zeros, the
    currency decides how many it may have) and its currency code."""

    negative: bool
    units: str
    decimals: str
    currency: str

    def minor_units(self, exponent: int) -> int:
        """In minor units of a currency with ``exponent`` decimal places (at least as many as written)."""
        minor = int(self.units + self.decimals.ljust(exponent, "0"))
        return -minor if self.negative else minor


def _amount(value: Any) -> Amount:
    if not isinstance(value, str):
        raise _fail(MONEY_SYNTAX)
    match = _MONEY.match(value)
    if match is None:
        raise _fail(MONEY_SYNTAX)
    sign, units, decimals, currency = match.groups()
    if len(units.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise _fail(f"must be smaller than 10^{MAX_AMOUNT_DIGITS}")
    return Amount(bool(sign), units, decimals or "", currency)


def _quantity(value: Any) -> Decimal:
    number = exact_decimal(value)
    if number <= 0:
        raise _fail("must be greater than 0")
    if number >= MAX_QUANTITY:
        raise _fail(f"must be smaller than {MAX_QUANTITY}")
    if number != number.quantize(Decimal(1).scaleb(-QUANTITY_DECIMALS)):
        raise _fail(f"must have at most {QUANTITY_DECIMALS} decimal places")
    return number


def _option_quantity(value: Any) -> Decimal:
    """How many times an option is chosen per item unit: a whole number (reference: an integer, default 1);
    sent as a JSON integer, or as a string holding one (``"2"``, ``"2.0"``) as some clients do."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail("must be a whole number")
    number = _quantity(value)
    if number != number.to_integral_value():
        raise _fail("must be a whole number")
    return number


def _percentage(value: Any) -> Decimal:
    number = exact_decimal(value)
    if not 0 <= number <= MAX_PERCENTAGE:
        raise _fail(f"must be between 0 and {MAX_PERCENTAGE}")
    if number != number.quantize(Decimal(1).scaleb(-QUANTITY_DECIMALS)):
        raise _fail(f"must have at most {QUANTITY_DECIMALS} decimal places")
    return number


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _fail(TIME_SYNTAX)
    try:
        return read_time(value)
    except ValueError:
        raise _fail(TIME_SYNTAX) from None


# The syntax, the sign and the size; the currency (the location's) and its number of decimals are checked by
# orders.pricing.
MONEY_SCHEMA = {
    "type": "string",
    "pattern": rf"^-?0*[0-9]{{1,{MAX_AMOUNT_DIGITS}}}(\.[0-9]+)? [A-Z]{{3}}$",
    "description": "An amount and the location's currency, with at most its number of decimals",
    "examples": ["8.90 EUR"],
}
Money = Annotated[Amount, PlainValidator(_amount), WithJsonSchema(MONEY_SCHEMA)]
Quantity = Annotated[
    Decimal,
    BeforeValidator(_quantity),
    WithJsonSchema(
        decimal_schema(
            digits=9,
            decimals=QUANTITY_DECIMALS,
            sign="positive",
            description="A decimal (a string, or a JSON number) above 0 and under 10^9, at most 6 decimal places",
            examples=["1", "0.5"],
        )
    ),
]
OptionQuantity = Annotated[
    Decimal,
    BeforeValidator(_option_quantity),
    WithJsonSchema(
        {
            "type": ["integer", "string"],
            "minimum": 1,  # an integer's bounds; a string holds a whole number in the same bounds
            "maximum": MAX_QUANTITY - 1,
            "pattern": r"^\+?0*[1-9][0-9]{0,8}(\.0*)?$",
            "examples": [1, 2],
        }
    ),
]
# As sent: aware with an offset, naive without one (read in the location's timezone by the service).
Time = Annotated[
    datetime,
    PlainValidator(_time),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN, "examples": ["2020-06-25T11:43:51+02:00"]}
    ),
]
PERCENTAGE_SCHEMA = decimal_schema(
    digits=2,
    decimals=QUANTITY_DECIMALS,
    sign="not negative",
    up_to=True,
    description="A decimal (a string, or a JSON number) from 0 to 100, at most 6 decimal places",
    examples=["20.0", "5.5"],
)
Percentage = Annotated[Decimal, BeforeValidator(_percentage), WithJsonSchema(PERCENTAGE_SCHEMA)]
Status = Literal[STATUSES]  # type: ignore[valid-type]
ServiceType = Literal[SERVICE_TYPES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(_Strict):
    option_list_name: Str255 | None = None
    name: Str255
    ref: Str255 | None = None
    price: Money | None = None
    quantity: OptionQuantity = Decimal(1)
    # A removed ingredient; its price, if any, is what removing it costs (it counts like any option's).
    removed: StrictBool = False


# pricing_value follows pricing_effect (DealLineIn._pricing_value), as the document says it.
_PRICING_VALUE_RULES = [
    {
        "if": {
            "properties": {"pricing_effect": {"enum": ["fixed_price", "price_off"]}},
            "required": ["pricing_effect"],
        },
        "then": {"properties": {"pricing_value": MONEY_SCHEMA}, "required": ["pricing_value"]},
    },
    {
        "if": {"properties": {"pricing_effect": {"const": "percentage_off"}}, "required": ["pricing_effect"]},
        "then": {"properties": {"pricing_value": PERCENTAGE_SCHEMA}, "required": ["pricing_value"]},
    },
    {
        "if": {"properties": {"pricing_effect": {"enum": ["unchanged", None]}}},
        "then": {"properties": {"pricing_value": {"type": "null"}}},
    },
]


class DealLineIn(_Strict):
    """An item's place in one of the order's deals. HubRise computes nothing with the pricing fields."""

    model_config = ConfigDict(json_schema_extra={"allOf": _PRICING_VALUE_RULES})

    deal_key: StrictStr
    position: StrictInt | None = Field(None, ge=0, le=10**9)
    label: Str255 | None = None
    pricing_effect: Literal[PRICING_EFFECTS] | None = None  # type: ignore[valid-type]
    # Checked even when not sent: fixed_price, price_off and percentage_off need one.
    pricing_value: Annotated[
        Any,
        WithJsonSchema(
            {
                "anyOf": [MONEY_SCHEMA, PERCENTAGE_SCHEMA, {"type": "null"}],
                "description": "An amount (fixed_price, price_off), a percentage (percentage_off), else null",
                "examples": ["1.00 EUR", "30", None],
            }
        ),
    ] = Field(None, validate_default=True)

    @field_validator("pricing_value", mode="plain")
    @classmethod
    def _pricing_value(cls, value: Any, info: ValidationInfo) -> Amount | Decimal | None:
        """Money for ``fixed_price`` and ``price_off``, a percentage for ``percentage_off``, else null."""
        effect = info.data.get("pricing_effect")
        if effect in ("fixed_price", "price_off"):
            if value is None:
                raise _fail(f"is required when pricing_effect is {effect}")
            return _amount(value)
        if effect == "percentage_off":
            if value is None:
                raise _fail(f"is required when pricing_effect is {effect}")
            return _percentage(value)
        if value is not None:
            raise _fail("must be null unless pricing_effect is fixed_price, price_off or percentage_off")
        return None


class DealIn(_Strict):
    name: Str255
    ref: Str255 | None = None


class ItemIn(_Strict):
    private_ref: Str255 | None = None
    product_name: Str255
    sku_name: Str255 | None = None
    sku_ref: Str255 | None = None
    price: Money
    quantity: Quantity
    # Calculated; a client may send it (the element's JSON representation, orders.md §1.4) if it is right.
    subtotal: Money | None = None
    tax_rate: Percentage | None = None
    options: list[OptionIn] | None = None
    points_earned: Points | None = None
    points_used: Points | None = None
    customer_notes: Str1000 | None = None
    deal_line: DealLineIn | None = None
    # An element sent already deleted is kept, marked deleted, out of the totals.
    deleted: StrictBool = False


class ChargeIn(_Strict):
    private_ref: Str255 | None = None
    type: Str255 | None = None  # deprecated; "other" when not sent
    name: Str255 | None = None
    ref: Str255 | None = None
    price: Money
    tax_rate: Percentage | None = None
    deleted: StrictBool = False
    # HubRise's deprecated copies of type, ref and price (orders.md §9), in the element's JSON representation:
    # accepted when they hold what the charge renders.
    charge_type: Str255 | None = None
    charge_ref: Str255 | None = None
    charge_price: Money | None = None


class DiscountIn(_Strict):
    private_ref: Str255 | None = None
    name: Str255 | None = None
    ref: Str255 | None = None
    price_off: Money
    deleted: StrictBool = False
    # Deprecated (orders.md §8), rendered as "price_off" and the price_off: accepted when they hold that.
    pricing_effect: Str255 | None = None
    pricing_value: Money | None = None


class PaymentIn(_Strict):
    private_ref: Str255 | None = None
    type: Str255 | None = None  # deprecated; "online" when not sent
    name: Str255 | None = None
    ref: Str255 | None = None
    amount: Money
    info: dict[str, Any] | None = None
    deleted: StrictBool = False


class ElementChange(BaseModel):
    """In an update, an existing element named by ``id``: ``deleted: true`` deletes it, ``private_ref`` sets the
    caller's ref. Any other field sent must hold the element's current value (an echo): elements are never
    modified (HubRise: delete it and add a new one)."""

    model_config = ConfigDict(extra="allow")

    id: StrictStr
    deleted: StrictBool | None = None
    private_ref: Str255 | None = None


def _new_or_change(value: Any) -> str:
    return UNION_TAG_OTHER if isinstance(value, dict) and "id" in value else UNION_TAG


def _element_update(model: type[BaseModel]) -> Any:
    """A new element (no ``id``) or a change to an existing one; errors name the element's own fields."""
    return Annotated[
        Annotated[model, Tag(UNION_TAG)] | Annotated[ElementChange, Tag(UNION_TAG_OTHER)],
        Discriminator(_new_or_change),
    ]


ItemUpdate = _element_update(ItemIn)
ChargeUpdate = _element_update(ChargeIn)
DiscountUpdate = _element_update(DiscountIn)
PaymentUpdate = _element_update(PaymentIn)


class OrderLoyaltyOperationIn(_Strict):
    """Applied to the customer's card with this ``ref`` (null: the card without ref), created if missing."""

    ref: Str255 | None = None
    name: Str255 | None = None
    delta: Delta
    reason: Str255 | None = None


# A guest order's inline customer: the customer fields of seed §2.3 without private_ref and custom_fields,
# validated exactly like a customer's.
GuestCustomerIn = create_model(
    "GuestCustomerIn",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (field.annotation, field)
        for name, field in CustomerFields.model_fields.items()
        if name not in ("private_ref", "custom_fields")
    },
)


class OrderCreate(BodyModel):
    """An order. Its customer is given one way at most: ``customer_id``, or ``customer_list_id`` with
    ``customer_private_ref``, or a guest ``customer`` object (two of them together are a 422)."""

    read_only = CREATE_READ_ONLY

    status: Status
    ref: Str255 | None = None
    private_ref: Str255 | None = None
    service_type: ServiceType | None = None
    service_type_ref: Str255 | None = None
    expected_time: Time | None = None
    confirmed_time: Time | None = None
    customer_notes: Str1000 | None = None
    seller_notes: Str1000 | None = None
    collection_code: Str255 | None = None
    coupon_codes: list[Str255] | None = None
    items: list[ItemIn] | None = None
    deals: dict[Annotated[str, StringConstraints(max_length=255)], DealIn] | None = None
    charges: list[ChargeIn] | None = None
    discounts: list[DiscountIn] | None = None
    payments: list[PaymentIn] | None = None
    custom_fields: dict[str, Any] | None = None
    loyalty_operations: list[OrderLoyaltyOperationIn] | None = None
    customer_id: StrictStr | None = None
    customer_list_id: StrictStr | None = None
    customer_private_ref: Str255 | None = None
    customer: GuestCustomerIn | None = None  # type: ignore[valid-type]


class OrderUpdate(BodyModel):
    """Echoed read-only fields are checked by the service (``check_echoed``) against the order as rendered."""

    read_only = READ_ONLY
    echo_read_only = True

    # Optional in an update, but never null: a null status fails the Literal check like any other bad value.
    status: Status = None  # type: ignore[assignment]
    confirmed_time: Time | None = None
    seller_notes: Str1000 | None = None
    collection_code: Str255 | None = None
    private_ref: Str255 | None = None
    custom_fields: dict[str, Any] | None = None
    items: list[ItemUpdate] | None = None  # type: ignore[valid-type]
    charges: list[ChargeUpdate] | None = None  # type: ignore[valid-type]
    discounts: list[DiscountUpdate] | None = None  # type: ignore[valid-type]
    payments: list[PaymentUpdate] | None = None  # type: ignore[valid-type]


# --- what the server sends (orders.render, orders.pricing, orders.loyalty_operations) ---------------------


class OrderOptionOut(BaseModel):
    option_list_name: str | None
    name: str
    ref: str | None
    price: str = Field(examples=["0.50 EUR"])
    quantity: int = Field(examples=[1])
    removed: bool


class OrderDealLineOut(BaseModel):
    deal_key: str = Field(examples=["0"])
    position: int | None
    label: str | None
    pricing_effect: Literal[PRICING_EFFECTS] | None  # type: ignore[valid-type]
    pricing_value: str | None = Field(examples=["1.00 EUR", "30.0"])


class OrderItemOut(BaseModel):
    """``deal_line`` only on the items of a deal."""

    id: str
    private_ref: str | None
    product_name: str
    sku_name: str | None
    sku_ref: str | None
    price: str = Field(examples=["8.90 EUR"])
    quantity: str = Field(examples=["2.0"])
    subtotal: str = Field(examples=["17.80 EUR"])
    tax_rate: str | None = Field(examples=["10.0"])
    customer_notes: str | None
    points_earned: str | None = Field(examples=["8.9"])
    points_used: str | None
    options: list[OrderOptionOut]
    deleted: bool
    deal_line: OrderDealLineOut | None = None


class OrderDealOut(BaseModel):
    name: str
    ref: str | None


class OrderChargeOut(BaseModel):
    """``charge_type``, ``charge_ref`` and ``charge_price`` are HubRise's deprecated copies of ``type``, ``ref``
    and ``price``."""

    id: str
    private_ref: str | None
    type: str = Field(examples=["other"])
    name: str | None
    ref: str | None
    price: str = Field(examples=["2.00 EUR"])
    tax_rate: str | None
    charge_type: str
    charge_ref: str | None
    charge_price: str
    deleted: bool


class OrderDiscountOut(BaseModel):
    """``pricing_effect`` (always ``price_off``) and ``pricing_value`` (the ``price_off``) are deprecated."""

    id: str
    private_ref: str | None
    name: str | None
    ref: str | None
    pricing_effect: Literal["price_off"]
    pricing_value: str = Field(examples=["3.10 EUR"])
    price_off: str = Field(examples=["3.10 EUR"])
    deleted: bool


class OrderPaymentOut(BaseModel):
    id: str
    private_ref: str | None
    type: str = Field(examples=["online"])
    name: str | None
    ref: str | None
    amount: str = Field(examples=["21.20 EUR"])
    info: dict[str, Any] | None
    deleted: bool


class OrderDeliveryOut(BaseModel):
    """A delivery attached to the order (HubRise's Delivery resource without the driver's position)."""

    carrier: str
    carrier_ref: str | None
    ref: str | None
    status: str
    fee: str | None
    estimated_pickup_at: str | None
    estimated_dropoff_at: str | None
    tracking_url: str | None
    driver_pickup_url: str | None
    driver_name: str | None
    driver_phone: str | None
    driver_phone_access_code: str | None
    assigned_at: str | None
    pickup_at: str | None
    delivered_at: str | None
    cancelled_at: str | None


class OrderLoyaltyOperationOut(BaseModel):
    """An operation the order applied to its customer's card (the card's ref and name at the time)."""

    ref: str | None
    name: str | None
    delta: str = Field(examples=["4.2"])
    reason: str | None
    new_balance: str = Field(examples=["14.2"])


class OrderCustomerOut(CustomerOut):
    """The customer as it was once the order was created, with the reader's own private ref (null once the
    order has lost its link). A guest order's customer has no id, list, creation time or statistics."""

    id: str | None = Field(examples=["ag8u4"])
    customer_list_id: str | None
    created_at: str | None = Field(examples=["2017-01-12T11:32:08+00:00"])
    nb_orders: int | None
    order_total: str | None = Field(examples=["128.50 EUR"])


class OrderOut(BaseModel):
    id: str = Field(examples=["5dpm9"])
    location_id: str
    status: Status
    ref: str | None
    private_ref: str | None
    service_type: ServiceType | None
    service_type_ref: str | None
    created_at: str = Field(examples=["2020-06-25T11:43:51+02:00"])
    created_by: str
    expected_time: str | None = Field(examples=["2020-06-25T12:30:00+02:00"])
    confirmed_time: str | None
    customer_notes: str | None
    seller_notes: str | None
    collection_code: str | None
    coupon_codes: list[str]
    total: str = Field(examples=["21.70 EUR"])
    total_discrepancy: str | None = Field(description="Deprecated; always null")
    payment_discrepancy: str | None = Field(
        examples=["0.00 EUR"], description="Σ payments − total; null without payments"
    )
    items: list[OrderItemOut]
    deals: dict[str, OrderDealOut]
    charges: list[OrderChargeOut]
    discounts: list[OrderDiscountOut]
    payments: list[OrderPaymentOut]
    loyalty_operations: list[OrderLoyaltyOperationOut]
    customer_id: str | None
    customer_list_id: str | None
    customer: OrderCustomerOut | None
    delivery: OrderDeliveryOut | None
    custom_fields: dict[str, Any]
