"""Users, accounts and locations: created by operators (CLI), read by connections."""

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import iso4217
import pycountry
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.errors import Forbidden, NotFound
from patronage.formats import zone
from patronage.ids import new_id
from patronage.settings import Settings, get_settings
from patronage.tenancy.models import Account, Location, User


def password_hasher(settings: Settings | None = None) -> PasswordHash:
    """The Argon2id hasher of these settings (by default the process's own, as the CLI and the login page
    use). Verifying needs no settings: a hash carries the cost it was made with."""
    settings = settings or get_settings()
    return _argon2(
        settings.password_hash_time_cost, settings.password_hash_memory_cost, settings.password_hash_parallelism
    )


@lru_cache
def _argon2(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),))


class TenancyError(ValueError):
    """An operator's request that cannot be carried out (bad argument, unknown id...)."""


def check_currency(code: str) -> str:
    try:
        iso4217.Currency(code)
    except ValueError as exc:
        raise TenancyError(f"unknown currency {code!r} (expected an ISO 4217 code such as EUR)") from exc
    return code


def check_country(code: str) -> str:
    if len(code) != 2 or pycountry.countries.get(alpha_2=code.upper()) is None:
        raise TenancyError(f"unknown country {code!r} (expected an ISO 3166-1 alpha-2 code such as FR)")
    return code.upper()


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    # The system's zoneinfo also holds files that are not zones: the server's own clock setting, a placeholder.
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def check_timezone(name: str) -> str:
    if name not in _iana_names():
        raise TenancyError(f"unknown timezone {name!r} (expected an IANA name such as Europe/Paris)")
    zone(name)
    return name


async def create_user(session: AsyncSession, email: str, password: str) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise TenancyError(f"invalid email {email!r}")
    if not password:
        raise TenancyError("the password may not be empty")
    if await session.scalar(select(User.id).where(User.email == email)):
        raise TenancyError(f"a user with email {email!r} already exists")
    user = User(id=new_id(), email=email, password_hash=password_hasher().hash(password))
    session.add(user)
    await session.flush()
    return user


async def find_user(session: AsyncSession, email_or_id: str) -> User:
    user = await session.scalar(
        select(User).where((User.email == email_or_id.strip().lower()) | (User.id == email_or_id))
    )
    if user is None:
        raise TenancyError(f"no user {email_or_id!r}")
    return user


def verify_password(user: User, password: str) -> bool:
    return password_hasher().verify(password, user.password_hash)


async def create_account(
    session: AsyncSession, user: User, name: str, currency: str, country: str, timezone: str
) -> Account:
    if not name.strip():
        raise TenancyError("the account name may not be empty")
    account = Account(
        id=new_id(),
        user_id=user.id,
        name=name.strip(),
        currency=check_currency(currency),
        country=check_country(country),
        timezone=check_timezone(timezone),
    )
    session.add(account)
    await session.flush()
    return account


async def get_account(session: AsyncSession, account_id: str) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise TenancyError(f"no account {account_id!r}")
    return account


async def create_location(
    session: AsyncSession,
    account: Account,
    name: str,
    currency: str | None = None,
    country: str | None = None,
    timezone: str | None = None,
) -> Location:
    if not name.strip():
        raise TenancyError("the location name may not be empty")
    number = await session.scalar(
        update(Account)
        .where(Account.id == account.id)
        .values(last_location_number=Account.last_location_number + 1)
        .returning(Account.last_location_number)
    )
    location = Location(
        id=f"{account.id}-{number}",
        account_id=account.id,
        name=name.strip(),
        currency=check_currency(currency or account.currency),
        country=check_country(country or account.country),
        timezone=check_timezone(timezone or account.timezone),
    )
    session.add(location)
    await session.flush()
    return location


async def get_location(session: AsyncSession, location_id: str) -> Location:
    location = await session.get(Location, location_id)
    if location is None:
        raise TenancyError(f"no location {location_id!r}")
    return location


# --- what a connection may read -------------------------------------------------------------------


def plausible_id(value: str, max_length: int) -> bool:
    """Whether an id from a URL may be looked up at all: one longer than any we issue is simply not found.

    A NUL character never gets here: NulGuardMiddleware answers 404 for a path holding one, and
    ``bodies.json_object`` refuses one in a body (PostgreSQL cannot compare such a string: a 500).
    """
    return 0 < len(value) <= max_length


async def visible_location(session: AsyncSession, principal: Principal, location_id: str) -> Location:
    """A location the connection may address: its own, or any of its account's for account level."""
    if not plausible_id(location_id, 64):
        raise NotFound("Location not found")
    location = await session.get(Location, location_id)
    if location is None or location.account_id != principal.account_id:
        raise NotFound("Location not found")
    if not principal.is_account_level and location.id != principal.location_id:
        raise NotFound("Location not found")
    return location


async def visible_account(session: AsyncSession, principal: Principal, account_id: str) -> Account:
    if account_id != principal.account_id:
        raise NotFound("Account not found")
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("Account not found")
    return account


def require_account_endpoint(principal: Principal, account_id: str) -> None:
    """Account-level endpoints: another account's id is a 404, a location token a 403."""
    if account_id != principal.account_id:
        raise NotFound("Account not found")
    if not principal.is_account_level:
        raise Forbidden("This endpoint is for account-level connections only")


async def visible_locations(session: AsyncSession, principal: Principal) -> list[Location]:
    """Its own location for a location-level connection; every location of the account for account level."""
    stmt = (
        select(Location).where(Location.account_id == principal.account_id).order_by(Location.created_at, Location.id)
    )
    if not principal.is_account_level:
        stmt = stmt.where(Location.id == principal.location_id)
    return list(await session.scalars(stmt))


async def connected_user(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """HubRise's profile scopes: ``profile`` shows who granted the connection, ``profile_with_email`` the email too."""
    if principal.scope.profile is None:
        raise Forbidden("This connection's scope does not include the user's profile")
    user = await session.get(User, principal.user_id) if principal.user_id else None
    if user is None:
        raise NotFound("User not found")
    email = user.email if principal.scope.profile == "profile_with_email" else None
    return {"id": user.id, "first_name": None, "last_name": None, "email": email}


def render_location(location: Location) -> dict[str, Any]:
    return {
        "id": location.id,
        "account_id": location.account_id,
        "name": location.name,
        "currency": location.currency,
        "country": location.country,
        "timezone": location.timezone,
    }


def render_account(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "currency": account.currency,
        "country": account.country,
        "timezone": account.timezone,
    }
