"""Customer lists: retrieve, list, create, rename, delete (seed §1, SPEC §6)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.bodies import parse_model
from patronage.customer_lists import access
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.schemas import CustomerListCreate, CustomerListUpdate
from patronage.errors import Forbidden, field_error
from patronage.formats import render_time
from patronage.ids import new_id
from patronage.pagination import Page, PageRequest, cut_page, keyset
from patronage.tenancy.models import Account, Location


@dataclass(frozen=True)
class ListContext:
    """What rendering a list's resources needs: its timezone and currency."""

    customer_list: CustomerList
    timezone: str
    currency: str


async def context_of(session: AsyncSession, customer_list: CustomerList) -> ListContext:
    """The list's time zone and currency: loaded with the list (``owner_*`` columns), or looked up for a list
    created in this transaction."""
    unloaded = inspect(customer_list).unloaded
    if "owner_timezone" not in unloaded and "owner_currency" not in unloaded:
        return ListContext(customer_list, customer_list.owner_timezone, customer_list.owner_currency)
    owner = (
        await session.get(Location, customer_list.location_id)
        if customer_list.location_id
        else await session.get(Account, customer_list.account_id)
    )
    assert owner is not None
    return ListContext(customer_list, owner.timezone, owner.currency)


def render(customer_list: CustomerList, timezone: str) -> dict[str, Any]:
    return {
        "id": customer_list.id,
        "name": customer_list.name,
        "account_id": customer_list.account_id,
        "location_id": customer_list.location_id,
        "created_at": render_time(customer_list.created_at, timezone),
    }


async def check_name_free(
    session: AsyncSession, account_id: str, location_id: str | None, name: str, exclude_id: str | None
) -> None:
    # Serialise name checks per account (PostgreSQL; SQLite writes are serialised already).
    await session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
    clash = select(CustomerList.id).where(CustomerList.account_id == account_id, CustomerList.name == name)
    if location_id is not None:
        clash = clash.where((CustomerList.location_id == location_id) | CustomerList.location_id.is_(None))
    if exclude_id is not None:
        clash = clash.where(CustomerList.id != exclude_id)
    if await session.scalar(clash.limit(1)):
        raise field_error("name", "is already used by another customer list")


async def retrieve(session: AsyncSession, customer_list: CustomerList) -> dict[str, Any]:
    return render(customer_list, (await context_of(session, customer_list)).timezone)


async def _index(session: AsyncSession, principal: Principal, where: Any, page: PageRequest) -> Page:
    access.require_permission(principal, write=False)
    stmt = (
        select(CustomerList, Location.timezone, Account.timezone)
        .join(Account, Account.id == CustomerList.account_id)
        .outerjoin(Location, Location.id == CustomerList.location_id)
        .where(where, access.visible_filter(principal))
    )
    rows = (await session.execute(keyset(stmt, CustomerList.created_at, CustomerList.id, page))).all()
    result = cut_page(rows, page, key=lambda row: (row[0].created_at, row[0].id))
    result.items = [render(cl, location_tz or account_tz) for cl, location_tz, account_tz in result.items]
    return result


async def index_of_location(session: AsyncSession, principal: Principal, location: Location, page: PageRequest) -> Page:
    """The location's lists and its account's."""
    where = (CustomerList.account_id == location.account_id) & (
        CustomerList.location_id.is_(None) | (CustomerList.location_id == location.id)
    )
    return await _index(session, principal, where, page)


async def index_of_account(session: AsyncSession, principal: Principal, account_id: str, page: PageRequest) -> Page:
    """The account-level lists only."""
    where = (CustomerList.account_id == account_id) & CustomerList.location_id.is_(None)
    return await _index(session, principal, where, page)


async def create(
    session: AsyncSession,
    principal: Principal,
    fields: CustomerListCreate,
    owner: access.ListOwner,
) -> dict[str, Any]:
    access.require_permission(principal, write=True)
    if not principal.scope.allows(access.ALL, write=True):
        raise Forbidden("Creating customer lists needs the all_customer_lists.write scope")
    customer_list = await _add(session, owner.account, owner.location, fields.name)
    return render(customer_list, (owner.location or owner.account).timezone)


async def insert(session: AsyncSession, account: Account, location: Location | None, name: str) -> CustomerList:
    """Creates a list named ``name`` (checked as a body's would be); used by the operator CLI and the demo."""
    return await _add(session, account, location, parse_model(CustomerListCreate, {"name": name}).name)


async def _add(session: AsyncSession, account: Account, location: Location | None, name: str) -> CustomerList:
    await check_name_free(session, account.id, location.id if location else None, name, None)
    customer_list = CustomerList(
        id=new_id(), account_id=account.id, location_id=location.id if location else None, name=name
    )
    session.add(customer_list)
    await session.flush()
    return customer_list


async def update(session: AsyncSession, customer_list: CustomerList, fields: CustomerListUpdate) -> dict[str, Any]:
    timezone = (await context_of(session, customer_list)).timezone
    fields.check_echoed(render(customer_list, timezone))
    name = fields.name
    if name is not None and name != customer_list.name:
        await check_name_free(session, customer_list.account_id, customer_list.location_id, name, customer_list.id)
        customer_list.name = name
        await session.flush()
    return render(customer_list, timezone)


async def delete_list(session: AsyncSession, customer_list: CustomerList) -> dict[str, Any]:
    """Deletes the list with its customers, cards and operations (cascading foreign keys); no event."""
    rendered = render(customer_list, (await context_of(session, customer_list)).timezone)
    await session.execute(delete(CustomerList).where(CustomerList.id == customer_list.id))
    return rendered
