"""Users, accounts and locations: created by operators (CLI), read by connections."""

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import iso4217
import pycountry
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import custom_fields
from patronage.auth.principal import Principal
from patronage.db import utcnow
from patronage.errors import Forbidden, NotFound, ValidationFailed
from patronage.formats import in_utc, render_time, zone
from patronage.ids import new_id
from patronage.settings import Settings, get_settings
from patronage.tenancy.models import Account, Location, User
from patronage.tenancy.schemas import LocationUpdate, slot_minutes


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


async def visible_location(
    session: AsyncSession, principal: Principal, location_id: str, *, for_update: bool = False
) -> Location:
    """A location the connection may address: its own, or any of its account's for account level."""
    if not plausible_id(location_id, 64):
        raise NotFound("Location not found")
    location = await session.get(Location, location_id, with_for_update=for_update)
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
    """HubRise's profile scopes: ``profile`` shows who granted the connection, ``profile_with_email`` the email too
    (without it the key is absent, as in HubRise's reference)."""
    if principal.scope.profile is None:
        raise Forbidden("This connection's scope does not include the user's profile")
    user = await session.get(User, principal.user_id) if principal.user_id else None
    if user is None:
        raise NotFound("User not found")
    # Users keep no time zone: the connection's location's (or account's) is the one they work in.
    place = await session.get(Location, principal.location_id) if principal.location_id else None
    place = place or await session.get(Account, principal.account_id)
    body: dict[str, Any] = {"id": user.id, "first_name": None, "last_name": None}
    if principal.scope.profile == "profile_with_email":
        body["email"] = user.email
    return {**body, "timezone": render_timezone(place.timezone if place else "UTC"), "locales": []}


def render_timezone(name: str) -> dict[str, Any]:
    """HubRise's Timezone; ``offset`` (deprecated there) is the offset in seconds now."""
    offset = datetime.now(zone(name)).utcoffset()
    return {"name": name, "offset": int(offset.total_seconds()) if offset else 0}


def render_order_acceptance(location: Location) -> dict[str, Any]:
    """Online unless set otherwise; a ``resume_at`` that has passed reads online again, as HubRise reverts it."""
    stored = location.order_acceptance
    resume_at = datetime.fromisoformat(stored["resume_at"]) if stored and stored.get("resume_at") else None
    if not stored or stored["mode"] == "online" or (resume_at and resume_at <= utcnow()):
        return {"mode": "online"}
    body = {"mode": stored["mode"], "resume_at": render_time(resume_at, location.timezone)}
    if stored["mode"] == "busy":
        return {**body, "extra_preparation_time": stored["extra_preparation_time"]}
    return {**body, "reason": stored.get("reason")}


def render_location(location: Location, account: Account) -> dict[str, Any]:
    """HubRise's Location (accounts.md); Patronage keeps no address. ``account_id`` and ``currency`` are
    Patronage's own, kept from before."""
    return {
        "id": location.id,
        "name": location.name,
        "account": render_account(account),
        "address": None,
        "postal_code": None,
        "city": None,
        "country": location.country,
        "timezone": render_timezone(location.timezone),
        "cutoff_time": location.cutoff_time,
        "opening_hours": location.opening_hours,
        "preparation_time": location.preparation_time,
        "order_acceptance": render_order_acceptance(location),
        "custom_fields": location.custom_fields or {},
        "account_id": location.account_id,
        "currency": location.currency,
    }


async def location_answer(session: AsyncSession, location: Location) -> dict[str, Any]:
    account = await session.get(Account, location.account_id)
    assert account is not None  # a location's account is deleted with it
    return render_location(location, account)


def render_account(account: Account) -> dict[str, Any]:
    """HubRise's Account (``id, name, currency``), with Patronage's ``country`` and ``timezone``."""
    return {
        "id": account.id,
        "name": account.name,
        "currency": account.currency,
        "country": account.country,
        "timezone": render_timezone(account.timezone),
    }


# --- updating a location ----------------------------------------------------------------------------------


def require_location_write(principal: Principal) -> None:
    """Updating a location needs a write permission of any resource (HubRise's access levels: location or
    account; a read-only scope may read the location, not change it)."""
    if not any(permission.endswith(".write") for permission in principal.scope.permissions):
        raise Forbidden("This connection's scope is read-only: updating the location needs a write permission")


def _check_opening_hours(hours: dict[str, list[dict[str, str]]], cutoff: str) -> None:
    """``to`` follows ``from`` once both are read from the cutoff on; slots of a day do not overlap."""
    errors = []
    for day, slots in hours.items():
        spans = []
        for index, slot in enumerate(slots):
            start, end = slot_minutes(slot, cutoff)
            if end <= start:
                errors.append(
                    {
                        "field": f"opening_hours.{day}.{index}.to",
                        "message": f"must follow 'from' (times before the cutoff {cutoff} end the day before)",
                    }
                )
            spans.append((start, end, index))
        spans.sort()
        for (_, end, _), (start, _, index) in zip(spans, spans[1:], strict=False):
            if start < end:
                errors.append({"field": f"opening_hours.{day}.{index}", "message": "overlaps another time slot"})
    if errors:
        raise ValidationFailed(errors)


async def update_location(session: AsyncSession, location: Location, fields: LocationUpdate) -> dict[str, Any]:
    """Only the fields sent change; opening hours are checked against the cutoff they will have."""
    fields.check_echoed(await location_answer(session, location))
    sent = fields.model_fields_set
    cutoff = fields.cutoff_time if "cutoff_time" in sent else location.cutoff_time
    if "opening_hours" in sent:
        hours = fields.opening_hours.model_dump(by_alias=True, exclude_none=True) if fields.opening_hours else None
    else:
        hours = location.opening_hours
    if hours:
        _check_opening_hours(hours, cutoff)
    location.cutoff_time = cutoff
    location.opening_hours = hours
    if "preparation_time" in sent:
        location.preparation_time = fields.preparation_time
    if "order_acceptance" in sent:
        acceptance = fields.order_acceptance.model_dump(exclude_none=True)
        if acceptance.get("resume_at"):
            acceptance["resume_at"] = in_utc(acceptance["resume_at"], location.timezone).isoformat()
        location.order_acceptance = acceptance
    if "custom_fields" in sent:
        location.custom_fields = custom_fields.merge(
            location.custom_fields or {}, fields.custom_fields, reset=fields.custom_fields is None
        )
    await session.flush()
    return await location_answer(session, location)
