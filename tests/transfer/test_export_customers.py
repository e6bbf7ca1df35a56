"""``patronage export customers``: a list's customers as the API shows them, in CSV (one row per customer and card)
and NDJSON (one customer a line), on stdout or in a file, across several batches; never another list's customers.

Data is made through the HTTP API; every value of the files is compared with what GET answers for the same
customer (docs/import-export.md says how a value is written in CSV).
"""

import os
from pathlib import Path
from typing import Any

import pytest
from export_helpers import (
    CARD_COLUMNS,
    CUSTOMER_COLUMNS,
    IMPORTABLE,
    check_row,
    csv_table,
    exported,
    ndjson,
    run,
    same_resources,
)

from helpers import Api, Tenant

SCOPE = "location[all_customer_lists.write,orders.write]"
# Small batches: 5 customers, 6 card rows, cut into batches of 2 customers, cards falling on both sides.
BATCH = ("--batch-size", "2")


async def _post(api: Api, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def _customer_list(tenant: Tenant, api: Api, currency: str = "EUR") -> dict[str, Any]:
    """A list of five customers, oldest first: every field filled (text that CSV must quote, custom fields, a
    private ref, two cards with operations), a bare one with a card, one without cards, an anonymised one with a
    card, one with an order (statistics)."""
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    full = await _post(api, f"{base}/customers", {
        "private_ref": "POS-1", "email": "Zoë.O'Brien@example.com", "first_name": "Zoë", "last_name": 'O"Brien, Jr',
        "gender": "female", "birth_date": "1980-02-29", "company_name": "Café; Crème", "phone": "+33612345678",
        "phone_access_code": "1234", "address_1": "1, rue de la Paix", "address_2": "Bâtiment B\nÉtage 3",
        "postal_code": "75002", "city": "Paris", "state": "Île-de-France", "country": "FR",
        "latitude": "48.8689507", "longitude": "2.3310201", "delivery_notes": "Ring twice,\r\nthen \"wait\"",
        "sms_marketing": True, "email_marketing": False,
        "custom_fields": {"tier": "gold", "tags": ["a", "b"], "score": 12.5, "nested": {"x": None}},
    })  # fmt: skip
    bare = await _post(api, f"{base}/customers", {})
    without_cards = await _post(api, f"{base}/customers", {"first_name": "Nocard", "email_marketing": True})
    forgotten = await _post(api, f"{base}/customers", {"first_name": "Forget", "email": "forget@example.com"})
    buyer = await _post(api, f"{base}/customers", {"first_name": "Buyer"})
    gold = await _post(api, f"{base}/loyalty_cards", {"customer_id": full["id"], "ref": "GOLD", "name": "Gold club"})
    plain = await _post(api, f"{base}/loyalty_cards", {"customer_id": full["id"]})
    await _post(api, f"{base}/loyalty_cards", {"customer_id": bare["id"], "ref": "B", "name": "Bare"})
    forgotten_card = await _post(api, f"{base}/loyalty_cards", {"customer_id": forgotten["id"], "name": "F"})
    for card, delta in ((gold, "12.5"), (gold, "-2.25"), (plain, "0.000001"), (forgotten_card, "3")):
        await _post(api, f"{base}/loyalty_cards/{card['id']}/operations", {"delta": delta})
    anonymised = await api.post(f"{base}/customers/{forgotten['id']}/anonymise", json={})
    assert anonymised.status_code == 200, anonymised.text
    order = {"status": "completed", "customer_id": buyer["id"],
             "items": [{"product_name": "Pizza", "price": f"9.50 {currency}", "quantity": "2"}]}  # fmt: skip
    await _post(api, f"/v1/locations/{tenant.location_id}/orders", order)
    ids = [full["id"], bare["id"], without_cards["id"], forgotten["id"], buyer["id"]]
    return {"id": list_id, "customers": ids}


@pytest.fixture
async def made(tenant: Tenant, other_tenant: Tenant) -> dict[str, Any]:
    """The tenant's list, another list of its own and another tenant's list, each with customers; the API's
    answers for the first list's customers, read by the tenant's client (its private refs)."""
    api = await tenant.api(SCOPE)
    made = await _customer_list(tenant, api)
    other_list = await tenant.customer_list()
    await _post(api, f"/v1/customer_lists/{other_list}/customers", {"first_name": "Elsewhere"})
    foreign_api = await other_tenant.api(SCOPE)
    foreign = await _customer_list(other_tenant, foreign_api, "GBP")
    answers = []
    for customer_id in made["customers"]:
        response = await api.get(f"/v1/customer_lists/{made['id']}/customers/{customer_id}")
        assert response.status_code == 200
        answers.append(response.json())
    empty = await tenant.customer_list()
    return {**made, "answers": answers, "client": tenant.client_id, "foreign": foreign, "other_list": other_list,
            "empty": empty}  # fmt: skip


def _without_ref(customer: dict[str, Any]) -> dict[str, Any]:
    return {**customer, "private_ref": None}


def test_ndjson_is_each_customer_as_the_api_renders_it(database_url: str, made: dict[str, Any]) -> None:
    answers = made["answers"]
    # With --client: GET as that client reads it, its private ref included; oldest first, across batches.
    with_refs = ndjson(exported(database_url, "customers", "--customer-list", made["id"], "--client", made["client"],
                                *BATCH))  # fmt: skip
    same_resources(with_refs, answers)
    assert with_refs[0]["private_ref"] == "POS-1" and len(with_refs[0]["loyalty_cards"]) == 2
    # Without: the same customers, no private ref; the default format on stdout is NDJSON.
    without = ndjson(exported(database_url, "customers", "--customer-list", made["id"]))
    same_resources(without, [_without_ref(answer) for answer in answers])
    # The anonymised customer as it is: anonymised, its personal fields null, its card kept.
    forgotten = with_refs[3]
    assert forgotten["anonymised"] is True and forgotten["email"] is None and forgotten["first_name"] is None
    assert [card["balance"] for card in forgotten["loyalty_cards"]] == ["3.0"]
    # The buyer's statistics as the API renders them.
    assert (with_refs[4]["nb_orders"], with_refs[4]["order_total"]) == (1, "19.00 EUR")
    assert with_refs[4]["first_order_date"] is not None


def _expected_rows(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """docs/import-export.md: one row per (customer, card), the customer columns repeated; empty card columns
    for a customer without cards."""
    rows = []
    for answer in answers:
        customer = {name: answer[name] for name in CUSTOMER_COLUMNS}
        cards = answer["loyalty_cards"] or [None]
        for card in cards:
            rows.append({**customer, "loyalty_card_ref": card and card["ref"],
                         "loyalty_card_name": card and card["name"], "balance": card and card["balance"]})  # fmt: skip
    return rows


def test_csv_is_one_row_per_customer_and_card(database_url: str, made: dict[str, Any], tmp_path: Path) -> None:
    output = tmp_path / "customers.csv"
    done = run(database_url, "customers", "--customer-list", made["id"], "--client", made["client"],
               "--output", str(output), *BATCH)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    # With --output, stdout is a summary; the format comes from the extension.
    summary = ndjson(done.stdout)[0]
    assert (summary["exported"], summary["format"], summary["count"], summary["rows"]) == ("customers", "csv", 5, 6)
    header, rows = csv_table(output.read_bytes())
    assert header == CUSTOMER_COLUMNS + CARD_COLUMNS
    assert set(header) <= IMPORTABLE  # the import reads the file back: no column it would refuse
    expected = _expected_rows(made["answers"])
    assert len(rows) == len(expected) == 6
    for row, want in zip(rows, expected, strict=True):
        check_row(row, want)
    full, plain = rows[0], rows[1]
    # What a spreadsheet shows: quoted text back as it was, booleans, decimals and money as the API writes them.
    assert (full["last_name"], full["address_2"], full["delivery_notes"]) == (
        'O"Brien, Jr', "Bâtiment B\nÉtage 3", 'Ring twice,\r\nthen "wait"',
    )  # fmt: skip
    assert (full["sms_marketing"], full["email_marketing"], full["anonymised"]) == ("true", "false", "false")
    assert (full["loyalty_card_ref"], full["loyalty_card_name"], full["balance"]) == ("GOLD", "Gold club", "10.25")
    assert (plain["id"], plain["loyalty_card_ref"], plain["loyalty_card_name"], plain["balance"]) == (
        full["id"], "", "", "0.000001",
    )  # fmt: skip
    assert rows[3]["loyalty_card_ref"] == rows[3]["balance"] == ""  # no card: empty card columns
    assert rows[4]["anonymised"] == "true" and rows[4]["email"] == "" and rows[4]["balance"] == "3.0"
    assert rows[5]["order_total"] == "19.00 EUR"
    # Without --client the private_ref column is empty; on stdout with --format.
    _, plain_rows = csv_table(exported(database_url, "customers", "--customer-list", made["id"], "--format", "csv"))
    assert [row["private_ref"] for row in plain_rows] == [""] * 6
    assert [row["id"] for row in plain_rows] == [row["id"] for row in rows]


def test_another_lists_customers_never_appear(database_url: str, made: dict[str, Any]) -> None:
    ours = ndjson(exported(database_url, "customers", "--customer-list", made["id"], *BATCH))
    assert [customer["id"] for customer in ours] == made["customers"]
    assert {customer["customer_list_id"] for customer in ours} == {made["id"]}
    foreign = ndjson(exported(database_url, "customers", "--customer-list", made["foreign"]["id"], *BATCH))
    assert [customer["id"] for customer in foreign] == made["foreign"]["customers"]
    elsewhere = ndjson(exported(database_url, "customers", "--customer-list", made["other_list"]))
    assert [customer["first_name"] for customer in elsewhere] == ["Elsewhere"]


def test_format_from_the_extension_and_an_empty_list(database_url: str, made: dict[str, Any], tmp_path: Path) -> None:
    for name, expected in (("c.ndjson", "ndjson"), ("c.jsonl", "ndjson"), ("c.txt", "ndjson"), ("c.CSV", "csv")):
        done = run(database_url, "customers", "--customer-list", made["id"], "--output", str(tmp_path / name))
        assert done.returncode == 0, done.stderr.decode()
        assert ndjson(done.stdout)[0]["format"] == expected
        data = (tmp_path / name).read_bytes()
        if expected == "csv":
            assert data.startswith(b"id,anonymised,")
        else:
            assert ndjson(data)[0]["id"] == made["customers"][0]
    # --format wins over the extension; no partial file is left next to the output.
    run(
        database_url,
        "customers",
        "--customer-list",
        made["id"],
        "--format",
        "NDJSON",
        "--output",
        str(tmp_path / "x.csv"),
    )
    assert len(ndjson((tmp_path / "x.csv").read_bytes())) == 5
    assert not [path for path in os.listdir(tmp_path) if "partial" in path]
    # A list without customers: the header alone, or nothing.
    header = ",".join(CUSTOMER_COLUMNS + CARD_COLUMNS).encode() + b"\r\n"
    assert exported(database_url, "customers", "--customer-list", made["empty"], "--format", "csv") == header
    assert exported(database_url, "customers", "--customer-list", made["empty"]) == b""
