"""Which customer lists a connection sees and may change (SPEC §6)."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import Row, Select, and_, false, or_
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.customer_lists.models import CustomerList
from patronage.deps import Caller, ReadSession, WriteSession
from patronage.errors import Forbidden, NotFound
from patronage.tenancy import service as tenancy
from patronage.tenancy.access import AccountLevelId, ConnectedAccountLevelId
from patronage.tenancy.models import Account, Location

ALL = "all_customer_lists"
BOUND = "customer_list"


def require_permission(principal: Principal, *, write: bool) -> None:
    scope = principal.scope
    if scope.allows(ALL, write=write) or scope.allows(BOUND, write=write):
        return
    if write and (scope.allows(ALL, write=False) or scope.allows(BOUND, write=False)):
        raise Forbidden("This connection's scope is read-only for customer lists")
    raise Forbidden("This connection's scope does not include customer lists")


def _reachable_through_all(principal: Principal, customer_list: CustomerList) -> bool:
    return customer_list.account_id == principal.account_id and (
        principal.is_account_level or customer_list.location_id in (None, principal.location_id)
    )


def sees(principal: Principal, customer_list: CustomerList) -> bool:
    scope = principal.scope
    if scope.allows(ALL, write=False) and _reachable_through_all(principal, customer_list):
        return True
    return scope.allows(BOUND, write=False) and customer_list.id == principal.customer_list_id


def may_write_in(principal: Principal, customer_list: CustomerList) -> bool:
    """Writing the list's content (customers, cards, operations)."""
    scope = principal.scope
    if scope.allows(ALL, write=True) and _reachable_through_all(principal, customer_list):
        return True
    return scope.allows(BOUND, write=True) and customer_list.id == principal.customer_list_id


def may_change_list(principal: Principal, customer_list: CustomerList) -> bool:
    """Renaming or deleting the list itself: a location token may not touch its account's lists."""
    return may_write_in(principal, customer_list) and (
        principal.is_account_level or customer_list.location_id == principal.location_id
    )


def visible_filter(principal: Principal):
    """The SQL condition matching every list the connection sees."""
    scope = principal.scope
    conditions = []
    if scope.allows(ALL, write=False):
        if principal.is_account_level:
            conditions.append(CustomerList.account_id == principal.account_id)
        else:
            conditions.append(
                and_(
                    CustomerList.account_id == principal.account_id,
                    or_(
                        CustomerList.location_id.is_(None),
                        CustomerList.location_id == principal.location_id,
                    ),
                )
            )
    if scope.allows(BOUND, write=False) and principal.customer_list_id:
        conditions.append(CustomerList.id == principal.customer_list_id)
    return or_(*conditions) if conditions else false()


async def visible_list(
    session: AsyncSession, principal: Principal, customer_list_id: str, *, write: bool = False
) -> CustomerList:
    """The list, if the connection sees it (404 otherwise); with ``write``, 403 unless it may write in it.
    A list the session already holds (read by ``row_in_visible_list``) costs no query."""
    require_permission(principal, write=False)
    plausible = tenancy.plausible_id(customer_list_id, 64)
    customer_list = await session.get(CustomerList, customer_list_id) if plausible else None
    return _checked(principal, customer_list, write=write)


def _checked(principal: Principal, customer_list: CustomerList | None, *, write: bool) -> CustomerList:
    if customer_list is None or not sees(principal, customer_list):
        raise NotFound("Customer list not found")
    if write and not may_write_in(principal, customer_list):
        raise Forbidden("This connection may not write in this customer list")
    return customer_list


def with_list(stmt: Select, list_column: Any, customer_list_id: str) -> Select:
    """``stmt`` (a row of the list's content) with the list itself as its last column, in one statement."""
    return (
        stmt.add_columns(CustomerList)
        .join(CustomerList, CustomerList.id == list_column)
        .where(list_column == customer_list_id)
    )


async def row_in_visible_list(
    session: AsyncSession,
    principal: Principal,
    customer_list_id: str,
    stmt: Select,
    *,
    write: bool = False,
    missing: str,
) -> Row:
    """The row of ``with_list(stmt, ...)``, if the connection sees its list: the list and its content read in one
    round trip instead of two, with the same answers as ``visible_list`` followed by the content's lookup (the
    list's 404 or 403 first, then ``missing`` as a 404). The list stays in the session, so a ``ReadableList`` or
    ``WritableList`` resolved after it is answered without a query."""
    require_permission(principal, write=False)
    if not tenancy.plausible_id(customer_list_id, 64):
        raise NotFound("Customer list not found")
    row = (await session.execute(stmt)).first()
    if row is None:
        await visible_list(session, principal, customer_list_id, write=write)
        raise NotFound(missing)
    # The session's identity map holds its objects weakly: the list is kept alive here for the request, so that
    # session.get finds it there.
    session.info.setdefault("lists", []).append(_checked(principal, row[-1], write=write))
    return row


# What a route under /customer_lists/{customer_list_id} declares it needs: the list, seen by the caller
# (404 otherwise), loaded in the request's read or write transaction.


async def _readable_list(customer_list_id: str, principal: Caller, session: ReadSession) -> CustomerList:
    return await visible_list(session, principal, customer_list_id)


async def _writable_list(customer_list_id: str, principal: Caller, session: WriteSession) -> CustomerList:
    return await visible_list(session, principal, customer_list_id, write=True)


ReadableList = Annotated[CustomerList, Depends(_readable_list)]
WritableList = Annotated[CustomerList, Depends(_writable_list)]


async def _changeable_list(customer_list: WritableList, principal: Caller) -> CustomerList:
    if not may_change_list(principal, customer_list):
        raise Forbidden("A location-level connection may not change its account's customer lists")
    return customer_list


# Renaming or deleting the list itself.
ChangeableList = Annotated[CustomerList, Depends(_changeable_list)]


# Where a new list goes, loaded in the request's write transaction: a location (location-level list) or an
# account (account-level list). 404 when the connection may not address it; the scope is the service's.


@dataclass(frozen=True)
class ListOwner:
    account: Account
    location: Location | None


async def _owner_location(location_id: str, principal: Caller, session: WriteSession) -> ListOwner:
    location = await tenancy.visible_location(session, principal, location_id)
    return ListOwner(await tenancy.visible_account(session, principal, location.account_id), location)


async def _owner_connected_location(principal: Caller, session: WriteSession) -> ListOwner:
    return await _owner_location(principal.require_location_level(), principal, session)


async def _owner_account(account_id: AccountLevelId, principal: Caller, session: WriteSession) -> ListOwner:
    return ListOwner(await tenancy.visible_account(session, principal, account_id), None)


async def _owner_connected_account(
    account_id: ConnectedAccountLevelId, principal: Caller, session: WriteSession
) -> ListOwner:
    return ListOwner(await tenancy.visible_account(session, principal, account_id), None)


LocationForNewList = Annotated[ListOwner, Depends(_owner_location)]
ConnectedLocationForNewList = Annotated[ListOwner, Depends(_owner_connected_location)]
AccountForNewList = Annotated[ListOwner, Depends(_owner_account)]
ConnectedAccountForNewList = Annotated[ListOwner, Depends(_owner_connected_account)]
