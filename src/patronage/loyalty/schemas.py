"""What a client may send for loyalty cards and operations, and what the server sends (seed §3–4, SPEC §7)."""

from pydantic import BaseModel, Field, StrictStr

from patronage.bodies import BodyModel
from patronage.validators import Delta, Str255


class CardCreate(BodyModel):
    read_only = ("id", "balance")

    customer_id: StrictStr
    name: Str255 | None = None
    ref: Str255 | None = None


class CardUpdate(BodyModel):
    """Only ``name`` and ``ref`` change; the card's other fields may be echoed with their current value."""

    read_only = ("id", "balance", "customer_id")
    echo_read_only = True

    name: Str255 | None = None
    ref: Str255 | None = None


class OperationCreate(BodyModel):
    read_only = ("id", "customer_id", "created_at", "order_location_id", "new_balance")

    delta: Delta
    reason: Str255 | None = None
    order_id: StrictStr | None = None


# --- what the server sends -------------------------------------------------------------------------------

# Points as rendered by formats.render_decimal: no exponent, at least one decimal ("0.0", "-5.500001").
POINTS_PATTERN = r"^-?[0-9]+\.[0-9]+$"


class LoyaltyCardOut(BaseModel):
    id: str = Field(examples=["slp8q"])
    customer_id: str = Field(examples=["ve343"])
    name: str | None = Field(examples=["Come back!"])
    ref: str | None = Field(examples=["LOY"])
    balance: str = Field(pattern=POINTS_PATTERN, examples=["13.5"])
    as_of: str | None = Field(
        None,
        description="Patronage extension, only with ?as_of=TIME: the time the balance is given for",
        examples=["2020-01-18T12:37:21+02:00"],
    )


class LoyaltyOperationOut(BaseModel):
    id: str = Field(examples=["22kmp"])
    customer_id: str = Field(examples=["ve343"])
    created_at: str = Field(examples=["2020-01-18T12:37:21+02:00"])
    order_location_id: str | None = Field(examples=["psm98"])
    order_id: str | None = Field(examples=["mapcm"])
    reason: str | None = Field(examples=["Points earned on order"])
    delta: str = Field(pattern=POINTS_PATTERN, examples=["4.2"])
    new_balance: str = Field(pattern=POINTS_PATTERN, examples=["17.7"])


class LedgerEntryOut(BaseModel):
    id: str
    seq: int = Field(description="Position in the card's ledger, from 1")
    delta: str = Field(pattern=POINTS_PATTERN)
    new_balance: str = Field(pattern=POINTS_PATTERN)
    created_at: str = Field(description="UTC, to the microsecond, as hashed", examples=["2020-01-18T10:37:21.504113Z"])
    order_id: str | None
    reason: str | None
    previous_hash: str | None
    hash: str


class LedgerOut(BaseModel):
    """Patronage extension: a card's whole ledger, oldest first, with what a third party needs to check it."""

    loyalty_card_id: str
    customer_id: str
    balance: str = Field(pattern=POINTS_PATTERN)
    operation_count: int
    ledger_hash: str | None = Field(description="The last operation's hash (null for a card without operations)")
    hash_algorithm: str = Field(examples=["sha256"])
    hash_format: str = Field(
        description="hash = sha256 hex of these fields joined by newlines: the format name, previous_hash (empty "
        "for the first), id, seq, delta, new_balance, created_at, order_id (empty when null)",
        examples=["patronage-ledger-v1"],
    )
    operations: list[LedgerEntryOut]
