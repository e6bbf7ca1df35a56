"""What a client may send for an order (SPEC §8).

A body is validated on its own, before any transaction: shapes, syntax and ranges. What depends on the
order's location is left to the service: an amount is kept as sent (:class:`Amount`) until orders.pricing
checks its currency against the location's, a time without offset as a naive ``datetime`` until
:func:`in_utc` reads it in the location's timezone.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from patronage.bodies import BodyModel
from patronage.customers.schemas import CustomerFields, CustomerOut
from patronage.formats import zone
from patronage.validators import Delta, Points, Str255, Str1000, exact_decimal

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
CREATE_READ_ONLY = ("id", "location_id", "created_at", "created_by", "total")
# Fields a PATCH / PUT may change; every other field of the order is read-only (echoing it unchanged is fine).
UPDATABLE = ("status", "confirmed_time", "seller_notes", "collection_code", "private_ref", "custom_fields")
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
    "items",
    "charges",
    "discounts",
    "payments",
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

_MONEY = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]+))? ([A-Z]{3})$")
MONEY_SYNTAX = 'must be an amount and a currency, such as "8.90 EUR"'
TIME_SYNTAX = "must be a time in ISO 8601 format, such as 2020-06-25T11:43:51+02:00"


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


_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")


def read_time(value: str, *, date_only: bool = False) -> datetime:
    """ISO 8601 -> ``datetime``, naive when the text has no offset. Raises ValueError."""
    text = value.strip()
    # An unencoded "+" in a query string arrives as a space: "…T11:43:51 02:00".
    text = re.sub(r"(T[0-9:.]+) ([0-9]{2}:?[0-9]{2})$", r"\1+\2", text)
    if not (_TIME.match(text) or (date_only and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text))):
        raise ValueError(value)
    return datetime.fromisoformat(text)


def in_utc(moment: datetime, timezone: str) -> datetime:
    """-> naive UTC (as stored); a naive ``moment`` is a time in ``timezone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_time(value: str, timezone: str, *, date_only: bool = False) -> datetime:
    """ISO 8601 -> naive UTC; without an offset the time is in ``timezone``. Raises ValueError."""
    return in_utc(read_time(value, date_only=date_only), timezone)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _fail(TIME_SYNTAX)
    try:
        return read_time(value)
    except ValueError:
        raise _fail(TIME_SYNTAX) from None


Money = Annotated[Amount, PlainValidator(_amount), WithJsonSchema({"type": "string", "examples": ["8.90 EUR"]})]
Quantity = Annotated[Decimal, BeforeValidator(_quantity), WithJsonSchema({"type": "string", "examples": ["1", "0.5"]})]
# As sent: aware with an offset, naive without one (read in the location's timezone by the service).
Time = Annotated[
    datetime,
    PlainValidator(_time),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2020-06-25T11:43:51+02:00"]}),
]
Status = Literal[STATUSES]  # type: ignore[valid-type]
ServiceType = Literal[SERVICE_TYPES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionIn(_Strict):
    option_list_name: Str255 | None = None
    name: Str255
    ref: Str255 | None = None
    price: Money | None = None
    quantity: Quantity = Decimal(1)


class ItemIn(_Strict):
    product_name: Str255
    sku_name: Str255 | None = None
    sku_ref: Str255 | None = None
    price: Money
    quantity: Quantity
    options: list[OptionIn] | None = None
    points_earned: Points | None = None
    points_used: Points | None = None
    customer_notes: Str1000 | None = None


class ChargeIn(_Strict):
    name: Str255 | None = None
    ref: Str255 | None = None
    price: Money


class DiscountIn(_Strict):
    name: Str255 | None = None
    ref: Str255 | None = None
    price_off: Money


class PaymentIn(_Strict):
    name: Str255 | None = None
    ref: Str255 | None = None
    amount: Money


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


# --- what the server sends (orders.render, orders.pricing, orders.loyalty_operations) ---------------------


class OrderOptionOut(BaseModel):
    option_list_name: str | None
    name: str
    ref: str | None
    price: str = Field(examples=["0.50 EUR"])
    quantity: str = Field(examples=["1.0"])


class OrderItemOut(BaseModel):
    id: str
    product_name: str
    sku_name: str | None
    sku_ref: str | None
    price: str = Field(examples=["8.90 EUR"])
    quantity: str = Field(examples=["2.0"])
    subtotal: str = Field(examples=["17.80 EUR"])
    options: list[OrderOptionOut]
    points_earned: str | None = Field(examples=["8.9"])
    points_used: str | None
    customer_notes: str | None


class OrderChargeOut(BaseModel):
    id: str
    name: str | None
    ref: str | None
    price: str = Field(examples=["2.00 EUR"])


class OrderDiscountOut(BaseModel):
    id: str
    name: str | None
    ref: str | None
    price_off: str = Field(examples=["3.10 EUR"])


class OrderPaymentOut(BaseModel):
    id: str
    name: str | None
    ref: str | None
    amount: str = Field(examples=["21.20 EUR"])


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
    items: list[OrderItemOut]
    charges: list[OrderChargeOut]
    discounts: list[OrderDiscountOut]
    payments: list[OrderPaymentOut]
    loyalty_operations: list[OrderLoyaltyOperationOut]
    customer_id: str | None
    customer_list_id: str | None
    customer: OrderCustomerOut | None
    custom_fields: dict[str, Any]
