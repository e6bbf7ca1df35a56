"""Loyalty operations (seed §4, SPEC §7): exact decimals, running balances, immutability."""

import json
from decimal import Decimal

import pytest

from helpers import Api, Tenant


async def _card(tenant: Tenant) -> tuple[Api, str, str, str]:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    customer_id = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    return api, f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}", customer_id, list_id


async def test_operations_move_the_balance_exactly(tenant: Tenant) -> None:
    api, card, customer_id, list_id = await _card(tenant)
    first = await api.post(f"{card}/operations", json={"delta": "4.2", "reason": "Points earned"})
    assert first.status_code == 201
    body = first.json()
    assert body == {
        "id": body["id"],
        "customer_id": customer_id,
        "created_at": body["created_at"],
        "order_location_id": None,
        "order_id": None,
        "reason": "Points earned",
        "delta": "4.2",
        "new_balance": "4.2",
    }
    assert body["created_at"].endswith(("+01:00", "+02:00"))
    # JSON numbers are read exactly: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    raw = b'{"delta": 0.1}'
    headers = {"Content-Type": "application/json"}
    await api.post(f"{card}/operations", content=raw, headers=headers)
    third = await api.post(f"{card}/operations", content=b'{"delta": 0.2}', headers=headers)
    assert third.json()["new_balance"] == "4.5"
    negative = await api.post(f"{card}/operations", json={"delta": "-10.000001"})
    assert negative.json()["delta"] == "-10.000001"
    assert negative.json()["new_balance"] == "-5.500001"
    assert (await api.get(card)).json()["balance"] == "-5.500001"
    customer = (await api.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}")).json()
    assert customer["loyalty_cards"][0]["balance"] == "-5.500001"
    retrieved = await api.get(f"{card}/operations/{body['id']}")
    assert retrieved.json() == body


@pytest.mark.parametrize(
    "delta",
    ["abc", "1e400", "", "0", 0, "0.0", "1.1234567", 1.1234567, None, True, [], {}, "NaN", "Infinity", "1e12", "--1"],
)
async def test_invalid_deltas_are_422_and_change_nothing(tenant: Tenant, delta: object) -> None:
    api, card, _, _ = await _card(tenant)
    response = await api.post(f"{card}/operations", json={"delta": delta})
    assert response.status_code == 422, response.text
    assert response.json()["error_type"] == "unprocessable_entity"
    assert response.json()["errors"][0]["field"] == "delta"
    assert (await api.get(card)).json()["balance"] == "0.0"
    assert (await api.get(f"{card}/operations")).json() == []


async def test_delta_is_required_and_other_fields_validated(tenant: Tenant) -> None:
    api, card, _, _ = await _card(tenant)
    missing = await api.post(f"{card}/operations", json={"reason": "x"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "delta"
    too_long = await api.post(f"{card}/operations", json={"delta": "1", "reason": "x" * 256})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "reason"
    unknown = await api.post(f"{card}/operations", json={"delta": "1", "points": 3})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "points"
    read_only = await api.post(f"{card}/operations", json={"delta": "1", "new_balance": "1"})
    assert read_only.status_code == 422 and read_only.json()["errors"][0]["field"] == "new_balance"
    no_order = await api.post(f"{card}/operations", json={"delta": "1", "order_id": "nosuchorder"})
    assert no_order.status_code == 422 and no_order.json()["errors"][0]["field"] == "order_id"
    assert (await api.get(card)).json()["balance"] == "0.0"
    decimals = await api.post(f"{card}/operations", json={"delta": "1.1234560"})
    assert decimals.status_code == 201 and decimals.json()["delta"] == "1.123456"


async def test_operations_are_immutable(tenant: Tenant) -> None:
    api, card, _, _ = await _card(tenant)
    operation = (await api.post(f"{card}/operations", json={"delta": "1"})).json()
    for method in ("PATCH", "PUT", "DELETE"):
        response = await api.request(method, f"{card}/operations/{operation['id']}", json={"delta": "5"})
        assert response.status_code in (404, 405)
        assert response.json()["error_type"] == "routing_error"
    assert (await api.get(card)).json()["balance"] == "1.0"


async def test_250_operations_paginate_newest_first_as_running_sums(tenant: Tenant) -> None:
    api, card, _, _ = await _card(tenant)
    deltas = [Decimal(i % 7 - 3 or 1) / 4 for i in range(250)]
    for delta in deltas:
        assert (await api.post(f"{card}/operations", json={"delta": str(delta)})).status_code == 201
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"count": 100, **({"cursor": cursor} if cursor else {})}
        response = await api.get(f"{card}/operations", params=params)
        assert response.status_code == 200
        seen.extend(response.json())
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            break
    assert len(seen) == 250 and len({op["id"] for op in seen}) == 250
    chronological = list(reversed(seen))
    assert [Decimal(op["delta"]) for op in chronological] == deltas
    running = Decimal(0)
    for op in chronological:
        running += Decimal(op["delta"])
        assert Decimal(op["new_balance"]) == running
    assert Decimal((await api.get(card)).json()["balance"]) == sum(deltas)


async def test_operations_of_another_card_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    api, card, _, _ = await _card(tenant)
    _, other_card, _, _ = await _card(tenant)
    operation = (await api.post(f"{card}/operations", json={"delta": "1"})).json()
    assert (await api.get(f"{other_card}/operations/{operation['id']}")).status_code == 404
    stranger = await other_tenant.api("account[all_customer_lists.write]")
    assert (await stranger.get(f"{card}/operations/{operation['id']}")).status_code == 404
    assert (await stranger.post(f"{card}/operations", json={"delta": "1"})).status_code == 404
    assert json.loads((await api.get(card)).text)["balance"] == "1.0"
