"""Numbers no field can hold (issue 15.1): a 422 naming the field, never a 500, never a poisoned row.

``1e400`` parses (exactly) as a Decimal but becomes infinity as a float; SQLite would store it as
``Infinity`` and every later read of the list would fail. And a row that already holds such a number
(written before they were refused, or by hand) must still be listed.
"""

import pytest
from sqlalchemy import text

from helpers import Api, Tenant

CUSTOMERS = "location[all_customer_lists.write]"
ORDERS = "account[orders.write]"

# Raw JSON: Python's json module cannot write these.
HOSTILE = [
    "1e400",
    "-1e400",
    "0.1e1000",
    "1e-400",  # not zero, but a float would make it zero
    "1e9999999999999999999",  # beyond even Decimal's exponents
    "1" + "0" * 400,  # an integer no float holds
    "1" + "0" * 5000,  # more digits than Python converts
]


async def _send(api: Api, method: str, path: str, body: str) -> dict:
    response = await api.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    return response.json()


def _fields(answer: dict) -> list[str]:
    return [error["field"] for error in answer["errors"]]


@pytest.mark.parametrize("number", HOSTILE)
async def test_customer_custom_fields_refuse_numbers_out_of_range(tenant: Tenant, number: str) -> None:
    api = await tenant.api(CUSTOMERS)
    path = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    answer = await _send(api, "POST", path, f'{{"custom_fields": {{"x": {{"y": [1, {number}]}}}}}}')
    assert _fields(answer) == ["custom_fields.x.y.1"]
    created = await api.post(path, json={"custom_fields": {"x": 1}})
    assert created.status_code == 201
    answer = await _send(api, "PATCH", f"{path}/{created.json()['id']}", f'{{"custom_fields": {{"x": {number}}}}}')
    assert _fields(answer) == ["custom_fields.x"]
    listed = await api.get(path)
    assert listed.status_code == 200
    assert [customer["custom_fields"] for customer in listed.json()] == [{"x": 1}]


@pytest.mark.parametrize("number", HOSTILE)
async def test_order_custom_fields_refuse_numbers_out_of_range(tenant: Tenant, number: str) -> None:
    api = await tenant.api(ORDERS)
    path = f"/v1/locations/{tenant.location_id}/orders"
    answer = await _send(api, "POST", path, f'{{"status": "new", "custom_fields": {{"x": {number}}}}}')
    assert _fields(answer) == ["custom_fields.x"]
    created = await api.post(path, json={"status": "new"})
    assert created.status_code == 201
    answer = await _send(
        api, "PATCH", f"{path}/{created.json()['id']}", f'{{"custom_fields": {{"a": {{"b": {number}}}}}}}'
    )
    assert _fields(answer) == ["custom_fields.a.b"]
    for index in (path, f"/v1/accounts/{tenant.account_id}/orders"):
        listed = await api.get(index)
        assert listed.status_code == 200
        assert [order["custom_fields"] for order in listed.json()] == [{}]


async def test_small_and_ordinary_numbers_are_kept(tenant: Tenant) -> None:
    api = await tenant.api(CUSTOMERS)
    path = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    body = '{"custom_fields": {"a": 1e-300, "b": 1.5e308, "c": -0.0, "d": 0e-999, "e": 12345678901234567890}}'
    response = await api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["custom_fields"] == {
        "a": 1e-300,
        "b": 1.5e308,
        "c": 0.0,
        "d": 0.0,
        "e": 12345678901234567890,
    }


ITEM = '{"status": "new", "items": [{"product_name": "A", "price": "1 EUR", %s}]}'


@pytest.mark.parametrize(
    ("element", "field"),
    [
        ('"quantity": 1e9999999999999999999', "items.0.quantity"),
        ('"quantity": 1e400', "items.0.quantity"),
        ('"points_earned": 1e-9999999999999999999', "items.0.points_earned"),
        ('"points_used": -1e400', "items.0.points_used"),
    ],
)
async def test_other_numbers_out_of_range_are_422(tenant: Tenant, element: str, field: str) -> None:
    api = await tenant.api(ORDERS)
    answer = await _send(api, "POST", f"/v1/locations/{tenant.location_id}/orders", ITEM % element)
    assert field in _fields(answer)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"latitude": 1e9999999999999999999}', "latitude"),
        ('{"latitude": 1e400}', "latitude"),
        ('{"longitude": -1e-400000}', "longitude"),
    ],
)
async def test_customer_coordinates_out_of_range_are_422(tenant: Tenant, body: str, field: str) -> None:
    api = await tenant.api(CUSTOMERS)
    answer = await _send(api, "POST", f"/v1/customer_lists/{await tenant.customer_list()}/customers", body)
    assert _fields(answer) == [field]


# --- rows that already hold such numbers ------------------------------------------------------------------


async def test_poisoned_rows_are_still_listed(tenant: Tenant, db) -> None:
    customers = await tenant.api(CUSTOMERS)
    list_id = await tenant.customer_list()
    path = f"/v1/customer_lists/{list_id}/customers"
    customer = (await customers.post(path, json={"first_name": "Ada"})).json()
    orders = await tenant.api(ORDERS)
    order = (await orders.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new"})).json()
    # What earlier versions stored on SQLite; PostgreSQL's json type takes the numbers but not the constants.
    value = ":v" if db.dialect == "sqlite" else "CAST(:v AS json)"
    if db.dialect == "sqlite":
        stored = '{"inf": Infinity, "minus": -Infinity, "nan": NaN, "big": 1e400, "huge": 1' + "0" * 5000 + ', "ok": 2}'
        expected = {"inf": None, "minus": None, "nan": None, "big": None, "huge": None, "ok": 2}
    else:
        stored = '{"big": 1e400, "minus": -1e400, "ok": 2}'
        expected = {"big": None, "minus": None, "ok": 2}
    async with db.session(write=True) as session:
        for table, row in (("customer", customer), ('"order"', order)):
            await session.execute(
                text(f"UPDATE {table} SET custom_fields = {value} WHERE id = :id"), {"v": stored, "id": row["id"]}
            )

    listed = await customers.get(path)
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["custom_fields"] == expected
    assert (await customers.get(f"{path}/{customer['id']}")).json()["custom_fields"] == expected
    for index in (f"/v1/locations/{tenant.location_id}/orders", f"/v1/accounts/{tenant.account_id}/orders"):
        listed = await orders.get(index)
        assert listed.status_code == 200, listed.text
        assert listed.json()[0]["custom_fields"] == expected
    # An update of the poisoned row writes it back renderable.
    updated = await customers.patch(f"{path}/{customer['id']}", json={"custom_fields": {"ok": 3}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["custom_fields"] == {**expected, "ok": 3}
