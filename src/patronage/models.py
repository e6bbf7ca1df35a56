"""Imports every feature's tables, so that the metadata (and Alembic) sees them all."""

from patronage.auth.models import Client, Connection
from patronage.auth.revision import AuthRevision
from patronage.customer_lists.models import CustomerList
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.events.models import Callback, Event
from patronage.idempotency import IdempotencyKey
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.oauth.models import OAuthCode, OAuthLogin
from patronage.orders.models import Order, OrderElementPrivateRef, OrderPrivateRef
from patronage.tenancy.models import Account, Location, User
from patronage.transfer.hubrise_models import HubriseMapping, HubriseSource

__all__ = [
    "Account",
    "AuthRevision",
    "Callback",
    "Client",
    "Connection",
    "Customer",
    "CustomerList",
    "CustomerPrivateRef",
    "Event",
    "HubriseMapping",
    "HubriseSource",
    "IdempotencyKey",
    "Location",
    "LoyaltyCard",
    "LoyaltyOperation",
    "OAuthCode",
    "OAuthLogin",
    "Order",
    "OrderElementPrivateRef",
    "OrderPrivateRef",
    "User",
]
