"""Earning under real concurrency: a 2-worker server, orders and redemptions on one card at once, and many
simultaneous updates (and retries) of one order, which credit it once."""

import asyncio
from decimal import Decimal

import httpx

from helpers import Tenant
from live import live_server

SCOPE = "location[orders.write,all_customer_lists.write]"


async def test_concurrent_orders_updates_and_redemptions_on_one_card(tenant: Tenant, database_url: str) -> None:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    programme = {"points_per_unit": "1", "earning_statuses": ["completed"]}
    assert (await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY", json=programme)).status_code == 200
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    orders = f"/v1/locations/{tenant.location_id}/orders"
    item = {"product_name": "Menu", "price": "5.00 EUR", "quantity": "1"}
    pending = (await api.post(orders, json={"status": "new", "customer_id": customer, "items": [item]})).json()
    with live_server(database_url, workers=2) as base:
        # No keep-alive: on a loaded machine the server may close an idle connection as the client reuses it.
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=0)
        headers = {"X-Access-Token": api.token or ""}
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
            created = [
                http.post(orders, json={"status": "completed", "customer_id": customer, "items": [item]})
                for _ in range(12)
            ]
            # The same order completed by many requests at once, some of them retries with one key.
            completing = [
                http.patch(
                    f"{orders}/{pending['id']}",
                    json={"status": "completed"},
                    headers={"Idempotency-Key": f"c{i % 3}"} if i % 2 else {},
                )
                for i in range(12)
            ]
            answers = await asyncio.gather(*created, *completing)
            assert [a.status_code for a in answers] == [201] * 12 + [200] * 12, [a.text for a in answers if a.is_error]
            [card] = (
                await http.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"customer_id": customer})
            ).json()
            url = f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}"
            # Redemptions while other orders earn: the guard holds, the ledger adds up.
            more = [
                http.post(orders, json={"status": "completed", "customer_id": customer, "items": [item]})
                for _ in range(6)
            ]
            spend = [http.post(f"{url}/operations", json={"delta": "-7"}) for _ in range(14)]
            mixed = await asyncio.gather(*more, *spend)
            balance = Decimal((await http.get(url)).json()["balance"])
            operations = (await http.get(f"{url}/operations", params={"count": 100})).json()
    assert all(a.status_code == 201 for a in mixed[:6])
    spent = sum(1 for a in mixed[6:] if a.status_code == 201)
    assert all(a.status_code in (201, 422) for a in mixed[6:])
    earned = [op for op in operations if op["reason"] == "Points earned on order"]
    assert len(earned) == 12 + 1 + 6  # each order once, the pending one too
    assert sum(1 for op in earned if op["order_id"] == pending["id"]) == 1
    assert balance == Decimal(5 * 19 - 7 * spent)
    assert balance >= 0 and spent >= 1
    chronological = list(reversed(operations))
    running = Decimal(0)
    for operation in chronological:
        running += Decimal(operation["delta"])
        assert Decimal(operation["new_balance"]) == running >= 0
