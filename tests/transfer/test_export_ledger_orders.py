"""``patronage export loyalty-cards|operations|orders``, and what every export does with bad arguments and a reader
that goes away: cards and operations as GET renders them (operations per card in ledger order), orders as GET
renders them (CSV: nested parts as JSON text), by list, location or account, never another tenant's or list's.
"""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from export_helpers import PATRONAGE, check_row, csv_table, exported, ndjson, refused, run, same_resources

from helpers import Api, Tenant

SCOPE = "location[all_customer_lists.write,orders.write]"
BATCH = ("--batch-size", "2")
CARD_FIELDS = ["id", "customer_id", "ref", "name", "balance", "created_at"]
# The doc's columns, then the ledger's hash (GET .../loyalty_cards/:id/ledger shows it).
OPERATION_FIELDS = ["id", "loyalty_card_id", "customer_id", "delta", "new_balance", "reason", "order_id", "created_at",
                    "hash"]  # fmt: skip
ORDER_FIELDS = [
    "id", "location_id", "status", "ref", "private_ref", "service_type", "service_type_ref", "created_at",
    "created_by", "expected_time", "confirmed_time", "customer_notes", "seller_notes", "collection_code",
    "coupon_codes", "total", "total_discrepancy", "payment_discrepancy", "items", "deals", "charges", "discounts",
    "payments", "loyalty_operations", "customer_id", "customer_list_id", "customer", "delivery", "custom_fields",
]  # fmt: skip


async def _post(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def _get(api: Api, path: str) -> Any:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _order_body(currency: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "new",
        "ref": "R-1",
        "service_type": "delivery",
        "expected_time": "2026-06-24T11:30:00+02:00",
        "customer_notes": "No onions, please;\nring twice",
        "coupon_codes": ["WELCOME"],
        "items": [
            {
                "private_ref": "IT-1",
                "product_name": "Margarita",
                "sku_name": "Small",
                "price": f"9.00 {currency}",
                "quantity": "2",
                "options": [{"option_list_name": "Sauce", "name": "BBQ", "price": f"1.00 {currency}"}],
            },
            {
                "product_name": "Brownie",
                "price": f"3.00 {currency}",
                "quantity": "1",
                "deal_line": {"deal_key": "0", "label": "Dessert"},
            },
        ],  # fmt: skip
        "deals": {"0": {"name": "Dessert deal", "ref": "D"}},
        "discounts": [{"name": "5 off", "ref": "5OFF", "price_off": f"5.00 {currency}"}],
        "charges": [{"name": "Delivery", "ref": "DEL", "price": f"1.50 {currency}"}],
        "payments": [{"name": "Card", "ref": "CB", "amount": f"10.00 {currency}", "info": {"last4": "4242"}}],
        "custom_fields": {"table": 12, "vip": True},
        **extra,
    }


async def _tenant_data(tenant: Tenant, currency: str) -> dict[str, Any]:
    """A list with two customers and three cards (operations, one of them from an order), another list of the
    tenant with a card, and orders: linked to the list's customers in both locations, and a guest order."""
    api = await tenant.api(SCOPE)
    second = await tenant.api(SCOPE, location_id=tenant.other_location_id)
    # An account-level list: both locations' connections see its customers.
    list_id, other_list = await tenant.customer_list(location_id=None), await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    ann = await _post(api, f"{base}/customers", {"first_name": "Ann", "private_ref": "C-ANN"})
    bob = await _post(api, f"{base}/customers", {"first_name": "Bob"})
    cards = [
        await _post(api, f"{base}/loyalty_cards", {"customer_id": ann["id"], "ref": "A", "name": 'Club, "A"'}),
        await _post(api, f"{base}/loyalty_cards", {"customer_id": ann["id"]}),
        await _post(api, f"{base}/loyalty_cards", {"customer_id": bob["id"], "ref": "LOY", "name": "Points"}),
    ]
    for card, delta, reason in ((0, "5", "Welcome"), (0, "-1.5", None), (1, "0.25", "Gift\nwrapped"), (0, "2", "x")):
        await _post(api, f"{base}/loyalty_cards/{cards[card]['id']}/operations", {"delta": delta, "reason": reason})
    elsewhere = await _post(api, f"/v1/customer_lists/{other_list}/customers", {"first_name": "Elsewhere"})
    other_card = await _post(api, f"/v1/customer_lists/{other_list}/loyalty_cards", {"customer_id": elsewhere["id"]})
    await _post(api, f"/v1/customer_lists/{other_list}/loyalty_cards/{other_card['id']}/operations", {"delta": "1"})
    first = await _post(api, f"/v1/locations/{tenant.location_id}/orders",
                        _order_body(currency, customer_id=ann["id"], private_ref="ORD-1"))  # fmt: skip
    guest_customer = {"first_name": "Guest", "email": "guest@example.com"}
    guest = await _post(api, f"/v1/locations/{tenant.location_id}/orders",
                        _order_body(currency, customer=guest_customer))  # fmt: skip
    linked = await _post(second, f"/v1/locations/{tenant.other_location_id}/orders", {
        "status": "completed", "customer_id": bob["id"],
        "loyalty_operations": [{"ref": "LOY", "delta": "-0.5", "reason": "Points used"}],
    })  # fmt: skip
    orders = {}
    for order, token in ((first, api), (guest, api), (linked, second)):
        orders[order["id"]] = await _get(token, f"/v1/locations/{order['location_id']}/orders/{order['id']}")
    return {"api": api, "list": list_id, "other_list": other_list, "cards": cards, "orders": orders,
            "first": first["id"], "guest": guest["id"], "linked": linked["id"]}  # fmt: skip


@pytest.fixture
async def made(tenant: Tenant, other_tenant: Tenant) -> dict[str, Any]:
    ours = await _tenant_data(tenant, "EUR")
    theirs = await _tenant_data(other_tenant, "GBP")
    api = ours["api"]
    base = f"/v1/customer_lists/{ours['list']}/loyalty_cards"
    ours["card_answers"] = [await _get(api, f"{base}/{card['id']}") for card in ours["cards"]]
    ours["operation_answers"] = []
    for card in ours["cards"]:  # the index is newest first: the ledger's order is its reverse
        newest_first = await _get(api, f"{base}/{card['id']}/operations")
        hashes = {
            entry["id"]: entry["hash"] for entry in (await _get(api, f"{base}/{card['id']}/ledger"))["operations"]
        }
        ours["operation_answers"] += [
            {**op, "loyalty_card_id": card["id"], "hash": hashes[op["id"]]} for op in reversed(newest_first)
        ]
    return {**ours, "client": tenant.client_id, "account": tenant.account_id, "location": tenant.location_id,
            "theirs": theirs}  # fmt: skip


def _near_now_in_paris(text: str) -> None:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == moment.astimezone(ZoneInfo("Europe/Paris")).utcoffset()
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=10)


def test_loyalty_cards_as_the_api_renders_them(database_url: str, made: dict[str, Any], tmp_path: Path) -> None:
    cards = ndjson(exported(database_url, "loyalty-cards", "--customer-list", made["list"], *BATCH))
    assert [list(card) for card in cards] == [CARD_FIELDS] * 3
    # The doc's order of fields (id, customer_id, ref, name...), the API's values.
    without_time = [{k: v for k, v in card.items() if k != "created_at"} for card in cards]
    same_resources(without_time, made["card_answers"], ordered=False)
    for card in cards:  # the API renders no created_at for a card: the list's timezone, to the second
        _near_now_in_paris(card["created_at"])
    assert [card["balance"] for card in cards] == ["5.5", "0.25", "-0.5"]
    output = tmp_path / "cards.csv"
    assert run(database_url, "loyalty-cards", "--customer-list", made["list"], "--output", str(output)).returncode == 0
    header, rows = csv_table(output.read_bytes())
    assert header == CARD_FIELDS
    for row, card in zip(rows, cards, strict=True):
        check_row(row, card)
    assert rows[0]["name"] == 'Club, "A"' and rows[1]["ref"] == rows[1]["name"] == ""


def test_operations_per_card_in_ledger_order(database_url: str, made: dict[str, Any]) -> None:
    operations = ndjson(exported(database_url, "operations", "--customer-list", made["list"], *BATCH))
    assert [list(operation) for operation in operations] == [OPERATION_FIELDS] * len(operations)
    expected = [{name: op[name] for name in OPERATION_FIELDS} for op in made["operation_answers"]]
    same_resources(operations, expected)
    assert [op["new_balance"] for op in operations] == ["5.0", "3.5", "5.5", "0.25", "-0.5"]
    assert operations[-1]["order_id"] == made["linked"]  # the order's loyalty operation names its order
    header, rows = csv_table(exported(database_url, "operations", "--customer-list", made["list"], "--format", "csv"))
    assert header == OPERATION_FIELDS
    for row, operation in zip(rows, expected, strict=True):
        check_row(row, operation)
    assert rows[3]["reason"] == "Gift\nwrapped" and rows[1]["reason"] == ""
    # The other list's card and operation are its own.
    others = ndjson(exported(database_url, "operations", "--customer-list", made["other_list"]))
    assert [op["delta"] for op in others] == ["1.0"]


def _without_refs(order: dict[str, Any]) -> dict[str, Any]:
    """The order as a client without private refs reads it."""
    elements = {
        kind: [{**element, "private_ref": None} for element in order[kind]]
        for kind in ("items", "charges", "discounts", "payments")
    }
    customer = order["customer"] and {**order["customer"], "private_ref": None}
    return {**order, **elements, "private_ref": None, "customer": customer}


def test_orders_by_location_account_and_list(database_url: str, made: dict[str, Any], tmp_path: Path) -> None:
    answers = made["orders"]
    first, guest, linked = answers[made["first"]], answers[made["guest"]], answers[made["linked"]]
    by = {
        "location": ("--location", made["location"]),
        "account": ("--account", made["account"]),
        "list": ("--customer-list", made["list"]),
    }
    expected = {"location": [first, guest], "account": [first, guest, linked], "list": [first, linked]}
    for name, where in by.items():
        got = ndjson(exported(database_url, "orders", *where, "--client", made["client"], *BATCH))
        same_resources(got, expected[name])
    assert first["private_ref"] == "ORD-1" and first["items"][0]["private_ref"] == "IT-1"
    assert first["customer"]["private_ref"] == "C-ANN"
    without = ndjson(exported(database_url, "orders", "--account", made["account"]))
    same_resources(without, [_without_refs(order) for order in expected["account"]])
    # CSV: the scalar fields, and the nested parts as JSON text.
    output = tmp_path / "orders.csv"
    done = run(database_url, "orders", "--account", made["account"], "--client", made["client"], "--output",
               str(output), *BATCH)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    header, rows = csv_table(output.read_bytes())
    assert header == ORDER_FIELDS
    for row, order in zip(rows, expected["account"], strict=True):
        check_row(row, order)
    assert rows[0]["customer_notes"] == "No onions, please;\nring twice" and rows[0]["total"] == first["total"]
    assert rows[1]["customer_id"] == "" and rows[2]["delivery"] == ""
    # Another tenant's orders: its own exports, never ours.
    theirs = made["theirs"]
    theirs_ids = [order["id"] for order in ndjson(exported(database_url, "orders", "--customer-list", theirs["list"]))]
    assert theirs_ids == [theirs["first"], theirs["linked"]]


def test_bad_arguments_are_a_message_and_exit_1(database_url: str, made: dict[str, Any], tmp_path: Path) -> None:
    list_id = made["list"]
    cases = {
        ("customers", "--customer-list", "nope"): "no customer list 'nope'",
        ("loyalty-cards", "--customer-list", "nope"): "no customer list 'nope'",
        ("operations", "--customer-list", "nope"): "no customer list 'nope'",
        ("orders", "--customer-list", "nope"): "no customer list 'nope'",
        ("orders", "--location", "nope"): "no location 'nope'",
        ("orders", "--account", "nope"): "no account 'nope'",
        ("orders", "--account", made["account"], "--location", made["location"]): "exactly one of",
        ("orders",): "exactly one of",
        ("customers", "--customer-list", list_id, "--client", "nope"): "no client 'nope'",
        ("orders", "--account", made["account"], "--client", "nope"): "no client 'nope'",
        ("customers", "--customer-list", list_id, "--format", "xml"): "unknown format 'xml'",
        ("customers", "--customer-list", list_id, "--output", str(tmp_path / "missing" / "c.csv")): "c.csv",
        ("customers", "--customer-list", "nope", "--output", str(tmp_path / "c.csv")): "no customer list",
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        messages = list(pool.map(lambda args: refused(database_url, *args, cwd=tmp_path), cases))
    for message, expected in zip(messages, cases.values(), strict=True):
        assert expected in message, message
    assert os.listdir(tmp_path) == []  # no file, not even a partial one


def test_a_reader_that_goes_away_ends_the_export_quietly(database_url: str, made: dict[str, Any]) -> None:
    """``patronage export ... | head``: no traceback, no message; the exit status of a process killed by SIGPIPE."""
    env = {**os.environ, "PATRONAGE_DATABASE_URL": database_url}
    seeded = subprocess.run(
        [str(PATRONAGE), "admin", "seed-customers", "--customer-list", made["other_list"], "--count", "3000"],
        env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr.decode()
    export = subprocess.Popen(
        [str(PATRONAGE), "export", "customers", "--customer-list", made["other_list"], "--batch-size", "100"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert export.stdout is not None and export.stderr is not None
    first = export.stdout.read(1000)  # a megabyte is on its way: far more than a pipe holds
    export.stdout.close()
    assert export.wait(timeout=120) == 141
    assert export.stderr.read() == b""
    assert first.startswith(b'{"id":')
