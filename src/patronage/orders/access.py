"""Who may read and write orders (SPEC §6, §8): the ``orders`` scope, on the connection's location or account."""

from patronage.auth.principal import Principal
from patronage.errors import Forbidden
from patronage.orders.models import Order

SCOPE = "orders"


def require_scope(principal: Principal, *, write: bool) -> None:
    if principal.scope.allows(SCOPE, write=write):
        return
    if write and principal.scope.allows(SCOPE, write=False):
        raise Forbidden("This connection's scope is read-only for orders")
    raise Forbidden("This connection's scope does not include orders")


def sees(reader: Principal, order: Order) -> bool:
    """Whether a connection may read this order (the readers of its events)."""
    return (
        reader.scope.allows(SCOPE, write=False)
        and reader.account_id == order.account_id
        and (reader.is_account_level or reader.location_id == order.location_id)
    )
