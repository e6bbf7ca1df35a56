"""What a client sends for a loyalty programme, and what the server sends (a Patronage extension)."""

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from patronage.bodies import BodyModel
from patronage.loyalty.schemas import POINTS_PATTERN
from patronage.orders.schemas import STATUSES
from patronage.validators import POINTS_DECIMALS, Points, Str255, decimal_schema

# An order in one of these is never earning: it is how an order's points are taken back.
REVERSING_STATUSES = ("cancelled", "rejected")
EARNABLE_STATUSES = tuple(status for status in STATUSES if status not in REVERSING_STATUSES)
MAX_TIERS = 20
MAX_EXPIRY_DAYS = 36500
# Points per unit of currency: under a million, at most 6 decimal places (micro-points per unit fit 64 bits).
MAX_POINTS_PER_UNIT = 10**6

TierName = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=255)]


def _not_negative_points(digits: int, description: str) -> Any:
    """Points (validators.Points) that the model's validators also keep from being negative, as the document
    says them."""
    schema = decimal_schema(
        digits=digits, decimals=POINTS_DECIMALS, sign="not negative", description=description, examples=["4.2"]
    )
    return Annotated[Points, WithJsonSchema(schema)]


Threshold = _not_negative_points(12, "Lifetime points (the sum of the card's positive operations) to reach it")
Rate = _not_negative_points(6, "Points earned per unit of the list's currency: under 10^6, at most 6 decimal places")


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


class RoundingIn(BaseModel):
    model_config = {"extra": "forbid"}

    mode: Literal["down", "nearest", "up"] = "down"
    decimals: StrictInt = Field(0, ge=0, le=6, description="Decimal places the points earned are rounded to")


class TierIn(BaseModel):
    model_config = {"extra": "forbid"}

    name: TierName
    threshold: Threshold

    @field_validator("threshold")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise _fail("must not be negative")
        return value


class ProgrammeIn(BodyModel):
    """PUT replaces the whole programme: a field left out takes its default."""

    read_only = ("ref", "customer_list_id", "created_at", "updated_at")
    echo_read_only = True

    name: Str255 | None = Field(None, description="The name of the cards the programme creates")
    points_per_unit: Rate
    earning_statuses: list[str] = Field(
        default_factory=lambda: ["completed"],
        description="The order statuses at which an order earns (never cancelled or rejected: they reverse)",
        json_schema_extra={"items": {"enum": list(EARNABLE_STATUSES)}, "uniqueItems": True},
    )
    rounding: RoundingIn = Field(default_factory=RoundingIn)
    count_charges: StrictBool = Field(False, description="Whether charges (delivery fees...) earn points")
    count_discounts: StrictBool = Field(True, description="Whether discounts reduce the amount that earns")
    allow_negative_balance: StrictBool = Field(
        False, description="false: an operation that would make a card's balance negative is a 422 on delta"
    )
    expiry_days: StrictInt | None = Field(
        None, ge=1, le=MAX_EXPIRY_DAYS, description="Points expire this many days after they were earned; null: never"
    )
    tiers: list[TierIn] = Field(default_factory=list, max_length=MAX_TIERS)

    @field_validator("points_per_unit")
    @classmethod
    def _rate(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise _fail("must not be negative")
        if value >= MAX_POINTS_PER_UNIT:
            raise _fail(f"must be smaller than {MAX_POINTS_PER_UNIT}")
        return value

    @field_validator("earning_statuses")
    @classmethod
    def _statuses(cls, value: list[Any]) -> list[str]:
        for status in value:
            if not isinstance(status, str) or status not in STATUSES:
                raise _fail(f"must hold order statuses: {', '.join(EARNABLE_STATUSES)}")
            if status in REVERSING_STATUSES:
                raise _fail(f"can't hold {status}: a {status} order gives its points back")
        if len(set(value)) != len(value):
            raise _fail("must not repeat a status")
        return list(value)

    @field_validator("tiers")
    @classmethod
    def _distinct_tiers(cls, tiers: list[TierIn]) -> list[TierIn]:
        names = [tier.name for tier in tiers]
        thresholds = [tier.threshold for tier in tiers]
        if len(set(names)) != len(names):
            raise _fail("must have distinct names")
        if len(set(thresholds)) != len(thresholds):
            raise _fail("must have distinct thresholds")
        return sorted(tiers, key=lambda tier: tier.threshold)


# --- what the server sends -------------------------------------------------------------------------------


class RoundingOut(BaseModel):
    mode: Literal["down", "nearest", "up"]
    decimals: int


class TierOut(BaseModel):
    name: str = Field(examples=["Gold"])
    threshold: str = Field(pattern=POINTS_PATTERN, examples=["500.0"])


class LoyaltyProgrammeOut(BaseModel):
    customer_list_id: str
    ref: str | None = Field(examples=["LOY"])
    name: str | None
    points_per_unit: str = Field(pattern=POINTS_PATTERN, examples=["1.0"])
    earning_statuses: list[str] = Field(examples=[["completed"]])
    rounding: RoundingOut
    count_charges: bool
    count_discounts: bool
    allow_negative_balance: bool
    expiry_days: int | None = Field(examples=[365])
    tiers: list[TierOut]
    created_at: str
    updated_at: str
