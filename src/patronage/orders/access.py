"""Who may read and write orders (SPEC §6, §8): the ``orders`` scope, on the connection's location or account."""

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.deps import Caller, ReadSession, WriteSession
from patronage.errors import Forbidden
from patronage.orders.models import Order
from patronage.tenancy import service as tenancy
from patronage.tenancy.models import Account, Location

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


# What an order route declares it needs: the location (or the account) whose orders it reads or writes, seen
# by the caller, loaded in the request's read or write transaction. The scope is checked first (403), then
# the location (404). The short routes (/location/..., /account/...) are for connections of that level (403).


async def _location(session: AsyncSession, principal: Principal, location_id: str, *, write: bool) -> Location:
    require_scope(principal, write=write)
    return await tenancy.visible_location(session, principal, location_id)


async def _readable_location(location_id: str, principal: Caller, session: ReadSession) -> Location:
    return await _location(session, principal, location_id, write=False)


async def _writable_location(location_id: str, principal: Caller, session: WriteSession) -> Location:
    return await _location(session, principal, location_id, write=True)


async def _connected_readable_location(principal: Caller, session: ReadSession) -> Location:
    return await _location(session, principal, principal.require_location_level(), write=False)


async def _connected_writable_location(principal: Caller, session: WriteSession) -> Location:
    return await _location(session, principal, principal.require_location_level(), write=True)


async def _account(session: AsyncSession, principal: Principal, account_id: str) -> Account:
    require_scope(principal, write=False)
    tenancy.require_account_endpoint(principal, account_id)
    return await tenancy.visible_account(session, principal, account_id)


async def _readable_account(account_id: str, principal: Caller, session: ReadSession) -> Account:
    return await _account(session, principal, account_id)


async def _connected_readable_account(principal: Caller, session: ReadSession) -> Account:
    return await _account(session, principal, principal.require_account_level())


ReadableLocation = Annotated[Location, Depends(_readable_location)]
WritableLocation = Annotated[Location, Depends(_writable_location)]
ConnectedReadableLocation = Annotated[Location, Depends(_connected_readable_location)]
ConnectedWritableLocation = Annotated[Location, Depends(_connected_writable_location)]
ReadableAccount = Annotated[Account, Depends(_readable_account)]
ConnectedReadableAccount = Annotated[Account, Depends(_connected_readable_account)]
