"""What a route under /location(s) or /account(s) declares it needs: the location or account the connection
addresses, loaded in the request's read transaction (404 when the connection may not address it)."""

from typing import Annotated

from fastapi import Depends

from patronage.deps import Caller, ReadSession, WriteSession
from patronage.tenancy.models import Account, Location
from patronage.tenancy.service import (
    require_account_endpoint,
    require_location_write,
    visible_account,
    visible_location,
)


async def _location(location_id: str, principal: Caller, session: ReadSession) -> Location:
    return await visible_location(session, principal, location_id)


async def _connected_location(principal: Caller, session: ReadSession) -> Location:
    """/location/...: a location-level connection's own location (403 for an account-level one)."""
    return await visible_location(session, principal, principal.require_location_level())


async def _changeable_location(location_id: str, principal: Caller, session: WriteSession) -> Location:
    """PATCH /locations/{location_id}: a location the connection addresses (404), with a write scope (403),
    locked in the request's write transaction."""
    location = await visible_location(session, principal, location_id, for_update=True)
    require_location_write(principal)
    return location


async def _changeable_connected_location(principal: Caller, session: WriteSession) -> Location:
    return await _changeable_location(principal.require_location_level(), principal, session)


async def _account(account_id: str, principal: Caller, session: ReadSession) -> Account:
    return await visible_account(session, principal, account_id)


async def _connected_account(principal: Caller, session: ReadSession) -> Account:
    """/account/...: an account-level connection's own account (403 for a location-level one)."""
    return await visible_account(session, principal, principal.require_account_level())


async def _own_account(principal: Caller, session: ReadSession) -> Account:
    """The connection's account, whatever its level."""
    return await visible_account(session, principal, principal.account_id)


async def _account_level_endpoint(account_id: str, principal: Caller) -> str:
    """/accounts/{account_id}/...: only for the connection's own account (404), at account level (403).
    Nothing is loaded: the id is the connection's own."""
    require_account_endpoint(principal, account_id)
    return account_id


async def _connected_account_level_endpoint(principal: Caller) -> str:
    return principal.require_account_level()


VisibleLocation = Annotated[Location, Depends(_location)]
ConnectedLocation = Annotated[Location, Depends(_connected_location)]
ChangeableLocation = Annotated[Location, Depends(_changeable_location)]
ChangeableConnectedLocation = Annotated[Location, Depends(_changeable_connected_location)]
VisibleAccount = Annotated[Account, Depends(_account)]
ConnectedAccount = Annotated[Account, Depends(_connected_account)]
OwnAccount = Annotated[Account, Depends(_own_account)]
# The id of the account an account-level endpoint acts on.
AccountLevelId = Annotated[str, Depends(_account_level_endpoint)]
ConnectedAccountLevelId = Annotated[str, Depends(_connected_account_level_endpoint)]
