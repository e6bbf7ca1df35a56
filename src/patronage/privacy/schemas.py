"""The right-of-access document (a Patronage extension): everything held about one customer."""

from typing import Any

from pydantic import BaseModel, Field

from patronage.customers.schemas import CustomerOut
from patronage.loyalty.schemas import LoyaltyCardOut, LoyaltyOperationOut
from patronage.orders.schemas import OrderOut


class CardWithLedgerOut(LoyaltyCardOut):
    operations: list[LoyaltyOperationOut] = Field(description="Every operation of the card, oldest first")


class PendingEventOut(BaseModel):
    id: str
    client_name: str = Field(description="The client whose connection the event waits for")
    resource_type: str = Field(examples=["customer"])
    event_type: str = Field(examples=["update"])
    created_at: str
    previous_state: dict[str, Any] | None = Field(description="As that connection will read it; others' refs null")
    new_state: dict[str, Any] | None


class CustomerExportOut(BaseModel):
    exported_at: str = Field(examples=["2026-12-02T10:00:00+01:00"])
    customer: CustomerOut
    loyalty_cards: list[CardWithLedgerOut]
    orders: list[OrderOut] = Field(description="The customer's orders as stored, oldest first")
    pending_events: list[PendingEventOut] = Field(
        description="Events not yet acknowledged, for any connection of the account, whose states show the customer"
    )
