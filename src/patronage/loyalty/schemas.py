"""What a client may send for loyalty cards and operations (seed §3–4, SPEC §7)."""

from pydantic import BaseModel, ConfigDict, StrictStr

from patronage.validators import Delta, Str255

CARD_READ_ONLY_ON_CREATE = ("id", "balance")
CARD_READ_ONLY = ("id", "balance", "customer_id")
OPERATION_READ_ONLY = ("id", "customer_id", "created_at", "order_location_id", "new_balance")


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
