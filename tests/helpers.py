"""What tests share: an HTTP client bound to a token, a tenant that makes lists and tokens, and the contract's
own lists (spelled out here, not imported from the code under test)."""

import secrets
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from patronage.auth import service as auth
from patronage.customer_lists import service as lists
from patronage.db import Database
from patronage.tenancy import service as tenancy

# What anonymising a customer nulls, spelled out from SPEC §7 (here, not imported from the code under test).
ANONYMISED_FIELDS = [
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "latitude",
    "longitude",
    "delivery_notes",
]


async def admin_execute(admin_url: str, statement: str) -> None:
    url = make_url(admin_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


class Api:
    """An HTTP client bound to one access token."""

    def __init__(self, http: httpx.AsyncClient, token: str | None):
        self.http = http
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"X-Access-Token": self.token} if self.token else {}
        return {**headers, **(extra or {})}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self._headers(kwargs.pop("headers", None))
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, json=json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)


@dataclass
class Tenant:
    """A user with one account, two locations, and a client; makes lists and tokens on demand."""

    db: Database
    http: httpx.AsyncClient
    account_id: str
    location_id: str
    other_location_id: str
    client_id: str
    client_name: str
    extra: dict[str, Any] = field(default_factory=dict)

    async def customer_list(self, name: str | None = None, *, location_id: str | None = "default") -> str:
        """A location-level list (default: the first location); ``location_id=None`` for account level."""
        if location_id == "default":
            location_id = self.location_id
        async with self.db.session(write=True) as session:
            account = await tenancy.get_account(session, self.account_id)
            location = await tenancy.get_location(session, location_id) if location_id else None
            created = await lists.insert(session, account, location, name or f"List {secrets.token_hex(3)}")
            return created.id

    async def token(
        self,
        scope: str,
        *,
        location_id: str | None = "default",
        customer_list_id: str | None = None,
        client_id: str | None = None,
    ) -> str:
        if location_id == "default":
            location_id = self.location_id if scope.startswith("location") else None
        async with self.db.session(write=True) as session:
            account = await tenancy.get_account(session, self.account_id)
            location = await tenancy.get_location(session, location_id) if location_id else None
            bound = None
            if customer_list_id:
                from patronage.customer_lists.models import CustomerList

                bound = await session.get(CustomerList, customer_list_id)
            answer = await auth.connect(
                session,
                await auth.get_client(session, client_id or self.client_id),
                account=account,
                location=location,
                scope_text=scope,
                customer_list=bound,
            )
            return answer["access_token"]

    async def api(self, scope: str, **kwargs: Any) -> Api:
        return Api(self.http, await self.token(scope, **kwargs))

    async def new_client(self, name: str = "Other app") -> str:
        async with self.db.session(write=True) as session:
            return (await auth.create_client(session, name, [])).client.id


async def make_tenant(
    db: Database, http: httpx.AsyncClient, *, currency: str = "EUR", timezone: str = "Europe/Paris"
) -> Tenant:
    async with db.session(write=True) as session:
        user = await tenancy.create_user(session, f"owner-{secrets.token_hex(6)}@example.com", "secret")
        account = await tenancy.create_account(session, user, "Burger Co", currency, "FR", timezone)
        first = await tenancy.create_location(session, account, "Paris Bastille")
        second = await tenancy.create_location(session, account, "Lyon Part-Dieu")
        client_name = f"POS {secrets.token_hex(3)}"
        client = (await auth.create_client(session, client_name, [])).client
        return Tenant(db, http, account.id, first.id, second.id, client.id, client_name)
