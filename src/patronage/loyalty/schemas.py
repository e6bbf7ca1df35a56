"""What a client may send for loyalty cards and operations (seed §3–4, SPEC §7)."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictStr
from pydantic_core import PydanticCustomError

from patronage.validators import Str255, exact_decimal

CARD_READ_ONLY_ON_CREATE = ("id", "balance")
CARD_READ_ONLY = ("id", "balance", "customer_id")
OPERATION_READ_ONLY = ("id", "customer_id", "created_at", "order_location_id", "new_balance")

MAX_DECIMALS = 6
# |delta| and |balance| stay below 10**12 points: 10**18 micro-points fit a signed 64-bit integer.
MAX_POINTS = 10**12


def _delta(value: Any) -> Decimal:
    number = exact_decimal(value)
    if number == 0:
        raise PydanticCustomError("invalid", "must not be zero")
    if abs(number) >= MAX_POINTS:
        raise PydanticCustomError("invalid", f"must be smaller than {MAX_POINTS} in absolute value")
    if number != number.quantize(Decimal(1).scaleb(-MAX_DECIMALS)):
        raise PydanticCustomError("invalid", f"must have at most {MAX_DECIMALS} decimal places")
    return number


Delta = Annotated[Decimal, BeforeValidator(_delta)]


class CardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: StrictStr
    name: Str255 | None = None
    ref: Str255 | None = None


class CardUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Str255 | None = None
    ref: Str255 | None = None


class OperationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delta: Delta
    reason: Str255 | None = None
    order_id: StrictStr | None = None
