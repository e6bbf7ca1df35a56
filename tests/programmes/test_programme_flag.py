"""A list knows whether it has loyalty programmes (customer_list.has_loyalty_programmes): a list without one
pays no programme lookup on its orders, cards and operations, and the mark follows PUT and DELETE, even when
they race."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import event

from helpers import Api, Tenant
from live import live_server
from patronage.db import Database

SCOPE = "location[orders.write,all_customer_lists.write]"
ITEM = {"product_name": "Menu", "price": "10.00 EUR", "quantity": "1"}


@contextmanager
def programme_lookups(db: Database) -> Iterator[list[str]]:
    """The statements that read a list's programmes, while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "FROM loyalty_programme" in statement:
            seen.append(statement)

    engines = {db.read_engine.sync_engine, db.write_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def _order(api: Api, tenant: Tenant, customer_id: str, status: str = "completed", **fields) -> dict:
    body = {"status": status, "customer_id": customer_id, "items": [ITEM], **fields}
    answer = await api.post(f"/v1/locations/{tenant.location_id}/orders", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _balances(api: Api, list_id: str, customer_id: str) -> dict:
    cards = await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"customer_id": customer_id})
    return {card["ref"]: card["balance"] for card in cards.json()}


async def test_a_list_without_programme_reads_no_programme(tenant: Tenant, db: Database) -> None:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    customer = (await api.post(f"{base}/customers", json={})).json()["id"]
    with programme_lookups(db) as lookups:
        order = await _order(api, tenant, customer, loyalty_operations=[{"ref": "LOY", "delta": "5"}])
        patched = await api.patch(
            f"/v1/locations/{tenant.location_id}/orders/{order['id']}", json={"status": "cancelled"}
        )
        assert patched.status_code == 200, patched.text
        [card] = (await api.get(f"{base}/loyalty_cards", params={"customer_id": customer})).json()
        assert (await api.get(f"{base}/loyalty_cards/{card['id']}")).status_code == 200
        assert (
            await api.post(f"{base}/loyalty_cards/{card['id']}/operations", json={"delta": "-1"})
        ).status_code == 201
        assert (await api.patch(f"{base}/loyalty_cards/{card['id']}", json={"name": "Club"})).status_code == 200
    assert lookups == []
    assert card["balance"] == "5.0" and "lifetime_points" not in card  # HubRise's card, nothing more


async def test_the_mark_follows_put_and_delete(tenant: Tenant, db: Database) -> None:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    programmes = f"/v1/customer_lists/{list_id}/loyalty_programmes"
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    assert (await api.put(f"{programmes}/LOY", json={"points_per_unit": "1"})).status_code == 200
    assert (await api.put(f"{programmes}/~", json={"points_per_unit": "2"})).status_code == 200
    await _order(api, tenant, customer)
    assert await _balances(api, list_id, customer) == {"LOY": "10.0", None: "20.0"}

    # One of two programmes deleted: the other one still earns, its card still shows its fields.
    assert (await api.delete(f"{programmes}/LOY")).status_code == 200
    await _order(api, tenant, customer)
    assert await _balances(api, list_id, customer) == {"LOY": "10.0", None: "40.0"}
    cards = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards")).json()
    assert {card["ref"]: "lifetime_points" in card for card in cards} == {"LOY": False, None: True}

    # The last one deleted: nothing is earned and nothing is looked up; a new programme earns again.
    assert (await api.delete(f"{programmes}/~")).status_code == 200
    with programme_lookups(db) as lookups:
        await _order(api, tenant, customer)
        cards = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards")).json()
    assert lookups == []
    assert await _balances(api, list_id, customer) == {"LOY": "10.0", None: "40.0"}
    assert not any("lifetime_points" in card for card in cards)
    assert (await api.put(f"{programmes}/LOY", json={"points_per_unit": "1"})).status_code == 200
    await _order(api, tenant, customer)
    assert await _balances(api, list_id, customer) == {"LOY": "20.0", None: "40.0"}


async def test_racing_puts_and_deletes_never_leave_a_programme_unmarked(tenant: Tenant, database_url: str) -> None:
    """Each round deletes a list's only programme while another scheme's is created: whatever the interleaving,
    the list ends with the new programme, and its orders earn."""
    api = await tenant.api(SCOPE)
    lists = [await tenant.customer_list() for _ in range(6)]
    customers = {}
    for list_id in lists:
        assert await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/OLD", json={"points_per_unit": "1"})
        customers[list_id] = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    with live_server(database_url, workers=2) as base:
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=0)
        headers = {"X-Access-Token": api.token or ""}
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
            changes = []
            for list_id in lists:
                programmes = f"/v1/customer_lists/{list_id}/loyalty_programmes"
                changes += [
                    http.delete(f"{programmes}/OLD"),
                    http.put(f"{programmes}/NEW", json={"points_per_unit": "3"}),
                ]
            answers = await asyncio.gather(*changes)
            assert [a.status_code for a in answers] == [200] * len(changes), [a.text for a in answers if a.is_error]
            orders = [
                http.post(
                    f"/v1/locations/{tenant.location_id}/orders",
                    json={"status": "completed", "customer_id": customers[list_id], "items": [ITEM]},
                )
                for list_id in lists
            ]
            assert [a.status_code for a in await asyncio.gather(*orders)] == [201] * len(lists)
    for list_id in lists:
        assert await _balances(api, list_id, customers[list_id]) == {"NEW": "30.0"}
