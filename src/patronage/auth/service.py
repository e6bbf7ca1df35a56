"""OAuth clients and connections, as the operator CLI (and later the OAuth server) creates them."""

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from patronage import sealing
from patronage.auth.models import Client, Connection
from patronage.auth.scopes import InvalidScope, parse_scope
from patronage.customer_lists.models import CustomerList
from patronage.ids import hash_secret, new_id, new_token
from patronage.tenancy.models import Account, Location, User
from patronage.tenancy.service import TenancyError


@dataclass
class NewClient:
    client: Client
    secret: str


async def create_client(session: AsyncSession, name: str, redirect_uris: list[str]) -> NewClient:
    if not name.strip():
        raise TenancyError("the client name may not be empty")
    client_id = f"{secrets.randbelow(10**12):012d}.clients.patronage"
    secret = secrets.token_hex(16)
    client = Client(
        id=client_id,
        name=name.strip(),
        secret_hash=hash_secret(secret),
        secret_sealed=await sealing.seal(session, secret),
        redirect_uris=redirect_uris,
    )
    session.add(client)
    await session.flush()
    return NewClient(client, secret)


async def get_client(session: AsyncSession, client_id: str) -> Client:
    client = await session.get(Client, client_id)
    if client is None:
        raise TenancyError(f"no client {client_id!r}")
    return client


async def connect(
    session: AsyncSession,
    client: Client,
    *,
    account: Account,
    location: Location | None,
    scope_text: str,
    customer_list: CustomerList | None = None,
    device_id: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """Grant ``client`` access to a location or an account; returns the token answer (token shown once).
    ``token``: the one to issue (OAuth derives it), else a new random one."""
    try:
        scope = parse_scope(scope_text)
    except InvalidScope as exc:
        raise TenancyError(str(exc)) from exc
    if scope.level == "location" and location is None:
        raise TenancyError("a location[...] scope needs a location")
    if scope.level == "account" and location is not None:
        raise TenancyError("an account[...] scope is granted on an account, not a location")
    bound = any(p.startswith("customer_list.") for p in scope.permissions)
    if bound and customer_list is None:
        raise TenancyError("a customer_list.* scope needs the customer list it is bound to")
    if customer_list is not None:
        if not bound:
            raise TenancyError("a customer list is only bound to connections with a customer_list.* scope")
        reachable = customer_list.account_id == account.id and (
            location is None or customer_list.location_id in (None, location.id)
        )
        if not reachable:
            raise TenancyError(f"customer list {customer_list.id!r} is not reachable from this grant")
    user = await session.get(User, account.user_id)
    assert user is not None
    token = token or new_token()
    connection = Connection(
        id=new_id(),
        client_id=client.id,
        user_id=user.id,
        account_id=account.id,
        location_id=location.id if location else None,
        access_level=scope.level,
        scope=str(scope),
        customer_list_id=customer_list.id if customer_list else None,
        device_id=device_id,
        token_hash=hash_secret(token),
    )
    session.add(connection)
    await session.flush()
    return token_answer(connection, token, account, location, customer_list)


def token_answer(
    connection: Connection,
    token: str,
    account: Account,
    location: Location | None,
    customer_list: CustomerList | None,
) -> dict[str, Any]:
    """What the OAuth token endpoint, and ``patronage admin connect``, answer for a connection: HubRise's
    fields (authentication.md 3.2), ``user_id`` and ``app_instance_id`` (HubRise's Ruby client reads both),
    then Patronage's own ``connection_id`` and ``scope``. An app instance is HubRise's name for a connection."""
    return {
        "access_token": token,
        "token_type": "Bearer",
        "account_id": account.id,
        "location_id": location.id if location else None,
        "catalog_id": None,
        "customer_list_id": customer_list.id if customer_list else None,
        "account_name": account.name,
        "location_name": location.name if location else None,
        "catalog_name": None,
        "customer_list_name": customer_list.name if customer_list else None,
        "user_id": connection.user_id,
        "app_instance_id": connection.id,
        "connection_id": connection.id,
        "scope": connection.scope,
    }
