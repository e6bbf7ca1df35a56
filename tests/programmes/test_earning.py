"""Points earned on orders (a Patronage extension): an ordinary operation with the order's id when a linked order
reaches an earning status, the opposite when it is cancelled or rejected, the difference when its amount
changes; never twice for one order and status."""

from decimal import Decimal

import pytest

from helpers import Api, Tenant

SCOPE = "location[orders.write,all_customer_lists.write]"


def _item(price: str, quantity: str = "1") -> dict:
    return {"product_name": "Menu", "price": price, "quantity": quantity}


async def _setup(tenant: Tenant, programme: dict, ref: str = "LOY") -> tuple[Api, str, str]:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    answer = await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/{ref}", json=programme)
    assert answer.status_code == 200, answer.text
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Ann"})).json()
    return api, list_id, customer["id"]


async def _order(api: Api, tenant: Tenant, customer_id: str | None, status: str = "completed", **fields) -> dict:
    body = {"status": status, **({"customer_id": customer_id} if customer_id else {}), **fields}
    answer = await api.post(f"/v1/locations/{tenant.location_id}/orders", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _patch(api: Api, tenant: Tenant, order_id: str, body: dict, **kwargs) -> dict:
    answer = await api.patch(f"/v1/locations/{tenant.location_id}/orders/{order_id}", json=body, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _cards(api: Api, list_id: str, customer_id: str) -> list[dict]:
    return (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"customer_id": customer_id})).json()


async def _operations(api: Api, list_id: str, card_id: str) -> list[dict]:
    """Oldest first."""
    answer = await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card_id}/operations")
    return list(reversed(answer.json()))


async def test_an_order_earns_once_and_gives_back_when_cancelled(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant, {"name": "Club card", "points_per_unit": "1"})
    order = await _order(api, tenant, customer_id, status="new", items=[_item("12.34 EUR")])
    assert await _cards(api, list_id, customer_id) == []  # not earning yet: no card made
    await _patch(api, tenant, order["id"], {"status": "accepted"})
    assert await _cards(api, list_id, customer_id) == []

    await _patch(api, tenant, order["id"], {"status": "completed"})
    [card] = await _cards(api, list_id, customer_id)
    assert (card["ref"], card["name"], card["balance"]) == ("LOY", "Club card", "12.0")  # rounded down
    # The same status again, a retry with an idempotency key, other changes: nothing more.
    await _patch(api, tenant, order["id"], {"status": "completed", "seller_notes": "ok"})
    for _ in range(2):
        await _patch(api, tenant, order["id"], {"status": "completed"}, headers={"Idempotency-Key": "k1"})
    [operation] = await _operations(api, list_id, card["id"])
    assert operation["delta"] == "12.0" and operation["order_id"] == order["id"]
    assert operation["order_location_id"] == tenant.location_id and operation["reason"] == "Points earned on order"

    await _patch(api, tenant, order["id"], {"status": "cancelled"})
    await _patch(api, tenant, order["id"], {"status": "cancelled"})
    operations = await _operations(api, list_id, card["id"])
    assert [(op["delta"], op["reason"]) for op in operations] == [
        ("12.0", "Points earned on order"),
        ("-12.0", "Points reversed: order cancelled"),
    ]
    assert (await _cards(api, list_id, customer_id))[0]["balance"] == "0.0"
    # The order's own answer is HubRise's: the earning is in the card's ledger, not in its loyalty_operations.
    got = (await api.get(f"/v1/locations/{tenant.location_id}/orders/{order['id']}")).json()
    assert got["loyalty_operations"] == []


async def test_an_order_created_at_an_earning_status_earns_in_its_transaction(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant, {"points_per_unit": "0.1", "rounding": {"decimals": 2}})
    order = await _order(api, tenant, customer_id, items=[_item("8.90 EUR", "3")])
    # The customer copy in the order already holds the card and its balance.
    assert [(c["ref"], c["balance"]) for c in order["customer"]["loyalty_cards"]] == [("LOY", "2.67")]
    rejected = await _patch(api, tenant, order["id"], {"status": "rejected"})
    assert rejected["status"] == "rejected"
    [card] = await _cards(api, list_id, customer_id)
    assert [op["delta"] for op in await _operations(api, list_id, card["id"])] == ["2.67", "-2.67"]


async def test_a_change_of_amount_moves_the_difference(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant, {"points_per_unit": "2"})
    order = await _order(api, tenant, customer_id, items=[_item("10.00 EUR"), _item("5.00 EUR")])
    deleted = await _patch(api, tenant, order["id"], {"items": [{"id": order["items"][1]["id"], "deleted": True}]})
    assert deleted["total"] == "10.00 EUR"
    await _patch(api, tenant, order["id"], {"items": [_item("2.50 EUR")]})
    [card] = await _cards(api, list_id, customer_id)
    assert [(op["delta"], op["reason"]) for op in await _operations(api, list_id, card["id"])] == [
        ("30.0", "Points earned on order"),
        ("-10.0", "Points adjusted: order amount changed"),
        ("5.0", "Points adjusted: order amount changed"),
    ]
    assert card["balance"] == "25.0"


@pytest.mark.parametrize(
    ("programme", "points"),
    [
        ({"points_per_unit": "1"}, "15.0"),  # 20 − 5, rounded down (charges don't count by default)
        ({"points_per_unit": "1", "count_charges": True}, "18.0"),  # 20 + 3.50 − 5 = 18.50, down
        ({"points_per_unit": "1", "count_charges": True, "rounding": {"mode": "nearest"}}, "19.0"),
        ({"points_per_unit": "1", "count_charges": True, "rounding": {"mode": "up", "decimals": 1}}, "18.5"),
        ({"points_per_unit": "1", "count_discounts": False}, "20.0"),
        ({"points_per_unit": "0.333333", "rounding": {"mode": "up", "decimals": 6}}, "4.999995"),
        ({"points_per_unit": "0.333333", "rounding": {"mode": "nearest", "decimals": 5}}, "5.0"),
        ({"points_per_unit": "0"}, None),  # nothing to credit: no operation
    ],
)
async def test_charges_discounts_and_rounding(tenant: Tenant, programme: dict, points: str | None) -> None:
    api, list_id, customer_id = await _setup(tenant, programme)
    await _order(
        api,
        tenant,
        customer_id,
        items=[_item("20.00 EUR")],
        charges=[{"name": "Delivery", "price": "3.50 EUR"}],
        discounts=[{"name": "Promo", "price_off": "5.00 EUR"}],
    )
    cards = await _cards(api, list_id, customer_id)
    if points is None:
        assert [await _operations(api, list_id, card["id"]) for card in cards] in ([], [[]])
        return
    [card] = cards
    assert [op["delta"] for op in await _operations(api, list_id, card["id"])] == [points]
    assert Decimal(card["balance"]) == Decimal(points)


async def test_a_customer_earns_on_each_scheme_of_the_list(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant, {"points_per_unit": "1"}, ref="LOY")
    answer = await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/~", json={"points_per_unit": "10"})
    assert answer.status_code == 200
    # The customer's existing card of the null-ref scheme is used, not a new one.
    plain = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})
    await _order(api, tenant, customer_id, items=[_item("3.00 EUR")])
    cards = {card["ref"]: card for card in await _cards(api, list_id, customer_id)}
    assert cards.keys() == {None, "LOY"}
    assert cards[None]["id"] == plain.json()["id"]
    assert (cards[None]["balance"], cards["LOY"]["balance"]) == ("30.0", "3.0")


async def test_orders_without_a_customer_or_without_a_programme_earn_nothing(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant, {"points_per_unit": "1"})
    guest = await _order(api, tenant, None, items=[_item("9.00 EUR")])
    assert guest["customer_id"] is None
    other_list = await tenant.customer_list()
    other = (await api.post(f"/v1/customer_lists/{other_list}/customers", json={})).json()
    await _order(api, tenant, other["id"], items=[_item("9.00 EUR")])
    assert await _cards(api, other_list, other["id"]) == []
    assert await _cards(api, list_id, customer_id) == []
