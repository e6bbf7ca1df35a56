"""Order updates as reference/hubrise/orders.md §1.4 documents them: besides the updatable fields, a PATCH adds
elements, deletes them irreversibly (they stay, marked deleted, out of the totals) and sets their private refs;
the total, the payment discrepancy and the customer's statistics follow. Its example requests, sent as they are."""

import pytest

from helpers import Api, Tenant

SCOPE = "location[orders.write,all_customer_lists.write]"
CARBONARA = {"product_name": "Carbonara", "sku_ref": "81502", "price": "11.90 EUR", "quantity": "1"}
PESTO = {"product_name": "Basil and Pesto", "sku_ref": "17", "price": "3.50 EUR", "quantity": "2"}


def _path(tenant: Tenant) -> str:
    return f"/v1/locations/{tenant.location_id}/orders"


async def _create(api: Api, tenant: Tenant, **fields: object) -> dict:
    response = await api.post(_path(tenant), json={"status": "new", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def _patch(api: Api, url: str, body: dict, status: int = 200) -> dict:
    response = await api.patch(url, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def test_the_references_update_example(tenant: Tenant) -> None:
    """ "This request changes the order status to accepted, deletes an item, and adds a payment"."""
    api = await tenant.api(SCOPE)
    order = await _create(api, tenant, items=[CARBONARA, PESTO], private_ref="3345")
    url = f"{_path(tenant)}/{order['id']}"
    carbonara = order["items"][0]
    assert order["total"] == "18.90 EUR" and order["payment_discrepancy"] is None
    updated = await _patch(
        api,
        url,
        {
            "status": "accepted",
            "items": [{"id": carbonara["id"], "deleted": True}],
            "payments": [{"name": "Cash", "ref": "CSH", "amount": "5.90 EUR"}],
        },
    )
    assert updated["status"] == "accepted"
    # The deleted item stays, as it was, marked deleted (orders.md "Delete elements", its response).
    assert updated["items"][0] == {
        "id": carbonara["id"],
        "private_ref": None,
        "product_name": "Carbonara",
        "sku_name": None,
        "sku_ref": "81502",
        "price": "11.90 EUR",
        "quantity": "1.0",
        "subtotal": "11.90 EUR",
        "tax_rate": None,
        "customer_notes": None,
        "points_earned": None,
        "points_used": None,
        "options": [],
        "deleted": True,
    }
    assert updated["items"][1] == order["items"][1]
    payment = updated["payments"][0]
    assert payment == {
        "id": payment["id"],
        "private_ref": None,
        "type": "online",
        "name": "Cash",
        "ref": "CSH",
        "amount": "5.90 EUR",
        "info": None,
        "deleted": False,
    }
    assert updated["total"] == "7.00 EUR" and updated["payment_discrepancy"] == "-1.10 EUR"
    assert updated["private_ref"] == "3345"
    assert (await api.get(url)).json() == updated


async def test_the_references_delete_add_and_private_ref_examples(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(api, tenant, items=[CARBONARA], private_ref="3345")
    url = f"{_path(tenant)}/{order['id']}"
    item_id = order["items"][0]["id"]

    # "Add elements": two payments.
    added = await _patch(
        api,
        url,
        {
            "payments": [
                {"name": "Cash", "ref": "CSH", "amount": "5.90 EUR"},
                {"name": "Online", "ref": "OL", "amount": "11.20 EUR"},
            ]
        },
    )
    assert [{k: v for k, v in p.items() if k != "id"} for p in added["payments"]] == [
        {
            "private_ref": None,
            "type": "online",
            "name": "Cash",
            "ref": "CSH",
            "amount": "5.90 EUR",
            "info": None,
            "deleted": False,
        },
        {
            "private_ref": None,
            "type": "online",
            "name": "Online",
            "ref": "OL",
            "amount": "11.20 EUR",
            "info": None,
            "deleted": False,
        },
    ]
    assert len({p["id"] for p in added["payments"]}) == 2
    assert added["payment_discrepancy"] == "5.20 EUR"  # 17.10 paid − 11.90

    # "Set private refs on elements".
    with_ref = await _patch(api, url, {"items": [{"id": item_id, "private_ref": "96"}]})
    assert with_ref["items"][0]["private_ref"] == "96"
    assert {k: v for k, v in with_ref.items() if k != "items"} == {k: v for k, v in added.items() if k != "items"}

    # "Delete elements".
    deleted = await _patch(api, url, {"items": [{"id": item_id, "deleted": True}]})
    assert deleted["items"][0]["deleted"] is True and deleted["items"][0]["private_ref"] == "96"
    assert deleted["total"] == "0.00 EUR" and deleted["payment_discrepancy"] == "17.10 EUR"
    assert deleted["private_ref"] == "3345" and deleted["status"] == "new"


async def test_deletion_is_irreversible_and_deleted_elements_leave_the_totals(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(
        api,
        tenant,
        items=[CARBONARA],
        charges=[{"name": "Delivery", "price": "2.00 EUR"}],
        discounts=[{"name": "Promo", "price_off": "1.00 EUR"}],
        payments=[{"name": "Card", "amount": "12.90 EUR"}],
    )
    url = f"{_path(tenant)}/{order['id']}"
    assert order["total"] == "12.90 EUR" and order["payment_discrepancy"] == "0.00 EUR"
    ids = {kind: order[kind][0]["id"] for kind in ("items", "charges", "discounts", "payments")}
    no_charge = await _patch(api, url, {"charges": [{"id": ids["charges"], "deleted": True}]})
    assert no_charge["total"] == "10.90 EUR" and no_charge["payment_discrepancy"] == "2.00 EUR"
    no_discount = await _patch(api, url, {"discounts": [{"id": ids["discounts"], "deleted": True}]})
    assert no_discount["total"] == "11.90 EUR" and no_discount["payment_discrepancy"] == "1.00 EUR"
    unpaid = await _patch(api, url, {"payments": [{"id": ids["payments"], "deleted": True}]})
    assert unpaid["payment_discrepancy"] is None and unpaid["payments"][0]["deleted"] is True
    # Deleting again changes nothing; un-deleting is refused.
    again = await _patch(api, url, {"charges": [{"id": ids["charges"], "deleted": True}]})
    assert again == unpaid
    refused = await _patch(api, url, {"charges": [{"id": ids["charges"], "deleted": False}]}, 422)
    assert refused["errors"] == [
        {"field": "charges.0.deleted", "message": "cannot be reverted: the element is deleted"}
    ]
    # false on an element that is not deleted is no change.
    same = await _patch(api, url, {"items": [{"id": ids["items"], "deleted": False}]})
    assert same == unpaid
    assert (await api.get(url)).json() == unpaid


async def test_added_elements_are_validated_priced_and_may_join_a_deal(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(
        api,
        tenant,
        items=[{**PESTO, "deal_line": {"deal_key": "pasta"}}],
        deals={"pasta": {"name": "30% off on pasta", "ref": "10"}},
    )
    url = f"{_path(tenant)}/{order['id']}"
    assert order["items"][0]["deal_line"]["deal_key"] == "0"
    added = await _patch(
        api,
        url,
        {
            "items": [
                {
                    **CARBONARA,
                    "private_ref": "pos-7",
                    "tax_rate": "10",
                    "options": [
                        {"name": "Bacon", "price": "0.50 EUR", "quantity": 2},
                        {"name": "Egg", "removed": True},
                    ],
                    "deal_line": {
                        "deal_key": "0",
                        "label": "Pasta",
                        "pricing_effect": "percentage_off",
                        "pricing_value": "30",
                    },
                }
            ],
            "charges": [{"name": "Bag", "price": "0.10 EUR", "type": "bag", "tax_rate": "20", "private_ref": "c"}],
            "discounts": [{"name": "Loyal", "price_off": "1.00 EUR"}],
        },
    )
    new = added["items"][1]
    assert new["subtotal"] == "12.90 EUR" and new["tax_rate"] == "10.0" and new["private_ref"] == "pos-7"
    assert new["deal_line"] == {
        "deal_key": "0",
        "position": None,
        "label": "Pasta",
        "pricing_effect": "percentage_off",
        "pricing_value": "30.0",
    }
    assert [o["removed"] for o in new["options"]] == [False, True]
    charge = added["charges"][0]
    assert (charge["type"], charge["charge_type"], charge["tax_rate"], charge["private_ref"]) == (
        "bag",
        "bag",
        "20.0",
        "c",
    )
    assert added["total"] == "19.00 EUR"  # 7.00 + 12.90 + 0.10 − 1.00
    assert added["deals"] == order["deals"]
    # An added item may only name the order's own (renumbered) deal keys; deals themselves are read-only.
    for body, field in (
        ({"items": [{**CARBONARA, "deal_line": {"deal_key": "pasta"}}]}, "items.0.deal_line.deal_key"),
        ({"items": [{**CARBONARA, "price": "1.00 USD"}]}, "items.0.price"),
        ({"items": [{**CARBONARA, "quantity": 0}]}, "items.0.quantity"),
        ({"payments": [{"amount": "1 EUR", "info": ["not", "an", "object"]}]}, "payments.0.info"),
        ({"payments": [{"name": "Cash"}]}, "payments.0.amount"),
        ({"discounts": [{"price_off": "1 EUR", "colour": "red"}]}, "discounts.0.colour"),
        ({"deals": {"1": {"name": "New deal"}}}, "deals"),
        ({"items": "Carbonara"}, "items"),
        ({"items": [42]}, "items.0"),
    ):
        refused = await _patch(api, url, {"status": "accepted", **body}, 422)
        assert field in [e["field"] for e in refused["errors"]], (field, refused)
    assert (await api.get(url)).json() == added


async def test_element_ids_must_be_this_orders_and_elements_are_never_modified(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(api, tenant, items=[CARBONARA], charges=[{"price": "1.00 EUR"}])
    other = await _create(api, tenant, items=[PESTO])
    url = f"{_path(tenant)}/{order['id']}"
    item_id, charge_id = order["items"][0]["id"], order["charges"][0]["id"]
    for body, field in (
        ({"items": [{"id": other["items"][0]["id"], "deleted": True}]}, "items.0.id"),  # another order's element
        ({"items": [{"id": charge_id, "deleted": True}]}, "items.0.id"),  # a charge is no item
        ({"payments": [{"id": "nosuchid", "private_ref": "x"}]}, "payments.0.id"),
        ({"items": [{"id": 12, "deleted": True}]}, "items.0.id"),
        ({"items": [{"id": item_id, "price": "1.00 EUR"}]}, "items.0.price"),  # not an echo: a modification
        ({"items": [{"id": item_id, "colour": "red"}]}, "items.0.colour"),
        ({"items": [{"id": item_id, "deleted": "yes"}]}, "items.0.deleted"),
        ({"items": [{"id": item_id, "private_ref": "x" * 256}]}, "items.0.private_ref"),
        ({"charges": [{"id": charge_id, "deleted": True}, {"id": "nosuchid", "deleted": True}]}, "charges.1.id"),
    ):
        # Refused as a whole: the status and the other changes sent with it are not stored either.
        refused = await _patch(api, url, {"status": "accepted", "private_ref": "p", **body}, 422)
        assert refused["error_type"] == "unprocessable_entity"
        assert field in [e["field"] for e in refused["errors"]], (field, refused)
    assert (await api.get(url)).json() == order
    assert (await api.get(f"{_path(tenant)}/{other['id']}")).json() == other


async def test_echoing_the_order_with_changes_to_its_elements(tenant: Tenant) -> None:
    """A client may send back the order it read, with an element marked deleted, a private ref set and a new
    element appended: echoed fields must hold their values."""
    api = await tenant.api(SCOPE)
    order = await _create(api, tenant, items=[CARBONARA, PESTO], payments=[{"amount": "18.90 EUR"}])
    url = f"{_path(tenant)}/{order['id']}"
    carbonara, pesto = order["items"]
    echoed = {
        **order,
        "status": "accepted",
        "items": [{**carbonara, "deleted": True}, {**pesto, "private_ref": "p-2"}, {**CARBONARA, "quantity": "2"}],
    }
    updated = await _patch(api, url, echoed)
    assert [i["deleted"] for i in updated["items"]] == [True, False, False]
    assert updated["items"][1]["private_ref"] == "p-2" and updated["items"][2]["subtotal"] == "23.80 EUR"
    assert updated["total"] == "30.80 EUR" and updated["payment_discrepancy"] == "-11.90 EUR"
    # Echoing the answer as it is changes nothing.
    assert await _patch(api, url, updated) == updated
    # PUT is an alias.
    put = await api.put(url, json={"payments": [{"id": updated["payments"][0]["id"], "deleted": True}]})
    assert put.status_code == 200 and put.json()["payment_discrepancy"] is None


async def test_element_private_refs_set_by_one_client_are_not_anothers(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    other = await tenant.api(SCOPE, client_id=await tenant.new_client("Delivery app"))
    order = await _create(api, tenant, items=[{**CARBONARA, "private_ref": "mine"}])
    url = f"{_path(tenant)}/{order['id']}"
    item_id = order["items"][0]["id"]
    theirs = await _patch(other, url, {"items": [{"id": item_id, "private_ref": "theirs"}]})
    assert theirs["items"][0]["private_ref"] == "theirs"
    assert (await api.get(url)).json()["items"][0]["private_ref"] == "mine"
    cleared = await _patch(api, url, {"items": [{"id": item_id, "private_ref": None}]})
    assert cleared["items"][0]["private_ref"] is None
    assert (await other.get(url)).json()["items"][0]["private_ref"] == "theirs"
    assert (await api.get(url)).json()["items"][0]["private_ref"] is None


async def test_the_customers_statistics_follow_the_total(tenant: Tenant) -> None:
    api = await tenant.api(SCOPE)
    list_id = await tenant.customer_list()
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Ann"})).json()
    customer_url = f"/v1/customer_lists/{list_id}/customers/{customer['id']}"
    order = await _create(api, tenant, customer_id=customer["id"], items=[CARBONARA, PESTO])
    url = f"{_path(tenant)}/{order['id']}"
    assert (await api.get(customer_url)).json()["order_total"] == "18.90 EUR"
    await _patch(api, url, {"items": [{"id": order["items"][0]["id"], "deleted": True}]})
    assert (await api.get(customer_url)).json()["order_total"] == "7.00 EUR"
    await _patch(api, url, {"charges": [{"name": "Delivery", "price": "2.50 EUR"}]})
    stats = (await api.get(customer_url)).json()
    assert stats["order_total"] == "9.50 EUR" and stats["nb_orders"] == 1
    # A refused update moves nothing.
    await _patch(api, url, {"charges": [{"name": "Delivery", "price": "2.50 GBP"}]}, 422)
    assert (await api.get(customer_url)).json()["order_total"] == "9.50 EUR"


@pytest.mark.parametrize("kind", ["items", "charges", "discounts", "payments"])
async def test_an_empty_list_changes_nothing(tenant: Tenant, kind: str) -> None:
    api = await tenant.api(SCOPE)
    order = await _create(api, tenant, items=[CARBONARA])
    url = f"{_path(tenant)}/{order['id']}"
    assert await _patch(api, url, {kind: []}) == order
    assert await _patch(api, url, {kind: None}) == order


async def test_element_changes_fire_an_update_event_with_each_readers_refs(tenant: Tenant) -> None:
    writer = await tenant.api(SCOPE)
    listener = await tenant.api("location[orders.write]", client_id=await tenant.new_client("Kitchen display"))
    subscribed = await listener.post("/v1/callback", json={"url": None, "events": {"order": ["update"]}})
    assert subscribed.status_code == 200, subscribed.text
    order = await _create(writer, tenant, items=[{**CARBONARA, "private_ref": "writer's"}])
    url = f"{_path(tenant)}/{order['id']}"
    item_id = order["items"][0]["id"]
    await _patch(listener, url, {"items": [{"id": item_id, "private_ref": "listener's"}]})  # its own: no event
    await _patch(writer, url, {"items": [{"id": item_id, "deleted": True}]})
    events = (await listener.get("/v1/callback/events")).json()
    assert len(events) == 1
    event = (await listener.get(f"/v1/callback/events/{events[0]['id']}")).json()
    before, after = event["previous_state"]["items"][0], event["new_state"]["items"][0]
    assert (before["deleted"], after["deleted"]) == (False, True)
    assert before["private_ref"] == after["private_ref"] == "listener's"
    assert (event["previous_state"]["total"], event["new_state"]["total"]) == ("11.90 EUR", "0.00 EUR")
