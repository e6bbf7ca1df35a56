"""Orders in the whole format reference/hubrise/orders.md documents: its own example requests, sent as they are,
and the answers compared field by field with what it documents (deals and deal lines, tax rates, element
private refs, removed options, payment info, deprecated fields, deleted elements, discrepancies, delivery)."""

import copy
import json

import pytest
from sqlalchemy import update

from helpers import Api, Tenant
from patronage.orders.models import Order

SCOPE = "location[orders.write,all_customer_lists.write]"
HUGE = "a number too large for a float"

# orders.md §1.1, "Example request" (its customer_id is replaced by a customer of the test's list).
CREATE_EXAMPLE = {
    "ref": "17654321",
    "status": "new",
    "service_type": "delivery",
    "service_type_ref": "WEBSITE-DEL",
    "expected_time": "2021-06-24T11:30:00+02:00",
    "items": [
        {
            "product_name": "Margarita",
            "sku_name": "Small",
            "sku_ref": "MAR-SM",
            "price": "9.00 EUR",
            "quantity": "2",
            "options": [
                {"option_list_name": "Sauce", "name": "Barbecue", "ref": "BBQ", "price": "1.00 EUR", "quantity": 1}
            ],
        },
        {
            "product_name": "Brownie",
            "sku_ref": "BROWN",
            "price": "3.00 EUR",
            "quantity": "1",
            "deal_line": {"deal_key": "0", "label": "Dessert"},
        },
        {
            "product_name": "Coke",
            "sku_ref": "COK",
            "price": "1.00 EUR",
            "quantity": "1",
            "deal_line": {"deal_key": "0", "label": "Drink"},
        },
        {"product_name": "Wings BBQ", "sku_ref": "WBBQ", "price": "4.00 EUR", "quantity": "1", "points_used": "5.0"},
    ],
    "deals": {"0": {"name": "Buy a dessert, get a drink for 1€", "ref": "FREEDRINK"}},
    "discounts": [{"name": "5€ off your order", "ref": "5OFF", "price_off": "5.00 EUR"}],
    "charges": [{"name": "Delivery < 15 km", "ref": "DEL", "price": "1.50 EUR"}],
    "payments": [{"name": "PayPal", "ref": "PP", "amount": "23.50 EUR", "info": {"email": "john@doe.com"}}],
    "customer_id": "ve343",
    "loyalty_operations": [{"ref": "LOY", "delta": "-5", "reason": "Points used on order"}],
}


def _path(tenant: Tenant) -> str:
    return f"/v1/locations/{tenant.location_id}/orders"


async def _create(api: Api, tenant: Tenant, body: dict) -> dict:
    response = await api.post(_path(tenant), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _without_ids(elements: list[dict]) -> list[dict]:
    assert all(isinstance(element["id"], str) and element["id"] for element in elements)
    return [{k: v for k, v in element.items() if k != "id"} for element in elements]


async def test_the_references_create_example(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "John"})).json()
    order = await _create(api, tenant, {**CREATE_EXAMPLE, "customer_id": customer["id"]})

    assert order["ref"] == "17654321" and order["status"] == "new" and order["service_type"] == "delivery"
    assert order["service_type_ref"] == "WEBSITE-DEL"
    assert order["expected_time"] == "2021-06-24T11:30:00+02:00"
    margarita, brownie, coke, wings = order["items"]
    assert _without_ids([margarita]) == [
        {
            "private_ref": None,
            "product_name": "Margarita",
            "sku_name": "Small",
            "sku_ref": "MAR-SM",
            "price": "9.00 EUR",
            "quantity": "2.0",
            "subtotal": "20.00 EUR",  # (9.00 + 1.00) × 2
            "tax_rate": None,
            "customer_notes": None,
            "points_earned": None,
            "points_used": None,
            "options": [
                {
                    "option_list_name": "Sauce",
                    "name": "Barbecue",
                    "ref": "BBQ",
                    "price": "1.00 EUR",
                    "quantity": 1,
                    "removed": False,
                }
            ],
            "deleted": False,
        }
    ]
    assert "deal_line" not in margarita and "deal_line" not in wings
    for item, label in ((brownie, "Dessert"), (coke, "Drink")):
        assert item["deal_line"] == {
            "deal_key": "0",
            "position": None,
            "label": label,
            "pricing_effect": None,
            "pricing_value": None,
        }
    assert (brownie["subtotal"], coke["subtotal"], wings["subtotal"]) == ("3.00 EUR", "1.00 EUR", "4.00 EUR")
    assert wings["points_used"] == "5.0"
    assert order["deals"] == {"0": {"name": "Buy a dessert, get a drink for 1€", "ref": "FREEDRINK"}}
    assert _without_ids(order["discounts"]) == [
        {
            "private_ref": None,
            "name": "5€ off your order",
            "ref": "5OFF",
            "pricing_effect": "price_off",
            "pricing_value": "5.00 EUR",
            "price_off": "5.00 EUR",
            "deleted": False,
        }
    ]
    assert _without_ids(order["charges"]) == [
        {
            "private_ref": None,
            "type": "other",
            "name": "Delivery < 15 km",
            "ref": "DEL",
            "price": "1.50 EUR",
            "tax_rate": None,
            "charge_type": "other",
            "charge_ref": "DEL",
            "charge_price": "1.50 EUR",
            "deleted": False,
        }
    ]
    assert _without_ids(order["payments"]) == [
        {
            "private_ref": None,
            "type": "online",
            "name": "PayPal",
            "ref": "PP",
            "amount": "23.50 EUR",
            "info": {"email": "john@doe.com"},
            "deleted": False,
        }
    ]
    # 20.00 + 3.00 + 1.00 + 4.00 + 1.50 − 5.00: the deal's items are priced as sent.
    assert order["total"] == "24.50 EUR"
    assert order["total_discrepancy"] is None
    assert order["payment_discrepancy"] == "-1.00 EUR"  # 23.50 paid − 24.50
    assert order["delivery"] is None
    assert order["loyalty_operations"] == [
        {"ref": "LOY", "name": None, "delta": "-5.0", "reason": "Points used on order", "new_balance": "-5.0"}
    ]
    assert order["customer"]["id"] == customer["id"] and order["customer"]["order_total"] == "24.50 EUR"
    ids = [e["id"] for kind in ("items", "charges", "discounts", "payments") for e in order[kind]]
    assert len(set(ids)) == len(ids) == 7
    assert (await api.get(f"{_path(tenant)}/{order['id']}")).json() == order


async def test_the_references_retrieve_example(tenant: Tenant) -> None:
    """orders.md §1.2: the order of its response, created, then read back field by field."""
    api = await tenant.api(SCOPE)
    order = await _create(
        api,
        tenant,
        {
            "ref": "17654321",
            "status": "in_delivery",
            "service_type": "delivery",
            "expected_time": "2021-06-24T19:07:52+02:00",
            "items": [
                {
                    "product_name": "Carbonara",
                    "sku_name": "Large",
                    "sku_ref": "3",
                    "price": "11.90 EUR",
                    "quantity": "1.0",
                    "deal_line": {"deal_key": "0"},
                },
                {
                    "product_name": "Basil and Pesto",
                    "sku_ref": "17",
                    "price": "3.00 EUR",
                    "quantity": "2.0",
                    "options": [{"option_list_name": "Sauce", "name": "BBQ", "ref": "31", "price": "0.50 EUR"}],
                },
            ],
            "deals": {"0": {"name": "30% off on pasta", "ref": "10"}},
            "discounts": [{"name": "2€ off", "ref": "45", "price_off": "2.00 EUR"}],
            "charges": [{"type": "other", "name": "Courier Service", "ref": "DEL", "price": "2.00 EUR"}],
            "payments": [{"type": "online", "name": "Payment by cash", "ref": "CSH", "amount": "18.90 EUR"}],
        },
    )
    order = (await api.get(f"{_path(tenant)}/{order['id']}")).json()
    documented = {
        "ref": "17654321",
        "private_ref": None,
        "status": "in_delivery",
        "service_type": "delivery",
        "service_type_ref": None,
        "expected_time": "2021-06-24T19:07:52+02:00",
        "confirmed_time": None,
        "customer_notes": None,
        "seller_notes": None,
        "collection_code": None,
        "coupon_codes": [],
        "total": "18.90 EUR",
        "total_discrepancy": None,
        "payment_discrepancy": "0.00 EUR",
        "deals": {"0": {"name": "30% off on pasta", "ref": "10"}},
        "delivery": None,  # the example has one attached; this order has none
        "loyalty_operations": [],
        "custom_fields": {},
    }
    assert {name: order[name] for name in documented} == documented
    carbonara, pesto = _without_ids(order["items"])
    assert carbonara == {
        "private_ref": None,
        "product_name": "Carbonara",
        "sku_name": "Large",
        "sku_ref": "3",
        "price": "11.90 EUR",
        "quantity": "1.0",
        "subtotal": "11.90 EUR",
        "tax_rate": None,
        "customer_notes": None,
        "points_earned": None,
        "points_used": None,
        "options": [],
        "deleted": False,
        "deal_line": {
            "deal_key": "0",
            "position": None,
            "label": None,
            "pricing_effect": None,
            "pricing_value": None,
        },
    }
    # As the example: the option's quantity is an integer; Patronage adds "removed".
    assert pesto == {
        "private_ref": None,
        "product_name": "Basil and Pesto",
        "sku_name": None,
        "sku_ref": "17",
        "price": "3.00 EUR",
        "quantity": "2.0",
        "subtotal": "7.00 EUR",
        "tax_rate": None,
        "customer_notes": None,
        "points_earned": None,
        "points_used": None,
        "options": [
            {
                "option_list_name": "Sauce",
                "name": "BBQ",
                "ref": "31",
                "price": "0.50 EUR",
                "quantity": 1,
                "removed": False,
            }
        ],
        "deleted": False,
    }
    assert _without_ids(order["discounts"]) == [
        {
            "private_ref": None,
            "name": "2€ off",
            "ref": "45",
            "pricing_effect": "price_off",
            "pricing_value": "2.00 EUR",
            "price_off": "2.00 EUR",
            "deleted": False,
        }
    ]
    assert _without_ids(order["charges"]) == [
        {
            "private_ref": None,
            "type": "other",
            "name": "Courier Service",
            "ref": "DEL",
            "price": "2.00 EUR",
            "tax_rate": None,
            "charge_type": "other",
            "charge_ref": "DEL",
            "charge_price": "2.00 EUR",
            "deleted": False,
        }
    ]
    assert _without_ids(order["payments"]) == [
        {
            "private_ref": None,
            "type": "online",
            "name": "Payment by cash",
            "ref": "CSH",
            "amount": "18.90 EUR",
            "info": None,
            "deleted": False,
        }
    ]


async def test_the_references_element_examples(tenant: Tenant) -> None:
    """The examples of §4 (item), §5 (item in a deal), §6 (option), §7 (deal map), §8 to §10 (discounts,
    charges, payments), with every pricing effect, removed options and tax rates."""
    api = await tenant.api(SCOPE)
    item = {
        "product_name": "Margarita",
        "sku_name": "Small",
        "sku_ref": "MAR-SM",
        "price": "9.00 EUR",
        "quantity": "2",
        "tax_rate": "20.0",
        "customer_notes": "Well cooked",
        "points_earned": "1.5",
        "points_used": None,
        "options": [
            {"option_list_name": "Sauce", "name": "Barbecue", "ref": "BBQ", "price": "1.00 EUR", "quantity": 1}
        ],
    }
    in_deal = {
        "product_name": "Margarita",
        "price": "9.00 EUR",
        "quantity": "1",
        "options": [{"option_list_name": "Sauce", "name": "Barbecue", "price": "1.00 EUR"}],
        "deal_line": {"deal_key": "0", "label": "Pizza"},
    }
    effects = [
        {
            "deal_key": "0",
            "position": 1,
            "label": "Drink",
            "pricing_effect": "fixed_price",
            "pricing_value": "1.00 EUR",
        },
        {"deal_key": "menu", "pricing_effect": "price_off", "pricing_value": "0.50 EUR"},
        {"deal_key": "menu", "pricing_effect": "percentage_off", "pricing_value": "30"},
        {"deal_key": "menu", "pricing_effect": "unchanged", "pricing_value": None},
    ]
    removed = {"option_list_name": "Ingredients", "name": "Onions", "removed": True, "price": "0.20 EUR"}
    order = await _create(
        api,
        tenant,
        {
            "status": "new",
            "items": [
                item,
                in_deal,
                *({"product_name": "Coke", "price": "2.00 EUR", "quantity": "1", "deal_line": d} for d in effects),
                {"product_name": "Burger", "price": "8.00 EUR", "quantity": "1", "options": [removed]},
            ],
            # Keys are renumbered "0", "1", … in the order sent.
            "deals": {"0": {"name": "Buy a dessert, get a drink for 1€", "ref": "FREEDRINK"}, "menu": {"name": "Menu"}},
            "discounts": [
                {"name": "5€ off your order", "ref": "5OFF", "price_off": "5.00 EUR"},
                {"name": "30% off your order", "ref": "30OFF", "price_off": "7.65 EUR"},
            ],
            "charges": [{"name": "Delivery < 15 km", "ref": "DEL", "price": "1.50 EUR", "tax_rate": "5.5"}],
            "payments": [
                {"name": "PayPal", "ref": "PP", "amount": "15.00 EUR", "info": {"email": "john@doe.com"}},
                {"name": "Freebies4me", "ref": "FBFM", "amount": "4.50 EUR", "info": {"card_id": "648664679312"}},
            ],
        },
    )
    first = order["items"][0]
    assert (first["tax_rate"], first["customer_notes"], first["points_earned"]) == ("20.0", "Well cooked", "1.5")
    assert first["points_used"] is None and first["subtotal"] == "20.00 EUR"
    assert order["items"][1]["deal_line"]["label"] == "Pizza" and order["items"][1]["subtotal"] == "10.00 EUR"
    assert [i["deal_line"] for i in order["items"][2:6]] == [
        {
            "deal_key": "0",
            "position": 1,
            "label": "Drink",
            "pricing_effect": "fixed_price",
            "pricing_value": "1.00 EUR",
        },
        {"deal_key": "1", "position": None, "label": None, "pricing_effect": "price_off", "pricing_value": "0.50 EUR"},
        {"deal_key": "1", "position": None, "label": None, "pricing_effect": "percentage_off", "pricing_value": "30.0"},
        {"deal_key": "1", "position": None, "label": None, "pricing_effect": "unchanged", "pricing_value": None},
    ]
    assert order["deals"] == {
        "0": {"name": "Buy a dessert, get a drink for 1€", "ref": "FREEDRINK"},
        "1": {"name": "Menu", "ref": None},
    }
    burger = order["items"][6]
    assert burger["options"] == [{**removed, "ref": None, "quantity": 1}]
    assert burger["subtotal"] == "8.20 EUR"  # a removed option's price is what removing it costs
    assert order["charges"][0]["tax_rate"] == "5.5"
    assert [p["info"] for p in order["payments"]] == [{"email": "john@doe.com"}, {"card_id": "648664679312"}]
    # No computation with pricing effects or tax rates (orders.md §5, §13):
    # 20.00 + 10.00 + 4 × 2.00 + 8.20 + 1.50 − 5.00 − 7.65 = 35.05; paid 19.50.
    assert order["total"] == "35.05 EUR"
    assert order["payment_discrepancy"] == "-15.55 EUR"


async def test_without_payments_there_is_no_payment_discrepancy(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(
        api, tenant, {"status": "new", "items": [{"product_name": "A", "price": "3 EUR", "quantity": 1}]}
    )
    assert order["payment_discrepancy"] is None and order["total_discrepancy"] is None
    overpaid = await _create(api, tenant, {"status": "new", "payments": [{"amount": "2.00 EUR"}]})
    assert overpaid["payment_discrepancy"] == "2.00 EUR"


async def test_elements_sent_deleted_stay_out_of_the_total(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(
        api,
        tenant,
        {
            "status": "new",
            "items": [
                {"product_name": "A", "price": "3.00 EUR", "quantity": 1},
                {"product_name": "B", "price": "4.00 EUR", "quantity": 1, "deleted": True},
            ],
            "charges": [{"price": "1.00 EUR", "deleted": True}],
            "discounts": [{"price_off": "1.00 EUR", "deleted": True}],
            "payments": [{"amount": "3.00 EUR"}, {"amount": "9.00 EUR", "deleted": True}],
        },
    )
    assert [i["deleted"] for i in order["items"]] == [False, True]
    assert order["charges"][0]["deleted"] and order["discounts"][0]["deleted"] and order["payments"][1]["deleted"]
    assert order["total"] == "3.00 EUR" and order["payment_discrepancy"] == "0.00 EUR"


async def test_element_private_refs_belong_to_the_client_that_set_them(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    other = await tenant.api(SCOPE, client_id=await tenant.new_client("Kitchen display"))
    order = await _create(
        api,
        tenant,
        {
            "status": "new",
            "items": [{"private_ref": "it-1", "product_name": "A", "price": "1 EUR", "quantity": 1}],
            "charges": [{"private_ref": "ch-1", "price": "1 EUR"}],
            "discounts": [{"private_ref": "di-1", "price_off": "1 EUR"}],
            "payments": [{"private_ref": "pa-1", "amount": "1 EUR"}],
        },
    )
    kinds = ("items", "charges", "discounts", "payments")
    assert [order[kind][0]["private_ref"] for kind in kinds] == ["it-1", "ch-1", "di-1", "pa-1"]
    url = f"{_path(tenant)}/{order['id']}"
    theirs = (await other.get(url)).json()
    assert [theirs[kind][0]["private_ref"] for kind in kinds] == [None] * 4
    assert all(e["private_ref"] is None for o in (await other.get(_path(tenant))).json() for e in o["items"])
    mine = (await api.get(_path(tenant))).json()
    assert [mine[0][kind][0]["private_ref"] for kind in kinds] == ["it-1", "ch-1", "di-1", "pa-1"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "deal_line": {"deal_key": "9"}}]},
            "items.0.deal_line.deal_key",
        ),
        (
            {"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "deal_line": {"label": "x"}}]},
            "items.0.deal_line.deal_key",
        ),
        (
            {"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "deal_line": {"deal_key": 0}}]},
            "items.0.deal_line.deal_key",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "pricing_effect": "free"},
                    }
                ]
            },
            "items.0.deal_line.pricing_effect",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "pricing_effect": "fixed_price"},
                    }
                ]
            },
            "items.0.deal_line.pricing_value",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "pricing_effect": "price_off", "pricing_value": "1 USD"},
                    }
                ]
            },
            "items.0.deal_line.pricing_value",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "pricing_effect": "percentage_off", "pricing_value": "101"},
                    }
                ]
            },
            "items.0.deal_line.pricing_value",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "pricing_effect": "unchanged", "pricing_value": "1 EUR"},
                    }
                ]
            },
            "items.0.deal_line.pricing_value",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "pricing_value": "1 EUR"},
                    }
                ]
            },
            "items.0.deal_line.pricing_value",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "position": "1"},
                    }
                ]
            },
            "items.0.deal_line.position",
        ),
        (
            {
                "items": [
                    {
                        "product_name": "A",
                        "price": "1 EUR",
                        "quantity": 1,
                        "deal_line": {"deal_key": "0", "colour": "red"},
                    }
                ]
            },
            "items.0.deal_line.colour",
        ),
        ({"deals": {"0": {"ref": "no name"}}}, "deals.0.name"),
        ({"deals": ["Menu"]}, "deals"),
        ({"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "tax_rate": "abc"}]}, "items.0.tax_rate"),
        ({"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "tax_rate": "-1"}]}, "items.0.tax_rate"),
        ({"charges": [{"price": "1 EUR", "tax_rate": True}]}, "charges.0.tax_rate"),
        (
            {"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "private_ref": "x" * 256}]},
            "items.0.private_ref",
        ),
        ({"payments": [{"amount": "1 EUR", "private_ref": 12}]}, "payments.0.private_ref"),
        (
            {
                "items": [
                    {"product_name": "A", "price": "1 EUR", "quantity": 1, "options": [{"name": "o", "removed": "yes"}]}
                ]
            },
            "items.0.options.0.removed",
        ),
        ({"items": [{"product_name": "A", "price": "1 EUR", "quantity": 1, "deleted": "false"}]}, "items.0.deleted"),
        ({"payments": [{"amount": "1 EUR", "info": "paid by card"}]}, "payments.0.info"),
        ({"payments": [{"amount": "1 EUR", "info": {"x": "y" * 9000}}]}, "payments.0.info"),
        ({"payments": [{"amount": "1 EUR", "info": {"n": HUGE}}]}, "payments.0.info.n"),
        ({"payments": [{"amount": "1 EUR", "type": 3}]}, "payments.0.type"),
        # The deprecated copies and the subtotal may be sent (an element's JSON representation), not changed.
        ({"charges": [{"price": "1 EUR", "charge_price": "2 EUR"}]}, "charges.0.charge_price"),
        ({"charges": [{"price": "1 EUR", "charge_type": "delivery"}]}, "charges.0.charge_type"),
        ({"charges": [{"price": "1 EUR", "ref": "DEL", "charge_ref": None}]}, "charges.0.charge_ref"),
        ({"discounts": [{"price_off": "1 EUR", "pricing_effect": "percentage_off"}]}, "discounts.0.pricing_effect"),
        ({"discounts": [{"price_off": "1 EUR", "pricing_value": "1.00 GBP"}]}, "discounts.0.pricing_value"),
        (
            {"items": [{"product_name": "A", "price": "1 EUR", "quantity": 2, "subtotal": "1.00 EUR"}]},
            "items.0.subtotal",
        ),
        ({"items": [{"id": "abc", "product_name": "A", "price": "1 EUR", "quantity": 1}]}, "items.0.id"),
        ({"total_discrepancy": None}, "total_discrepancy"),
        ({"payment_discrepancy": "0.00 EUR"}, "payment_discrepancy"),
        ({"delivery": {"carrier": "UPS", "status": "pending"}}, "delivery"),
    ],
)
async def test_invalid_elements_are_422_naming_the_field(tenant: Tenant, change: dict, field: str) -> None:
    api = await tenant.api(SCOPE)
    body = copy.deepcopy({"status": "new", "deals": {"0": {"name": "Menu"}}, **change})
    response = await api.post(_path(tenant), content=_json(body), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error_type"] == "unprocessable_entity"
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
    assert (await api.get(_path(tenant))).json() == []


def _json(body: dict) -> str:
    # A JSON number no float holds, which Python's json cannot write.
    return json.dumps(body).replace(f'"{HUGE}"', "1e400")


async def test_orders_stored_before_the_whole_format_render_with_its_defaults(tenant: Tenant) -> None:
    """Orders written before these fields existed (elements without them, no deal map) read and update as if
    they had been sent with the defaults."""
    api = await tenant.api(SCOPE)
    order = await _create(
        api,
        tenant,
        {
            "status": "new",
            "items": [{"product_name": "A", "price": "3.00 EUR", "quantity": 1, "options": [{"name": "o"}]}],
            "charges": [{"name": "Delivery", "price": "1.00 EUR"}],
            "payments": [{"amount": "4.00 EUR"}],
        },
    )
    old_item = {k: v for k, v in order["items"][0].items() if k not in ("private_ref", "tax_rate", "deleted")}
    old_item["options"] = [{k: v for k, v in o.items() if k != "removed"} for o in old_item["options"]]
    old_charge = {"id": order["charges"][0]["id"], "name": "Delivery", "ref": None, "price": "1.00 EUR"}
    old_payment = {"id": order["payments"][0]["id"], "name": None, "ref": None, "amount": "4.00 EUR"}
    async with tenant.db.session(write=True) as session:
        await session.execute(
            update(Order)
            .where(Order.id == order["id"])
            .values(items=[old_item], charges=[old_charge], payments=[old_payment], deals=None)
        )
    url = f"{_path(tenant)}/{order['id']}"
    assert (await api.get(url)).json() == order
    updated = (await api.patch(url, json={"charges": [{"id": old_charge["id"], "deleted": True}]})).json()
    assert updated["charges"][0]["deleted"] is True and updated["total"] == "3.00 EUR"
    assert updated["payment_discrepancy"] == "1.00 EUR" and updated["items"] == order["items"]
