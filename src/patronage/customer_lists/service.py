"""Customer lists: retrieve, list, create, rename, delete (seed §1, SPEC §6)."""

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.bodies import parse_model
from patronage.customer_lists import access
from patronage.customer_lists.models import CustomerList
from patronage.errors import Forbidden, ValidationFailed, field_error
from patronage.formats import render_time
from patronage.ids import new_id
from patronage.pagination import Page, PageRequest, cut_page, keyset
from patronage.readonly import strip_read_only
from patronage.tenancy.models import Account, Location

READ_ONLY = ("id", "account_id", "location_id", "created_at")


class CustomerListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr


@dataclass(frozen=True)
class ListContext:
    """What rendering a list's resources needs: its timezone and currency."""

    customer_list: CustomerList
    timezone: str
    currency: str


async def context_of(session: AsyncSession, customer_list: CustomerList) -> ListContext:
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


def _clean_name(data: dict[str, Any]) -> str:
    name = parse_model(CustomerListIn, data).name.strip()
    if not name:
        raise field_error("name", "can't be blank")
    if len(name) > 255:
        raise field_error("name", "is too long (maximum is 255 characters)")
    if "\x00" in name:
        # PostgreSQL can't store it (a 500 there, while SQLite would keep it): refused on both.
        raise field_error("name", "may not contain NUL characters")
    return name


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


async def retrieve(session: AsyncSession, principal: Principal, customer_list_id: str) -> dict[str, Any]:
    customer_list = await access.visible_list(session, principal, customer_list_id)
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
    data: dict[str, Any],
    *,
    account: Account,
    location: Location | None,
) -> dict[str, Any]:
    access.require_permission(principal, write=True)
    if not principal.scope.allows(access.ALL, write=True):
        raise Forbidden("Creating customer lists needs the all_customer_lists.write scope")
    name = _clean_name(strip_read_only(data, READ_ONLY, None))
    customer_list = await insert(session, account, location, name)
    return render(customer_list, (location or account).timezone)


async def insert(session: AsyncSession, account: Account, location: Location | None, name: str) -> CustomerList:
    """Creates a list after the name checks; also used by the operator CLI."""
    name = _clean_name({"name": name})
    await check_name_free(session, account.id, location.id if location else None, name, None)
    customer_list = CustomerList(
        id=new_id(), account_id=account.id, location_id=location.id if location else None, name=name
    )
    session.add(customer_list)
    await session.flush()
    return customer_list


async def _changeable(session: AsyncSession, principal: Principal, customer_list_id: str) -> CustomerList:
    customer_list = await access.visible_list(session, principal, customer_list_id, write=True)
    if not access.may_change_list(principal, customer_list):
        raise Forbidden("A location-level connection may not change its account's customer lists")
    return customer_list


async def update(
    session: AsyncSession, principal: Principal, customer_list_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    customer_list = await _changeable(session, principal, customer_list_id)
    timezone = (await context_of(session, customer_list)).timezone
    fields = strip_read_only(data, READ_ONLY, render(customer_list, timezone))
    unknown = sorted(set(fields) - {"name"})
    if unknown:
        raise ValidationFailed([{"field": field, "message": "is not a known field"} for field in unknown])
    if "name" in fields:
        name = _clean_name(fields)
        if name != customer_list.name:
            await check_name_free(session, customer_list.account_id, customer_list.location_id, name, customer_list.id)
            customer_list.name = name
            await session.flush()
    return render(customer_list, timezone)


async def delete_list(session: AsyncSession, principal: Principal, customer_list_id: str) -> dict[str, Any]:
    """Deletes the list with its customers, cards and operations (cascading foreign keys); no event."""
    customer_list = await _changeable(session, principal, customer_list_id)
    rendered = render(customer_list, (await context_of(session, customer_list)).timezone)
    await session.execute(delete(CustomerList).where(CustomerList.id == customer_list.id))
    return rendered
