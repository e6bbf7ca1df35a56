"""What a client may send for an order (SPEC §8).

Money and times depend on the order's location (its currency, its timezone): they are validated with a
validation context ``{"currency": ..., "timezone": ...}``, so that every error names its field
(``items.0.price``).
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictStr, ValidationInfo, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from patronage.customers.schemas import CustomerFields
from patronage.formats import currency_exponent, zone
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


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def _context(info: ValidationInfo, key: str) -> str:
    context = info.context or {}
    return context[key]


def _money(value: Any, info: ValidationInfo) -> int:
    """``"8.90 EUR"`` in the location's currency -> 890 (minor units)."""
    currency = _context(info, "currency")
    if not isinstance(value, str):
        raise _fail(f'must be an amount and a currency, such as "8.90 {currency}"')
    match = _MONEY.match(value)
    if match is None:
        raise _fail(f'must be an amount and a currency, such as "8.90 {currency}"')
    sign, units, decimals, code = match.groups()
    if code != currency:
        raise _fail(f"must be in {currency}, the location's currency")
    exponent = currency_exponent(currency)
    decimals = decimals or ""
    if len(decimals) > exponent:
        raise _fail(f"has more decimal places than {currency} allows ({exponent})")
    if len(units.lstrip("0")) > MAX_AMOUNT_DIGITS:
        raise _fail(f"must be smaller than 10^{MAX_AMOUNT_DIGITS}")
    minor = int(units + decimals.ljust(exponent, "0"))
    return -minor if sign else minor


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


def parse_time(value: str, timezone: str, *, date_only: bool = False) -> datetime:
    """ISO 8601 -> naive UTC; without an offset the time is in ``timezone``. Raises ValueError."""
    text = value.strip()
    # An unencoded "+" in a query string arrives as a space: "…T11:43:51 02:00".
    text = re.sub(r"(T[0-9:.]+) ([0-9]{2}:?[0-9]{2})$", r"\1+\2", text)
    if not (_TIME.match(text) or (date_only and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text))):
        raise ValueError(value)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(timezone))
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _time(value: Any, info: ValidationInfo) -> datetime:
    if not isinstance(value, str):
        raise _fail("must be a time in ISO 8601 format, such as 2020-06-25T11:43:51+02:00")
    try:
        return parse_time(value, _context(info, "timezone"))
    except ValueError:
        raise _fail("must be a time in ISO 8601 format, such as 2020-06-25T11:43:51+02:00") from None


Money = Annotated[int, BeforeValidator(_money), WithJsonSchema({"type": "string", "examples": ["8.90 EUR"]})]
Quantity = Annotated[Decimal, BeforeValidator(_quantity), WithJsonSchema({"type": "string", "examples": ["1", "0.5"]})]
Time = Annotated[
    datetime,
    BeforeValidator(_time),
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


class OrderCreate(_Strict):
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


class OrderUpdate(_Strict):
    # Optional in an update, but never null: a null status fails the Literal check like any other bad value.
    status: Status = None  # type: ignore[assignment]
    confirmed_time: Time | None = None
    seller_notes: Str1000 | None = None
    collection_code: Str255 | None = None
    private_ref: Str255 | None = None
    custom_fields: dict[str, Any] | None = None
