"""The ledger under real concurrency: a 2-worker server, many connections, one card."""

import asyncio
import random
from decimal import Decimal

import httpx

from helpers import Tenant
from live import live_server


async def _card(tenant: Tenant) -> tuple[str, str]:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    customer_id = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    return api.token, f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}"


async def _all_operations(http: httpx.AsyncClient, card: str) -> list[dict]:
    operations, cursor = [], None
    while True:
        response = await http.get(f"{card}/operations", params={"cursor": cursor} if cursor else {})
        assert response.status_code == 200
        operations.extend(response.json())
        cursor = response.headers.get("X-Cursor-Next")
        if not cursor:
            return operations


async def test_concurrent_operations_never_lose_an_update(tenant: Tenant, database_url: str) -> None:
    token, card = await _card(tenant)
    rng = random.Random(7)
    deltas = [Decimal(rng.randint(-500_000, 1_000_000)).scaleb(-rng.randint(0, 6)) or Decimal(1) for _ in range(300)]
    headers = {"X-Access-Token": token}
    with live_server(database_url, workers=2) as base:
        limits = httpx.Limits(max_connections=24)
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
            responses = await asyncio.gather(
                *(http.post(f"{card}/operations", json={"delta": str(delta)}) for delta in deltas)
            )
            assert [r.status_code for r in responses] == [201] * len(deltas)
            balance = Decimal((await http.get(card)).json()["balance"])
            operations = await _all_operations(http, card)

    assert balance == sum(deltas)
    assert len(operations) == len(deltas)
    assert sorted(Decimal(op["delta"]) for op in operations) == sorted(deltas)
    # Newest first: walking back in time, each new_balance is the previous one plus its delta.
    chronological = list(reversed(operations))
    running = Decimal(0)
    for operation in chronological:
        running += Decimal(operation["delta"])
        assert Decimal(operation["new_balance"]) == running
    # Each response's new_balance is one of the running sums, each exactly once.
    assert sorted(Decimal(r.json()["new_balance"]) for r in responses) == sorted(
        Decimal(op["new_balance"]) for op in operations
    )


async def test_concurrent_retries_with_one_idempotency_key_credit_once(tenant: Tenant, database_url: str) -> None:
    token, card = await _card(tenant)
    with live_server(database_url, workers=2) as base:
        async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}, timeout=60) as http:
            keyed = [
                http.post(f"{card}/operations", json={"delta": "5"}, headers={"Idempotency-Key": f"k{i % 4}"})
                for i in range(40)
            ]
            responses = await asyncio.gather(*keyed)
            balance = (await http.get(card)).json()["balance"]
            operations = await _all_operations(http, card)
    assert {r.status_code for r in responses} == {201}
    assert balance == "20.0"
    assert len(operations) == 4
    by_key: dict[int, set[str]] = {}
    for i, response in enumerate(responses):
        by_key.setdefault(i % 4, set()).add(response.text)
    assert all(len(bodies) == 1 for bodies in by_key.values())
