"""HubRise's reference, example by example, against a running ``patronage serve`` (real HTTP, the suite's
database: ``--db sqlite`` or ``--db postgresql``).

Every JSON block of the reference pages Patronage serves (orders, callbacks, accounts and locations, customers,
authentication, general concepts, deliveries; vendored in ``reference_examples.json``, see hubrise_reference.py)
is used here: an example request is sent as it is (its ids replaced by the test's), an example response is
compared with the answer field by field (:func:`assert_like`: the same keys, the same values, and where ids,
times and names must differ, the same formats). What Patronage adds to a complete object is named in ``extra``
at each use, and every addition is one the README's API notes document. Where SPEC.md or the reference's own
text differs from an example, the test follows them and says so.
"""

import copy
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hubrise_reference import ELIDED, assert_like, example, extract_all, reference_dir, without_elisions

from helpers import Api, Tenant, make_tenant
from live import live_server
from oauth_flow import make_env, oauth_code
from openapi_check import OpenApiCheck
from patronage.db import Database

ORDERS = "location[orders.write,all_customer_lists.write]"
KIND = "kind"
ANY = "any"
# Ids and creation times are the server's own; the client's name is the test's.
IDS = {
    f"**.{name}": KIND
    for name in ("id", "location_id", "account_id", "customer_id", "customer_list_id", "created_at", "created_by")
}


# --- the server and its tenants ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(database_url: str) -> Iterator[str]:
    with live_server(database_url, workers=1) as url:
        yield url


@pytest.fixture
async def live(base: str, openapi_check: OpenApiCheck) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP to the server; every answer is also checked against the OpenAPI document."""
    hooks = {"response": [openapi_check.on_response]}
    async with httpx.AsyncClient(base_url=base, timeout=30, event_hooks=hooks) as http:
        yield http


@pytest.fixture
async def tenant(db: Database, live: httpx.AsyncClient) -> Tenant:
    return await make_tenant(db, live)


def answer(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        response.request.method,
        response.request.url.path,
        response.status_code,
        response.text,
    )
    return response.json()


def refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    body = answer(response, status)
    assert response.status_code != 500
    return body


async def new_customer(api: Api, list_id: str, **fields: Any) -> dict[str, Any]:
    return answer(await api.post(f"/v1/customer_lists/{list_id}/customers", json=fields), 201)


def orders_path(tenant: Tenant) -> str:
    return f"/v1/locations/{tenant.location_id}/orders"


async def new_order(api: Api, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    return answer(await api.post(orders_path(tenant), json=body), 201)


def test_the_vendored_examples_are_the_references() -> None:
    """reference_examples.json is a faithful copy of the reference's JSON blocks (when the reference is here)."""
    directory = reference_dir()
    if not directory.is_dir():
        pytest.skip(f"no reference at {directory} (PATRONAGE_REFERENCE_DIR)")
    from hubrise_reference import VENDORED

    assert extract_all(directory) == json.loads(VENDORED.read_text())


@pytest.mark.parametrize(
    ("actual", "wrong"),
    [
        ({"id": "abc12", "total": "8.90 EUR", "items": [{"ref": None}]}, None),
        ({"id": "abc12", "total": "8.90 EUR", "items": [{"ref": None}], "more": 1}, "unexpected"),
        ({"id": "abc12", "total": "8.90 EUR", "items": []}, "items"),
        ({"id": "abc12", "total": "8.9 EUR", "items": [{"ref": None}]}, "total"),
        ({"id": "abc12", "total": "8.90", "items": [{"ref": None}]}, "total"),
        ({"id": "Not an id", "total": "8.90 EUR", "items": [{"ref": None}]}, "id"),
        ({"id": "abc12", "items": [{"ref": None}]}, "missing"),
        ({"id": "abc12", "total": "8.90 EUR", "items": [{"ref": "x"}]}, "items.0.ref"),
        ({"id": "abc12", "total": "8.90 EUR", "items": [{}]}, "missing"),
    ],
)
def test_the_comparison_catches_what_differs(actual: dict, wrong: str | None) -> None:
    """assert_like, the judge of every test below: a difference of key, type, format or value fails."""
    shown = {"id": "5dpm9", "total": "8.90 EUR", "items": [{"ref": None}]}
    if wrong is None:
        assert_like(shown, actual, loose={"id": KIND})
        return
    with pytest.raises(AssertionError, match=wrong):
        assert_like(shown, actual, loose={"id": KIND})
    # "..." in the example allows more keys, never fewer.
    assert_like({"id": "5dpm9", ELIDED: ELIDED}, {"id": "x1y2z3", "other": 1}, loose={"id": KIND})
    with pytest.raises(AssertionError):
        assert_like({"id": "5dpm9", "total": "1.00 EUR", ELIDED: ELIDED}, {"id": "x1y2z3"}, loose={"id": KIND})


# =================================================================================================================
# orders.md
# =================================================================================================================

# The order's fields the reference's retrieve example shows, and what Patronage adds: the customer's ids beside
# the copy (SPEC §8), the copy's created_at (SPEC §8: the full customer JSON), options' `removed` (orders.md §6).
ORDER_EXTRA = {"": {"customer_id", "customer_list_id"}, "customer": {"created_at"}, "items.*.options.*": {"removed"}}
# orders.md §11: an order's delivery has the delivery resource's fields "except for the driver_latitude and
# driver_longitude fields"; the retrieve example shows those two (and lacks the resource's driver_pickup_url and
# status times). Patronage follows the text: the position is left out, the resource's other fields are there.
ORDER_DELIVERY_EXTRA = {"driver_pickup_url", "assigned_at", "pickup_at", "delivered_at", "cancelled_at"}
DRIVER_POSITION = ("driver_latitude", "driver_longitude")


async def test_the_create_example(tenant: Tenant) -> None:
    """orders.md §1.1: the example request as it is (a customer of the test's for its customer_id)."""
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, first_name="Charles")
    request = example("orders.md", "1.1. Create Order")
    request["customer_id"] = customer["id"]
    created = await new_order(api, tenant, request)

    item = {
        "id": "w6nd4",
        "private_ref": None,
        "sku_name": None,
        "tax_rate": None,
        "customer_notes": None,
        "points_earned": None,
        "points_used": None,
        "options": [],
        "deleted": False,
    }
    deal_line = {"deal_key": "0", "position": None, "pricing_effect": None, "pricing_value": None}
    # The answer, worked out by hand from the request: subtotals (price + options) × quantity, the total items
    # + charges − discounts (28.00 + 1.50 − 5.00), the payment discrepancy payments − total (23.50 − 24.50).
    expected = {
        "id": "5dpm9",
        "location_id": "3r4s3-1",
        "ref": "17654321",
        "private_ref": None,
        "status": "new",
        "service_type": "delivery",
        "service_type_ref": "WEBSITE-DEL",
        "created_at": "2021-06-24T17:07:53+02:00",
        "created_by": "MyClient",
        "expected_time": "2021-06-24T11:30:00+02:00",
        "confirmed_time": None,
        "customer_notes": None,
        "seller_notes": None,
        "collection_code": None,
        "coupon_codes": [],
        "total": "24.50 EUR",
        "total_discrepancy": None,
        "payment_discrepancy": "-1.00 EUR",
        "items": [
            {
                **item,
                "product_name": "Margarita",
                "sku_name": "Small",
                "sku_ref": "MAR-SM",
                "price": "9.00 EUR",
                "quantity": "2.0",
                "subtotal": "20.00 EUR",
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
            },
            {
                **item,
                "product_name": "Brownie",
                "sku_ref": "BROWN",
                "price": "3.00 EUR",
                "quantity": "1.0",
                "subtotal": "3.00 EUR",
                "deal_line": {**deal_line, "label": "Dessert"},
            },
            {
                **item,
                "product_name": "Coke",
                "sku_ref": "COK",
                "price": "1.00 EUR",
                "quantity": "1.0",
                "subtotal": "1.00 EUR",
                "deal_line": {**deal_line, "label": "Drink"},
            },
            {
                **item,
                "product_name": "Wings BBQ",
                "sku_ref": "WBBQ",
                "price": "4.00 EUR",
                "quantity": "1.0",
                "subtotal": "4.00 EUR",
                "points_used": "5.0",
            },
        ],
        "deals": {"0": {"name": "Buy a dessert, get a drink for 1€", "ref": "FREEDRINK"}},
        "discounts": [
            {
                "id": "wv281",
                "private_ref": None,
                "name": "5€ off your order",
                "ref": "5OFF",
                "pricing_effect": "price_off",
                "pricing_value": "5.00 EUR",
                "price_off": "5.00 EUR",
                "deleted": False,
            }
        ],
        "charges": [
            {
                "id": "wk843",
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
        ],
        "payments": [
            {
                "id": "w2qq8",
                "private_ref": None,
                "type": "online",
                "name": "PayPal",
                "ref": "PP",
                "amount": "23.50 EUR",
                "info": {"email": "john@doe.com"},
                "deleted": False,
            }
        ],
        "customer_id": customer["id"],
        "customer_list_id": list_id,
        "customer": {ELIDED: ELIDED, "id": customer["id"], "first_name": "Charles"},
        "delivery": None,
        "loyalty_operations": [
            {"ref": "LOY", "name": None, "delta": "-5.0", "reason": "Points used on order", "new_balance": "-5.0"}
        ],
        "custom_fields": {},
    }
    assert_like(expected, created, loose=IDS)
    assert answer(await api.get(f"{orders_path(tenant)}/{created['id']}")) == created


def _create_body(shown: dict[str, Any]) -> dict[str, Any]:
    """What a client sends to create the order an example response shows: its fields minus what the server
    computes, its elements without their ids."""
    body = {
        name: shown[name]
        for name in (
            "ref",
            "private_ref",
            "status",
            "service_type",
            "service_type_ref",
            "expected_time",
            "confirmed_time",
            "customer_notes",
            "seller_notes",
            "collection_code",
            "coupon_codes",
            "deals",
            "custom_fields",
        )
        if name in shown
    }
    # Elements as they are shown, without their ids: "simply include their JSON representation" (orders.md §1.4),
    # the subtotal and deprecated copies included (they hold what the element renders).
    for kind in ("items", "discounts", "charges", "payments"):
        if kind in shown:
            body[kind] = [{k: v for k, v in element.items() if k != "id"} for element in shown[kind]]
    return body


# What the server computes of a customer (customers.md §2.1 shows them; a client does not send them).
CUSTOMER_COMPUTED = {"id", "customer_list_id", "anonymised", "created_at", "nb_orders", "order_total"}
CUSTOMER_COMPUTED |= {"first_order_date", "last_order_date", "loyalty_cards"}


def sent_customer(shown: dict[str, Any]) -> dict[str, Any]:
    """The customer fields a client sends to make the customer an example shows."""
    return {k: v for k, v in shown.items() if k not in CUSTOMER_COMPUTED}


async def test_the_retrieve_example(tenant: Tenant) -> None:
    """orders.md §1.2: the order the example shows, made by a client (its customer, the order from the fields a
    client sends, its delivery), then read back and compared with the example field by field."""
    shown = example("orders.md", "1.2. Retrieve Order")
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, **sent_customer(shown["customer"]))
    body = {**_create_body(shown), "customer_id": customer["id"]}
    order = await new_order(api, tenant, body)
    path = f"{orders_path(tenant)}/{order['id']}"
    delivery = shown["delivery"]  # every field shown is one a client sends (deliveries.md §1)
    answer(await api.post(f"{path}/delivery", json=delivery), 201)

    read = answer(await api.get(path))
    expected = copy.deepcopy(shown)
    for name in DRIVER_POSITION:  # orders.md §11's text (see ORDER_DELIVERY_EXTRA)
        del expected["delivery"][name]
        assert name not in read["delivery"]
    customer_statistics = {f"customer.{k}": KIND for k in ("nb_orders", "order_total", "first_order_date")}
    assert_like(
        expected,
        read,
        loose={**IDS, **customer_statistics, "customer.last_order_date": KIND},
        extra={**ORDER_EXTRA, "delivery": ORDER_DELIVERY_EXTRA},
    )
    assert (read["customer"]["nb_orders"], read["customer"]["order_total"]) == (1, "18.90 EUR")
    assert read["customer"]["first_order_date"] == read["customer"]["last_order_date"] == read["created_at"]
    assert read["delivery"]["driver_pickup_url"] is None and read["delivery"]["assigned_at"] is None


async def test_the_list_example(tenant: Tenant) -> None:
    """orders.md §1.3: ``GET /locations/:id/orders?customer_id=...``."""
    shown = example("orders.md", "1.3. List Orders")
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, first_name="Charles")
    other = await new_customer(api, list_id, first_name="Ann")
    body = _create_body(without_elisions(shown[0]))
    order = await new_order(api, tenant, {**body, "customer_id": customer["id"]})
    await new_order(api, tenant, {"status": "new", "customer_id": other["id"]})
    found = answer(await api.get(orders_path(tenant), params={"customer_id": customer["id"]}))
    assert_like(shown, found, loose=IDS)
    assert [o["id"] for o in found] == [order["id"]]


async def _order_with_carbonara(api: Api, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    """The order of the update examples: one item, as the delete example's response shows it."""
    item = {"product_name": "Carbonara", "sku_ref": "81502", "price": "11.90 EUR", "quantity": "1"}
    return await new_order(api, tenant, {"status": "new", "private_ref": "3345", "items": [item], **fields})


def _with_id(request: dict[str, Any], kind: str, element_id: str) -> dict[str, Any]:
    request = copy.deepcopy(request)
    request[kind][0]["id"] = element_id
    return request


async def test_the_update_example(tenant: Tenant) -> None:
    """orders.md §1.4: status to accepted, an item deleted, a payment added, in one request."""
    api = await tenant.api(ORDERS)
    order = await _order_with_carbonara(api, tenant)
    request = _with_id(example("orders.md", "1.4. Update Order"), "items", order["items"][0]["id"])
    updated = answer(await api.patch(f"{orders_path(tenant)}/{order['id']}", json=request))
    assert updated["status"] == "accepted"
    assert [(i["id"], i["deleted"]) for i in updated["items"]] == [(order["items"][0]["id"], True)]
    assert [(p["name"], p["ref"], p["amount"], p["deleted"]) for p in updated["payments"]] == [
        ("Cash", "CSH", "5.90 EUR", False)
    ]
    # The deleted item leaves the total; the payment is then 5.90 more than it.
    assert (updated["total"], updated["payment_discrepancy"]) == ("0.00 EUR", "5.90 EUR")


async def test_the_delete_elements_example(tenant: Tenant) -> None:
    api = await tenant.api(ORDERS)
    order = await _order_with_carbonara(api, tenant)
    item_id = order["items"][0]["id"]
    request = _with_id(example("orders.md", "Delete elements", 0), "items", item_id)
    updated = answer(await api.patch(f"{orders_path(tenant)}/{order['id']}", json=request))
    assert_like(example("orders.md", "Delete elements", 1), updated, loose=IDS)
    # Irreversible: deleted: false is refused, and the refusal changes nothing.
    undo = {"items": [{"id": item_id, "deleted": False}]}
    refused(await api.patch(f"{orders_path(tenant)}/{order['id']}", json=undo))
    assert answer(await api.get(f"{orders_path(tenant)}/{order['id']}")) == updated


async def test_the_add_elements_example(tenant: Tenant) -> None:
    api = await tenant.api(ORDERS)
    order = await _order_with_carbonara(api, tenant)
    request = example("orders.md", "Add elements", 0)
    updated = answer(await api.patch(f"{orders_path(tenant)}/{order['id']}", json=request))
    assert_like(example("orders.md", "Add elements", 1), updated, loose=IDS)
    assert updated["payment_discrepancy"] == "5.20 EUR"  # 5.90 + 11.20 − 11.90


async def test_elements_read_from_an_order_can_be_added_as_they_are(tenant: Tenant) -> None:
    """orders.md §1.4, add elements: "simply include their JSON representation". The elements of one order, as
    read (ids aside), added to another; a representation that does not hold (a subtotal that is not the
    item's) is refused, naming the field."""
    api = await tenant.api(ORDERS)
    shown = example("orders.md", "1.2. Retrieve Order")
    source = await new_order(api, tenant, _create_body(shown))
    target = await new_order(api, tenant, {"status": "new", "deals": source["deals"]})  # deals: set on a create
    lists = ("items", "discounts", "charges", "payments")
    added = {kind: [{k: v for k, v in e.items() if k != "id"} for e in source[kind]] for kind in lists}
    updated = answer(await api.patch(f"{orders_path(tenant)}/{target['id']}", json=added))
    for kind in lists:
        assert [{k: v for k, v in e.items() if k != "id"} for e in updated[kind]] == added[kind]
    assert (updated["total"], updated["payment_discrepancy"]) == (source["total"], "0.00 EUR")
    wrong = {"items": [{**added["items"][1], "subtotal": "6.00 EUR"}]}  # (3.00 + 0.50) × 2 is 7.00
    body = refused(await api.patch(f"{orders_path(tenant)}/{target['id']}", json=wrong))
    assert [error["field"] for error in body["errors"]] == ["items.0.subtotal"]


async def test_the_private_ref_example(tenant: Tenant) -> None:
    api = await tenant.api(ORDERS)
    order = await _order_with_carbonara(api, tenant)
    request = _with_id(example("orders.md", "Set private refs on elements", 0), "items", order["items"][0]["id"])
    updated = answer(await api.patch(f"{orders_path(tenant)}/{order['id']}", json=request))
    assert_like(example("orders.md", "Set private refs on elements", 1), updated, loose=IDS)
    other = await tenant.api(ORDERS, client_id=await tenant.new_client())  # private: another client reads null
    assert answer(await other.get(f"{orders_path(tenant)}/{order['id']}"))["items"][0]["private_ref"] is None


async def test_the_order_customer_examples(tenant: Tenant) -> None:
    """orders.md §2: by customer_id, by customer_list_id and customer_private_ref, and a guest order."""
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    by_id, by_ref, guest = (
        without_elisions(example("orders.md", heading, index))
        for heading, index in (
            ("Order with an attached customer", 0),
            ("Order with an attached customer", 1),
            ("Order with no attached customer (guest order)", 0),
        )
    )
    customer = await new_customer(api, list_id, private_ref=by_ref["customer_private_ref"], first_name="Charles")

    first = await new_order(api, tenant, {**by_id, "customer_id": customer["id"]})
    second = await new_order(api, tenant, {**by_ref, "customer_list_id": list_id})
    for order in (first, second):
        assert (order["customer_id"], order["customer_list_id"]) == (customer["id"], list_id)
        assert order["customer"]["id"] == customer["id"] and order["customer"]["first_name"] == "Charles"
        assert order["customer"]["private_ref"] == "charles@dummy-mail.org"

    walk_in = await new_order(api, tenant, guest)
    assert (walk_in["customer_id"], walk_in["customer"]["id"]) == (None, None)
    assert (walk_in["customer"]["first_name"], walk_in["customer"]["last_name"]) == ("John", "Doe")

    # "If a customer with this id exists, it is attached to the order, otherwise an error is returned."
    before = answer(await api.get(orders_path(tenant)))
    refused(await api.post(orders_path(tenant), json={**by_id, "customer_id": "nosuchone"}))
    refused(
        await api.post(orders_path(tenant), json={**by_ref, "customer_list_id": list_id, "customer_private_ref": "x"})
    )
    assert answer(await api.get(orders_path(tenant))) == before


def _order_of_elements(tenant: Tenant, **elements: Any) -> dict[str, Any]:
    return {"status": "new", **elements}


ITEM_COMPUTED = {"id", "private_ref", "subtotal", "deleted"}


async def test_the_item_example(tenant: Tenant) -> None:
    """orders.md §4: the item example in an order; its quantity comes back rendered as a decimal ("2.0")."""
    api = await tenant.api(ORDERS)
    item = example("orders.md", "4. Order Items")
    order = await new_order(api, tenant, {"status": "new", "items": [item]})
    assert_like(
        item,
        order["items"][0],
        loose={"quantity": KIND},
        extra={"": ITEM_COMPUTED, "options.*": {"removed"}},
    )
    assert (order["items"][0]["quantity"], order["items"][0]["subtotal"], order["total"]) == (
        "2.0",
        "20.00 EUR",
        "20.00 EUR",
    )


async def test_the_deal_examples(tenant: Tenant) -> None:
    """orders.md §5 (an item in a deal, with an option without ref nor quantity) and §7 (the deal map)."""
    api = await tenant.api(ORDERS)
    item = example("orders.md", "5. Order Items in a Deal")
    deals = example("orders.md", "7. Order Deal Map")
    order = await new_order(api, tenant, {"status": "new", "items": [item], "deals": deals})
    assert order["deals"] == deals
    everything_else = ITEM_COMPUTED | {"sku_name", "sku_ref", "tax_rate", "customer_notes", "points_earned"}
    assert_like(
        item,
        order["items"][0],
        loose={"quantity": KIND},
        extra={
            "": everything_else | {"points_used"},
            "options.*": {"ref", "quantity", "removed"},
            "deal_line": {"position", "pricing_effect", "pricing_value"},
        },
    )
    option = order["items"][0]["options"][0]
    assert (option["ref"], option["quantity"], option["removed"]) == (None, 1, False)  # §6: quantity defaults to 1
    assert order["items"][0]["subtotal"] == "10.00 EUR"
    # The deal's keys are renumbered "0", "1"... and the items follow (§5).
    renamed = {"status": "new", "deals": {"promo": deals["0"]}, "items": [{**item, "deal_line": {"deal_key": "promo"}}]}
    assert (await new_order(api, tenant, renamed))["items"][0]["deal_line"]["deal_key"] == "0"


async def test_the_option_example(tenant: Tenant) -> None:
    api = await tenant.api(ORDERS)
    option = example("orders.md", "6. Order Options")
    item = {"product_name": "Margarita", "price": "9.00 EUR", "quantity": "1", "options": [option]}
    order = await new_order(api, tenant, {"status": "new", "items": [item]})
    assert_like(option, order["items"][0]["options"][0], extra={"": {"removed"}})
    # A removed option can define a price: what removing it costs (§6).
    removed = {**option, "removed": True, "price": "0.50 EUR"}
    order = await new_order(api, tenant, {"status": "new", "items": [{**item, "options": [removed]}]})
    assert order["items"][0]["options"][0]["removed"] is True and order["total"] == "9.50 EUR"


async def test_the_discount_charge_and_payment_examples(tenant: Tenant) -> None:
    """orders.md §8, §9, §10: each list as the reference shows it, with the fields Patronage renders besides
    (ids, private refs, `deleted`, and the deprecated copies §8 and §9 say are still in the output)."""
    api = await tenant.api(ORDERS)
    discounts = example("orders.md", "8. Order Discounts")
    charges = example("orders.md", "9. Order Charges")
    payments = example("orders.md", "10. Order Payments")
    items = [{"product_name": "Menu", "price": "25.50 EUR", "quantity": "1"}]
    order = await new_order(
        api, tenant, {"status": "new", "items": items, "discounts": discounts, "charges": charges, "payments": payments}
    )
    common = {"id", "private_ref", "deleted"}
    assert_like(discounts, order["discounts"], loose=IDS, extra={"*": common | {"pricing_effect", "pricing_value"}})
    assert [(d["pricing_effect"], d["pricing_value"]) for d in order["discounts"]] == [
        ("price_off", "5.00 EUR"),
        ("price_off", "7.65 EUR"),
    ]
    deprecated = {"type", "tax_rate", "charge_type", "charge_ref", "charge_price"}
    assert_like(charges, order["charges"], loose=IDS, extra={"*": common | deprecated})
    assert [(c["type"], c["charge_ref"], c["charge_price"]) for c in order["charges"]] == [("other", "DEL", "1.50 EUR")]
    assert_like(payments, order["payments"], loose=IDS, extra={"*": common | {"type"}})
    # 25.50 + 1.50 − 5.00 − 7.65 = 14.35; paid 15.00 + 4.50.
    assert (order["total"], order["payment_discrepancy"]) == ("14.35 EUR", "5.15 EUR")


async def test_the_loyalty_operations_example(tenant: Tenant) -> None:
    """orders.md §12: a card that does not exist yet is created with the operation's name."""
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, first_name="Charles")
    operations = example("orders.md", "12. Order Loyalty Operations")
    order = await new_order(
        api, tenant, {"status": "new", "customer_id": customer["id"], "loyalty_operations": operations}
    )
    assert_like(operations, order["loyalty_operations"], extra={"*": {"new_balance"}})
    assert order["loyalty_operations"][0]["new_balance"] == "3.5"
    cards = answer(await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"customer_id": customer["id"]}))
    assert [(c["ref"], c["name"], c["balance"]) for c in cards] == [("LOY", "Come back!", "3.5")]


async def test_tax_rates(tenant: Tenant) -> None:
    """orders.md §13: a decimal percentage on items and charges, stored and returned, nothing computed."""
    api = await tenant.api(ORDERS)
    item = {"product_name": "Wine", "price": "10.00 EUR", "quantity": "1", "tax_rate": "15.5"}
    charge = {"name": "Delivery", "price": "2.00 EUR", "tax_rate": "20"}
    order = await new_order(api, tenant, {"status": "new", "items": [item], "charges": [charge]})
    assert (order["items"][0]["tax_rate"], order["charges"][0]["tax_rate"], order["total"]) == (
        "15.5",
        "20.0",
        "12.00 EUR",
    )


async def _snapshot(api: Api, tenant: Tenant, list_id: str, customer_id: str) -> dict[str, Any]:
    """What a refused request must leave as it was: the location's orders, the customer, its cards."""
    return {
        "orders": answer(await api.get(orders_path(tenant))),
        "customer": answer(await api.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}")),
        "cards": answer(await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards")),
    }


GOOD_ITEM = {"product_name": "Margarita", "price": "9.00 EUR", "quantity": "1"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": [GOOD_ITEM, {**GOOD_ITEM, "price": "9.00 USD"}]}, "items.1.price"),
        ({"items": [GOOD_ITEM, {**GOOD_ITEM, "price": "abc"}]}, "items.1.price"),
        ({"items": [GOOD_ITEM, {**GOOD_ITEM, "deal_line": {"deal_key": "9"}}], "deals": {"0": {"name": "D"}}}, None),
        ({"items": [GOOD_ITEM, {**GOOD_ITEM, "tax_rate": "120"}]}, "items.1.tax_rate"),
        ({"items": [GOOD_ITEM], "payments": [{"amount": "9.00 EUR"}, {"amount": "1.00 GBP"}]}, "payments.1.amount"),
        ({"items": [GOOD_ITEM], "loyalty_operations": [{"ref": "A", "delta": "5"}, {"delta": "0"}]}, None),
        ({"items": [GOOD_ITEM, {**GOOD_ITEM, "options": [{"name": "Olives", "quantity": "0.5"}]}]}, None),
    ],
)
async def test_a_refused_create_stores_nothing(tenant: Tenant, change: dict, field: str | None) -> None:
    """Good elements, then a bad one: a 422 naming the field, and no order, card or statistic moved."""
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, first_name="Charles")
    await new_order(api, tenant, {"status": "new", "customer_id": customer["id"], "items": [GOOD_ITEM]})
    before = await _snapshot(api, tenant, list_id, customer["id"])
    body = refused(await api.post(orders_path(tenant), json={"status": "new", "customer_id": customer["id"], **change}))
    assert body["error_type"] == "unprocessable_entity" and body["errors"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    assert await _snapshot(api, tenant, list_id, customer["id"]) == before


async def test_a_refused_update_changes_nothing(tenant: Tenant) -> None:
    """A PATCH adding good elements, deleting one and naming another order's element: refused whole."""
    api = await tenant.api(ORDERS)
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, first_name="Charles")
    order = await new_order(api, tenant, {"status": "new", "customer_id": customer["id"], "items": [GOOD_ITEM]})
    stranger = await new_order(api, tenant, {"status": "new", "items": [GOOD_ITEM]})
    before = await _snapshot(api, tenant, list_id, customer["id"])
    change = {
        "status": "completed",
        "items": [{"id": order["items"][0]["id"], "deleted": True}, GOOD_ITEM, {"id": stranger["items"][0]["id"]}],
        "payments": [{"amount": "9.00 EUR"}],
    }
    body = refused(await api.patch(f"{orders_path(tenant)}/{order['id']}", json=change))
    assert [error["field"] for error in body["errors"]] == ["items.2.id"]
    assert await _snapshot(api, tenant, list_id, customer["id"]) == before


@pytest.mark.parametrize(
    "body",
    [
        # Free options (no price), options without quantity, an unchanged deal line, nulls for optional fields.
        {
            "status": "new",
            "ref": None,
            "private_ref": None,
            "service_type": None,
            "expected_time": None,
            "coupon_codes": None,
            "custom_fields": None,
            "items": [
                {
                    "product_name": "Margarita",
                    "price": "9.00 EUR",
                    "quantity": "1",
                    "sku_name": None,
                    "tax_rate": None,
                    "points_used": None,
                    "options": [{"option_list_name": "Toppings", "name": "Basil"}],
                    "deal_line": {"deal_key": "0", "pricing_effect": "unchanged", "pricing_value": None},
                }
            ],
            "deals": {"0": {"name": "Menu", "ref": None}},
            "payments": [{"amount": "9.00 EUR", "info": None, "name": None}],
        },
        # Every pricing effect a deal line may have, deals no item names, fractional quantities, a refund.
        {
            "status": "accepted",
            "deals": {"a": {"name": "Fixed"}, "b": {"name": "Off"}, "c": {"name": "Percent"}, "d": {"name": "Unused"}},
            "items": [
                {
                    **GOOD_ITEM,
                    "deal_line": {"deal_key": "a", "pricing_effect": "fixed_price", "pricing_value": "5.00 EUR"},
                },
                {
                    **GOOD_ITEM,
                    "deal_line": {"deal_key": "b", "pricing_effect": "price_off", "pricing_value": "1.00 EUR"},
                },
                {
                    **GOOD_ITEM,
                    "deal_line": {"deal_key": "c", "pricing_effect": "percentage_off", "pricing_value": "30"},
                },
                {**GOOD_ITEM, "quantity": "0.5", "deal_line": {"deal_key": "c", "position": 1, "label": "Half"}},
                {"product_name": "Refund", "price": "-2.00 EUR", "quantity": "1"},
            ],
            "payments": [{"amount": "30.50 EUR", "info": {"card": {"last4": "4242", "amounts": [1, 2.5]}}}],
            "custom_fields": {"pos": {"table": 12, "tags": ["vip", None]}},
            "coupon_codes": ["WELCOME", "SUMMER"],
        },
        # Elements sent already deleted stay out of the total.
        {
            "status": "new",
            "items": [GOOD_ITEM, {**GOOD_ITEM, "deleted": True}],
            "charges": [{"price": "1.00 EUR", "deleted": True}],
        },
    ],
)
async def test_odd_but_valid_orders_are_accepted(tenant: Tenant, body: dict) -> None:
    api = await tenant.api(ORDERS)
    created = await new_order(api, tenant, body)
    assert answer(await api.get(f"{orders_path(tenant)}/{created['id']}")) == created
    for item in created["items"]:
        for option in item["options"]:
            assert option["price"] == "0.00 EUR" and option["quantity"] == 1  # free, once
    assert sorted(created["deals"]) == [str(n) for n in range(len(body.get("deals") or {}))]


# =================================================================================================================
# deliveries.md (and orders.md §11: the order's delivery field)
# =================================================================================================================


async def _delivery_order(api: Api, tenant: Tenant) -> dict[str, Any]:
    return await new_order(api, tenant, {"status": "accepted", "service_type": "delivery"})


async def test_the_delivery_examples(tenant: Tenant) -> None:
    """deliveries.md §1-3: create with the example request, retrieve, update the driver's position."""
    api = await tenant.api(ORDERS)
    order = await _delivery_order(api, tenant)
    path = f"/v1/location/orders/{order['id']}/delivery"
    refused(await api.get(path), 404)  # §2: no delivery yet
    request = example("deliveries.md", "1. Create a Delivery")
    created = answer(await api.post(path, json=request), 201)
    shown = example("deliveries.md", "2. Retrieve a Delivery")
    # Its fields: the resource table's (§1), of which the retrieve example leaves out driver_pickup_url.
    assert set(created) == set(shown) | {"driver_pickup_url"}
    assert {k: created[k] for k in request} == request
    assert (created["order_id"], created["location_id"]) == (order["id"], tenant.location_id)
    assert answer(await api.get(path)) == created

    update = example("deliveries.md", "3. Update a Delivery")
    moved = answer(
        await api.patch(path, json={**update, "driver_latitude": "48.856702", "driver_longitude": "2.35222"})
    )
    assert (moved["driver_latitude"], moved["driver_longitude"]) == ("48.856702", "2.35222")
    assert {k: v for k, v in moved.items() if not k.startswith("driver_l")} == {
        k: v for k, v in created.items() if not k.startswith("driver_l")
    }
    in_order = answer(await api.get(f"{orders_path(tenant)}/{order['id']}"))["delivery"]
    assert in_order == {k: v for k, v in moved.items() if k not in {"id", "order_id", "location_id", *DRIVER_POSITION}}


async def test_the_retrieve_delivery_example(tenant: Tenant) -> None:
    """deliveries.md §2: a delivery with the example's values, read back and compared field by field."""
    api = await tenant.api(ORDERS)
    order = await _delivery_order(api, tenant)
    shown = example("deliveries.md", "2. Retrieve a Delivery")
    sent = {k: v for k, v in shown.items() if k not in ("id", "order_id", "location_id")}
    path = f"{orders_path(tenant)}/{order['id']}/delivery"
    answer(await api.post(path, json=sent), 201)
    read = answer(await api.get(path))
    assert_like(
        shown, read, loose={"id": KIND, "order_id": KIND, "location_id": KIND}, extra={"": {"driver_pickup_url"}}
    )
    assert read["order_id"] == order["id"]


async def test_delivery_statuses_stamp_their_times_and_fire_order_updates(tenant: Tenant) -> None:
    """deliveries.md, auto-updated fields; orders.md §11: attaching or updating a delivery fires order.update,
    the driver's position alone does not."""
    api = await tenant.api(ORDERS)
    watcher = await tenant.api("location[orders.read]", client_id=await tenant.new_client())
    answer(await watcher.post("/v1/callback", json={"url": None, "events": {"order": ["update"]}}))
    order = await _delivery_order(api, tenant)
    path = f"{orders_path(tenant)}/{order['id']}/delivery"
    answer(await api.post(path, json={"carrier": "UPS", "status": "pending"}), 201)
    answer(await api.patch(path, json={"driver_latitude": "48.8", "driver_longitude": "2.3"}))
    assert len(answer(await watcher.get("/v1/callback/events"))) == 1  # the attachment only

    enroute = answer(await api.patch(path, json={"status": "pickup_enroute"}))
    assert enroute["assigned_at"] is not None and enroute["pickup_at"] is None
    manual = "2023-01-01T12:40:00+01:00"
    delivered = answer(await api.patch(path, json={"status": "delivered", "delivered_at": manual}))
    assert delivered["delivered_at"] == manual  # "You can manually override these fields"
    events = answer(await watcher.get("/v1/callback/events"))
    assert len(events) == 3
    last = answer(await watcher.get(f"/v1/callback/events/{events[-1]['id']}"))
    assert (last["previous_state"]["delivery"]["status"], last["new_state"]["delivery"]["status"]) == (
        "pickup_enroute",
        "delivered",
    )
    assert all(name not in last["new_state"]["delivery"] for name in DRIVER_POSITION)


async def test_deliveries_refused_store_nothing(tenant: Tenant) -> None:
    api = await tenant.api(ORDERS)
    collection = await new_order(api, tenant, {"status": "new", "service_type": "collection"})
    order = await _delivery_order(api, tenant)
    request = example("deliveries.md", "1. Create a Delivery")
    # "This endpoint can only be called if the order's service_type is set to delivery."
    refused(await api.post(f"{orders_path(tenant)}/{collection['id']}/delivery", json=request))
    assert answer(await api.get(f"{orders_path(tenant)}/{collection['id']}"))["delivery"] is None
    path = f"{orders_path(tenant)}/{order['id']}/delivery"
    for bad in ({**request, "fee": "4.50 USD"}, {**request, "status": "lost"}, {**request, "carrier": None}):
        refused(await api.post(path, json=bad))
        refused(await api.get(path), 404)
    created = answer(await api.post(path, json=request), 201)
    refused(await api.post(path, json=request))  # "The order has no delivery yet."
    # All fields can be updated, except carrier, carrier_ref and fee (echoed unchanged, they are accepted).
    for bad in ({"carrier": "DHL"}, {"fee": "1.00 EUR"}, {"status": "pending", "carrier_ref": "dhl"}):
        refused(await api.patch(path, json=bad))
    echoed = answer(await api.patch(path, json={**created, "status": "pickup_waiting"}))
    assert echoed == {**created, "status": "pickup_waiting"}
    refused(await api.patch(f"{orders_path(tenant)}/{collection['id']}/delivery", json={"status": "pending"}), 404)


# =================================================================================================================
# callbacks.md
# =================================================================================================================


def _url(value: str) -> str:
    return value.replace("<<YOUR DOMAIN HERE>>", "hubrise-client.example.com")


async def test_the_callback_examples(tenant: Tenant) -> None:
    """callbacks.md §1.1-1.3: before any callback, after one is set, the create request, the delete."""
    api = await tenant.api(ORDERS)
    assert answer(await api.get("/v1/callback")) == example("callbacks.md", "1.1. Retrieve Callback", 1)
    shown = example("callbacks.md", "1.1. Retrieve Callback", 0)
    shown["url"] = _url(shown["url"])
    assert answer(await api.post("/v1/callback", json=shown)) == shown
    assert answer(await api.get("/v1/callback")) == shown

    request = example("callbacks.md", "1.2. Create or Update Callback")
    request["url"] = _url(request["url"])
    assert answer(await api.post("/v1/callback", json=request)) == request  # replaces the first
    assert answer(await api.get("/v1/callback")) == request
    answer(await api.delete("/v1/callback"))
    assert answer(await api.get("/v1/callback")) == {"url": None, "events": {}}


ALLOWED = {
    "catalog": ["create", "delete", "update"],
    "customer": ["create", "update"],
    "delivery": ["create", "update"],
    "inventory": ["patch", "update"],
    "location": ["update"],
    "order": ["create", "update"],
}


async def test_every_allowed_combination_is_accepted(tenant: Tenant) -> None:
    """callbacks.md §1.2's combinations, all at once; any other one is a 422 and the callback stays as it was."""
    api = await tenant.api(ORDERS)
    saved = answer(await api.post("/v1/callback", json={"url": None, "events": ALLOWED}))
    assert saved == {"url": None, "events": ALLOWED}
    for bad in ({"catalog": ["patch"]}, {"order": ["delete"]}, {"menu": ["create"]}, {"order": "create"}):
        refused(await api.post("/v1/callback", json={"url": None, "events": bad}))
    assert answer(await api.get("/v1/callback")) == saved


async def test_the_event_examples(tenant: Tenant) -> None:
    """callbacks.md: the list (§2.2), retrieve (§2.1) and active callback examples, from another client's
    customer changes (a client is not told of its own); then the delete (§2.3)."""
    api = await tenant.api("location[all_customer_lists.write]")
    poller = await tenant.api("location[all_customer_lists.read]", client_id=await tenant.new_client())
    answer(await poller.post("/v1/callback", json={"url": None, "events": {"customer": ["update"]}}))
    list_id = await tenant.customer_list()
    customer = await new_customer(api, list_id, first_name="Thomas", email="tom@dummy-mail.org")
    base = f"/v1/customer_lists/{list_id}/customers/{customer['id']}"
    answer(await api.patch(base, json={"first_name": "Tom"}))
    answer(await api.patch(base, json={"email": "jim@dummy-mail.org"}))
    assert answer(await api.get("/v1/callback/events")) == []  # its own changes

    listed = answer(await poller.get("/v1/callback/events"))
    assert_like(example("callbacks.md", "2.2. List Events"), listed, loose=IDS, extra={"*": {"account_id"}})
    assert [(e["customer_id"], e["customer_list_id"]) for e in listed] == [(customer["id"], list_id)] * 2

    states = {"previous_state": ANY, "new_state": ANY}
    extra = {"": {"account_id"}}
    renamed = answer(await poller.get(f"/v1/callback/events/{listed[0]['id']}"))
    assert_like(example("callbacks.md", "2.1. Retrieve Event"), renamed, loose=IDS, extra=extra)
    assert_like(example("callbacks.md", "Active Callbacks"), renamed, loose={**IDS, **states}, extra=extra)
    assert (renamed["previous_state"]["first_name"], renamed["new_state"]["first_name"]) == ("Thomas", "Tom")
    emailed = answer(await poller.get(f"/v1/callback/events/{listed[1]['id']}"))
    assert_like(example("callbacks.md", "Active Callbacks"), emailed, loose=IDS, extra=extra)
    assert renamed["new_state"] == {**customer, "first_name": "Tom"}  # the whole customer, as GET shows it

    assert answer(await poller.delete(f"/v1/callback/events/{listed[0]['id']}")) == renamed
    assert [e["id"] for e in answer(await poller.get("/v1/callback/events"))] == [listed[1]["id"]]
    refused(await poller.get(f"/v1/callback/events/{listed[0]['id']}"), 404)


# =================================================================================================================
# accounts.md
# =================================================================================================================

# Patronage's additions to a location and an account (README, API notes: Locations, accounts, user); the Timezone
# object's deprecated offset (general-concepts.md, Timezones).
LOCATION_EXTRA = {"": {"account_id", "currency"}, "**.account": {"country", "timezone"}, "**.timezone": {"offset"}}
ACCOUNT_EXTRA = {"": {"country", "timezone"}, "**.timezone": {"offset"}}
# What Patronage cannot know (it keeps no address): null, which the location's example cannot show.
UNKNOWN_ADDRESS = {"address": ANY, "postal_code": ANY, "city": ANY}
TENANT_NAMES = {"**.name": KIND}


async def test_the_location_examples(tenant: Tenant) -> None:
    """accounts.md §1.1 (after setting what a client may set to the example's values) and §1.3."""
    shown = example("accounts.md", "1.1 Retrieve Location")
    api = await tenant.api("location[orders.write]")
    settable = {k: without_elisions(shown[k]) for k in ("cutoff_time", "opening_hours", "preparation_time")}
    settable |= {k: shown[k] for k in ("order_acceptance", "custom_fields")}
    answer(await api.patch(f"/v1/locations/{tenant.location_id}", json=settable))
    read = answer(await api.get(f"/v1/locations/{tenant.location_id}"))
    assert_like(shown, read, loose={**IDS, **TENANT_NAMES, **UNKNOWN_ADDRESS}, extra=LOCATION_EXTRA)
    assert (read["address"], read["postal_code"], read["city"]) == (None, None, None)
    assert answer(await api.get("/v1/location")) == read

    account_api = await tenant.api("account[orders.read]")
    listed = answer(await account_api.get("/v1/locations"))
    assert_like(
        example("accounts.md", "1.3 List Locations"), listed, loose={**IDS, **TENANT_NAMES}, extra=LOCATION_EXTRA
    )
    assert sorted(location["id"] for location in listed) == sorted([tenant.location_id, tenant.other_location_id])
    assert read in listed


async def test_the_location_update_example(tenant: Tenant) -> None:
    """accounts.md §1.2, sent as it is. Its resume_at (June 2025) may have passed: a busy location is online
    again once it has (accounts.md, Order Acceptance); with a resume_at to come it stays busy."""
    api = await tenant.api("location[orders.write]")
    request = example("accounts.md", "1.2 Update Location", 1)
    updated = answer(await api.patch(f"/v1/locations/{tenant.location_id}", json=request))
    assert {k: updated[k] for k in ("cutoff_time", "opening_hours", "preparation_time", "custom_fields")} == {
        k: request[k] for k in ("cutoff_time", "opening_hours", "preparation_time", "custom_fields")
    }
    assert updated["order_acceptance"] in (request["order_acceptance"], {"mode": "online"})
    later = {**request["order_acceptance"], "resume_at": "2099-06-04T19:30:00+02:00"}
    busy = answer(await api.patch(f"/v1/locations/{tenant.location_id}", json={"order_acceptance": later}))
    assert busy["order_acceptance"] == later
    paused = answer(await api.patch("/v1/location", json={"order_acceptance": {"mode": "paused", "reason": "Rain"}}))
    assert paused["order_acceptance"] == {"mode": "paused", "resume_at": None, "reason": "Rain"}
    # The templates allow nothing else: a busy mode needs its extra time.
    refused(await api.patch("/v1/location", json={"order_acceptance": {"mode": "busy"}}))
    assert answer(await api.get("/v1/location"))["order_acceptance"] == paused["order_acceptance"]


async def test_the_account_and_user_examples(db: Database, live: httpx.AsyncClient) -> None:
    """accounts.md §2.1 and §3.1."""
    env = await make_env(db)
    tenant = Tenant(db, live, env.account_id, env.location_id, env.other_location_id, env.client_id, env.client_name)
    account = answer(await (await tenant.api("account[orders.read]")).get(f"/v1/accounts/{tenant.account_id}"))
    assert_like(example("accounts.md", "2.1 Retrieve Account"), account, loose=TENANT_NAMES | IDS, extra=ACCOUNT_EXTRA)

    shown = example("accounts.md", "3.1 Retrieve User")
    # Patronage's users have no names nor locales (null, []), which the example cannot show.
    nameless = {"first_name": ANY, "last_name": ANY, "locales": ANY, "email": KIND}
    with_email = answer(await (await tenant.api("location[orders.read],profile_with_email")).get("/v1/user"))
    assert_like(shown, with_email, loose={**IDS, **nameless}, extra=ACCOUNT_EXTRA)
    assert (with_email["first_name"], with_email["last_name"], with_email["locales"]) == (None, None, [])
    assert with_email["email"] == env.email
    # "The email field is included only if the access level is profile_with_email."
    without = answer(await (await tenant.api("location[orders.read],profile")).get("/v1/user"))
    assert without == {k: v for k, v in with_email.items() if k != "email"}


# =================================================================================================================
# customers.md
# =================================================================================================================

LIST_EXTRA = {"": {"account_id", "location_id", "created_at"}, "*": {"account_id", "location_id"}}
LISTS = "location[all_customer_lists.write,orders.write]"


async def test_the_customer_list_examples(tenant: Tenant) -> None:
    """customers.md §1.1-1.5."""
    api = await tenant.api(LISTS)
    created = answer(
        await api.post(
            f"/v1/locations/{tenant.location_id}/customer_lists",
            json=example("customers.md", "1.3. Create Customer List"),
        ),
        201,
    )
    assert created["name"] == "Web customers"
    refused(await api.post(f"/v1/locations/{tenant.location_id}/customer_lists", json={"name": "Web customers"}))
    read = answer(await api.get(f"/v1/customer_lists/{created['id']}"))
    assert_like(
        example("customers.md", "1.1. Retrieve Customer List"), read, loose={**IDS, "name": KIND}, extra=LIST_EXTRA
    )
    second = answer(
        await api.post(f"/v1/locations/{tenant.location_id}/customer_lists", json={"name": "POS customers"}), 201
    )
    listed = answer(await api.get(f"/v1/locations/{tenant.location_id}/customer_lists"))
    assert_like(
        example("customers.md", "1.2. List Customer Lists"), listed, loose={**IDS, "*.name": KIND}, extra=LIST_EXTRA
    )
    assert sorted(lst["id"] for lst in listed) == sorted([created["id"], second["id"]])
    renamed = answer(
        await api.patch(
            f"/v1/customer_lists/{created['id']}", json=example("customers.md", "1.4. Update Customer List")
        )
    )
    assert renamed == {**read, "name": "New customers"}
    refused(await api.patch(f"/v1/customer_lists/{created['id']}", json={"name": "POS customers"}))  # name taken
    answer(await api.delete(f"/v1/customer_lists/{created['id']}"))
    refused(await api.get(f"/v1/customer_lists/{created['id']}"), 404)


async def test_the_customer_examples(db: Database, live: httpx.AsyncClient) -> None:
    """customers.md §2.1-2.5, in the example's currency (GBP): the retrieve example rebuilt (two orders making
    its order_total, a card of 13.5 points) and compared field by field."""
    tenant = await make_tenant(db, live, currency="GBP", timezone="Europe/London")
    api = await tenant.api(LISTS)
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"

    request = example("customers.md", "2.3. Create Customer")
    elsewhere = await tenant.customer_list()  # the search below finds the retrieve example's customer alone
    created = answer(await api.post(f"/v1/customer_lists/{elsewhere}/customers", json=request), 201)
    assert {k: created[k] for k in request} == request

    shown = example("customers.md", "2.1. Retrieve Customer")
    customer = answer(await api.post(f"{base}/customers", json=sent_customer(shown)), 201)
    card = answer(await api.post(f"{base}/loyalty_cards", json={"customer_id": customer["id"]}), 201)
    answer(await api.post(f"{base}/loyalty_cards/{card['id']}/operations", json={"delta": "13.5"}), 201)
    for price in ("12.40 GBP", "16.00 GBP"):
        item = {"product_name": "Menu", "price": price, "quantity": "1"}
        await new_order(api, tenant, {"status": "completed", "customer_id": customer["id"], "items": [item]})
    read = answer(await api.get(f"{base}/customers/{customer['id']}"))
    times = {"first_order_date": KIND, "last_order_date": KIND, "loyalty_cards.*.id": KIND}
    assert_like(shown, read, loose={**IDS, **times})

    searched = answer(await api.get(f"{base}/customers", params={"phone": "+44*"}))  # sent as phone=%2B44*
    assert_like(
        example("customers.md", "2.2. List Customers"),
        searched,
        loose={**IDS, "**.email": KIND, "**.first_name": KIND, "**.last_name": KIND},
    )
    assert [c["id"] for c in searched] == [customer["id"]]

    updated = answer(
        await api.patch(f"{base}/customers/{customer['id']}", json=example("customers.md", "2.4. Update Customer"))
    )
    assert updated == {**read, "first_name": "Claude"}

    anonymised = answer(await api.post(f"{base}/customers/{customer['id']}/anonymise"))
    gone = ("email", "first_name", "last_name", "gender", "birth_date", "company_name", "phone", "phone_access_code")
    gone += ("address_1", "address_2", "postal_code", "latitude", "longitude", "delivery_notes")
    assert anonymised["anonymised"] is True and all(anonymised[name] is None for name in gone)
    assert {k: v for k, v in anonymised.items() if k not in gone and k != "anonymised"} == {
        k: v for k, v in updated.items() if k not in gone and k != "anonymised"
    }


@pytest.mark.parametrize("phone", ["06 12 34 56 78", "(555) 123-4567", "0612345678", "06.12.34.56.78", "+44123456789"])
async def test_legacy_phones_are_stored_as_sent(tenant: Tenant, phone: str) -> None:
    """customers.md §2.3 (*): E.164 for new implementations, but other formats are still accepted (SPEC §7)."""
    api = await tenant.api(LISTS)
    list_id = await tenant.customer_list()
    created = await new_customer(api, list_id, phone=phone)
    assert created["phone"] == phone
    assert [
        c["id"] for c in answer(await api.get(f"/v1/customer_lists/{list_id}/customers", params={"phone": phone}))
    ] == [created["id"]]


@pytest.mark.parametrize("phone", ["abc", "12", "06 12 34 56 78 ext", "+33 6 12 34 56 78", "0" * 33])
async def test_phones_that_are_not_phones_are_refused(tenant: Tenant, phone: str) -> None:
    api = await tenant.api(LISTS)
    list_id = await tenant.customer_list()
    body = refused(await api.post(f"/v1/customer_lists/{list_id}/customers", json={"phone": phone}))
    assert [error["field"] for error in body["errors"]] == ["phone"]
    assert answer(await api.get(f"/v1/customer_lists/{list_id}/customers")) == []


async def test_the_loyalty_examples(tenant: Tenant) -> None:
    """customers.md §3 and §4: cards and operations, the retrieve examples rebuilt with their values."""
    api = await tenant.api(LISTS)
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    customer = await new_customer(api, list_id, first_name="Charles")
    request = {**example("customers.md", "3.3. Create Loyalty Card"), "customer_id": customer["id"]}
    created = answer(await api.post(f"{base}/loyalty_cards", json=request), 201)
    assert created == {"id": created["id"], **request, "balance": "0.0"}
    renamed = answer(
        await api.patch(
            f"{base}/loyalty_cards/{created['id']}", json=example("customers.md", "3.4. Update Loyalty Card")
        )
    )
    assert renamed == {**created, "ref": "LOYALTY"}

    # §3.2's second example: a customer's card without ref nor name (13.5 points), and "LOY" named "Come back!"
    # (1.5 points).
    customer = await new_customer(api, list_id, first_name="Ann")
    plain = answer(await api.post(f"{base}/loyalty_cards", json={"customer_id": customer["id"]}), 201)
    loy = {"customer_id": customer["id"], "ref": "LOY", "name": "Come back!"}
    loy = answer(await api.post(f"{base}/loyalty_cards", json=loy), 201)
    answer(await api.post(f"{base}/loyalty_cards/{loy['id']}/operations", json={"delta": "1.5"}), 201)
    answer(await api.post(f"{base}/loyalty_cards/{plain['id']}/operations", json={"delta": "13.5"}), 201)
    assert_like(
        example("customers.md", "3.1. Retrieve Loyalty Card"),
        answer(await api.get(f"{base}/loyalty_cards/{loy['id']}")),
        loose={**IDS, "balance": KIND},
    )
    by_ref = answer(await api.get(f"{base}/loyalty_cards", params={"ref": "LOY"}))
    assert_like(example("customers.md", "3.2. List Loyalty Cards", 0), by_ref, loose={**IDS, "*.balance": KIND})
    by_customer = answer(await api.get(f"{base}/loyalty_cards", params={"customer_id": customer["id"]}))
    assert_like(
        example("customers.md", "3.2. List Loyalty Cards", 1),
        sorted(by_customer, key=lambda card: card["id"] != plain["id"]),  # in the example's order
        loose=IDS,
    )

    # §4: an operation of 4.2 on the 13.5 card, attached to an order: new balance 17.7.
    order = await new_order(api, tenant, {"status": "completed", "customer_id": customer["id"]})
    shown = example("customers.md", "4.1. Retrieve Operation")
    sent = {"order_id": order["id"], "reason": shown["reason"], "delta": shown["delta"]}
    operation = answer(await api.post(f"{base}/loyalty_cards/{plain['id']}/operations", json=sent), 201)
    read = answer(await api.get(f"{base}/loyalty_cards/{plain['id']}/operations/{operation['id']}"))
    assert read == operation
    # The example's order_location_id ("psm98") is no location id of SPEC §5's form ("3r4s3-1"): SPEC stands.
    assert_like(shown, read, loose={**IDS, "order_location_id": ANY, "order_id": KIND})
    assert (read["order_id"], read["order_location_id"], read["customer_id"]) == (
        order["id"],
        tenant.location_id,
        customer["id"],
    )
    listed = answer(await api.get(f"{base}/loyalty_cards/{plain['id']}/operations"))
    assert_like(example("customers.md", "4.2. List Operations"), listed, loose=IDS)
    assert [op["id"] for op in listed][0] == operation["id"]  # newest first
    create = example("customers.md", "4.3. Create Operation")
    refused(await api.post(f"{base}/loyalty_cards/{plain['id']}/operations", json=create))  # its order_id: none here
    assert answer(await api.get(f"{base}/loyalty_cards/{plain['id']}"))["balance"] == "17.7"


# =================================================================================================================
# authentication.md, general-concepts.md
# =================================================================================================================


async def test_the_token_example(db: Database, live: httpx.AsyncClient) -> None:
    """authentication.md §3.1-3.4 over HTTP: the authorisation request of the example (its scope, the signup
    pre-fills), the token answer with the example's fields (the catalog ones null: Patronage has no catalogs)
    and what HubRise's Ruby client reads besides (user_id, app_instance_id), connection reuse (§5), revocation."""
    env = await make_env(db)
    list_id = await env.customer_list("Bella Pizza", env.location_id)
    scope = "location[orders.write,customer_list.write,catalog.read]"
    params = env.params(scope, country="FR", account_name="Aux Délices", location_name="Paris")
    code = await oauth_code(live, env, params, location_id=env.location_id, customer_list_id=list_id)
    response = await live.post("/oauth2/v1/token", data={"code": code}, auth=(env.client_id, env.client_secret))
    body = answer(response)
    names = {"account_name": KIND, "location_name": KIND, "customer_list_name": KIND}
    no_catalog = {"catalog_id": ANY, "catalog_name": ANY}
    extra = {"": {"user_id", "app_instance_id", "connection_id", "scope"}}
    shown = example("authentication.md", "3.2. Get an Access Token")
    assert_like(shown, body, loose={**IDS, "access_token": ANY, **names, **no_catalog}, extra=extra)
    assert (body["catalog_id"], body["catalog_name"]) == (None, None)
    assert (body["account_id"], body["location_id"], body["customer_list_id"]) == (
        env.account_id,
        env.location_id,
        list_id,
    )
    # §5: the same location, the same client, the same token; a device_id never seen, a new one.
    for extra, same in (({}, True), ({"device_id": "100"}, False)):
        again = await oauth_code(live, env, {**params, **extra}, location_id=env.location_id, customer_list_id=list_id)
        token = answer(
            await live.post("/oauth2/v1/token", data={"code": again}, auth=(env.client_id, env.client_secret))
        )
        assert (token["access_token"] == body["access_token"]) is same
    with_profile = await oauth_code(live, env, env.params("location[orders.read],profile"), location_id=env.location_id)
    profile = answer(
        await live.post("/oauth2/v1/token", data={"code": with_profile}, auth=(env.client_id, env.client_secret))
    )
    user = answer(await live.get("/v1/user", headers={"X-Access-Token": profile["access_token"]}))
    assert body["user_id"] == profile["user_id"] == user["id"]
    # The code is used: a 400. Revoked, the token is a 401 with the reference's message (§6).
    assert (
        await live.post("/oauth2/v1/token", data={"code": code}, auth=(env.client_id, env.client_secret))
    ).status_code == 400
    revoke = await live.post(
        "/oauth2/v1/revoke", data={"token": body["access_token"]}, auth=(env.client_id, env.client_secret)
    )
    assert revoke.status_code == 200, revoke.text
    blocked = refused(await live.get("/v1/location", headers={"X-Access-Token": body["access_token"]}), 401)
    assert_like(example("authentication.md", "6. Token Invalidity"), blocked, loose={"message": ANY})
    assert blocked["message"] == "The access token is invalid or the connection has been revoked"


async def test_the_error_examples(tenant: Tenant, live: httpx.AsyncClient) -> None:
    """general-concepts.md §7: a routing error, a 422 with its field breakdown, a 401."""
    api = await tenant.api(ORDERS)
    routing = refused(await api.get("/v1/no_such_resource"), 404)
    assert_like(example("general-concepts.md", "7. Errors", 0), routing, extra={"": {"message"}})
    item = {"product_name": "Margarita", "price": "abc", "quantity": "1"}
    invalid = refused(await api.post(orders_path(tenant), json={"status": "new", "items": [item]}))
    assert_like(
        example("general-concepts.md", "7. Errors", 1),
        invalid,
        loose={"errors.*.field": ANY, "errors.*.message": ANY},
    )
    assert invalid["errors"][0]["field"] == "items.0.price"
    unauthorized = refused(await live.get("/v1/location", headers={"X-Access-Token": "0" * 32}), 401)
    assert_like(example("general-concepts.md", "7. Errors", 2), unauthorized, loose={"message": KIND})


async def test_the_private_ref_examples(tenant: Tenant) -> None:
    """general-concepts.md §8: client A's private ref, what A and B read, A's lookup by it, B's own."""
    client_a = await tenant.api(ORDERS)
    client_b = await tenant.api(ORDERS, client_id=await tenant.new_client())
    order = await new_order(client_a, tenant, {"status": "new"})
    path = f"/v1/location/orders/{order['id']}"
    answer(await client_a.patch(path, json=example("general-concepts.md", "8. Private Refs", 0)))
    assert_like(example("general-concepts.md", "8. Private Refs", 1), answer(await client_a.get(path)))
    assert_like(example("general-concepts.md", "8. Private Refs", 2), answer(await client_b.get(path)))
    found = answer(await client_a.get("/v1/location/orders", params={"private_ref": "6986"}))
    assert_like(example("general-concepts.md", "8. Private Refs", 3), found)
    assert answer(await client_b.get("/v1/location/orders", params={"private_ref": "6986"})) == []
    answer(await client_b.patch(path, json={"private_ref": "b-1"}))
    assert answer(await client_a.get(path))["private_ref"] == "6986"


async def test_pagination_as_the_example_shows_it(tenant: Tenant) -> None:
    """general-concepts.md §2: 150 orders are 100, then 50 with no X-Cursor-Next."""
    api = await tenant.api(ORDERS)
    made = [(await new_order(api, tenant, {"status": "new"}))["id"] for _ in range(150)]
    first = await api.get("/v1/location/orders")
    assert len(answer(first)) == 100 and first.headers.get("X-Cursor-Next")
    second = await api.get("/v1/location/orders", params={"cursor": first.headers["X-Cursor-Next"]})
    assert len(answer(second)) == 50 and "X-Cursor-Next" not in second.headers
    assert {o["id"] for o in first.json() + second.json()} == set(made)


async def test_money_timezones_and_method_override(db: Database, live: httpx.AsyncClient) -> None:
    """general-concepts.md §4 (a POST overridden to PUT; not on a GET) and §5 (money such as "-0.05 GBP", times in
    the location's timezone, the Timezone object)."""
    tenant = await make_tenant(db, live, currency="GBP", timezone="Europe/London")
    api = await tenant.api(ORDERS)
    refund = {"product_name": "Refund", "price": "-0.05 GBP", "quantity": "1"}
    order = await new_order(
        api, tenant, {"status": "new", "items": [refund], "expected_time": "2020-08-20T06:42:46+02:00"}
    )
    assert (order["total"], order["expected_time"]) == ("-0.05 GBP", "2020-08-20T05:42:46+01:00")
    timezone = answer(await api.get("/v1/location"))["timezone"]
    assert_like(example("general-concepts.md", "Timezones"), timezone, loose={"name": KIND, "offset": KIND})
    assert timezone["name"] == "Europe/London" and timezone["offset"] in (0, 3600)

    path = f"/v1/location/orders/{order['id']}"
    overridden = await api.post(path, json={"status": "accepted"}, headers={"X-Http-Method-Override": "PUT"})
    assert answer(overridden)["status"] == "accepted"
    refused(await api.get(path, headers={"X-Http-Method-Override": "PUT"}), 400)
    assert answer(await api.get(path))["status"] == "accepted"
