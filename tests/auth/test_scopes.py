"""Access levels and scopes (SPEC §6): who sees which customer lists, locations and accounts, and who may write."""

import asyncio
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from helpers import Api, Tenant
from patronage.app import create_app
from patronage.auth import service as auth
from patronage.auth.models import Connection
from patronage.customer_lists.models import CustomerList
from patronage.db import utcnow
from patronage.routing import all_routes
from patronage.settings import Settings
from patronage.tenancy import service as tenancy
from patronage.tenancy.service import TenancyError


@dataclass
class Lists:
    """One tenant's lists: two in the first location, one in the second, one at account level."""

    here: str
    here_too: str
    there: str
    shared: str


async def _lists(tenant: Tenant) -> Lists:
    return Lists(
        here=await tenant.customer_list("Here"),
        here_too=await tenant.customer_list("Here too"),
        there=await tenant.customer_list("There", location_id=tenant.other_location_id),
        shared=await tenant.customer_list("Shared", location_id=None),
    )


def _assert_forbidden(response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error_type"] == "forbidden"
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"message", "error_type", "errors"}


def _assert_not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error_type"] == "not_found"


async def _sees(api: Api, list_id: str) -> bool:
    response = await api.get(f"/v1/customer_lists/{list_id}")
    if response.status_code == 404:
        assert response.json()["error_type"] == "not_found"
        return False
    assert response.status_code == 200, response.text
    assert response.json()["id"] == list_id
    return True


async def _renames(api: Api, list_id: str) -> int:
    response = await api.patch(f"/v1/customer_lists/{list_id}", json={"name": f"Renamed {list_id}"})
    if response.status_code == 403:
        _assert_forbidden(response)
    elif response.status_code == 404:
        _assert_not_found(response)
    return response.status_code


# --- which lists a token sees ----------------------------------------------------------------------------

# For each scope: (token level, bound list or None) -> the lists of the tenant it sees.
VISIBILITY = [
    ("location[all_customer_lists.read]", None, {"here", "here_too", "shared"}),
    ("location[all_customer_lists.write]", None, {"here", "here_too", "shared"}),
    ("account[all_customer_lists.read]", None, {"here", "here_too", "there", "shared"}),
    ("account[all_customer_lists.write]", None, {"here", "here_too", "there", "shared"}),
    ("location[customer_list.read]", "here", {"here"}),
    ("location[customer_list.write]", "here", {"here"}),
    ("location[customer_list.read]", "shared", {"shared"}),
    ("account[customer_list.read]", "there", {"there"}),
    ("account[customer_list.write]", "shared", {"shared"}),
]


@pytest.mark.parametrize("scope, bound, visible", VISIBILITY)
async def test_which_lists_a_token_sees(tenant: Tenant, scope: str, bound: str | None, visible: set[str]) -> None:
    lists = await _lists(tenant)
    api = await tenant.api(scope, customer_list_id=getattr(lists, bound) if bound else None)
    seen = {name for name, list_id in vars(lists).items() if await _sees(api, list_id)}
    assert seen == visible
    # The location index shows what the token sees among the location's and account's lists.
    by_name = {list_id: name for name, list_id in vars(lists).items()}
    index = await api.get(f"/v1/locations/{tenant.location_id}/customer_lists")
    assert {by_name[item["id"]] for item in index.json()} == visible & {"here", "here_too", "shared"}


@pytest.mark.parametrize(
    "scope, bound",
    [("location[customer_list.read]", "here"), ("location[customer_list.write]", "shared")],
)
async def test_a_bound_token_gets_404_for_other_lists_of_its_location(tenant: Tenant, scope: str, bound: str) -> None:
    lists = await _lists(tenant)
    api = await tenant.api(scope, customer_list_id=getattr(lists, bound))
    for other in (lists.here_too, lists.there, lists.here if bound == "shared" else lists.shared):
        _assert_not_found(await api.get(f"/v1/customer_lists/{other}"))
        _assert_not_found(await api.get(f"/v1/customer_lists/{other}/customers"))
        _assert_not_found(await api.post(f"/v1/customer_lists/{other}/customers", json={}))
        _assert_not_found(await api.patch(f"/v1/customer_lists/{other}", json={"name": "Mine"}))
        _assert_not_found(await api.delete(f"/v1/customer_lists/{other}"))
    assert [item["id"] for item in (await api.get("/v1/location/customer_lists")).json()] == [getattr(lists, bound)]


async def test_a_location_token_does_not_reach_another_location(tenant: Tenant) -> None:
    lists = await _lists(tenant)
    api = await tenant.api("location[all_customer_lists.write]")
    _assert_not_found(await api.get(f"/v1/locations/{tenant.other_location_id}/customer_lists"))
    _assert_not_found(await api.post(f"/v1/locations/{tenant.other_location_id}/customer_lists", json={"name": "X"}))
    _assert_not_found(await api.get(f"/v1/customer_lists/{lists.there}"))
    _assert_not_found(await api.patch(f"/v1/customer_lists/{lists.there}", json={"name": "Mine"}))
    _assert_not_found(await api.delete(f"/v1/customer_lists/{lists.there}"))
    _assert_not_found(await api.post(f"/v1/customer_lists/{lists.there}/customers", json={}))
    account = await tenant.api("account[all_customer_lists.read]")
    assert (await account.get(f"/v1/customer_lists/{lists.there}")).json()["name"] == "There"


async def test_account_index_is_for_account_tokens(tenant: Tenant, other_tenant: Tenant) -> None:
    """Each level's short endpoints refuse the other level (403); another tenant's ids: the permission tables."""
    lists = await _lists(tenant)
    location = await tenant.api("location[all_customer_lists.write]")
    _assert_forbidden(await location.get(f"/v1/accounts/{tenant.account_id}/customer_lists"))
    _assert_forbidden(await location.get("/v1/account/customer_lists"))
    _assert_forbidden(await location.post(f"/v1/accounts/{tenant.account_id}/customer_lists", json={"name": "X"}))
    _assert_forbidden(await location.post("/v1/account/customer_lists", json={"name": "X"}))
    account = await tenant.api("account[all_customer_lists.write]")
    _assert_forbidden(await account.get("/v1/location/customer_lists"))
    _assert_forbidden(await account.post("/v1/location/customer_lists", json={"name": "X"}))
    assert [item["id"] for item in (await account.get("/v1/account/customer_lists")).json()] == [lists.shared]
    # None of the refused creates made a list.
    names = {item["name"] for item in (await account.get(f"/v1/locations/{tenant.location_id}/customer_lists")).json()}
    assert names == {"Here", "Here too", "Shared"}
    foreign = await other_tenant.api("account[all_customer_lists.read]")
    assert (await foreign.get("/v1/account/customer_lists")).json() == []


# --- what a token may change ------------------------------------------------------------------------------

# Renaming each list: 200, 403 (sees it but may not change it) or 404 (does not see it).
RENAMES = [
    ("location[all_customer_lists.read]", None, {"here": 403, "here_too": 403, "there": 404, "shared": 403}),
    ("location[all_customer_lists.write]", None, {"here": 200, "here_too": 200, "there": 404, "shared": 403}),
    ("account[all_customer_lists.read]", None, {"here": 403, "here_too": 403, "there": 403, "shared": 403}),
    ("account[all_customer_lists.write]", None, {"here": 200, "here_too": 200, "there": 200, "shared": 200}),
    ("location[customer_list.read]", "here", {"here": 403, "here_too": 404, "there": 404, "shared": 404}),
    ("location[customer_list.write]", "here", {"here": 200, "here_too": 404, "there": 404, "shared": 404}),
    ("location[customer_list.write]", "shared", {"here": 404, "here_too": 404, "there": 404, "shared": 403}),
    ("account[customer_list.write]", "there", {"here": 404, "here_too": 404, "there": 200, "shared": 404}),
    ("account[customer_list.write]", "shared", {"here": 404, "here_too": 404, "there": 404, "shared": 200}),
]


@pytest.mark.parametrize("scope, bound, expected", RENAMES)
async def test_who_may_rename_which_list(tenant: Tenant, scope: str, bound: str | None, expected: dict) -> None:
    lists = await _lists(tenant)
    api = await tenant.api(scope, customer_list_id=getattr(lists, bound) if bound else None)
    reader = await tenant.api("account[all_customer_lists.read]")
    statuses = {name: await _renames(api, list_id) for name, list_id in vars(lists).items()}
    assert statuses == expected
    for name, list_id in vars(lists).items():
        renamed = (await reader.get(f"/v1/customer_lists/{list_id}")).json()["name"].startswith("Renamed")
        assert renamed == (expected[name] == 200), name


@pytest.mark.parametrize("scope, bound, expected", RENAMES)
async def test_who_may_delete_which_list(tenant: Tenant, scope: str, bound: str | None, expected: dict) -> None:
    lists = await _lists(tenant)
    api = await tenant.api(scope, customer_list_id=getattr(lists, bound) if bound else None)
    reader = await tenant.api("account[all_customer_lists.read]")
    for name, list_id in vars(lists).items():
        response = await api.delete(f"/v1/customer_lists/{list_id}")
        assert response.status_code == expected[name], (name, response.text)
        still_there = (await reader.get(f"/v1/customer_lists/{list_id}")).status_code == 200
        assert still_there == (expected[name] != 200), name
        if response.status_code == 403:
            _assert_forbidden(response)


# Creating lists needs all_customer_lists.write (location: in the location only; account: anywhere).
CREATES = [
    ("location[all_customer_lists.read]", None, {"location": 403, "other_location": 404, "account": 403}),
    ("location[all_customer_lists.write]", None, {"location": 201, "other_location": 404, "account": 403}),
    ("account[all_customer_lists.read]", None, {"location": 403, "other_location": 403, "account": 403}),
    ("account[all_customer_lists.write]", None, {"location": 201, "other_location": 201, "account": 201}),
    ("location[customer_list.write]", "here", {"location": 403, "other_location": 404, "account": 403}),
    ("account[customer_list.write]", "shared", {"location": 403, "other_location": 403, "account": 403}),
]


@pytest.mark.parametrize("scope, bound, expected", CREATES)
async def test_who_may_create_lists_where(tenant: Tenant, scope: str, bound: str | None, expected: dict) -> None:
    lists = await _lists(tenant)
    api = await tenant.api(scope, customer_list_id=getattr(lists, bound) if bound else None)
    paths = {
        "location": f"/v1/locations/{tenant.location_id}/customer_lists",
        "other_location": f"/v1/locations/{tenant.other_location_id}/customer_lists",
        "account": f"/v1/accounts/{tenant.account_id}/customer_lists",
    }
    statuses = {}
    for where, path in paths.items():
        response = await api.post(path, json={"name": f"New in {where}"})
        statuses[where] = response.status_code
        if response.status_code == 403:
            _assert_forbidden(response)
    assert statuses == expected
    reader = await tenant.api("account[all_customer_lists.read]")
    everything = [
        item["name"]
        for location_id in (tenant.location_id, tenant.other_location_id)
        for item in (await reader.get(f"/v1/locations/{location_id}/customer_lists")).json()
    ]
    made = {where for where in paths if f"New in {where}" in everything}
    assert made == {where for where, status in expected.items() if status == 201}


# location[all_customer_lists.read] on every write: the permission tables (tests/<feature>/test_*_permissions.py).
@pytest.mark.parametrize(
    "scope, bound",
    [
        ("account[all_customer_lists.read]", None),
        ("location[customer_list.read]", "here"),
        ("account[customer_list.read]", "shared"),
    ],
)
async def test_a_read_scope_reads_but_never_writes(tenant: Tenant, scope: str, bound: str | None) -> None:
    lists = await _lists(tenant)
    list_id = getattr(lists, bound) if bound else lists.here
    writer = await tenant.api("account[all_customer_lists.write]")
    customer = (await writer.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Ann"})).json()
    api = await tenant.api(scope, customer_list_id=getattr(lists, bound) if bound else None)
    base = f"/v1/customer_lists/{list_id}"
    assert (await api.get(base)).status_code == 200
    assert [c["id"] for c in (await api.get(f"{base}/customers")).json()] == [customer["id"]]
    assert (await api.get(f"{base}/customers/{customer['id']}")).json()["first_name"] == "Ann"
    assert (await api.get(f"{base}/loyalty_cards")).status_code == 200
    for method, path, body in (
        ("PATCH", base, {"name": "Mine"}),
        ("PUT", base, {"name": "Mine"}),
        ("DELETE", base, None),
        ("POST", f"{base}/customers", {"first_name": "Bob"}),
        ("PATCH", f"{base}/customers/{customer['id']}", {"first_name": "Bob"}),
        ("POST", f"{base}/customers/{customer['id']}/anonymise", None),
        ("POST", f"{base}/loyalty_cards", {"customer_id": customer["id"]}),
    ):
        response = await api.request(method, path, json=body)
        _assert_forbidden(response)
        assert "read-only" in response.json()["message"] or "may not" in response.json()["message"], response.text
    unchanged = (await writer.get(f"{base}/customers/{customer['id']}")).json()
    assert unchanged["first_name"] == "Ann" and unchanged["anonymised"] is False
    assert (await writer.get(f"{base}/loyalty_cards")).json() == []
    assert (await writer.get(base)).json()["name"] != "Mine"


@pytest.mark.parametrize("bound", ["here", "shared"])
async def test_a_bound_write_token_writes_customers_in_its_list(tenant: Tenant, bound: str) -> None:
    lists = await _lists(tenant)
    list_id = getattr(lists, bound)
    api = await tenant.api("location[customer_list.write]", customer_list_id=list_id)
    created = await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Ann"})
    assert created.status_code == 201
    card = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": created.json()["id"]})
    assert card.status_code == 201


async def test_a_location_write_token_writes_customers_in_its_account_lists(tenant: Tenant) -> None:
    """It may not rename or delete the account's lists (SPEC §6), but it sees them and writes in them."""
    lists = await _lists(tenant)
    api = await tenant.api("location[all_customer_lists.write]")
    created = await api.post(f"/v1/customer_lists/{lists.shared}/customers", json={"first_name": "Ann"})
    assert created.status_code == 201
    _assert_forbidden(await api.patch(f"/v1/customer_lists/{lists.shared}", json={"name": "Mine"}))
    _assert_forbidden(await api.delete(f"/v1/customer_lists/{lists.shared}"))


# Orders scopes without list permissions: the permission tables.
@pytest.mark.parametrize("scope", ["location[]", "location[catalog.write,inventory.write]"])
async def test_a_scope_without_customer_list_permissions_gets_403_on_lists(tenant: Tenant, scope: str) -> None:
    lists = await _lists(tenant)
    api = await tenant.api(scope)
    for method, path in (
        ("GET", f"/v1/customer_lists/{lists.here}"),
        ("GET", f"/v1/customer_lists/{lists.here}/customers"),
        ("GET", f"/v1/locations/{tenant.location_id}/customer_lists"),
        ("POST", f"/v1/locations/{tenant.location_id}/customer_lists"),
        ("PATCH", f"/v1/customer_lists/{lists.here}"),
        ("DELETE", f"/v1/customer_lists/{lists.here}"),
    ):
        _assert_forbidden(await api.request(method, path, json={"name": "X"} if method != "GET" else None))
    level_index = "/v1/account/customer_lists" if scope.startswith("account") else "/v1/location/customer_lists"
    _assert_forbidden(await api.get(level_index))


# --- locations and accounts --------------------------------------------------------------------------------

LEVEL_SCOPES = [
    "location[all_customer_lists.read]",
    "location[customer_list.read]",
    "location[orders.read]",
    "account[all_customer_lists.write]",
    "account[customer_list.write]",
    "account[orders.write],profile",
]


@pytest.mark.parametrize("scope", LEVEL_SCOPES)
async def test_locations_and_accounts_each_level_reads(tenant: Tenant, other_tenant: Tenant, scope: str) -> None:
    list_id = await tenant.customer_list(location_id=None)
    api = await tenant.api(scope, customer_list_id=list_id if "customer_list." in scope else None)
    account_level = scope.startswith("account")
    statuses = {
        path: (await api.get(path)).status_code
        for path in (
            "/v1/location",
            f"/v1/locations/{tenant.location_id}",
            f"/v1/locations/{tenant.other_location_id}",
            f"/v1/locations/{other_tenant.location_id}",
            "/v1/account",
            f"/v1/accounts/{tenant.account_id}",
            f"/v1/accounts/{other_tenant.account_id}",
        )
    }
    assert statuses == {
        "/v1/location": 403 if account_level else 200,
        f"/v1/locations/{tenant.location_id}": 200,
        f"/v1/locations/{tenant.other_location_id}": 200 if account_level else 404,
        f"/v1/locations/{other_tenant.location_id}": 404,
        "/v1/account": 200 if account_level else 403,
        f"/v1/accounts/{tenant.account_id}": 200,
        f"/v1/accounts/{other_tenant.account_id}": 404,
    }
    account = (await api.get(f"/v1/accounts/{tenant.account_id}")).json()
    assert account == {
        "id": tenant.account_id,
        "name": "Burger Co",
        "currency": "EUR",
        "country": "FR",
        "timezone": {"name": "Europe/Paris", "offset": account["timezone"]["offset"]},
    }
    assert account["timezone"]["offset"] in (3600, 7200)
    if account_level:
        assert (await api.get("/v1/account")).json() == account
        lyon = (await api.get(f"/v1/locations/{tenant.other_location_id}")).json()
        assert lyon["name"] == "Lyon Part-Dieu" and lyon["account_id"] == tenant.account_id
    else:
        assert (await api.get("/v1/location")).json()["id"] == tenant.location_id
        _assert_forbidden(await api.get("/v1/account"))


@pytest.mark.parametrize("bad_id", ["%00", "x%00", "y" * 300])
async def test_unknown_location_and_account_ids_are_404(tenant: Tenant, bad_id: str) -> None:
    api = await tenant.api("account[all_customer_lists.write]")
    for method, path in (
        ("GET", f"/v1/locations/{bad_id}"),
        ("GET", f"/v1/locations/{bad_id}/customer_lists"),
        ("POST", f"/v1/locations/{bad_id}/customer_lists"),
        ("GET", f"/v1/accounts/{bad_id}"),
        ("GET", f"/v1/accounts/{bad_id}/customer_lists"),
        ("POST", f"/v1/accounts/{bad_id}/customer_lists"),
    ):
        response = await api.request(method, path, json={"name": "X"} if method == "POST" else None)
        _assert_not_found(response)


# --- tokens --------------------------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/v1/customer_lists/{list}"),
    ("PATCH", "/v1/customer_lists/{list}"),
    ("PUT", "/v1/customer_lists/{list}"),
    ("DELETE", "/v1/customer_lists/{list}"),
    ("GET", "/v1/locations/{location}/customer_lists"),
    ("POST", "/v1/locations/{location}/customer_lists"),
    ("GET", "/v1/location/customer_lists"),
    ("POST", "/v1/location/customer_lists"),
    ("GET", "/v1/accounts/{account}/customer_lists"),
    ("POST", "/v1/accounts/{account}/customer_lists"),
    ("GET", "/v1/account/customer_lists"),
    ("POST", "/v1/account/customer_lists"),
    ("GET", "/v1/location"),
    ("GET", "/v1/locations/{location}"),
    ("GET", "/v1/account"),
    ("GET", "/v1/accounts/{account}"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS)
async def test_missing_unknown_and_revoked_tokens_are_401_everywhere(tenant: Tenant, method: str, path: str) -> None:
    list_id = await tenant.customer_list("Kept")
    path = path.format(list=list_id, location=tenant.location_id, account=tenant.account_id)
    revoked = await tenant.api("account[all_customer_lists.write]")
    async with tenant.db.session(write=True) as session:
        await session.execute(
            update(Connection)
            .where(Connection.account_id == tenant.account_id, Connection.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    body = {"name": "Intruder"} if method != "GET" else None
    for token in (None, "", "0" * 32, "not a token", revoked.token):
        response = await Api(tenant.http, token).request(method, path, json=body)
        assert response.status_code == 401, (token, response.text)
        assert response.json()["error_type"] == "unauthorized"
        assert "Traceback" not in response.text
    unknown = await Api(tenant.http, "0" * 32).request(method, path, json=body)
    assert unknown.json() == {
        "message": "The access token is invalid or the connection has been revoked",
        "error_type": "unauthorized",
    }
    async with tenant.db.session(write=False) as session:
        assert (await session.get(CustomerList, list_id)).name == "Kept"


# --- orders scopes beside customer list scopes (SPEC §8) ------------------------------------------------------


async def test_orders_write_with_a_bound_read_list(tenant: Tenant) -> None:
    lists = await _lists(tenant)
    writer = await tenant.api("account[all_customer_lists.write]")
    customer = (await writer.post(f"/v1/customer_lists/{lists.here}/customers", json={"first_name": "Ann"})).json()
    api = await tenant.api("location[orders.write,customer_list.read]", customer_list_id=lists.here)
    assert (await api.get(f"/v1/customer_lists/{lists.here}/customers/{customer['id']}")).status_code == 200
    _assert_forbidden(await api.post(f"/v1/customer_lists/{lists.here}/customers", json={}))
    _assert_not_found(await api.get(f"/v1/customer_lists/{lists.here_too}"))
    order = await api.post("/v1/location/orders", json={"status": "new", "customer_id": customer["id"]})
    assert order.status_code == 201, order.text
    assert order.json()["customer_list_id"] == lists.here
    assert [o["id"] for o in (await api.get("/v1/location/orders")).json()] == [order.json()["id"]]
    updated = await api.patch(f"/v1/location/orders/{order.json()['id']}", json={"status": "accepted"})
    assert updated.status_code == 200 and updated.json()["status"] == "accepted"
    # Order statistics show up on the customer it can read.
    seen = (await api.get(f"/v1/customer_lists/{lists.here}/customers/{customer['id']}")).json()
    assert seen["nb_orders"] == 1


# location[orders.read,all_customer_lists.write] and location[all_customer_lists.write] on orders: the orders
# permission table.
@pytest.mark.parametrize("scope", ["location[customer_list.write]", "account[all_customer_lists.read]"])
async def test_customer_list_scopes_alone_do_not_reach_orders(tenant: Tenant, scope: str) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(scope, customer_list_id=list_id if "customer_list." in scope else None)
    orders = (
        f"/v1/accounts/{tenant.account_id}/orders"
        if scope.startswith("account")
        else f"/v1/locations/{tenant.location_id}/orders"
    )
    _assert_forbidden(await api.get(orders))
    _assert_forbidden(await api.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new"}))


async def test_orders_scopes_with_account_level_list_scopes(tenant: Tenant) -> None:
    api = await tenant.api("account[orders.write,all_customer_lists.write,catalog.read],profile_with_email")
    created = await api.post("/v1/account/customer_lists", json={"name": "Everyone"})
    assert created.status_code == 201
    order = await api.post(f"/v1/locations/{tenant.other_location_id}/orders", json={"status": "new"})
    assert order.status_code == 201
    assert [o["id"] for o in (await api.get("/v1/account/orders")).json()] == [order.json()["id"]]


# --- scopes are checked when the connection is made ------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        "",
        "location",
        "location[",
        "location[orders.read",
        "store[orders.read]",
        "Location[orders.read]",
        "location[orders.delete]",
        "location[orders]",
        "location[customers.read]",
        "location[customer_lists.read]",
        "location[all_customer_lists.admin]",
        "location[orders.read],email",
        "location[orders.read],profile,profile",
        "location[orders.read]account[orders.read]",
        "location[orders.read][customer_list.read]",
        "location[orders.read,]",
        "location[,orders.read]",
        "location[orders.read,,customer_list.read]",
        "location[,]",
    ],
)
async def test_malformed_scopes_are_refused_at_connection_time(tenant: Tenant, scope: str) -> None:
    with pytest.raises(TenancyError):
        await tenant.token(scope, location_id=tenant.location_id)


@pytest.mark.parametrize(
    "scope",
    [
        "location[orders.read]",
        "location[orders.read,orders.write],profile",
        "location[ all_customer_lists.read , catalog.read , inventory.write ]",
        "location[all_customer_lists.write],profile_with_email",
    ],
)
async def test_well_formed_scopes_are_accepted(tenant: Tenant, scope: str) -> None:
    api = await tenant.api(scope)
    assert (await api.get("/v1/location")).status_code == 200


async def _connect(tenant: Tenant, scope: str, *, location_id: str | None, customer_list_id: str | None = None):
    async with tenant.db.session(write=True) as session:
        account = await tenancy.get_account(session, tenant.account_id)
        location = await tenancy.get_location(session, location_id) if location_id else None
        bound = await session.get(CustomerList, customer_list_id) if customer_list_id else None
        return await auth.connect(
            session,
            await auth.get_client(session, tenant.client_id),
            account=account,
            location=location,
            scope_text=scope,
            customer_list=bound,
        )


async def test_grants_must_fit_their_scope(tenant: Tenant, other_tenant: Tenant) -> None:
    lists = await _lists(tenant)
    foreign = await other_tenant.customer_list(location_id=None)
    refused = [
        ("location[orders.read]", None, None),  # a location scope needs a location
        ("account[orders.read]", tenant.location_id, None),  # an account scope is granted on the account
        ("location[customer_list.read]", tenant.location_id, None),  # the bound list is missing
        ("location[all_customer_lists.read]", tenant.location_id, lists.here),  # a list without customer_list.*
        ("location[customer_list.read]", tenant.location_id, lists.there),  # another location's list
        ("location[customer_list.read]", tenant.location_id, foreign),  # another account's list
        ("account[customer_list.read]", None, foreign),
    ]
    for scope, location_id, list_id in refused:
        with pytest.raises(TenancyError):
            await _connect(tenant, scope, location_id=location_id, customer_list_id=list_id)
    answer = await _connect(
        tenant, "location[customer_list.write]", location_id=tenant.location_id, customer_list_id=lists.shared
    )
    assert answer["customer_list_id"] == lists.shared and answer["customer_list_name"] == "Shared"
    assert answer["location_id"] == tenant.location_id and answer["account_id"] == tenant.account_id
    answer = await _connect(tenant, "account[customer_list.read]", location_id=None, customer_list_id=lists.there)
    assert answer["customer_list_id"] == lists.there and answer["location_id"] is None


async def test_a_bound_token_whose_list_is_deleted_sees_nothing(tenant: Tenant) -> None:
    lists = await _lists(tenant)
    bound = await tenant.api("location[customer_list.write]", customer_list_id=lists.here)
    admin = await tenant.api("account[all_customer_lists.write]")
    assert (await admin.delete(f"/v1/customer_lists/{lists.here}")).status_code == 200
    assert (await bound.get("/v1/location/customer_lists")).json() == []
    _assert_not_found(await bound.get(f"/v1/customer_lists/{lists.here}"))
    _assert_not_found(await bound.post(f"/v1/customer_lists/{lists.here}/customers", json={}))
    # Its scope does not fall back to any other list.
    for other in (lists.here_too, lists.shared):
        _assert_not_found(await bound.get(f"/v1/customer_lists/{other}"))
        _assert_not_found(await bound.post(f"/v1/customer_lists/{other}/customers", json={}))
    assert (await bound.get("/v1/location")).status_code == 200


async def test_a_revoked_token_is_refused_once_the_processes_token_cache_expires(
    tenant: Tenant, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"auth_cache_seconds": 0.3}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://patronage.test") as http:
        api = Api(http, await tenant.token("location[all_customer_lists.read]"))
        assert (await api.get("/v1/location")).status_code == 200
        async with tenant.db.session(write=True) as session:
            await session.execute(
                update(Connection).where(Connection.account_id == tenant.account_id).values(revoked_at=utcnow())
            )
        await asyncio.sleep(0.4)
        assert (await api.get("/v1/location")).status_code == 401
    await app.state.db.dispose()


# --- every route has a permission table -----------------------------------------------------------------------


def _permission_tables() -> set[tuple[str, str]]:
    rows = set()
    for path in sorted(Path(__file__).parents[1].glob("*/test_*_permissions.py")):
        spec = importlib.util.spec_from_file_location(f"permission_table_{path.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rows |= {(endpoint.method, endpoint.path) for endpoint in module.ENDPOINTS}
    return rows


def test_every_v1_route_is_in_a_permission_table(app) -> None:
    """A new endpoint cannot be left out of the four-caller tables (tests/<feature>/test_*_permissions.py)."""
    routes = {
        (method, route.path)
        for route in all_routes(app.router.routes)
        if getattr(route, "path", "").startswith("/v1/")
        for method in route.methods
    }
    tables = _permission_tables()
    assert routes - tables == set(), "routes without a row in a permission table"
    assert tables - routes == set(), "rows naming no route"
