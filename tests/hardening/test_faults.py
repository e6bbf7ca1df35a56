"""Crashes under write load (issue 15, point 8): a real ``patronage serve`` with two workers is SIGKILLed while
clients post loyalty operations with idempotency keys, restarted, killed again. Clients retry each key until
it is acknowledged, as a HubRise client does after a network error. In the end every acknowledged write is
there exactly once, and every card's balance is the sum of its operations with a consistent new_balance chain.
"""

import asyncio
import random
import secrets
from decimal import Decimal

import httpx

from helpers import Tenant
from live import free_port, kill_server, start_server

ROUNDS = 3
CLIENTS = 12
CARDS = 3
WRITES_PER_ROUND = 20


async def _client_loop(
    base: str,
    token: str,
    cards: list[str],
    pending: dict[str, tuple[str, str]],
    acked: set[str],
    list_id: str,
    enough: tuple[int, asyncio.Event],
) -> None:
    """Posts operations until the server dies: retries pending keys first, then new ones."""
    headers = {"X-Access-Token": token}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        while True:
            key = next((k for k in pending if k not in acked), None) if random.random() < 0.3 else None
            if key is None:
                key = secrets.token_hex(8)
                pending[key] = (random.choice(cards), str(random.choice([1, 2, 5, -1, "0.5"])))
            card, delta = pending[key]
            path = f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/operations"
            try:
                response = await http.post(path, json={"delta": delta, "reason": key}, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                return  # the server is gone; the key stays pending
            assert response.status_code in (201, 422), response.text
            if response.status_code == 201:
                assert response.json()["reason"] == key
                acked.add(key)
                if len(acked) >= enough[0]:
                    enough[1].set()
            else:  # a concurrent retry of the same key is still running: retry later
                assert response.json()["errors"][0]["field"] == "Idempotency-Key", response.text


async def _all_operations(http: httpx.AsyncClient, list_id: str, card: str) -> list[dict]:
    operations, cursor = [], None
    while True:
        params = {"count": "100", **({"cursor": cursor} if cursor else {})}
        response = await http.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/operations", params=params)
        assert response.status_code == 200
        operations += response.json()
        cursor = response.headers.get("X-Cursor-Next")
        if not cursor:
            return operations


async def test_sigkill_under_idempotent_writes_loses_and_doubles_nothing(tenant: Tenant, database_url: str) -> None:
    token = await tenant.token("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pending: dict[str, tuple[str, str]] = {}
    acked: set[str] = set()
    unanswered = 0  # keys sent but not acknowledged when a server died, summed over the rounds

    process = start_server(database_url, port)
    async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}) as http:
        customer = (await http.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()
        cards = []
        for index in range(CARDS):
            response = await http.post(
                f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer["id"], "ref": str(index)}
            )
            cards.append(response.json()["id"])

    for round_ in range(ROUNDS):
        if round_:
            process = start_server(database_url, port)
        # Kill at a random moment once the round has really written something.
        enough = (len(acked) + WRITES_PER_ROUND, asyncio.Event())
        loops = [
            asyncio.create_task(_client_loop(base, token, cards, pending, acked, list_id, enough))
            for _ in range(CLIENTS)
        ]
        await asyncio.wait_for(enough[1].wait(), timeout=60)
        await asyncio.sleep(random.uniform(0, 0.3))
        kill_server(process)
        await asyncio.gather(*loops)
        unanswered += len(pending) - len(acked)

    # Recovery: every key is retried until acknowledged, now without crashes.
    process = start_server(database_url, port)
    try:
        while len(acked) < len(pending):
            await _client_loop_until_done(base, token, pending, acked, list_id)
        async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}) as http:
            seen: list[str] = []
            for card in cards:
                operations = await _all_operations(http, list_id, card)
                seen += [operation["reason"] for operation in operations]
                expected = sum((Decimal(delta) for c, delta in pending.values() if c == card), Decimal(0))
                balance = (await http.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}")).json()["balance"]
                assert Decimal(balance) == expected
                running = Decimal(0)
                for operation in reversed(operations):  # oldest first
                    running += Decimal(operation["delta"])
                    assert Decimal(operation["new_balance"]) == running
    finally:
        kill_server(process)
    assert sorted(seen) == sorted(pending), "every acknowledged write exactly once, and nothing else"
    assert len(acked) >= ROUNDS * WRITES_PER_ROUND  # the crashes really happened under load
    assert unanswered > 0, "no request was in flight at any kill: the test proved nothing"


async def _client_loop_until_done(
    base: str, token: str, pending: dict[str, tuple[str, str]], acked: set[str], list_id: str
) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}, timeout=30) as http:
        for key, (card, delta) in list(pending.items()):
            if key in acked:
                continue
            response = await http.post(
                f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/operations",
                json={"delta": delta, "reason": key},
                headers={"Idempotency-Key": key},
            )
            assert response.status_code == 201, response.text
            acked.add(key)
