"""Orders and their customers (SPEC §7, §8): linked, private-ref-linked and guest orders, loyalty operations
inside orders, customer statistics, anonymisation, list deletion, and order_id on loyalty operations."""

from datetime import datetime
from decimal import Decimal

from helpers import ANONYMISED_FIELDS, Api, Tenant
from patronage.tenancy import service as tenancy

LOCATION = "location[orders.write,all_customer_lists.write]"
ACCOUNT = "account[orders.write,all_customer_lists.write]"
JIMMY = {
    "email": "jimmy.watson@dummy-mail.org",
    "first_name": "Jimmy",
    "last_name": "Watson",
    "gender": "male",
    "birth_date": "1990-02-03",
    "company_name": "Dummy",
    "phone": "+44123456789",
    "phone_access_code": "8888",
    "address_1": "1 Town Road",
    "address_2": "Flat 2",
    "postal_code": "N9 0HL",
    "city": "London",
    "state": None,
    "country": "GB",
    "latitude": "45.7571206",
    "longitude": "4.8307575",
    "delivery_notes": "Blue door",
    "sms_marketing": False,
    "email_marketing": True,
}


def _orders(location_id: str) -> str:
    return f"/v1/locations/{location_id}/orders"


async def _customer(api: Api, list_id: str, **fields: object) -> dict:
    response = await api.post(f"/v1/customer_lists/{list_id}/customers", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def _order(api: Api, location_id: str, **fields: object) -> dict:
    response = await api.post(_orders(location_id), json={"status": "new", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _item(price: str) -> dict:
    return {"product_name": "Menu", "price": price, "quantity": "1"}


# --- the order's customer ---------------------------------------------------------------------------------


async def test_linked_order_keeps_the_customer_as_it_was(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, private_ref="C-1", custom_fields={"vip": True}, **JIMMY)
    order = await _order(api, tenant.location_id, customer_id=customer["id"], items=[_item("12.00 EUR")])
    assert order["customer_id"] == customer["id"] and order["customer_list_id"] == list_id
    now = (await api.get(f"/v1/customer_lists/{list_id}/customers/{customer['id']}")).json()
    assert now["nb_orders"] == 1 and now["order_total"] == "12.00 EUR"
    assert now["first_order_date"] == now["last_order_date"] == order["created_at"]
    # The copy is the customer as it was once the order was in, the caller's private ref included.
    assert order["customer"] == now
    assert list(order["customer"]) == list(customer)
    # Later changes to the customer do not reach the copy.
    await api.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"first_name": "James"})
    again = (await api.get(f"{_orders(tenant.location_id)}/{order['id']}")).json()
    assert again["customer"]["first_name"] == "Jimmy"
    # Another client reads its own private ref of the customer (none).
    other = await tenant.api(LOCATION, client_id=await tenant.new_client("Other app"))
    seen = (await other.get(f"{_orders(tenant.location_id)}/{order['id']}")).json()
    assert seen["customer"]["private_ref"] is None
    assert {k: v for k, v in seen["customer"].items() if k != "private_ref"} == {
        k: v for k, v in order["customer"].items() if k != "private_ref"
    }


async def test_order_linked_by_the_callers_private_ref(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, private_ref="C-42", first_name="Ann")
    order = await _order(api, tenant.location_id, customer_list_id=list_id, customer_private_ref="C-42")
    assert order["customer_id"] == customer["id"] and order["customer"]["first_name"] == "Ann"
    assert order["customer"]["private_ref"] == "C-42"
    other = await tenant.api(LOCATION, client_id=await tenant.new_client("Other app"))
    response = await other.post(
        _orders(tenant.location_id),
        json={"status": "new", "customer_list_id": list_id, "customer_private_ref": "C-42"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "customer_private_ref"
    for body, field in (
        ({"customer_list_id": list_id}, "customer_private_ref"),
        ({"customer_private_ref": "C-42"}, "customer_list_id"),
        ({"customer_list_id": "nosuchlist", "customer_private_ref": "C-42"}, "customer_list_id"),
        ({"customer_list_id": list_id, "customer_private_ref": "C-43"}, "customer_private_ref"),
    ):
        response = await api.post(_orders(tenant.location_id), json={"status": "new", **body})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, body
    assert (await api.get(f"/v1/customer_lists/{list_id}/customers/{customer['id']}")).json()["nb_orders"] == 1


async def test_guest_order(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    reference = await _customer(api, list_id)
    order = await _order(api, tenant.location_id, customer={**JIMMY, "country": "gb"}, items=[_item("5.00 EUR")])
    guest = order["customer"]
    assert list(guest) == list(reference)  # the shape of a customer resource
    assert guest["id"] is None and guest["customer_list_id"] is None and guest["private_ref"] is None
    assert guest["anonymised"] is False and guest["loyalty_cards"] == [] and guest["custom_fields"] == {}
    assert {k: guest[k] for k in JIMMY} == {**JIMMY, "country": "GB"}
    assert guest["nb_orders"] is None and guest["order_total"] is None and guest["created_at"] is None
    assert order["customer_id"] is None and order["customer_list_id"] is None
    assert (await _order(api, tenant.location_id, customer={}))["customer"]["first_name"] is None
    for body, field in (
        ({"email": "not-an-email"}, "customer.email"),
        ({"phone": "01 AB"}, "customer.phone"),
        ({"gender": "other"}, "customer.gender"),
        ({"birth_date": "2999-01-01"}, "customer.birth_date"),
        ({"latitude": "91"}, "customer.latitude"),
        ({"private_ref": "x"}, "customer.private_ref"),
        ({"custom_fields": {}}, "customer.custom_fields"),
        ({"nickname": "J"}, "customer.nickname"),
    ):
        response = await api.post(_orders(tenant.location_id), json={"status": "new", "customer": body})
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    bad = await api.post(_orders(tenant.location_id), json={"status": "new", "customer": "Jimmy"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "customer"


async def test_customer_references_are_exclusive_and_must_exist(tenant: Tenant, other_tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, private_ref="R")
    stranger = await other_tenant.api("account[all_customer_lists.write]")
    foreign_list = await other_tenant.customer_list(location_id=None)
    foreign = await _customer(stranger, foreign_list)
    other_location_list = await tenant.customer_list(location_id=tenant.other_location_id)
    hidden = await _customer(await tenant.api(ACCOUNT), other_location_list)
    for body, fields in (
        ({"customer_id": customer["id"], "customer": {}}, ["customer_id", "customer"]),
        (
            {"customer_id": customer["id"], "customer_list_id": list_id, "customer_private_ref": "R"},
            ["customer_id", "customer_list_id", "customer_private_ref"],
        ),
        ({"customer_list_id": list_id, "customer_private_ref": "R", "customer": {}}, None),
        ({"customer_id": "nosuchcustomer"}, ["customer_id"]),
        ({"customer_id": foreign["id"]}, ["customer_id"]),  # another account's customer
        ({"customer_id": hidden["id"]}, ["customer_id"]),  # a list this location token does not see
        ({"customer_id": 12}, ["customer_id"]),
    ):
        response = await api.post(_orders(tenant.location_id), json={"status": "new", **body})
        assert response.status_code == 422, body
        if fields is not None:
            assert [e["field"] for e in response.json()["errors"]] == fields
    # Without any customer-list permission no customer can be named.
    orders_only = await tenant.api("location[orders.write]")
    response = await orders_only.post(
        _orders(tenant.location_id), json={"status": "new", "customer_id": customer["id"]}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "customer_id"
    # A connection bound to one list sees that list's customers only.
    bound = await tenant.api("location[orders.write,customer_list.read]", customer_list_id=list_id)
    assert (
        await bound.post(_orders(tenant.location_id), json={"status": "new", "customer_id": customer["id"]})
    ).status_code == 201
    other_list = await tenant.customer_list()
    elsewhere = await _customer(api, other_list)
    response = await bound.post(_orders(tenant.location_id), json={"status": "new", "customer_id": elsewhere["id"]})
    assert response.status_code == 422
    assert (await api.get(_orders(tenant.location_id))).json()[0]["customer_id"] == customer["id"]
    assert len((await api.get(_orders(tenant.location_id))).json()) == 1


# --- loyalty operations in orders -------------------------------------------------------------------------


async def test_loyalty_operations_in_an_order(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, first_name="Ann")
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    plain = (await api.post(cards, json={"customer_id": customer["id"], "name": "Old name"})).json()
    await api.post(f"{cards}/{plain['id']}/operations", json={"delta": "10"})
    order = await _order(
        api,
        tenant.location_id,
        customer_id=customer["id"],
        loyalty_operations=[
            {"delta": "4.2", "reason": "Points earned", "name": "Club"},  # the null-ref card, renamed
            {"ref": "VIP", "name": "VIP card", "delta": "-2.5", "reason": "Redeemed"},  # created
            {"ref": "VIP", "delta": 1},  # the card just created; no name: not renamed
            {"delta": "0.000001"},
        ],
    )
    assert order["loyalty_operations"] == [
        {"ref": None, "name": "Club", "delta": "4.2", "reason": "Points earned", "new_balance": "14.2"},
        {"ref": "VIP", "name": "VIP card", "delta": "-2.5", "reason": "Redeemed", "new_balance": "-2.5"},
        {"ref": "VIP", "name": "VIP card", "delta": "1.0", "reason": None, "new_balance": "-1.5"},
        {"ref": None, "name": "Club", "delta": "0.000001", "reason": None, "new_balance": "14.200001"},
    ]
    of_customer = (await api.get(cards, params={"customer_id": customer["id"]})).json()
    by_ref = {card["ref"]: card for card in of_customer}
    assert by_ref[None] == {**plain, "name": "Club", "balance": "14.200001"}
    assert by_ref["VIP"]["name"] == "VIP card" and by_ref["VIP"]["balance"] == "-1.5"
    operations = (await api.get(f"{cards}/{by_ref['VIP']['id']}/operations")).json()
    assert [(op["delta"], op["order_id"], op["order_location_id"]) for op in operations] == [
        ("1.0", order["id"], tenant.location_id),
        ("-2.5", order["id"], tenant.location_id),
    ]
    assert sorted(order["customer"]["loyalty_cards"], key=lambda c: c["ref"] or "") == sorted(
        [{k: v for k, v in card.items() if k != "customer_id"} for card in of_customer], key=lambda c: c["ref"] or ""
    )
    retrieved = (await api.get(f"{_orders(tenant.location_id)}/{order['id']}")).json()
    assert retrieved["loyalty_operations"] == order["loyalty_operations"]


async def test_loyalty_operations_need_a_linked_customer_and_write_access(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id)
    operation = {"ref": "NEW", "name": "New", "delta": "5"}
    for body in ({"customer": {"first_name": "Guest"}}, {}):
        response = await api.post(
            _orders(tenant.location_id), json={"status": "new", "loyalty_operations": [operation], **body}
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "loyalty_operations"
    reader = await tenant.api("location[orders.write,all_customer_lists.read]")
    response = await reader.post(
        _orders(tenant.location_id),
        json={"status": "new", "customer_id": customer["id"], "loyalty_operations": [operation]},
    )
    assert response.status_code == 403
    for bad, field in (
        ({"delta": "0"}, "loyalty_operations.0.delta"),
        ({"delta": "1.1234567"}, "loyalty_operations.0.delta"),
        ({"ref": "x" * 256, "delta": "1"}, "loyalty_operations.0.ref"),
        ({"delta": "1", "order_id": "x"}, "loyalty_operations.0.order_id"),
        ({"delta": "999999999999"}, None),
    ):
        ops = [bad] if field else [{"delta": "999999999999"}, {"delta": "1", "ref": "NEW"}, bad]
        response = await api.post(
            _orders(tenant.location_id),
            json={"status": "new", "customer_id": customer["id"], "loyalty_operations": ops},
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == (field or "loyalty_operations.2.delta")
    # Nothing was created by the refused orders: no order, no card, no statistics.
    assert (await api.get(_orders(tenant.location_id))).json() == []
    assert (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards")).json() == []
    assert (await api.get(f"/v1/customer_lists/{list_id}/customers/{customer['id']}")).json()["nb_orders"] == 0
    # A bound connection with write access to the list may.
    bound = await tenant.api("location[orders.write,customer_list.write]", customer_list_id=list_id)
    response = await bound.post(
        _orders(tenant.location_id),
        json={"status": "new", "customer_id": customer["id"], "loyalty_operations": [operation]},
    )
    assert response.status_code == 201 and response.json()["loyalty_operations"][0]["new_balance"] == "5.0"


# --- statistics -------------------------------------------------------------------------------------------


async def test_statistics_follow_orders_and_statuses_across_locations(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT)
    list_id = await tenant.customer_list(location_id=None)  # account level: the account's currency, EUR
    customer = await _customer(api, list_id, first_name="Ann")
    bystander = await _customer(api, list_id, first_name="Bob")
    location_api = await tenant.api(LOCATION)
    async with tenant.db.session(write=True) as session:
        account = await tenancy.get_account(session, tenant.account_id)
        london = await tenancy.create_location(session, account, "London", currency="GBP", timezone="Europe/London")
    url = f"/v1/customer_lists/{list_id}/customers/{customer['id']}"

    async def expect(nb: int, total: str, first: dict | None, last: dict | None) -> None:
        single = (await api.get(url)).json()
        in_page = next(
            c for c in (await api.get(f"/v1/customer_lists/{list_id}/customers")).json() if c["id"] == customer["id"]
        )
        for seen in (single, in_page):
            assert seen["nb_orders"] == nb
            assert seen["order_total"] == total
            # The same instants, whichever timezone renders them (the London order's is +00:00 there).
            assert _instant(seen["first_order_date"]) == _instant(first["created_at"] if first else None)
            assert _instant(seen["last_order_date"]) == _instant(last["created_at"] if last else None)
            assert seen["last_order_date"] is None or seen["last_order_date"].endswith(("+01:00", "+02:00"))

    async def status(order: dict, value: str, client: Api = api) -> None:
        response = await client.patch(f"{_orders(order['location_id'])}/{order['id']}", json={"status": value})
        assert response.status_code == 200, response.text

    await expect(0, "0.00 EUR", None, None)
    a = await _order(api, tenant.location_id, customer_id=customer["id"], items=[_item("10.00 EUR")])
    await expect(1, "10.00 EUR", a, a)
    b = await _order(
        api, tenant.other_location_id, customer_id=customer["id"], status="accepted", items=[_item("5.50 EUR")]
    )
    await expect(2, "15.50 EUR", a, b)
    # A location token links the account-level list's customer too.
    c = await _order(
        location_api, tenant.location_id, customer_id=customer["id"], status="rejected", items=[_item("3.00 EUR")]
    )
    await expect(2, "15.50 EUR", a, b)
    # An order in another currency counts, but its amount is left out of the total.
    d = await _order(api, london.id, customer_id=customer["id"], items=[_item("100.00 GBP")])
    await expect(3, "15.50 EUR", a, d)
    await status(b, "cancelled")
    await expect(2, "10.00 EUR", a, d)
    await status(c, "completed", location_api)
    await expect(3, "13.00 EUR", a, d)
    await status(b, "accepted")
    await expect(4, "18.50 EUR", a, d)
    await status(a, "rejected")
    await expect(3, "8.50 EUR", b, d)
    await status(d, "cancelled")
    await expect(2, "8.50 EUR", b, c)
    await status(d, "cancelled")  # unchanged status
    await status(b, "in_delivery")  # counted to counted
    await expect(2, "8.50 EUR", b, c)
    for order in (a, b, c):
        await status(order, "rejected")
    await expect(0, "0.00 EUR", None, None)
    await status(c, "delivery_failed")
    await expect(1, "3.00 EUR", c, c)
    # Guest orders and other customers' orders change nothing.
    await _order(api, tenant.location_id, customer={"first_name": "Ann"}, items=[_item("1.00 EUR")])
    await _order(api, tenant.location_id, customer_id=bystander["id"], items=[_item("2.00 EUR")])
    await expect(1, "3.00 EUR", c, c)
    assert (await api.get(f"/v1/customer_lists/{list_id}/customers/{bystander['id']}")).json()["nb_orders"] == 1
    by_customer = (
        await api.get(f"/v1/accounts/{tenant.account_id}/orders", params={"customer_id": customer["id"]})
    ).json()
    assert [o["id"] for o in by_customer] == [d["id"], c["id"], b["id"], a["id"]]


async def test_statistics_of_a_location_list_use_its_currency(tenant: Tenant) -> None:
    api = await tenant.api(ACCOUNT)
    async with tenant.db.session(write=True) as session:
        account = await tenancy.get_account(session, tenant.account_id)
        london = await tenancy.create_location(session, account, "London", currency="GBP", timezone="Europe/London")
    list_id = await tenant.customer_list(location_id=london.id)
    customer = await _customer(api, list_id)
    assert customer["order_total"] == "0.00 GBP"
    order = await _order(api, london.id, customer_id=customer["id"], items=[_item("28.40 GBP")])
    assert order["created_at"].endswith(("+00:00", "+01:00"))
    await _order(api, tenant.location_id, customer_id=customer["id"], items=[_item("9.99 EUR")])
    seen = (await api.get(f"/v1/customer_lists/{list_id}/customers/{customer['id']}")).json()
    assert seen["nb_orders"] == 2 and seen["order_total"] == "28.40 GBP"
    assert seen["first_order_date"] == order["created_at"]


# --- anonymisation and list deletion ----------------------------------------------------------------------


async def test_anonymising_a_customer_anonymises_its_orders(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, private_ref="P", custom_fields={"k": 1}, **JIMMY)
    first = await _order(api, tenant.location_id, customer_id=customer["id"])
    second = await _order(api, tenant.location_id, customer_id=customer["id"], status="rejected")
    guest = await _order(api, tenant.location_id, customer=JIMMY)
    response = await api.post(f"/v1/customer_lists/{list_id}/customers/{customer['id']}/anonymise")
    assert response.status_code == 200
    for order in (first, second):
        seen = (await api.get(f"{_orders(tenant.location_id)}/{order['id']}")).json()
        assert seen["customer"]["anonymised"] is True
        assert all(seen["customer"][field] is None for field in ANONYMISED_FIELDS)
        kept = {k: v for k, v in order["customer"].items() if k not in ANONYMISED_FIELDS and k != "anonymised"}
        assert {k: seen["customer"][k] for k in kept} == kept  # city, country, marketing flags, private ref...
        assert seen["customer_id"] == customer["id"]
    assert (await api.get(f"{_orders(tenant.location_id)}/{guest['id']}")).json()["customer"]["email"] == JIMMY["email"]
    # Twice is a no-op success.
    assert (await api.post(f"/v1/customer_lists/{list_id}/customers/{customer['id']}/anonymise")).status_code == 200


async def test_anonymise_customer_orders_hook(tenant: Tenant) -> None:
    """The hook orders registers with customers.service.anonymise: the copies are anonymised, other orders
    untouched."""
    from patronage.orders import service as orders

    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, private_ref="P", **JIMMY)
    other = await _customer(api, list_id, **JIMMY)
    first = await _order(api, tenant.location_id, customer_id=customer["id"])
    second = await _order(api, tenant.location_id, customer_id=customer["id"], status="cancelled")
    untouched = await _order(api, tenant.location_id, customer_id=other["id"])
    async with tenant.db.session(write=True) as session:
        assert await orders.anonymise_customer_orders(session, customer["id"]) == [first["id"], second["id"]]
    async with tenant.db.session(write=True) as session:
        assert await orders.anonymise_customer_orders(session, customer["id"]) == []  # already anonymised
    for order in (first, second):
        seen = (await api.get(f"{_orders(tenant.location_id)}/{order['id']}")).json()
        assert seen["customer"] == {
            **order["customer"],
            **dict.fromkeys(ANONYMISED_FIELDS),
            "anonymised": True,
        }
    assert (await api.get(f"{_orders(tenant.location_id)}/{untouched['id']}")).json() == untouched


async def test_deleting_the_list_unlinks_its_orders(tenant: Tenant) -> None:
    api = await tenant.api(LOCATION)
    list_id = await tenant.customer_list()
    customer = await _customer(api, list_id, private_ref="P", first_name="Ann")
    order = await _order(
        api,
        tenant.location_id,
        customer_id=customer["id"],
        loyalty_operations=[{"delta": "3"}],
        items=[_item("4.00 EUR")],
    )
    assert (await api.delete(f"/v1/customer_lists/{list_id}")).status_code == 200
    seen = (await api.get(f"{_orders(tenant.location_id)}/{order['id']}")).json()
    assert seen["customer_id"] is None and seen["customer_list_id"] is None
    assert seen["customer"] == {**order["customer"], "private_ref": None}  # the copy stays; the link is gone
    assert seen["loyalty_operations"] == order["loyalty_operations"]
    assert seen["total"] == "4.00 EUR"
    assert (
        await api.patch(f"{_orders(tenant.location_id)}/{order['id']}", json={"status": "cancelled"})
    ).status_code == 200
    assert (await api.get(_orders(tenant.location_id), params={"customer_id": customer["id"]})).json() == []


# --- order_id on loyalty operations (seed §4.3) -----------------------------------------------------------


async def test_order_id_on_loyalty_operations(tenant: Tenant, other_tenant: Tenant) -> None:
    account_api = await tenant.api(ACCOUNT)
    list_id = await tenant.customer_list(location_id=None)
    customer = await _customer(account_api, list_id)
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    card = (await account_api.post(cards, json={"customer_id": customer["id"]})).json()
    operations = f"{cards}/{card['id']}/operations"
    here = await _order(account_api, tenant.location_id, customer_id=customer["id"])
    there = await _order(account_api, tenant.other_location_id)
    stranger = await other_tenant.api("account[orders.write]")
    foreign = await _order(stranger, other_tenant.location_id)

    first = await account_api.post(operations, json={"delta": "2", "order_id": here["id"], "reason": "Earned"})
    assert first.status_code == 201, first.text
    assert first.json()["order_id"] == here["id"] and first.json()["order_location_id"] == tenant.location_id
    # An order may carry several operations, and an account token names orders of any of its locations.
    second = await account_api.post(operations, json={"delta": "-1", "order_id": here["id"]})
    assert second.json()["order_location_id"] == tenant.location_id and second.json()["new_balance"] == "1.0"
    third = await account_api.post(operations, json={"delta": "1", "order_id": there["id"]})
    assert third.json()["order_location_id"] == tenant.other_location_id

    # A location token names its own location's orders only; no orders scope is needed for that.
    location_api = await tenant.api("location[all_customer_lists.write]")
    own = await location_api.post(operations, json={"delta": "1", "order_id": here["id"]})
    assert own.status_code == 201 and own.json()["order_location_id"] == tenant.location_id
    for api, order_id in ((location_api, there["id"]), (account_api, foreign["id"]), (account_api, "nosuchorder")):
        response = await api.post(operations, json={"delta": "1", "order_id": order_id})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "order_id"
    listed = (await account_api.get(operations)).json()
    assert [(op["order_id"], op["order_location_id"]) for op in listed] == [
        (here["id"], tenant.location_id),
        (there["id"], tenant.other_location_id),
        (here["id"], tenant.location_id),
        (here["id"], tenant.location_id),
    ]
    assert Decimal((await account_api.get(f"{cards}/{card['id']}")).json()["balance"]) == 3
