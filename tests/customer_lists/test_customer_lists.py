"""Customer lists (seed §1, SPEC §3, §6, §7): retrieve, list, create, update, delete, names, pages, idempotency."""

import asyncio
from datetime import datetime, timedelta

import jsonschema
import pytest
from sqlalchemy import update

from helpers import Api, Tenant
from patronage.customer_lists.models import CustomerList
from patronage.customer_lists.schemas import CustomerListOut
from patronage.pagination import encode_cursor
from patronage.routing import Error
from patronage.tenancy import service as tenancy

LOCATION_WRITE = "location[all_customer_lists.write]"
ACCOUNT_WRITE = "account[all_customer_lists.write]"
LIST_KEYS = {"id", "name", "account_id", "location_id", "created_at"}


def _location_lists(location_id: str) -> str:
    return f"/v1/locations/{location_id}/customer_lists"


def _account_lists(account_id: str) -> str:
    return f"/v1/accounts/{account_id}/customer_lists"


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


async def _create(api: Api, path: str, name: str, **kwargs) -> dict:
    response = await api.post(path, json={"name": name}, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def _assert_name_error(response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_type"] == "unprocessable_entity"
    assert body["message"] == "Validation failed"
    assert [error["field"] for error in body["errors"]] == ["name"]


# --- retrieve ------------------------------------------------------------------------------------------


async def test_retrieve_a_location_list_in_the_location_timezone(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.read]")
    list_id = await tenant.customer_list("Online customers")
    async with tenant.db.session(write=True) as session:
        await session.execute(
            update(CustomerList).where(CustomerList.id == list_id).values(created_at=datetime(2020, 6, 25, 9, 43, 51))
        )
    response = await api.get(f"/v1/customer_lists/{list_id}")
    assert response.status_code == 200
    assert response.json() == {
        "id": list_id,
        "name": "Online customers",
        "account_id": tenant.account_id,
        "location_id": tenant.location_id,
        "created_at": "2020-06-25T11:43:51+02:00",  # Europe/Paris in summer
    }


async def test_retrieve_an_account_list_in_the_account_timezone(other_tenant: Tenant) -> None:
    api = await other_tenant.api("account[all_customer_lists.read]")
    list_id = await other_tenant.customer_list("Everyone", location_id=None)
    async with other_tenant.db.session(write=True) as session:
        await session.execute(
            update(CustomerList).where(CustomerList.id == list_id).values(created_at=datetime(2020, 1, 18, 15, 12, 2))
        )
    body = (await api.get(f"/v1/customer_lists/{list_id}")).json()
    assert body["location_id"] is None and body["account_id"] == other_tenant.account_id
    assert body["created_at"] == "2020-01-18T15:12:02+00:00"  # Europe/London in winter


async def test_times_follow_the_owner_timezone_when_location_and_account_differ(tenant: Tenant) -> None:
    async with tenant.db.session(write=True) as session:
        account = await tenancy.get_account(session, tenant.account_id)
        new_york = (await tenancy.create_location(session, account, "New York", timezone="America/New_York")).id
    api = await tenant.api(ACCOUNT_WRITE)
    local = await _create(api, _location_lists(new_york), "Manhattan")
    shared = await _create(api, "/v1/account/customer_lists", "Everyone")
    assert local["created_at"].endswith(("-04:00", "-05:00"))
    assert shared["created_at"].endswith(("+01:00", "+02:00"))
    listed = (await api.get(_location_lists(new_york))).json()
    assert [(item["id"], item["created_at"]) for item in listed] == [
        (shared["id"], shared["created_at"]),
        (local["id"], local["created_at"]),
    ]
    assert (await api.get(f"/v1/customer_lists/{local['id']}")).json()["created_at"] == local["created_at"]
    renamed = await api.patch(f"/v1/customer_lists/{local['id']}", json={"name": "Brooklyn"})
    assert renamed.json()["created_at"] == local["created_at"]


@pytest.mark.parametrize("list_id", ["nosuchlist", "%00", "a%00b", "x" * 300, "%C3%A9t%C3%A9"])
async def test_an_unknown_list_is_404(tenant: Tenant, list_id: str) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    for method in ("GET", "PATCH", "PUT", "DELETE"):
        response = await api.request(method, f"/v1/customer_lists/{list_id}", json=None if method == "GET" else {})
        assert response.status_code == 404, (method, response.text)
        assert response.json()["error_type"] == "not_found"


# --- list ----------------------------------------------------------------------------------------------


async def test_location_index_has_the_location_and_account_lists_newest_first(tenant: Tenant) -> None:
    mine = await tenant.customer_list("Online")
    shared = await tenant.customer_list("Everyone", location_id=None)
    elsewhere = await tenant.customer_list("Lyon only", location_id=tenant.other_location_id)
    newest = await tenant.customer_list("POS")
    for level in ("location", "account"):
        api = await tenant.api(f"{level}[all_customer_lists.read]")
        listed = await api.get(_location_lists(tenant.location_id))
        assert _ids(listed) == [newest, shared, mine]
        assert all(set(item) == LIST_KEYS for item in listed.json())
        assert "X-Cursor-Next" not in listed.headers
    location_api = await tenant.api("location[all_customer_lists.read]")
    assert _ids(await location_api.get("/v1/location/customer_lists")) == [newest, shared, mine]
    account_api = await tenant.api("account[all_customer_lists.read]")
    assert _ids(await account_api.get(_location_lists(tenant.other_location_id))) == [elsewhere, shared]


async def test_account_index_has_only_the_account_level_lists(tenant: Tenant) -> None:
    await tenant.customer_list("Online")
    first = await tenant.customer_list("Everyone", location_id=None)
    await tenant.customer_list("Lyon only", location_id=tenant.other_location_id)
    second = await tenant.customer_list("Newsletter", location_id=None)
    api = await tenant.api("account[all_customer_lists.read]")
    assert _ids(await api.get(_account_lists(tenant.account_id))) == [second, first]
    assert _ids(await api.get("/v1/account/customer_lists")) == [second, first]


async def test_indexes_of_a_new_account_are_empty(tenant: Tenant) -> None:
    api = await tenant.api("account[all_customer_lists.read]")
    assert (await api.get(_account_lists(tenant.account_id))).json() == []
    assert (await api.get(_location_lists(tenant.location_id))).json() == []


async def test_pagination_of_customer_lists(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.read]")
    created = [await tenant.customer_list(f"List {n}") for n in range(3)]
    created.append(await tenant.customer_list("Shared", location_id=None))
    created.append(await tenant.customer_list("List 4"))
    # Two lists with the same created_at: ties are broken by id, descending, and no list is lost or repeated.
    start = datetime(2024, 1, 1, 12, 0, 0)
    stamps = [start, start + timedelta(seconds=1), start + timedelta(seconds=1), start + timedelta(seconds=2)]
    stamps.append(start + timedelta(seconds=3))
    async with tenant.db.session(write=True) as session:
        for list_id, stamp in zip(created, stamps, strict=True):
            await session.execute(update(CustomerList).where(CustomerList.id == list_id).values(created_at=stamp))
    tied = sorted(created[1:3], reverse=True)
    expected = [created[4], created[3], *tied, created[0]]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"count": "2", **({"cursor": cursor} if cursor else {})}
        page = await api.get("/v1/location/customer_lists", params=params)
        seen += _ids(page)
        pages += 1
        cursor = page.headers.get("X-Cursor-Next")
        if cursor is None:
            break
        assert len(page.json()) == 2
    assert seen == expected
    assert pages == 3

    # Exactly count results: the page is full but there is no next one.
    exact = await api.get("/v1/location/customer_lists", params={"count": "5"})
    assert _ids(exact) == expected and "X-Cursor-Next" not in exact.headers


@pytest.mark.parametrize(
    "params, field",
    [
        ({"count": "0"}, "count"),
        ({"count": "101"}, "count"),
        ({"count": "-1"}, "count"),
        ({"count": "ten"}, "count"),
        ({"count": "2.5"}, "count"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": ""}, "cursor"),
    ],
)
async def test_bad_page_parameters_are_422(tenant: Tenant, params: dict, field: str) -> None:
    api = await tenant.api("account[all_customer_lists.read]")
    await tenant.customer_list(location_id=None)
    for path in (_location_lists(tenant.location_id), _account_lists(tenant.account_id)):
        response = await api.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "values",
    [("x", "y"), (datetime(2020, 1, 1), 5), (5, "abc"), (datetime(2020, 1, 1),), (datetime(2020, 1, 1), "a", "b")],
)
async def test_a_well_signed_cursor_of_the_wrong_shape_is_422(tenant: Tenant, values: tuple) -> None:
    """The cursor checksum is no secret: a hand-made cursor must be a 422 too, never a 500."""
    api = await tenant.api("account[all_customer_lists.read]")
    await tenant.customer_list(location_id=None)
    for path in (_location_lists(tenant.location_id), _account_lists(tenant.account_id)):
        response = await api.get(path, params={"cursor": encode_cursor(*values)})
        assert response.status_code == 422, (values, response.text)
        assert response.json()["errors"][0]["field"] == "cursor"


async def test_a_cursor_of_the_account_index_continues_the_account_index(tenant: Tenant) -> None:
    api = await tenant.api("account[all_customer_lists.read]")
    for n in range(3):
        await tenant.customer_list(f"Account {n}", location_id=None)
        await tenant.customer_list(f"Location {n}")
    first = await api.get("/v1/account/customer_lists", params={"count": "2"})
    second = await api.get(
        "/v1/account/customer_lists", params={"count": "2", "cursor": first.headers["X-Cursor-Next"]}
    )
    names = [item["name"] for item in first.json() + second.json()]
    assert names == ["Account 2", "Account 1", "Account 0"]
    assert "X-Cursor-Next" not in second.headers


# --- create --------------------------------------------------------------------------------------------


async def test_create_a_location_list(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    response = await api.post(_location_lists(tenant.location_id), json={"name": "Web customers"})
    assert response.status_code == 201
    created = response.json()
    assert created == {
        "id": created["id"],
        "name": "Web customers",
        "account_id": tenant.account_id,
        "location_id": tenant.location_id,
        "created_at": created["created_at"],
    }
    assert created["created_at"].endswith(("+01:00", "+02:00"))
    assert (await api.get(f"/v1/customer_lists/{created['id']}")).json() == created
    short = await _create(api, "/v1/location/customer_lists", "POS customers")
    assert short["location_id"] == tenant.location_id
    assert _ids(await api.get("/v1/location/customer_lists")) == [short["id"], created["id"]]


async def test_an_account_token_creates_account_lists_and_lists_in_any_location(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    account_list = await _create(api, _account_lists(tenant.account_id), "Everyone")
    assert account_list["location_id"] is None and account_list["account_id"] == tenant.account_id
    short = await _create(api, "/v1/account/customer_lists", "Newsletter")
    assert short["location_id"] is None
    in_lyon = await _create(api, _location_lists(tenant.other_location_id), "Lyon walk-ins")
    assert in_lyon["location_id"] == tenant.other_location_id
    assert _ids(await api.get("/v1/account/customer_lists")) == [short["id"], account_list["id"]]
    assert _ids(await api.get(_location_lists(tenant.other_location_id))) == [
        in_lyon["id"],
        short["id"],
        account_list["id"],
    ]


async def test_name_is_trimmed(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", "  Web customers \t")
    assert created["name"] == "Web customers"
    assert (await api.get(f"/v1/customer_lists/{created['id']}")).json()["name"] == "Web customers"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": None},
        {"name": 42},
        {"name": ["Web"]},
        {"name": {"fr": "Web"}},
        {"name": True},
        {"name": "x" * 256},
        {"name": "Web\u0000"},
    ],
    ids=["missing", "empty", "blank", "null", "number", "list", "object", "boolean", "too-long", "nul"],
)
async def test_invalid_names_on_create_are_422(tenant: Tenant, body: dict) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    for path in (_location_lists(tenant.location_id), _account_lists(tenant.account_id)):
        _assert_name_error(await api.post(path, json=body))
    assert (await api.get(_location_lists(tenant.location_id))).json() == []


async def test_the_longest_name_is_255_characters_after_trimming(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", " " + "é" * 255 + " ")
    assert created["name"] == "é" * 255


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"name": "Web", "colour": "red"}, ["colour"]),
        ({"name": "Web", "id": "abcde"}, ["id"]),
        ({"name": "Web", "location_id": None}, ["location_id"]),
        ({"name": "Web", "created_at": "2020-06-25T11:43:51+02:00"}, ["created_at"]),
        ({"colour": "red"}, ["colour", "name"]),
    ],
)
async def test_unknown_and_read_only_fields_on_create_are_422(tenant: Tenant, body: dict, fields: list[str]) -> None:
    api = await tenant.api(LOCATION_WRITE)
    response = await api.post("/v1/location/customer_lists", json=body)
    assert response.status_code == 422
    assert sorted(error["field"] for error in response.json()["errors"]) == fields
    assert (await api.get("/v1/location/customer_lists")).json() == []


async def test_a_body_that_is_not_an_object_is_422_and_not_json_is_400(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    not_object = await api.post("/v1/location/customer_lists", json=["Web"])
    assert not_object.status_code == 422
    malformed = await api.post(
        "/v1/location/customer_lists", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    wrong_type = await api.post(
        "/v1/location/customer_lists", content=b"name=Web", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415


# --- names are unique (SPEC §6) ------------------------------------------------------------------------


async def test_location_names_are_unique_within_the_location(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    await _create(api, _location_lists(tenant.location_id), "Online")
    duplicate = await api.post(_location_lists(tenant.location_id), json={"name": "Online"})
    _assert_name_error(duplicate)
    # Compared after trimming.
    _assert_name_error(await api.post(_location_lists(tenant.location_id), json={"name": " Online "}))
    # Compared exactly otherwise.
    assert (await api.post(_location_lists(tenant.location_id), json={"name": "online"})).status_code == 201
    assert (await api.post(_location_lists(tenant.location_id), json={"name": "Online!"})).status_code == 201
    # Another location may have its own "Online".
    assert (await api.post(_location_lists(tenant.other_location_id), json={"name": "Online"})).status_code == 201
    names = [item["name"] for item in (await api.get(_location_lists(tenant.location_id))).json()]
    assert sorted(names) == ["Online", "Online!", "online"]


async def test_an_account_name_may_not_equal_any_list_name_of_the_account(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    await _create(api, _location_lists(tenant.other_location_id), "Lyon walk-ins")
    await _create(api, _account_lists(tenant.account_id), "Everyone")
    # Same as a location-level list of any location.
    _assert_name_error(await api.post(_account_lists(tenant.account_id), json={"name": "Lyon walk-ins"}))
    # Same as another account-level list.
    _assert_name_error(await api.post("/v1/account/customer_lists", json={"name": "Everyone"}))
    # And the pair can't be made the other way round: a location list named like an account list.
    _assert_name_error(await api.post(_location_lists(tenant.location_id), json={"name": "Everyone"}))
    assert len((await api.get(_account_lists(tenant.account_id))).json()) == 1


async def test_names_of_another_account_do_not_clash(tenant: Tenant, other_tenant: Tenant) -> None:
    await other_tenant.customer_list("Everyone", location_id=None)
    await other_tenant.customer_list("Online")
    api = await tenant.api(ACCOUNT_WRITE)
    await _create(api, "/v1/account/customer_lists", "Everyone")
    await _create(api, "/v1/account/customer_lists", "Online")


async def test_a_deleted_list_frees_its_name(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    first = await _create(api, "/v1/location/customer_lists", "Online")
    assert (await api.delete(f"/v1/customer_lists/{first['id']}")).status_code == 200
    await _create(api, "/v1/location/customer_lists", "Online")


async def test_concurrent_creates_with_one_name_make_one_list(tenant: Tenant) -> None:
    apis = [await tenant.api(ACCOUNT_WRITE) for _ in range(4)]
    # Several rounds: the first may be serialised by connections still being opened.
    for name in ("Rush 1", "Rush 2", "Rush 3"):
        responses = await asyncio.gather(
            *(api.post("/v1/account/customer_lists", json={"name": name}) for api in apis),
            *(api.post(_location_lists(tenant.location_id), json={"name": name}) for api in apis),
        )
        assert sorted(response.status_code for response in responses) == [201] + [422] * 7, name
    listed = (await apis[0].get(_location_lists(tenant.location_id))).json()
    assert sorted(item["name"] for item in listed) == ["Rush 1", "Rush 2", "Rush 3"]


# --- update --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_rename_a_list(tenant: Tenant, method: str) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", "Online")
    response = await api.request(method, f"/v1/customer_lists/{created['id']}", json={"name": " New customers "})
    assert response.status_code == 200
    assert response.json() == {**created, "name": "New customers"}
    assert (await api.get(f"/v1/customer_lists/{created['id']}")).json() == {**created, "name": "New customers"}


async def test_rename_through_method_override(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", "Online")
    response = await api.post(
        f"/v1/customer_lists/{created['id']}", json={"name": "Renamed"}, headers={"X-Http-Method-Override": "PATCH"}
    )
    assert response.status_code == 200 and response.json()["name"] == "Renamed"


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_an_update_without_name_changes_nothing(tenant: Tenant, method: str) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", "Online")
    for body in ({}, None):
        response = await api.request(method, f"/v1/customer_lists/{created['id']}", json=body)
        assert response.status_code == 200
        assert response.json() == created


async def test_an_update_may_echo_read_only_fields(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", "Online")
    response = await api.patch(f"/v1/customer_lists/{created['id']}", json={**created, "name": "Renamed"})
    assert response.status_code == 200
    assert response.json() == {**created, "name": "Renamed"}


@pytest.mark.parametrize(
    "change, fields",
    [
        ({"id": "other"}, ["id"]),
        ({"location_id": None}, ["location_id"]),
        ({"account_id": "someone"}, ["account_id"]),
        ({"created_at": "2020-01-01T00:00:00+01:00"}, ["created_at"]),
        ({"colour": "red"}, ["colour"]),
        ({"name": ""}, ["name"]),
        ({"name": "  "}, ["name"]),
        ({"name": None}, ["name"]),
        ({"name": 7}, ["name"]),
        ({"name": "x" * 256}, ["name"]),
    ],
)
async def test_invalid_updates_are_422_and_change_nothing(tenant: Tenant, change: dict, fields: list[str]) -> None:
    api = await tenant.api(LOCATION_WRITE)
    created = await _create(api, "/v1/location/customer_lists", "Online")
    response = await api.patch(f"/v1/customer_lists/{created['id']}", json=change)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == fields
    assert (await api.get(f"/v1/customer_lists/{created['id']}")).json() == created


async def test_rename_follows_the_uniqueness_rules(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    online = await _create(api, _location_lists(tenant.location_id), "Online")
    pos = await _create(api, _location_lists(tenant.location_id), "POS")
    lyon = await _create(api, _location_lists(tenant.other_location_id), "Lyon")
    everyone = await _create(api, _account_lists(tenant.account_id), "Everyone")

    async def rename(list_id: str, name: str):
        return await api.patch(f"/v1/customer_lists/{list_id}", json={"name": name})

    # Keeping its own name (even with spaces around) is fine.
    assert (await rename(online["id"], " Online ")).status_code == 200
    # A location list may not take another name of its location, nor an account list's name.
    _assert_name_error(await rename(pos["id"], "Online"))
    _assert_name_error(await rename(pos["id"], "Everyone"))
    # But it may take the name of another location's list.
    assert (await rename(pos["id"], "Lyon")).status_code == 200
    # An account list may not take any list's name in the account.
    _assert_name_error(await rename(everyone["id"], "Online"))
    _assert_name_error(await rename(everyone["id"], "Lyon"))
    # Nor may a list of the other location take the account list's name.
    _assert_name_error(await rename(lyon["id"], "Everyone"))
    assert (await api.get(f"/v1/customer_lists/{everyone['id']}")).json()["name"] == "Everyone"
    assert (await api.get(f"/v1/customer_lists/{pos['id']}")).json()["name"] == "Lyon"


# --- delete --------------------------------------------------------------------------------------------


async def test_delete_a_list_and_everything_in_it(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    created = await _create(api, "/v1/location/customer_lists", "Doomed")
    kept = await _create(api, "/v1/location/customer_lists", "Kept")
    base = f"/v1/customer_lists/{created['id']}"
    customer = (await api.post(f"{base}/customers", json={"first_name": "Ann"})).json()
    card = (await api.post(f"{base}/loyalty_cards", json={"customer_id": customer["id"]})).json()
    operation = (await api.post(f"{base}/loyalty_cards/{card['id']}/operations", json={"delta": "5"})).json()
    survivor = (await api.post(f"/v1/customer_lists/{kept['id']}/customers", json={"first_name": "Bob"})).json()
    order = await api.post("/v1/location/orders", json={"status": "new", "customer_id": customer["id"]})
    assert order.status_code == 201, order.text

    response = await api.delete(base)
    assert response.status_code == 200
    assert response.json() == created

    for path in (
        base,
        f"{base}/customers",
        f"{base}/customers/{customer['id']}",
        f"{base}/loyalty_cards",
        f"{base}/loyalty_cards/{card['id']}",
        f"{base}/loyalty_cards/{card['id']}/operations",
        f"{base}/loyalty_cards/{card['id']}/operations/{operation['id']}",
    ):
        gone = await api.get(path)
        assert gone.status_code == 404, path
        assert gone.json()["error_type"] == "not_found"
    assert (await api.delete(base)).status_code == 404
    assert (await api.patch(base, json={"name": "Back"})).status_code == 404
    assert _ids(await api.get("/v1/location/customer_lists")) == [kept["id"]]
    # Other lists keep their customers.
    assert (await api.get(f"/v1/customer_lists/{kept['id']}/customers/{survivor['id']}")).status_code == 200
    # The order keeps its copy of the customer but loses the link (SPEC §7).
    kept_order = (await api.get(f"/v1/location/orders/{order.json()['id']}")).json()
    assert kept_order["customer_id"] is None and kept_order["customer_list_id"] is None
    assert kept_order["customer"]["first_name"] == "Ann"


async def test_deleting_a_list_fires_no_event(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    watcher = await tenant.api("location[all_customer_lists.read]", client_id=await tenant.new_client("Watcher"))
    subscribed = await watcher.post("/v1/callback", json={"url": None, "events": {"customer": ["create", "update"]}})
    assert subscribed.status_code in (200, 201), subscribed.text
    created = await _create(api, "/v1/location/customer_lists", "Doomed")
    customer = await api.post(f"/v1/customer_lists/{created['id']}/customers", json={"first_name": "Ann"})
    assert customer.status_code == 201
    before = (await watcher.get("/v1/callback/events")).json()
    assert [(event["resource_type"], event["event_type"]) for event in before] == [("customer", "create")]
    assert (await api.delete(f"/v1/customer_lists/{created['id']}")).status_code == 200
    assert (await watcher.get("/v1/callback/events")).json() == before


async def test_deleting_an_account_list_from_an_account_token(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    everyone = await _create(api, "/v1/account/customer_lists", "Everyone")
    lyon = await _create(api, _location_lists(tenant.other_location_id), "Lyon")
    assert (await api.delete(f"/v1/customer_lists/{everyone['id']}")).json() == everyone
    assert (await api.delete(f"/v1/customer_lists/{lyon['id']}")).json() == lyon
    assert (await api.get("/v1/account/customer_lists")).json() == []
    assert (await api.get(_location_lists(tenant.other_location_id))).json() == []


# --- idempotency on create -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope, path",
    [
        (LOCATION_WRITE, "/v1/location/customer_lists"),
        (LOCATION_WRITE, "/v1/locations/{location_id}/customer_lists"),
        (ACCOUNT_WRITE, "/v1/account/customer_lists"),
        (ACCOUNT_WRITE, "/v1/accounts/{account_id}/customer_lists"),
    ],
)
async def test_a_create_retry_replays_the_first_answer(tenant: Tenant, scope: str, path: str) -> None:
    api = await tenant.api(scope)
    path = path.format(location_id=tenant.location_id, account_id=tenant.account_id)
    key = {"Idempotency-Key": "create-web-list"}
    first = await api.post(path, json={"name": "Web"}, headers=key)
    again = await api.post(path, json={"name": "Web"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [item["name"] for item in (await api.get(path)).json()] == ["Web"]
    # Without the key, the same request is a new create, refused for its name.
    _assert_name_error(await api.post(path, json={"name": "Web"}))


async def test_a_replay_answers_even_after_the_list_was_renamed(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    key = {"Idempotency-Key": "k-1"}
    first = await api.post("/v1/location/customer_lists", json={"name": "Web"}, headers=key)
    await api.patch(f"/v1/customer_lists/{first.json()['id']}", json={"name": "Renamed"})
    again = await api.post("/v1/location/customer_lists", json={"name": "Web"}, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert _ids(await api.get("/v1/location/customer_lists")) == [first.json()["id"]]


async def test_a_create_key_reused_with_another_body_is_422(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    key = {"Idempotency-Key": "k-1"}
    assert (await api.post("/v1/location/customer_lists", json={"name": "Web"}, headers=key)).status_code == 201
    other = await api.post("/v1/location/customer_lists", json={"name": "POS"}, headers=key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert [item["name"] for item in (await api.get("/v1/location/customer_lists")).json()] == ["Web"]


async def test_a_create_key_is_per_connection(tenant: Tenant) -> None:
    first_api = await tenant.api(ACCOUNT_WRITE)
    second_api = await tenant.api(ACCOUNT_WRITE)
    key = {"Idempotency-Key": "same-key"}
    assert (await first_api.post("/v1/account/customer_lists", json={"name": "A"}, headers=key)).status_code == 201
    second = await second_api.post("/v1/account/customer_lists", json={"name": "B"}, headers=key)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    # The second connection's key is its own: its retry replays its own answer, not the first one's.
    again = await second_api.post("/v1/account/customer_lists", json={"name": "B"}, headers=key)
    assert again.json() == second.json() and again.headers.get("Idempotent-Replayed") == "true"
    names = sorted(item["name"] for item in (await first_api.get("/v1/account/customer_lists")).json())
    assert names == ["A", "B"]


async def test_a_refused_create_does_not_use_up_its_key(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION_WRITE)
    await tenant.customer_list("Taken")
    key = {"Idempotency-Key": "k-2"}
    _assert_name_error(await api.post("/v1/location/customer_lists", json={"name": "Taken"}, headers=key))
    # The key is free again, even for another body.
    retry = await api.post("/v1/location/customer_lists", json={"name": "Free"}, headers=key)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers


# --- the OpenAPI document tells what is sent ----------------------------------------------------------------


def _assert_documented(spec: dict, method: str, template: str, response) -> None:
    """The document declares the status, and the body has the shape of its schema: a list (or a page of them)
    for a success, the contract's error JSON otherwise."""
    documented = spec["paths"][template][method.lower()]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    if response.status_code >= 400:
        assert schema == {"$ref": "#/components/schemas/Error"}
        jsonschema.validate(response.json(), Error.model_json_schema())
        return
    model = CustomerListOut.model_json_schema()
    if isinstance(response.json(), list):
        assert schema["items"] == {"$ref": "#/components/schemas/CustomerListOut"}
        jsonschema.validate(response.json(), {"type": "array", "items": model})
    else:
        assert schema == {"$ref": "#/components/schemas/CustomerListOut"}
        jsonschema.validate(response.json(), model)


async def test_every_answer_matches_the_document(tenant: Tenant) -> None:
    spec = (await tenant.http.get("/openapi.json")).json()
    # Every key sent is documented and required; location_id is the only one that may be null.
    model = CustomerListOut.model_json_schema()
    assert set(model["properties"]) == set(model["required"]) == LIST_KEYS
    api = await tenant.api(ACCOUNT_WRITE)
    location_api = await tenant.api(LOCATION_WRITE)
    one = "/v1/customer_lists/{customer_list_id}"
    answers = []
    for who, method, template, path, body in (
        (api, "POST", "/v1/locations/{location_id}/customer_lists", _location_lists(tenant.location_id), {"name": "A"}),
        (api, "POST", "/v1/accounts/{account_id}/customer_lists", _account_lists(tenant.account_id), {"name": "B"}),
        (api, "POST", "/v1/account/customer_lists", "/v1/account/customer_lists", {"name": "C"}),
        (location_api, "POST", "/v1/location/customer_lists", "/v1/location/customer_lists", {"name": "D"}),
    ):
        answers.append((method, template, await who.request(method, path, json=body)))
    location_list, account_list = answers[0][2].json(), answers[1][2].json()
    assert account_list["location_id"] is None
    for who, method, template, path, body in (
        (api, "GET", one, f"/v1/customer_lists/{location_list['id']}", None),
        (api, "GET", one, f"/v1/customer_lists/{account_list['id']}", None),
        (api, "GET", "/v1/locations/{location_id}/customer_lists", _location_lists(tenant.location_id), None),
        (location_api, "GET", "/v1/location/customer_lists", "/v1/location/customer_lists", None),
        (api, "GET", "/v1/accounts/{account_id}/customer_lists", _account_lists(tenant.account_id), None),
        (api, "GET", "/v1/account/customer_lists", "/v1/account/customer_lists", None),
        (api, "PATCH", one, f"/v1/customer_lists/{location_list['id']}", {"name": "A2"}),
        (api, "PUT", one, f"/v1/customer_lists/{account_list['id']}", {"name": "B2"}),
        (api, "DELETE", one, f"/v1/customer_lists/{location_list['id']}", None),
        # Errors are the contract's error JSON.
        (api, "GET", one, f"/v1/customer_lists/{location_list['id']}", None),
        (api, "PATCH", one, f"/v1/customer_lists/{account_list['id']}", {"name": ""}),
        (location_api, "DELETE", one, f"/v1/customer_lists/{account_list['id']}", None),
        (api, "GET", "/v1/account/customer_lists", "/v1/account/customer_lists?count=0", None),
        (api, "POST", "/v1/accounts/{account_id}/customer_lists", _account_lists("nosuchaccount"), {"name": "E"}),
    ):
        answers.append((method, template, await who.request(method, path, json=body)))
    statuses = [response.status_code for _, _, response in answers]
    assert statuses == [201] * 4 + [200] * 9 + [404, 422, 403, 422, 404]
    for method, template, response in answers:
        _assert_documented(spec, method, template, response)
        if response.status_code < 300:
            body = response.json()
            for item in body if isinstance(body, list) else [body]:
                assert set(item) == LIST_KEYS


# --- NUL characters are refused at the edge (SPEC §5): never looked up, never stored -----------------------


async def test_a_nul_in_a_path_is_404_in_a_query_or_body_422(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    created = await _create(api, "/v1/account/customer_lists", "Web")
    for method, path in (
        ("GET", f"/v1/customer_lists/{created['id']}%00"),
        ("PATCH", f"/v1/customer_lists/%00{created['id']}"),
        ("DELETE", f"/v1/customer_lists/{created['id']}%00"),
        ("GET", f"/v1/locations/{tenant.location_id}%00/customer_lists"),
        ("POST", f"/v1/locations/{tenant.location_id}%00/customer_lists"),
        ("POST", f"/v1/accounts/{tenant.account_id}%00/customer_lists"),
    ):
        response = await api.request(method, path, json=None if method in ("GET", "DELETE") else {"name": "X"})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error_type"] == "not_found"
    query = await api.get("/v1/account/customer_lists", params={"cursor": "a\x00"})
    assert query.status_code == 422 and query.json()["errors"][0]["field"] == "cursor"
    for method, path in (("POST", "/v1/account/customer_lists"), ("PATCH", f"/v1/customer_lists/{created['id']}")):
        for body in ({"name": "Web\x00site"}, {"name\x00": "Web"}):
            response = await api.request(method, path, json=body)
            assert response.status_code == 422, (method, body, response.text)
            assert response.json()["errors"] == [{"field": "name", "message": "must not hold a NUL character"}]
    assert (await api.get(f"/v1/customer_lists/{created['id']}")).json() == created
    assert _ids(await api.get("/v1/account/customer_lists")) == [created["id"]]


async def test_a_bad_body_is_refused_before_the_location_is_looked_up(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT_WRITE)
    for path in (_location_lists("nosuchlocation"), _account_lists("nosuchaccount"), "/v1/customer_lists/nosuch"):
        response = await api.request("PATCH" if "customer_lists/" in path else "POST", path, json={"name": " "})
        _assert_name_error(response)
        assert response.json()["errors"][0]["message"] == "can't be blank"
