"""The no-overdraft guard of a loyalty programme (a Patronage extension): an operation that would make the
balance negative is a 422 on delta, decided by the UPDATE that moves the balance (no race lets two redemptions
overdraw a card), whether it comes from POST operation or from an order's loyalty operations."""

import asyncio
from decimal import Decimal

import httpx

from helpers import Api, Tenant
from live import live_server

SCOPE = "location[orders.write,all_customer_lists.write]"


async def _card(tenant: Tenant, programme: dict | None) -> tuple[Api, str, str, str]:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    if programme is not None:
        answer = await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY", json=programme)
        assert answer.status_code == 200, answer.text
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    card = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer, "ref": "LOY"})
    return api, list_id, customer, f"/v1/customer_lists/{list_id}/loyalty_cards/{card.json()['id']}"


async def test_the_guard_refuses_what_would_overdraw_and_nothing_else(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant, {"points_per_unit": "1"})
    refused = await api.post(f"{card}/operations", json={"delta": "-0.000001"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "delta",
            "message": "would make the balance negative, which this card's loyalty programme does not allow",
        }
    ]
    assert (await api.post(f"{card}/operations", json={"delta": "10"})).status_code == 201
    assert (await api.post(f"{card}/operations", json={"delta": "-10.000001"})).status_code == 422
    spent = await api.post(f"{card}/operations", json={"delta": "-10"})
    assert spent.status_code == 201 and spent.json()["new_balance"] == "0.0"
    assert (await api.get(card)).json()["balance"] == "0.0"
    assert len((await api.get(f"{card}/operations")).json()) == 2


async def test_without_a_programme_or_when_it_allows_it_a_balance_may_go_negative(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant, None)  # HubRise's rule
    assert (await api.post(f"{card}/operations", json={"delta": "-5"})).status_code == 201
    api, _, _, card = await _card(tenant, {"points_per_unit": "1", "allow_negative_balance": True})
    answer = await api.post(f"{card}/operations", json={"delta": "-5"})
    assert answer.status_code == 201 and answer.json()["new_balance"] == "-5.0"


async def test_an_orders_loyalty_operation_is_guarded_and_the_order_refused_whole(tenant: Tenant) -> None:
    api, _, customer, card = await _card(tenant, {"points_per_unit": "1", "earning_statuses": ["completed"]})
    orders = f"/v1/locations/{tenant.location_id}/orders"
    body = {"status": "new", "customer_id": customer, "loyalty_operations": [{"ref": "LOY", "delta": "-3"}]}
    refused = await api.post(orders, json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "loyalty_operations.0.delta"
    assert (await api.get(orders)).json() == []
    await api.post(f"{card}/operations", json={"delta": "3"})
    assert (await api.post(orders, json=body)).status_code == 201
    assert (await api.get(card)).json()["balance"] == "0.0"


async def test_concurrent_redemptions_from_two_processes_never_overdraw(tenant: Tenant, database_url: str) -> None:
    api, list_id, customer, card = await _card(tenant, {"points_per_unit": "1"})
    assert (await api.post(f"{card}/operations", json={"delta": "10"})).status_code == 201
    orders = f"/v1/locations/{tenant.location_id}/orders"
    with live_server(database_url, workers=2) as base:
        # No keep-alive: on a loaded machine the server may close an idle connection as the client reuses it.
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=0)
        headers = {"X-Access-Token": api.token or ""}
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
            redemptions = [http.post(f"{card}/operations", json={"delta": "-1"}) for _ in range(24)]
            # Orders redeeming on the same card meanwhile (each takes 1 point through its loyalty operations).
            redeeming = {
                "status": "new",
                "customer_id": customer,
                "loyalty_operations": [{"ref": "LOY", "delta": "-1"}],
            }
            order_redemptions = [http.post(orders, json=redeeming) for _ in range(8)]
            answers = await asyncio.gather(*redemptions, *order_redemptions)
            balance = (await http.get(card)).json()["balance"]
            operations = (await http.get(f"{card}/operations", params={"count": 100})).json()
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 422}
    assert statuses.count(201) == 10, statuses
    assert all(a.json()["errors"][0]["field"].endswith("delta") for a in answers if a.status_code == 422)
    assert balance == "0.0"
    assert len(operations) == 11
    assert all(Decimal(op["new_balance"]) >= 0 for op in operations)
