"""Customer statistics under real concurrency: a 2-worker server, two locations, one customer."""

import asyncio
import random
from decimal import Decimal

import httpx

from helpers import Tenant
from live import live_server


async def test_concurrent_orders_and_status_changes_keep_statistics_exact(tenant: Tenant, database_url: str) -> None:
    api = await tenant.api("account[orders.write,all_customer_lists.write]")
    list_id = await tenant.customer_list(location_id=None)
    customer_id = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    rng = random.Random(11)
    plans = [
        (
            rng.choice([tenant.location_id, tenant.other_location_id]),
            rng.choice(["new", "accepted", "rejected", "cancelled"]),
            rng.randint(1, 5000),
        )
        for _ in range(60)
    ]
    headers = {"X-Access-Token": api.token or ""}
    with live_server(database_url, workers=2) as base:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:

            async def create(location_id: str, status: str, cents: int) -> httpx.Response:
                body = {
                    "status": status,
                    "customer_id": customer_id,
                    "items": [{"product_name": "Menu", "price": f"{Decimal(cents).scaleb(-2)} EUR", "quantity": 1}],
                    "loyalty_operations": [{"delta": "1", "name": "Club"}],
                }
                return await http.post(f"/v1/locations/{location_id}/orders", json=body)

            created = await asyncio.gather(*(create(*plan) for plan in plans))
            assert [r.status_code for r in created] == [201] * len(plans)
            orders = [r.json() for r in created]
            # Then flip half of them between counted and uncounted statuses, concurrently.
            flips = {
                order["id"]: "cancelled" if order["status"] in ("new", "accepted") else "completed"
                for order in rng.sample(orders, 30)
            }
            patched = await asyncio.gather(
                *(
                    http.patch(
                        f"/v1/locations/{order['location_id']}/orders/{order['id']}",
                        json={"status": flips[order["id"]]},
                    )
                    for order in orders
                    if order["id"] in flips
                )
            )
            assert [r.status_code for r in patched] == [200] * 30
            customer = (await http.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}")).json()

    final = [{**order, "status": flips.get(order["id"], order["status"])} for order in orders]
    counted = [order for order in final if order["status"] not in ("rejected", "cancelled")]
    assert customer["nb_orders"] == len(counted)
    assert Decimal(customer["order_total"].split()[0]) == sum(Decimal(o["total"].split()[0]) for o in counted)
    assert customer["first_order_date"] == min(o["created_at"] for o in counted)
    assert customer["last_order_date"] == max(o["created_at"] for o in counted)
    # Every order's loyalty operation landed on the one card, created once.
    assert [card["balance"] for card in customer["loyalty_cards"]] == [f"{len(plans)}.0"]
    assert sorted(o["loyalty_operations"][0]["new_balance"] for o in orders) == sorted(
        f"{n}.0" for n in range(1, len(plans) + 1)
    )
