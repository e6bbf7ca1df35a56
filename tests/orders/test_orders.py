"""Orders (SPEC §8): elements and exact totals, validation, access, updates, private refs, pages, filters."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from helpers import Api, Tenant
from patronage.orders.models import Order

WRITE = "location[orders.write]"
ORDER_KEYS = [
    "id",
    "location_id",
    "status",
    "ref",
    "private_ref",
    "service_type",
    "service_type_ref",
    "created_at",
    "created_by",
    "expected_time",
    "confirmed_time",
    "customer_notes",
    "seller_notes",
    "collection_code",
    "coupon_codes",
    "total",
    "total_discrepancy",
    "payment_discrepancy",
    "items",
    "deals",
    "charges",
    "discounts",
    "payments",
    "loyalty_operations",
    "customer_id",
    "customer_list_id",
    "customer",
    "delivery",
    "custom_fields",
]

FULL_ORDER = {
    "status": "new",
    "ref": "A-1001",
    "private_ref": "pos-1001",
    "service_type": "delivery",
    "service_type_ref": "DLV",
    "expected_time": "2030-06-25T12:30:00+02:00",
    "confirmed_time": "2030-06-25T10:45:00Z",
    "customer_notes": "Ring twice",
    "seller_notes": "VIP",
    "collection_code": "AB12",
    "coupon_codes": ["WELCOME"],
    "items": [
        {
            "product_name": "Margherita",
            "sku_name": "Large",
            "sku_ref": "MAR-L",
            "price": "8.90 EUR",
            "quantity": "2",
            "options": [
                {"option_list_name": "Extras", "name": "Olives", "ref": "OLV", "price": "0.50 EUR", "quantity": 3},
                {"option_list_name": "Extras", "name": "Basil", "price": "0.25 EUR"},
            ],
            "points_earned": "8.9",
            "points_used": 0,
            "customer_notes": "Well done",
        },
        {"product_name": "Water", "price": "1.5 EUR", "quantity": 1},
    ],
    "charges": [{"name": "Delivery", "ref": "DEL", "price": "2.00 EUR"}],
    "discounts": [{"name": "Welcome", "ref": "W10", "price_off": "3.10 EUR"}],
    "payments": [{"name": "Card", "ref": "CB", "amount": "21.20 EUR"}],
    "custom_fields": {"table": 12, "tags": ["a", {"b": None}]},
}


def _path(tenant: Tenant, location_id: str | None = None) -> str:
    return f"/v1/locations/{location_id or tenant.location_id}/orders"


async def _order(api: Api, path: str, **fields: object) -> dict:
    response = await api.post(path, json={"status": "new", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def _all(api: Api, path: str, **params: object) -> list[dict]:
    seen: list[dict] = []
    cursor = None
    while True:
        response = await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        seen.extend(response.json())
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            return seen


# --- create -----------------------------------------------------------------------------------------------


async def test_create_with_every_element_and_exact_totals(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    response = await api.post(_path(tenant), json=FULL_ORDER)
    assert response.status_code == 201, response.text
    order = response.json()
    assert list(order) == ORDER_KEYS
    # (8.90 + 0.50 × 3 + 0.25 × 1) × 2 = 21.30; 1.50; + 2.00 − 3.10 = 21.70
    margherita, water = order["items"]
    olives = {"option_list_name": "Extras", "name": "Olives", "ref": "OLV", "price": "0.50 EUR", "quantity": 3}
    basil = {"option_list_name": "Extras", "name": "Basil", "ref": None, "price": "0.25 EUR", "quantity": 1}
    assert margherita == {
        "id": margherita["id"],
        "private_ref": None,
        "product_name": "Margherita",
        "sku_name": "Large",
        "sku_ref": "MAR-L",
        "price": "8.90 EUR",
        "quantity": "2.0",
        "subtotal": "21.30 EUR",
        "tax_rate": None,
        "customer_notes": "Well done",
        "points_earned": "8.9",
        "points_used": "0.0",
        "options": [{**olives, "removed": False}, {**basil, "removed": False}],
        "deleted": False,
    }
    assert water["subtotal"] == "1.50 EUR" and water["price"] == "1.50 EUR" and water["options"] == []
    assert order["total"] == "21.70 EUR"
    assert order["charges"] == [
        {
            "id": order["charges"][0]["id"],
            "private_ref": None,
            "type": "other",
            "name": "Delivery",
            "ref": "DEL",
            "price": "2.00 EUR",
            "tax_rate": None,
            "charge_type": "other",
            "charge_ref": "DEL",
            "charge_price": "2.00 EUR",
            "deleted": False,
        }
    ]
    assert order["discounts"][0]["price_off"] == "3.10 EUR"
    assert order["payments"][0]["amount"] == "21.20 EUR"
    assert order["payment_discrepancy"] == "-0.50 EUR"  # 21.20 paid of 21.70
    assert order["total_discrepancy"] is None and order["deals"] == {} and order["delivery"] is None
    ids = [margherita["id"], water["id"], order["charges"][0]["id"], order["discounts"][0]["id"]]
    ids.append(order["payments"][0]["id"])
    assert len(set(ids)) == 5 and all(i.isalnum() and i.islower() for i in ids)
    assert order["location_id"] == tenant.location_id
    assert order["created_by"] == tenant.client_name
    assert order["private_ref"] == "pos-1001"
    assert order["status"] == "new" and order["service_type"] == "delivery"
    assert order["expected_time"] == "2030-06-25T12:30:00+02:00"
    assert order["confirmed_time"] == "2030-06-25T12:45:00+02:00"  # rendered in the location's timezone
    assert order["created_at"].endswith(("+01:00", "+02:00"))
    assert order["coupon_codes"] == ["WELCOME"]
    assert order["custom_fields"] == {"table": 12, "tags": ["a", {"b": None}]}
    assert order["loyalty_operations"] == [] and order["customer"] is None
    assert order["customer_id"] is None and order["customer_list_id"] is None

    retrieved = await api.get(f"{_path(tenant)}/{order['id']}")
    assert retrieved.status_code == 200 and retrieved.json() == order
    short = await api.get(f"/v1/location/orders/{order['id']}")
    assert short.status_code == 200 and short.json() == order


async def test_minimal_order_and_short_endpoint(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    response = await api.post("/v1/location/orders", json={"status": "received"})
    assert response.status_code == 201
    order = response.json()
    assert order["total"] == "0.00 EUR"
    assert order["items"] == [] and order["coupon_codes"] == [] and order["custom_fields"] == {}
    assert order["ref"] is None and order["private_ref"] is None and order["expected_time"] is None
    assert [o["id"] for o in (await api.get("/v1/location/orders")).json()] == [order["id"]]


@pytest.mark.parametrize(
    ("price", "quantity", "subtotal"),
    [
        ("0.99 EUR", "0.5", "0.50 EUR"),  # 0.495 -> 0.50: half up
        ("1.01 EUR", "0.333", "0.34 EUR"),  # 0.33633 -> 0.34
        ("1.00 EUR", "0.333", "0.33 EUR"),  # 0.333 -> 0.33
        ("-0.99 EUR", "0.5", "-0.50 EUR"),  # halves away from zero
        ("3 EUR", 0.1, "0.30 EUR"),  # a JSON number is read exactly
        ("0.01 EUR", "0.000001", "0.00 EUR"),
        ("999999999999.99 EUR", "999", "998999999999990.01 EUR"),
    ],
)
async def test_fractional_quantities_round_once_half_up(
    tenant: Tenant, price: str, quantity: object, subtotal: str
) -> None:
    api = await tenant.api(WRITE)
    order = await _order(api, _path(tenant), items=[{"product_name": "Cheese", "price": price, "quantity": quantity}])
    assert order["items"][0]["subtotal"] == subtotal
    assert order["total"] == subtotal


async def test_fractional_item_quantities_are_exact_before_rounding(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    # Subtotals are computed exactly and rounded once: (1.00 + 0.01 × 3) × 0.5 = 0.515 -> 0.52 and
    # (1.00 + 0.01) × 0.25 = 0.2525 -> 0.25 (half away from zero).
    soup = {
        "product_name": "Soup",
        "price": "1.00 EUR",
        "quantity": "0.5",
        "options": [{"name": "Salt", "price": "0.01 EUR", "quantity": 3}],
    }
    bread = {
        "product_name": "Bread",
        "price": "1.00 EUR",
        "quantity": "0.25",
        "options": [{"name": "Butter", "price": "0.01 EUR", "quantity": "1"}],
    }
    order = await _order(api, _path(tenant), items=[soup, bread])
    assert [i["subtotal"] for i in order["items"]] == ["0.52 EUR", "0.25 EUR"]
    assert [i["options"][0]["quantity"] for i in order["items"]] == [3, 1]  # integers, as the reference has them
    assert order["total"] == "0.77 EUR"


@pytest.mark.parametrize("quantity", ["0.5", 0.5, "1.5", 0, -1, True, None, "two"])
async def test_option_quantities_are_whole_numbers(tenant: Tenant, quantity: object) -> None:
    api = await tenant.api(WRITE)
    item = {
        "product_name": "Soup",
        "price": "1.00 EUR",
        "quantity": 1,
        "options": [{"name": "Salt", "quantity": quantity}],
    }
    response = await api.post(_path(tenant), json={"status": "new", "items": [item]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items.0.options.0.quantity"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"product_name": "A", "price": "8.90 GBP", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "8.905 EUR", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "8,90 EUR", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": 8.9, "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "8.90", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "EUR 8.90", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "8.90 eur", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "1e3 EUR", "quantity": 1}]}, "items.0.price"),
        ({"items": [{"product_name": "A", "price": "1000000000000.00 EUR", "quantity": 1}]}, "items.0.price"),
        (
            {
                "items": [
                    {"product_name": "A", "price": "1.00 EUR", "quantity": 1},
                    {
                        "product_name": "B",
                        "price": "1.00 EUR",
                        "quantity": 1,
                        "options": [{"name": "x", "price": "0.5 EUR"}, {"name": "y", "price": "0.50 USD"}],
                    },
                ]
            },
            "items.1.options.1.price",
        ),
        ({"charges": [{"name": "Delivery", "price": "2.00 USD"}]}, "charges.0.price"),
        ({"discounts": [{"name": "Promo", "price_off": "2.001 EUR"}]}, "discounts.0.price_off"),
        ({"payments": [{"name": "Cash", "amount": "twenty EUR"}]}, "payments.0.amount"),
        ({"items": [{"product_name": "A", "price": "1.00 EUR", "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"product_name": "A", "price": "1.00 EUR", "quantity": "-1"}]}, "items.0.quantity"),
        ({"items": [{"product_name": "A", "price": "1.00 EUR", "quantity": "1.1234567"}]}, "items.0.quantity"),
        ({"items": [{"product_name": "A", "price": "1.00 EUR", "quantity": "abc"}]}, "items.0.quantity"),
        ({"items": [{"product_name": "A", "price": "1.00 EUR", "quantity": True}]}, "items.0.quantity"),
        ({"items": [{"product_name": "A", "price": "1.00 EUR"}]}, "items.0.quantity"),
        ({"items": [{"price": "1.00 EUR", "quantity": 1}]}, "items.0.product_name"),
        (
            {
                "items": [
                    {"product_name": "A", "price": "1 EUR", "quantity": 1, "options": [{"name": "o", "quantity": 0}]}
                ]
            },
            "items.0.options.0.quantity",
        ),
        ({"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "tax_rate": "101"}]}, "items.0.tax_rate"),
        ({"status": "done"}, "status"),
        ({"status": None}, "status"),
        ({"status": 1}, "status"),
        ({"service_type": "takeaway"}, "service_type"),
        ({"expected_time": "tomorrow"}, "expected_time"),
        ({"expected_time": "2030-06-25"}, "expected_time"),
        ({"confirmed_time": 1718000000}, "confirmed_time"),
        ({"ref": "x" * 256}, "ref"),
        ({"coupon_codes": "WELCOME"}, "coupon_codes"),
        ({"total": "1.00 EUR"}, "total"),
        ({"created_by": "me"}, "created_by"),
        ({"id": "abc"}, "id"),
        ({"colour": "red"}, "colour"),
        ({"custom_fields": {"big": "x" * 9000}}, "custom_fields"),
        ({"custom_fields": "nope"}, "custom_fields"),
    ],
)
async def test_invalid_orders_are_422_naming_the_field(tenant: Tenant, body: dict, field: str) -> None:
    api = await tenant.api(WRITE)
    response = await api.post(_path(tenant), json={"status": "new", **body})
    assert response.status_code == 422, response.text
    assert response.json()["error_type"] == "unprocessable_entity"
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert (await api.get(_path(tenant))).json() == []


async def test_the_body_is_checked_before_the_location_and_its_currency_after(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    nowhere = "/v1/locations/nosuchlocation/orders"
    bad = await api.post(nowhere, json={"status": "new", "items": [{"product_name": "A", "price": "8,90 EUR"}]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"items.0.price", "items.0.quantity"}
    assert (await api.post(nowhere, json={"status": "new"})).status_code == 404
    # In the right location, every amount in another currency is named at once, with the location's currency.
    item = {"product_name": "A", "price": "8.90 GBP", "quantity": 1}
    response = await api.post(_path(tenant), json={"status": "new", "items": [item], "charges": [{"price": "1 USD"}]})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "items.0.price", "message": "must be in EUR, the location's currency"},
        {"field": "charges.0.price", "message": "must be in EUR, the location's currency"},
    ]


async def test_status_is_required(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    response = await api.post(_path(tenant), json={"ref": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


async def test_every_status_and_service_type_is_accepted(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    statuses = [
        "new",
        "received",
        "accepted",
        "in_preparation",
        "awaiting_shipment",
        "awaiting_collection",
        "in_delivery",
        "completed",
        "rejected",
        "cancelled",
        "delivery_failed",
    ]
    for status in statuses:
        assert (await _order(api, _path(tenant), status=status))["status"] == status
    for service_type in ("delivery", "collection", "eat_in", None):
        assert (await _order(api, _path(tenant), service_type=service_type))["service_type"] == service_type


async def test_currencies_without_minor_units(tenant: Tenant) -> None:
    from patronage.tenancy import service as tenancy

    async with tenant.db.session(write=True) as session:
        account = await tenancy.get_account(session, tenant.account_id)
        tokyo = await tenancy.create_location(session, account, "Tokyo", currency="JPY", timezone="Asia/Tokyo")
    api = await tenant.api("account[orders.write]")
    path = f"/v1/locations/{tokyo.id}/orders"
    item = {"product_name": "Ramen", "price": "950 JPY", "quantity": "3"}
    order = await _order(api, path, items=[item], expected_time="2030-01-01T12:00:00")
    assert order["total"] == "2850 JPY" and order["items"][0]["price"] == "950 JPY"
    assert order["expected_time"] == "2030-01-01T12:00:00+09:00"  # no offset: the location's timezone
    bad = await api.post(path, json={"status": "new", "items": [{**item, "price": "950.0 JPY"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "items.0.price"
    euros = await api.post(path, json={"status": "new", "items": [{**item, "price": "9.50 EUR"}]})
    assert euros.status_code == 422 and "JPY" in euros.json()["errors"][0]["message"]


async def test_idempotent_create(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    headers = {"Idempotency-Key": "order-1"}
    first = await api.post(_path(tenant), json={"status": "new", "ref": "A"}, headers=headers)
    again = await api.post(_path(tenant), json={"status": "new", "ref": "A"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = await api.post(_path(tenant), json={"status": "new", "ref": "B"}, headers=headers)
    assert other.status_code == 422
    assert len((await api.get(_path(tenant))).json()) == 1


# --- access -----------------------------------------------------------------------------------------------


async def test_location_tokens_see_their_location_only(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    mine = await _order(api, _path(tenant))
    other_location = _path(tenant, tenant.other_location_id)
    assert (await api.post(other_location, json={"status": "new"})).status_code == 404
    assert (await api.get(other_location)).status_code == 404
    account_api = await tenant.api("account[orders.write]")
    theirs = await _order(account_api, other_location)
    assert (await api.get(f"{other_location}/{theirs['id']}")).status_code == 404
    assert (await api.patch(f"{other_location}/{theirs['id']}", json={"status": "accepted"})).status_code == 404
    # An order id under another location's path is not found, even for an account token.
    assert (await account_api.get(f"{other_location}/{mine['id']}")).status_code == 404
    assert (await account_api.get(f"{_path(tenant)}/{mine['id']}")).status_code == 200
    assert (await api.get(f"{_path(tenant)}/nosuchorder")).status_code == 404
    assert [o["id"] for o in (await api.get(_path(tenant))).json()] == [mine["id"]]


async def test_account_tokens_see_every_location_and_the_account_index(tenant: Tenant) -> None:
    api = await tenant.api("account[orders.write]")
    first = await _order(api, _path(tenant))
    second = await _order(api, _path(tenant, tenant.other_location_id))
    for path in (f"/v1/accounts/{tenant.account_id}/orders", "/v1/account/orders"):
        response = await api.get(path)
        assert response.status_code == 200
        assert [o["id"] for o in response.json()] == [second["id"], first["id"]]
    assert [o["id"] for o in (await api.get(_path(tenant, tenant.other_location_id))).json()] == [second["id"]]
    # The account-level short endpoints are for account-level connections, the location ones for location-level.
    assert (await api.get("/v1/location/orders")).status_code == 403
    assert (await api.post("/v1/location/orders", json={"status": "new"})).status_code == 403
    location_api = await tenant.api("location[orders.write]")
    assert (await location_api.get("/v1/account/orders")).status_code == 403
    assert (await location_api.get(f"/v1/accounts/{tenant.account_id}/orders")).status_code == 403


async def test_other_accounts_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    api = await tenant.api("account[orders.write]")
    order = await _order(api, _path(tenant))
    for scope in ("account[orders.write]", "location[orders.write]"):
        stranger = await other_tenant.api(scope)
        assert (await stranger.get(_path(tenant))).status_code == 404
        assert (await stranger.post(_path(tenant), json={"status": "new"})).status_code == 404
        assert (await stranger.get(f"{_path(tenant)}/{order['id']}")).status_code == 404
        assert (await stranger.patch(f"{_path(tenant)}/{order['id']}", json={"status": "accepted"})).status_code == 404
        assert (await stranger.get(f"/v1/accounts/{tenant.account_id}/orders")).status_code == 404
    stranger = await other_tenant.api("location[orders.write]")
    assert (await stranger.get(f"/v1/location/orders/{order['id']}")).status_code == 404
    assert (await api.get(f"{_path(tenant)}/{order['id']}")).json()["status"] == "new"


async def test_scopes(tenant: Tenant) -> None:
    writer = await tenant.api(WRITE)
    order = await _order(writer, _path(tenant))
    url = f"{_path(tenant)}/{order['id']}"
    for scope in ("location[orders.read]", "account[orders.read]"):
        reader = await tenant.api(scope)
        assert (await reader.get(url)).status_code == 200
        assert (await reader.get(_path(tenant))).status_code == 200
        for response in (
            await reader.post(_path(tenant), json={"status": "new"}),
            await reader.patch(url, json={"status": "accepted"}),
            await reader.put(url, json={"status": "accepted"}),
        ):
            assert response.status_code == 403 and response.json()["error_type"] == "forbidden"
    blind = await tenant.api("location[all_customer_lists.write]")
    for response in (
        await blind.get(url),
        await blind.get(_path(tenant)),
        await blind.get("/v1/location/orders"),
        await blind.post(_path(tenant), json={"status": "new"}),
    ):
        assert response.status_code == 403
    assert (await writer.get(url)).json()["status"] == "new"
    assert len((await writer.get(_path(tenant))).json()) == 1


# --- update -----------------------------------------------------------------------------------------------


async def test_update_changes_only_the_fields_sent(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    order = (await api.post(_path(tenant), json=FULL_ORDER)).json()
    url = f"{_path(tenant)}/{order['id']}"
    patched = await api.patch(
        url,
        json={
            "status": "accepted",
            "confirmed_time": "2030-06-25T13:00:00+02:00",
            "seller_notes": "Regular",
            "custom_fields": {"table": None, "floor": 2},
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["status"] == "accepted"
    assert body["confirmed_time"] == "2030-06-25T13:00:00+02:00"
    assert body["seller_notes"] == "Regular"
    assert body["collection_code"] == "AB12"
    assert body["custom_fields"] == {"tags": ["a", {"b": None}], "floor": 2}
    assert {
        k: v for k, v in body.items() if k not in ("status", "confirmed_time", "seller_notes", "custom_fields")
    } == {k: v for k, v in order.items() if k not in ("status", "confirmed_time", "seller_notes", "custom_fields")}
    put = await api.put(url, json={"collection_code": None, "confirmed_time": None, "private_ref": "pos-2"})
    assert put.status_code == 200
    assert put.json()["collection_code"] is None and put.json()["confirmed_time"] is None
    assert put.json()["private_ref"] == "pos-2" and put.json()["status"] == "accepted"
    assert (await api.get(url)).json() == put.json()
    short = await api.patch(f"/v1/location/orders/{order['id']}", json={"status": "completed"})
    assert short.status_code == 200 and short.json()["status"] == "completed"
    cleared = await api.patch(url, json={"custom_fields": None, "private_ref": None})
    assert cleared.json()["custom_fields"] == {} and cleared.json()["private_ref"] is None


async def test_update_accepts_read_only_fields_echoed_unchanged(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    order = (await api.post(_path(tenant), json=FULL_ORDER)).json()
    url = f"{_path(tenant)}/{order['id']}"
    echoed = await api.patch(url, json={**order, "status": "completed"})
    assert echoed.status_code == 200, echoed.text
    assert echoed.json() == {**order, "status": "completed"}
    for field, value in (
        ("total", "1.00 EUR"),
        ("deals", {"0": {"name": "Menu", "ref": None}}),
        ("ref", "other"),
        ("customer_notes", "x"),
        ("created_by", "me"),
        ("location_id", tenant.other_location_id),
        ("customer_id", "abc"),
    ):
        response = await api.patch(url, json={field: value})
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field
    for body, field in (
        ({"status": None}, "status"),
        ({"status": "lost"}, "status"),
        ({"confirmed_time": "soon"}, "confirmed_time"),
        ({"colour": "red"}, "colour"),
        ({"custom_fields": {"big": "x" * 9000}}, "custom_fields"),
    ):
        response = await api.patch(url, json=body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    assert (await api.get(url)).json()["status"] == "completed"


async def test_private_refs_belong_to_each_client(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    other_client = await tenant.new_client("Delivery app")
    other = await tenant.api(WRITE, client_id=other_client)
    order = await _order(api, _path(tenant), private_ref="mine")
    url = f"{_path(tenant)}/{order['id']}"
    assert (await other.get(url)).json()["private_ref"] is None
    assert (await other.get(_path(tenant), params={"private_ref": "mine"})).json() == []
    assert (await other.patch(url, json={"private_ref": "theirs"})).json()["private_ref"] == "theirs"
    assert (await api.get(url)).json()["private_ref"] == "mine"
    assert [o["id"] for o in (await api.get(_path(tenant), params={"private_ref": "mine"})).json()] == [order["id"]]
    assert [o["id"] for o in (await other.get(_path(tenant), params={"private_ref": "theirs"})).json()] == [order["id"]]
    # Private refs of orders are not unique.
    second = await _order(api, _path(tenant), private_ref="mine")
    found = (await api.get(_path(tenant), params={"private_ref": "mine"})).json()
    assert [o["id"] for o in found] == [second["id"], order["id"]]
    created_by_other = await _order(other, _path(tenant))
    assert created_by_other["created_by"] == "Delivery app"


# --- index ------------------------------------------------------------------------------------------------


async def test_250_orders_paginate_newest_first(tenant: Tenant) -> None:
    api = await tenant.api("account[orders.write]")
    created = []
    for i in range(250):
        location_id = tenant.location_id if i % 5 else tenant.other_location_id
        created.append((await _order(api, _path(tenant, location_id), ref=str(i)))["id"])
    first_page = await api.get(f"/v1/accounts/{tenant.account_id}/orders")
    assert len(first_page.json()) == 100 and first_page.headers.get("X-Cursor-Next")
    seen = await _all(api, f"/v1/accounts/{tenant.account_id}/orders", count=100)
    assert [o["id"] for o in seen] == list(reversed(created))
    small_pages = await _all(api, "/v1/account/orders", count=7)
    assert [o["id"] for o in small_pages] == list(reversed(created))
    of_location = await _all(api, _path(tenant), count=30)
    assert [o["id"] for o in of_location] == [oid for i, oid in reversed(list(enumerate(created))) if i % 5]
    for params in ({"count": 0}, {"count": 101}, {"count": "x"}, {"cursor": "forged"}):
        response = await api.get(_path(tenant), params=params)
        assert response.status_code == 422


async def test_filters(tenant: Tenant) -> None:
    api = await tenant.api("account[orders.write,all_customer_lists.write]")
    other = await tenant.api(
        "account[orders.write,all_customer_lists.read]", client_id=await tenant.new_client("Kiosk")
    )
    list_id = await tenant.customer_list(location_id=None)
    customer_id = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    a = await _order(api, _path(tenant), status="new", private_ref="p1", customer_id=customer_id)
    b = await _order(api, _path(tenant), status="accepted", private_ref="p2")
    c = await _order(other, _path(tenant), status="accepted", customer_id=customer_id)
    d = await _order(api, _path(tenant, tenant.other_location_id), status="accepted", customer_id=customer_id)
    # Fixed creation times (UTC): a 10:00, b 11:00, c 12:00, d 12:00:30.
    base = datetime(2030, 1, 15, 10, 0, 0)
    async with tenant.db.session(write=True) as session:
        for offset, order in ((0, a), (3600, b), (7200, c), (7230, d)):
            await session.execute(
                update(Order).where(Order.id == order["id"]).values(created_at=base + timedelta(seconds=offset))
            )

    async def ids(path: str = _path(tenant), **params: str) -> list[str]:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()]

    assert await ids() == [c["id"], b["id"], a["id"]]
    assert await ids(status="accepted") == [c["id"], b["id"]]
    assert await ids(created_by="Kiosk") == [c["id"]]
    assert await ids(created_by=tenant.client_name) == [b["id"], a["id"]]
    assert await ids(customer_id=customer_id) == [c["id"], a["id"]]
    assert await ids(private_ref="p2") == [b["id"]]
    # after is inclusive, before exclusive; times are ISO 8601 with an offset (Paris is UTC+1 in January).
    assert await ids(after="2030-01-15T12:00:00+01:00") == [c["id"], b["id"]]
    assert await ids(after="2030-01-15T11:00:00Z", before="2030-01-15T13:00:00+01:00") == [b["id"]]
    assert await ids(before="2030-01-15T11:00:00") == []  # no offset: the location's time (10:00 UTC)
    assert await ids(before="2030-01-15T11:00:01") == [a["id"]]
    assert await ids(after="2030-01-15") == [c["id"], b["id"], a["id"]]
    assert await ids(status="accepted", created_by=tenant.client_name, before="2030-01-16") == [b["id"]]
    # An unencoded "+" arrives as a space; it is read as the offset it was meant to be.
    unencoded = await api.get(f"{_path(tenant)}?after=2030-01-15T12:00:00+01:00")
    assert [o["id"] for o in unencoded.json()] == [c["id"], b["id"]]
    account = f"/v1/accounts/{tenant.account_id}/orders"
    assert await ids(account, customer_id=customer_id) == [d["id"], c["id"], a["id"]]
    assert await ids(account, after="2030-01-15T13:00:10+01:00") == [d["id"]]
    for params in ({"after": "yesterday"}, {"before": "2030-13-01"}, {"status": "lost"}, {"after": "1718000000"}):
        response = await api.get(_path(tenant), params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == next(iter(params))
