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


async def resources(tenant: Tenant) -> dict[str, str]:
    """One of each resource in the tenant's first location (a list, a customer, a card with an operation, an
    order), by the name of the route parameter that names it."""
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    customer = (await api.post(f"{base}/customers", json={"first_name": "Ann"})).json()["id"]
    card = (await api.post(f"{base}/loyalty_cards", json={"customer_id": customer})).json()["id"]
    operation = (await api.post(f"{base}/loyalty_cards/{card}/operations", json={"delta": "5"})).json()["id"]
    order = (await api.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new"})).json()["id"]
    return {
        "account_id": tenant.account_id,
        "location_id": tenant.location_id,
        "customer_list_id": list_id,
        "customer_id": customer,
        "loyalty_card_id": card,
        "operation_id": operation,
        "order_id": order,
    }


@dataclass(frozen=True)
class Endpoint:
    """One row of a permission table (SPEC §6): a route (its path as the app declares it, the ``{parameters}``
    filled from the tenant's ids) and what four callers get from it. ``scope`` may call it: ``status``; a token of
    the same tenant with ``lacking`` gets ``refused``, and ``lacking=None`` means any connection may; a token of
    another tenant with ``scope`` gets ``foreign``, by default a 404 on this tenant's ids, or, on a path naming
    none (``/location/...``), ``status`` for its own resources, none of this tenant's showing."""

    method: str
    path: str
    scope: str
    lacking: str | None
    body: Any = None
    status: int = 200
    refused: int = 403
    foreign: int | None = None


ERROR_TYPES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


def _expect(response: httpx.Response, status: int, who: str) -> None:
    assert response.status_code == status, (who, response.request.method, response.request.url.path, response.text)
    if status in ERROR_TYPES:
        assert response.json()["error_type"] == ERROR_TYPES[status], (who, response.text)


async def check_permissions(
    endpoint: Endpoint,
    tenant: Tenant,
    other_tenant: Tenant,
    ids: dict[str, str],
    *,
    allowed: Api | None = None,
    lacking: Api | None = None,
) -> None:
    """The four callers side by side: anonymous (401), lacking the permission (``refused``), another tenant
    (``foreign``), allowed (``status``; last, as it may delete what the others were refused). ``allowed`` and
    ``lacking`` replace the tokens made from the endpoint's scopes (for resources owned by one connection)."""
    path = endpoint.path.format(**ids)
    body = endpoint.body
    if isinstance(body, dict):  # a body may name ids too: {"customer_id": "{customer_id}"}
        body = {key: value.format(**ids) if isinstance(value, str) else value for key, value in body.items()}

    _expect(await Api(tenant.http, None).request(endpoint.method, path, json=body), 401, "anonymous")
    if lacking is None and endpoint.lacking is not None:
        lacking = await tenant.api(endpoint.lacking)
    if lacking is not None:
        _expect(await lacking.request(endpoint.method, path, json=body), endpoint.refused, "lacking")
    names_ids = "{" in endpoint.path
    foreign = await other_tenant.api(endpoint.scope)
    answer = await foreign.request(endpoint.method, path, json=body)
    _expect(answer, endpoint.foreign or (404 if names_ids else endpoint.status), "other tenant")
    for value in ids.values():
        assert f'"{value}"' not in answer.text, ("other tenant", answer.text)
    allowed = allowed or await tenant.api(endpoint.scope)
    _expect(await allowed.request(endpoint.method, path, json=body), endpoint.status, "allowed")
