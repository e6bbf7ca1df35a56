"""Cursors are bound to their index and caller (SPEC §3): a next-page cursor continues the index it came from,
for the connection that read it, and is a 422 on ``cursor`` anywhere else: another index, another customer
list, another connection's events, another tenant, or made by hand."""

import base64
import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpers import Api, Tenant
from patronage.app import create_app
from patronage.auth.models import Connection
from patronage.ids import hash_secret
from patronage.pagination import CursorBinding, binding_for, encode_cursor
from patronage.settings import Settings

WRITER = "location[all_customer_lists.write,orders.write]"
ACCOUNT_WRITER = "account[all_customer_lists.write,orders.write]"
LISTENER = "location[all_customer_lists.read,orders.read]"


def assert_bad_cursor(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_type"] == "unprocessable_entity"
    assert [error["field"] for error in body["errors"]] == ["cursor"]


async def next_cursor(api: Api, path: str) -> str:
    response = await api.get(path, params={"count": "1"})
    assert response.status_code == 200, response.text
    return response.headers["X-Cursor-Next"]


async def customers(api: Api, list_id: str, count: int) -> list[str]:
    made = []
    for n in range(count):
        response = await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": f"C{n}"})
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    return made


@pytest.fixture
async def filled(tenant: Tenant) -> dict[str, Any]:
    """Two or more rows on every index of one tenant: lists, customers, cards, operations, orders, events."""
    api = await tenant.api(WRITER)
    account_api = await tenant.api(ACCOUNT_WRITER)
    listener = await tenant.api(LISTENER)
    assert (await listener.post("/v1/callback", json={"url": None, "events": {"customer": ["create"]}})).is_success
    list_id = await tenant.customer_list()
    other_list = await tenant.customer_list()
    for _ in range(2):
        await tenant.customer_list(location_id=None)
    customer_ids = await customers(api, list_id, 3)
    await customers(api, other_list, 3)
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    card_ids = []
    for customer_id in customer_ids:
        response = await api.post(cards, json={"customer_id": customer_id})
        assert response.status_code == 201, response.text
        card_ids.append(response.json()["id"])
    for delta in ("1", "2", "3"):
        assert (await api.post(f"{cards}/{card_ids[0]}/operations", json={"delta": delta})).status_code == 201
    for _ in range(3):
        response = await api.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new"})
        assert response.status_code == 201, response.text
    return {
        "api": api,
        "account_api": account_api,
        "listener": listener,
        "list_id": list_id,
        "other_list": other_list,
        "card_ids": card_ids,
    }


def location_indexes(tenant: Tenant, filled: dict[str, Any]) -> list[str]:
    list_id, card_id = filled["list_id"], filled["card_ids"][0]
    return [
        f"/v1/locations/{tenant.location_id}/customer_lists",
        "/v1/location/customer_lists",
        f"/v1/customer_lists/{list_id}/customers",
        f"/v1/customer_lists/{list_id}/loyalty_cards",
        f"/v1/customer_lists/{list_id}/loyalty_cards/{card_id}/operations",
        f"/v1/locations/{tenant.location_id}/orders",
        "/v1/location/orders",
    ]


def account_indexes(tenant: Tenant) -> list[str]:
    return [
        f"/v1/accounts/{tenant.account_id}/customer_lists",
        "/v1/account/customer_lists",
        f"/v1/accounts/{tenant.account_id}/orders",
        "/v1/account/orders",
    ]


async def walk(api: Api, path: str) -> list[str]:
    """Every id of an index, one per page, following X-Cursor-Next."""
    seen: list[str] = []
    params: dict[str, str] = {"count": "1"}
    while True:
        response = await api.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        seen += [item["id"] for item in response.json()]
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            return seen
        params = {"count": "1", "cursor": cursor}


async def test_a_next_page_cursor_continues_every_index(tenant: Tenant, filled: dict[str, Any]) -> None:
    api, account_api, listener = filled["api"], filled["account_api"], filled["listener"]
    for who, paths in ((api, location_indexes(tenant, filled)), (account_api, account_indexes(tenant))):
        for path in paths:
            whole = await who.get(path)
            ids = [item["id"] for item in whole.json()]
            assert len(ids) >= 2, path
            assert await walk(who, path) == ids, path
    events = await walk(listener, "/v1/callback/events")
    assert len(events) == 6 and events == [item["id"] for item in (await listener.get("/v1/callback/events")).json()]


async def test_a_cursor_of_another_index_is_422(tenant: Tenant, filled: dict[str, Any]) -> None:
    api, account_api = filled["api"], filled["account_api"]
    paths = location_indexes(tenant, filled)
    cursors = {path: await next_cursor(api, path) for path in paths}
    for issued_for, cursor in cursors.items():
        for path in paths:
            if path != issued_for:
                assert_bad_cursor(await api.get(path, params={"cursor": cursor}))
        # Right keyset shape, right connection, the same rows even: still another index.
        for path in account_indexes(tenant):
            assert_bad_cursor(await account_api.get(path, params={"cursor": cursor}))
        assert (await api.get(issued_for, params={"cursor": cursor})).status_code == 200


async def test_a_cursor_of_another_customer_list_is_422(tenant: Tenant, filled: dict[str, Any]) -> None:
    api = filled["api"]
    mine = f"/v1/customer_lists/{filled['list_id']}/customers"
    other = f"/v1/customer_lists/{filled['other_list']}/customers"
    assert_bad_cursor(await api.get(other, params={"cursor": await next_cursor(api, mine)}))
    assert_bad_cursor(await api.get(mine, params={"cursor": await next_cursor(api, other)}))
    assert (await api.get(mine, params={"cursor": await next_cursor(api, mine)})).status_code == 200


async def test_a_cursor_of_another_connections_events_is_422(tenant: Tenant, filled: dict[str, Any]) -> None:
    """Same path, same account, same client: the events index is each connection's own."""
    other = await tenant.api(LISTENER)
    assert (await other.post("/v1/callback", json={"url": None, "events": {"customer": ["create"]}})).is_success
    await customers(filled["api"], filled["list_id"], 2)
    mine = await next_cursor(filled["listener"], "/v1/callback/events")
    theirs = await next_cursor(other, "/v1/callback/events")
    assert_bad_cursor(await other.get("/v1/callback/events", params={"cursor": mine}))
    assert_bad_cursor(await filled["listener"].get("/v1/callback/events", params={"cursor": theirs}))
    assert (await other.get("/v1/callback/events", params={"cursor": theirs})).status_code == 200


async def test_a_cursor_of_another_connection_on_the_same_index_is_422(tenant: Tenant, filled: dict[str, Any]) -> None:
    path = f"/v1/customer_lists/{filled['list_id']}/customers"
    again = await tenant.api(WRITER)
    assert_bad_cursor(await again.get(path, params={"cursor": await next_cursor(filled["api"], path)}))


async def test_a_cursor_of_another_tenant_is_422(tenant: Tenant, other_tenant: Tenant, filled: dict[str, Any]) -> None:
    theirs = await other_tenant.api(WRITER)
    for _ in range(2):
        await other_tenant.customer_list()
        assert (await theirs.post("/v1/location/orders", json={"status": "new"})).status_code == 201
    for path in ("/v1/location/customer_lists", "/v1/location/orders"):
        mine = await next_cursor(filled["api"], path)
        assert_bad_cursor(await theirs.get(path, params={"cursor": mine}))
        assert_bad_cursor(await filled["api"].get(path, params={"cursor": await next_cursor(theirs, path)}))
    # Their own index under their ids: a 422 on the cursor, which says nothing about our rows.
    lists = f"/v1/locations/{other_tenant.location_id}/customer_lists"
    assert_bad_cursor(
        await theirs.get(lists, params={"cursor": await next_cursor(filled["api"], "/v1/location/customer_lists")})
    )


def _unpack(cursor: str) -> tuple[str, str]:
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    payload, _, mac = text.rpartition("|")
    return payload, mac


def _pack(payload: str, mac: str) -> str:
    return base64.urlsafe_b64encode(f"{payload}|{mac}".encode()).decode().rstrip("=")


async def test_a_hand_made_cursor_is_422(filled: dict[str, Any]) -> None:
    api = filled["api"]
    path = f"/v1/customer_lists/{filled['list_id']}/customers"
    genuine = await next_cursor(api, path)
    payload, mac = _unpack(genuine)
    wrong_key = CursorBinding(b"anything", (secrets.token_bytes(32),))
    hand_made = [
        encode_cursor(datetime(2030, 1, 1), "zzzzzzzzzz"),  # the format, signed by no key
        encode_cursor(datetime(2030, 1, 1), "zzzzzzzzzz", binding=wrong_key),
        _pack(payload.replace("20", "19", 1), mac),  # a genuine signature over other values
        _pack(payload, mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")),
        _pack(payload, ""),
        _pack(payload, mac + mac),
        genuine[:-3],
        genuine + "x",
        "",
        "x" * 5000,
    ]
    for cursor in hand_made:
        assert_bad_cursor(await api.get(path, params={"cursor": cursor}))
    assert (await api.get(path, params={"cursor": genuine})).status_code == 200


class _Request:
    """What binding_for reads of a request."""

    def __init__(self, app: Any, path: str) -> None:
        self.app = app
        self.url = httpx.URL(f"http://patronage.test{path}")


async def test_a_well_signed_cursor_of_the_wrong_shape_is_422_never_a_500(tenant: Tenant, app: Any) -> None:
    """Were the keyset of an index to change between versions, its old cursors must not reach the query."""
    api = await tenant.api(WRITER)
    list_id = await tenant.customer_list()
    await customers(api, list_id, 2)
    path = f"/v1/customer_lists/{list_id}/customers"
    response = await api.get(path, params={"count": "1"})
    connection_id = await _connection_id(tenant, api)
    binding = binding_for(_Request(app, path), connection_id)  # type: ignore[arg-type]
    genuine = encode_cursor(*_values(response.headers["X-Cursor-Next"]), binding=binding)
    assert (await api.get(path, params={"cursor": genuine})).status_code == 200  # the test forges as we issue
    for values in (
        ("not a time", "abc"),
        (12, "abc"),
        (datetime(2020, 1, 1), 12),
        (datetime(2020, 1, 1),),
        (datetime(2020, 1, 1), "abc", "def"),
        (datetime(2020, 1, 1).astimezone(), "abc"),
        (datetime(2020, 1, 1), "a\x00b"),
        (True, "abc"),
    ):
        assert_bad_cursor(await api.get(path, params={"cursor": encode_cursor(*values, binding=binding)}))


def _values(cursor: str) -> tuple[Any, ...]:
    values = json.loads(_unpack(cursor)[0])
    return tuple(datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in values)


async def _connection_id(tenant: Tenant, api: Api) -> str:
    async with tenant.db.session(write=False) as session:
        return await session.scalar(select(Connection.id).where(Connection.token_hash == hash_secret(api.token)))


async def test_another_process_with_the_same_keys_accepts_the_cursor(
    filled: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    """Every worker and host signs with keys derived from the same sealing keys."""
    path = f"/v1/customer_lists/{filled['list_id']}/customers"
    cursor = await next_cursor(filled["api"], path)
    other = create_app(settings.model_copy())
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other.test") as http:
            page = await Api(http, filled["api"].token).get(path, params={"cursor": cursor})
            assert page.status_code == 200, page.text
            elsewhere = {"secret_key": "another deployment", "secret_key_file": str(tmp_path / "none.key")}
            keyed = create_app(settings.model_copy(update=elsewhere))
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=keyed), base_url="http://k.test") as h:
                assert_bad_cursor(await Api(h, filled["api"].token).get(path, params={"cursor": cursor}))
            await keyed.state.db.dispose()
    finally:
        await other.state.db.dispose()
