"""``patronage import customers`` as an operator runs it: the real command in a subprocess on the test database,
then what a user sees through the HTTP API (customers, cards, balances, operations).

docs/import-export.md fixes the formats and the rules: rows are validated as the API validates a body (the same
messages: each bad row's errors are compared with what POST .../customers answers for the same fields), bad
rows go to a reject file with their line numbers, a re-run changes nothing, an interrupted import leaves whole
batches and a re-run completes it.
"""

import asyncio
import csv
import io
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from import_helpers import (
    HEADER,
    WRITE,
    Importer,
    by_email,
    count,
    csv_for,
    everything,
    rejects,
    write,
)

from helpers import Api, Tenant


async def api_errors(api: Api, list_id: str, body: dict[str, Any]) -> list[dict[str, str]]:
    """What POST .../customers answers for ``body`` (a 422)."""
    response = await api.post(f"/v1/customer_lists/{list_id}/customers", json=body)
    assert response.status_code == 422, response.text
    return response.json()["errors"]


# --- creating, then re-running --------------------------------------------------------------------------


async def test_a_csv_file_creates_customers_cards_and_opening_balances(
    importer: Importer, tenant: Tenant, tmp_path: Path
) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    file = write(
        tmp_path / "customers.csv",
        f"{HEADER}\n"
        'Ann.Smith@Example.com,Ann,Smith,female,1980-01-02,+33612345678,fr,48.85895070,2.35,TRUE,no,"{""tier"": ""gold"", ""n"": 1.5}",LOY,Fidelity,12.5\n'  # noqa: E501
        'Ann.Smith@Example.com,Ann,Smith,female,1980-01-02,+33612345678,fr,48.85895070,2.35,TRUE,no,"{""tier"": ""gold"", ""n"": 1.5}",GIFT,,\n'  # noqa: E501
        "bob@example.com,Bob,,,,06 12 34 56 78,,,,,,,,,\n"
        'carl@example.com,"Carl, ""the"" Third",,male,,,,,,0,1,,,Empty,-3\n',
    )
    summary = importer.ok("--customer-list", list_id, str(file))
    assert (summary["read"], summary["created"], summary["updated"], summary["unchanged"]) == (4, 3, 1, 0)
    assert summary["rejected"] == 0
    assert (tmp_path / "customers.csv.rejects.ndjson").read_text() == ""

    ann, bob, carl = await everything(api, list_id)
    assert {key: ann[key] for key in ann if key not in ("id", "created_at", "loyalty_cards")} == {
        "customer_list_id": list_id,
        "anonymised": False,
        "private_ref": None,
        "email": "Ann.Smith@Example.com",
        "first_name": "Ann",
        "last_name": "Smith",
        "gender": "female",
        "birth_date": "1980-01-02",
        "company_name": None,
        "phone": "+33612345678",
        "phone_access_code": None,
        "address_1": None,
        "address_2": None,
        "postal_code": None,
        "city": None,
        "state": None,
        "country": "FR",
        "latitude": "48.8589507",
        "longitude": "2.35",
        "delivery_notes": None,
        "sms_marketing": True,
        "email_marketing": False,
        # Statistics are the server's: a new customer has no orders.
        "nb_orders": 0,
        "order_total": "0.00 EUR",
        "first_order_date": None,
        "last_order_date": None,
        "custom_fields": {"tier": "gold", "n": 1.5},
    }
    # Two rows, one customer with two cards, in the file's order; a balance is one ordinary operation.
    loy, gift = ann["loyalty_cards"]
    assert (loy["ref"], loy["name"], loy["balance"]) == ("LOY", "Fidelity", "12.5")
    assert (gift["ref"], gift["name"], gift["balance"]) == ("GIFT", None, "0.0")
    (opening,) = loy["operations"]
    assert (opening["delta"], opening["new_balance"], opening["reason"]) == ("12.5", "12.5", "Opening balance")
    assert (opening["order_id"], opening["order_location_id"], opening["customer_id"]) == (None, None, ann["id"])
    assert gift["operations"] == []
    # The card answers as the API's own cards do, and takes new operations after the opening one.
    card = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{loy['id']}")).json()
    assert (card["customer_id"], card["balance"]) == (ann["id"], "12.5")
    moved = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards/{loy['id']}/operations", json={"delta": "1"})
    assert moved.status_code == 201 and moved.json()["new_balance"] == "13.5"

    assert (bob["phone"], bob["loyalty_cards"], bob["sms_marketing"], bob["custom_fields"]) == (
        "06 12 34 56 78", [], False, {},
    )  # fmt: skip
    assert (carl["first_name"], carl["gender"], carl["sms_marketing"], carl["email_marketing"]) == (
        'Carl, "the" Third', "male", False, True,
    )  # fmt: skip
    # A card with no ref but a name and a (negative) balance.
    (empty,) = carl["loyalty_cards"]
    assert (empty["ref"], empty["name"], empty["balance"]) == (None, "Empty", "-3.0")
    assert [operation["delta"] for operation in empty["operations"]] == ["-3.0"]

    # The opening operations are links of the cards' hash chains, as any operation: the ledger verifies.
    verified = importer.command("admin", "verify-ledger", "--customer-list", list_id)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True
    ledger = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{loy['id']}/ledger")).json()
    assert [entry["reason"] for entry in ledger["operations"]] == ["Opening balance", None]
    assert ledger["operations"][1]["previous_hash"] == ledger["operations"][0]["hash"]

    # The customers are found as any others.
    assert (await by_email(api, list_id, "ann.smith@example.com"))["id"] == ann["id"]
    assert (await by_email(api, list_id, "carl*"))["id"] == carl["id"]


async def test_running_the_same_file_again_changes_nothing(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    file = write(
        tmp_path / "customers.csv",
        f"{HEADER}\n"
        'ann@example.com,Ann,,,,,,,,yes,,"{""a"": [1, {""b"": null}]}",LOY,Fidelity,12.5\n'
        'ann@example.com,Ann,,,,,,,,yes,,"{""a"": [1, {""b"": null}]}",GIFT,,7\n'
        "bob@example.com,Bob,,,,,,,,,,,,,\n"
        "not an email,X,,,,,,,,,,,,,\n",
    )
    first = importer.ok("--customer-list", list_id, str(file))
    assert (first["created"], first["updated"], first["rejected"]) == (2, 1, 1)
    before = await everything(api, list_id)

    again = importer.ok("--customer-list", list_id, str(file))
    assert (again["read"], again["created"], again["updated"], again["unchanged"], again["rejected"]) == (4, 0, 0, 3, 1)
    assert await everything(api, list_id) == before  # same ids, balances, operations, times
    # The reject file is written again, not appended to.
    assert list(rejects(tmp_path / "customers.csv.rejects.ndjson")) == [5]

    # A changed field updates the customer (and only it); an existing card's balance is never touched.
    write(file, f"{HEADER}\nann@example.com,Annie,,,,,,,,yes,,,LOY,Renamed,99\nbob@example.com,Bob,,,,,,,,,,,,,\n")
    changed = importer.ok("--customer-list", list_id, str(file))
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 1)
    after = await everything(api, list_id)
    assert after[0]["first_name"] == "Annie"
    # An empty custom_fields cell is null, which clears them (as the API does).
    assert after[0]["custom_fields"] == {}
    assert [(card["ref"], card["name"], card["balance"]) for card in after[0]["loyalty_cards"]] == [
        ("LOY", "Fidelity", "12.5"),
        ("GIFT", None, "7.0"),
    ]
    assert after[1] == before[1]


async def test_columns_left_out_are_left_as_they_are(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    made = await api.post(
        f"/v1/customer_lists/{list_id}/customers",
        json={"email": "ann@example.com", "first_name": "Ann", "city": "Paris", "sms_marketing": True,
              "custom_fields": {"a": 1}},
    )  # fmt: skip
    assert made.status_code == 201
    file = write(tmp_path / "names.csv", "email,last_name,sms_marketing\nANN@example.com,Smith,\n")
    summary = importer.ok("--customer-list", list_id, str(file))
    assert (summary["created"], summary["updated"]) == (0, 1)
    ann = await by_email(api, list_id, "ann@example.com")
    assert ann["id"] == made.json()["id"]
    # The email matches whatever its case, and the file's spelling is kept; an empty boolean cell is absent.
    assert (ann["email"], ann["first_name"], ann["last_name"], ann["city"]) == (
        "ANN@example.com",
        "Ann",
        "Smith",
        "Paris",
    )
    assert (ann["sms_marketing"], ann["custom_fields"]) == (True, {"a": 1})


async def test_an_ndjson_file_as_the_api_renders_customers(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    lines = [
        {  # read-only fields (as GET renders them) are ignored; card ids too
            "id": "abc",
            "customer_list_id": "other",
            "anonymised": True,
            "created_at": "2020-01-01T00:00:00+01:00",
            "nb_orders": 12,
            "order_total": "99.00 EUR",
            "first_order_date": None,
            "last_order_date": None,
            "private_ref": "ignored without --client",
            "email": "ann@example.com",
            "first_name": "Ann",
            "latitude": 48.5,
            "sms_marketing": True,
            "custom_fields": {"deep": {"er": [1, 2.25]}},
            "loyalty_cards": [
                {"id": "x1", "ref": "LOY", "name": "Fidelity", "balance": "12.5"},
                {"ref": "GIFT", "name": None, "balance": 3},
                {"ref": None, "name": "No ref", "balance": "0.0"},
            ],
        },
        {"email": "bob@example.com", "loyalty_cards": []},
    ]
    file = write(tmp_path / "customers.ndjson", "".join(json.dumps(line) + "\n" for line in lines) + "\n")
    summary = importer.ok("--customer-list", list_id, str(file))
    assert (summary["read"], summary["created"], summary["rejected"]) == (2, 2, 0)
    ann, bob = await everything(api, list_id)
    assert ann["id"] != "abc" and ann["anonymised"] is False and ann["nb_orders"] == 0
    assert (ann["private_ref"], ann["latitude"], ann["sms_marketing"]) == (None, "48.5", True)
    assert ann["custom_fields"] == {"deep": {"er": [1, 2.25]}}
    assert [(card["ref"], card["name"], card["balance"]) for card in ann["loyalty_cards"]] == [
        ("LOY", "Fidelity", "12.5"),
        ("GIFT", None, "3.0"),
        (None, "No ref", "0.0"),
    ]
    assert [len(card["operations"]) for card in ann["loyalty_cards"]] == [1, 1, 0]
    assert bob["loyalty_cards"] == []

    again = importer.ok("--customer-list", list_id, str(file))
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)

    # .jsonl is NDJSON too, and stdin works with --format.
    jsonl = write(tmp_path / "more.jsonl", json.dumps({"email": "carl@example.com"}) + "\n")
    assert importer.ok("--customer-list", list_id, str(jsonl))["created"] == 1
    piped = importer.ok("--customer-list", list_id, "--format", "ndjson", "-",
                        stdin=b'{"email": "dan@example.com"}\n{"email": 5}\n')  # fmt: skip
    assert (piped["created"], piped["rejected"]) == (1, 1)
    assert list(rejects(tmp_path / "stdin.rejects.ndjson")) == [2]
    assert [customer["email"] for customer in await everything(api, list_id)][2:] == [
        "carl@example.com",
        "dan@example.com",
    ]


async def test_a_file_exported_as_rows_imports_into_another_list_as_the_same_customers(
    importer: Importer, tenant: Tenant, tmp_path: Path
) -> None:
    """The round trip the export relies on: customers as the API renders them, written as CSV and as NDJSON
    rows (transfer.customer_rows, what the export writes), come back the same into another list."""
    from patronage.transfer.customer_rows import CSV_COLUMNS, csv_rows, ndjson_line

    source = await tenant.customer_list()
    api = await tenant.api(WRITE)
    base = f"/v1/customer_lists/{source}"
    bodies = [
        {"email": "ann@example.com", "first_name": "Ann", "gender": "female", "birth_date": "1990-12-31",
         "phone": "+447911123456", "country": "GB", "latitude": "-33.8688197", "longitude": "151.2092955",
         "sms_marketing": True, "email_marketing": True, "custom_fields": {"x": {"y": [1, "two", None]}},
         "address_1": "1 Main St", "delivery_notes": "Ring twice,\nthen wait", "company_name": "Ann & Co"},
        {"email": "bob@example.com"},
    ]  # fmt: skip
    ids = [(await api.post(f"{base}/customers", json=body)).json()["id"] for body in bodies]
    for ref, name, delta in (("LOY", "Fidelity", "4.25"), (None, None, None)):
        card = (await api.post(f"{base}/loyalty_cards", json={"customer_id": ids[0], "ref": ref, "name": name})).json()
        if delta:
            await api.post(f"{base}/loyalty_cards/{card['id']}/operations", json={"delta": delta})
    exported = await everything(api, source)
    for customer in exported:
        for card in customer["loyalty_cards"]:
            del card["operations"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for customer in exported:
        writer.writerows(csv_rows(customer))
    csv_file = write(tmp_path / "export.csv", text.getvalue())
    ndjson_file = write(tmp_path / "export.ndjson", "".join(ndjson_line(c) + "\n" for c in exported))

    def comparable(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**{k: v for k, v in customer.items() if k not in ("id", "created_at", "customer_list_id")},
             "loyalty_cards": [(card["ref"], card["name"], card["balance"]) for card in customer["loyalty_cards"]]}
            for customer in customers
        ]  # fmt: skip

    for file in (csv_file, ndjson_file):
        target = await tenant.customer_list()
        summary = importer.ok("--customer-list", target, str(file))
        assert (summary["created"], summary["rejected"]) == (2, 0)
        assert comparable(await everything(api, target)) == comparable(exported)


# --- bad rows -------------------------------------------------------------------------------------------


async def test_bad_csv_rows_of_every_kind_are_rejected_with_their_line_and_the_apis_messages(
    importer: Importer, tenant: Tenant, tmp_path: Path
) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    columns = ["email", "first_name", "gender", "birth_date", "phone", "country", "latitude", "sms_marketing",
               "delivery_notes", "custom_fields"]  # fmt: skip
    # (the row's cells, the body POST .../customers gets for the same fields)
    cases: list[tuple[dict[str, str], dict[str, Any]]] = [
        ({"email": "not-an-email"}, {"email": "not-an-email"}),
        ({"email": "a@b@example.com"}, {"email": "a@b@example.com"}),
        ({"phone": "+33 6 12"}, {"phone": "+33 6 12"}),
        ({"phone": "call me"}, {"phone": "call me"}),
        ({"phone": "+1234567"}, {"phone": "+1234567"}),
        ({"country": "FRA"}, {"country": "FRA"}),
        ({"country": "XX"}, {"country": "XX"}),
        ({"birth_date": "1980-02-30"}, {"birth_date": "1980-02-30"}),
        ({"birth_date": "02/03/1980"}, {"birth_date": "02/03/1980"}),
        ({"birth_date": "2999-01-01"}, {"birth_date": "2999-01-01"}),
        ({"sms_marketing": "maybe"}, {"sms_marketing": "maybe"}),
        ({"latitude": "91"}, {"latitude": "91"}),
        ({"latitude": "1e3"}, {"latitude": "1e3"}),
        ({"gender": "other"}, {"gender": "other"}),
        ({"gender": "Male"}, {"gender": "Male"}),
        ({"first_name": "x" * 256}, {"first_name": "x" * 256}),
        ({"delivery_notes": "y" * 1001}, {"delivery_notes": "y" * 1001}),
        ({"first_name": "Nul\x00here"}, {"first_name": "Nul\x00here"}),
        ({"custom_fields": "[1, 2]"}, {"custom_fields": [1, 2]}),
        ({"custom_fields": '{"a": "\\u0000"}'}, {"custom_fields": {"a": "\x00"}}),
        ({"custom_fields": '{"a": "' + "z" * 9000 + '"}'}, {"custom_fields": {"a": "z" * 9000}}),
        # Several problems in one row: all of them, as the API lists them.
        ({"email": "bad", "gender": "robot", "birth_date": "1980-13-01", "phone": "abc", "country": "ZZ"},
         {"email": "bad", "gender": "robot", "birth_date": "1980-13-01", "phone": "abc", "country": "ZZ"}),
    ]  # fmt: skip
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(columns)
    out.writerow(["ok1@example.com", "Good", *[""] * 8])
    expected: dict[int, list[dict[str, str]]] = {}
    for number, (cells, body) in enumerate(cases, start=3):
        email = f"row{number}@example.com"
        cells = {"email": email, **cells}
        out.writerow([cells.get(name, "") for name in columns])
        response = await api.post(f"/v1/customer_lists/{list_id}/customers", json={"email": email, **body})
        assert response.status_code == 422, (cells, response.text)
        expected[number] = response.json()["errors"]
    lines = text.getvalue().splitlines()
    assert len(lines) == len(cases) + 2  # one line each (no cell above holds a newline)
    # What only a file can get wrong.
    blank = "can't be blank: it is the match key (--key email)"
    more: list[tuple[str, list[dict[str, str]] | None]] = [
        ("ok2@example.com,Good,,,,,,,,", None),
        (",No email,,,,,,,,", [{"field": "email", "message": blank}]),
        ("ok3@example.com,Too,few", [{"field": "line", "message": "has 3 cells, the header has 10"}]),
        ("ok4@example.com,,,,,,,,,,,", [{"field": "line", "message": "has 12 cells, the header has 10"}]),
        ("ok5@example.com,,,,,,,,,{not json}", []),  # checked below
        ('ok6@example.com,"a"b,,,,,,,,', [{"field": "line", "message": "is not valid CSV (',' expected after '\"')"}]),
        ('ok7@example.com,"Two\nlines",,,,,,,,', None),
    ]
    first = len(lines) + 1
    for offset, (row, errors) in enumerate(more):
        if errors is not None:
            expected[first + offset] = errors
        lines.append(row)
    not_json = first + 4
    content = ("\n".join(lines) + "\n").encode()
    # A line that is not UTF-8 (Latin-1 from an old spreadsheet), after a record of two lines, then a good line.
    not_utf8 = len(lines) + 2
    content += "bad@example.com,Andr\xe9,,,,,,,,\n".encode("latin-1") + b"ok8@example.com,Good,,,,,,,,\n"
    expected[not_utf8] = [{"field": "line", "message": "is not valid UTF-8 text"}]
    file = tmp_path / "bad.csv"
    file.write_bytes(content)

    summary = importer.ok("--customer-list", list_id, str(file))
    found = rejects(tmp_path / "bad.csv.rejects.ndjson")
    assert list(found) == sorted(found)  # in the file's order
    (json_error,) = found[not_json]["errors"]
    assert json_error["field"] == "custom_fields" and json_error["message"].startswith("is not valid JSON (")
    expected[not_json] = [json_error]
    assert {line: reject["errors"] for line, reject in found.items()} == expected
    # The row is the record as it was in the file (a byte that is not UTF-8 shows as U+FFFD).
    assert found[3]["row"] == "not-an-email,,,,,,,,,"
    assert found[not_utf8]["row"] == "bad@example.com,Andr\ufffd,,,,,,,,"
    assert (summary["read"], summary["created"], summary["rejected"]) == (len(cases) + 10, 4, len(expected))
    imported = await everything(api, list_id)
    assert [customer["email"] for customer in imported] == [f"ok{n}@example.com" for n in (1, 2, 7, 8)]
    assert imported[2]["first_name"] == "Two\nlines"


async def test_bad_card_columns_are_rejected(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    file = write(
        tmp_path / "cards.csv",
        "email,loyalty_card_ref,loyalty_card_name,balance\n"
        "a@example.com,LOY,,abc\n"  # 2
        "a@example.com,GIFT,,1.1234567\n"  # 3
        "a@example.com,BIG,,1000000000000\n"  # 4
        "a@example.com,SPACE,, 5\n"  # 5
        f"a@example.com,{'r' * 256},{'n' * 256},\n"  # 6
        "a@example.com,LOY,Fidelity,10\n"  # 7: good
        "a@example.com,LOY,Again,10\n"  # 8: the same card twice for one customer
        "a@example.com,,Unnamed,\n"  # 9: good (no ref)
        "a@example.com,,Second unnamed,\n",  # 10: a second card without ref
    )
    summary = importer.ok("--customer-list", list_id, str(file))
    found = {line: reject["errors"] for line, reject in rejects(tmp_path / "cards.csv.rejects.ndjson").items()}
    # The same messages as POST .../operations gives a delta, POST .../loyalty_cards a ref and a name.
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer["id"]})).json()

    async def delta_errors(delta: str) -> list[dict[str, str]]:
        response = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}/operations",
                                  json={"delta": delta})  # fmt: skip
        assert response.status_code == 422
        return [{"field": "balance", "message": error["message"]} for error in response.json()["errors"]]

    response = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards",
                              json={"customer_id": customer["id"], "ref": "r" * 256, "name": "n" * 256})  # fmt: skip
    long_errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert found == {
        2: await delta_errors("abc"),
        3: await delta_errors("1.1234567"),
        4: await delta_errors("1000000000000"),
        5: await delta_errors(" 5"),
        6: [{"field": "loyalty_card_name", "message": long_errors["name"]},
            {"field": "loyalty_card_ref", "message": long_errors["ref"]}],
        8: [{"field": "loyalty_card_ref", "message": "is already used by another loyalty card of this customer"}],
        10: [{"field": "loyalty_card_ref",
              "message": "can't be null: this customer already has a loyalty card without ref"}],
    }  # fmt: skip
    assert (summary["created"], summary["updated"], summary["rejected"]) == (1, 1, 7)
    imported = await by_email(api, list_id, "a@example.com")
    assert [(card["ref"], card["name"], card["balance"]) for card in imported["loyalty_cards"]] == [
        ("LOY", "Fidelity", "10.0"),
        (None, "Unnamed", "0.0"),
    ]


async def test_bad_ndjson_lines_are_rejected(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    lines = [
        b'{"email": "ok1@example.com"}',  # 1
        b'{"email": "a@example.com", "first_name": "unterminated}',  # 2
        b'["email", "a@example.com"]',  # 3
        b'{"email": "a@example.com", "unknown": 1, "sms_marketing": null}',  # 4
        b'{"email": "a@example.com", "first_name": "nul \\u0000"}',  # 5
        b'{"email": "a@example.com", "first_name": "\\ud800"}',  # 6
        b'{"email": "a@example.com", "loyalty_cards": [{"ref": "A"}, {"ref": "A", "balance": "1"}]}',  # 7
        b'{"email": "a@example.com", "loyalty_cards": [{"ref": "A", "balance": "x", "colour": "red"}]}',  # 8
        b'{"email": "a@example.com", "loyalty_cards": {"ref": "A"}}',  # 9
        b'{"first_name": "No key"}',  # 10
        b'{"email": "caf\xe9@example.com"}',  # 11: Latin-1
        b'{"email": "a@example.com", "custom_fields": {"n": NaN}}',  # 12
        b"",  # 13: blank, skipped
        b'{"email": "ok2@example.com", "loyalty_cards": [{"ref": null}, {"ref": "B"}]}',  # 14
        b'{"email": "a@example.com", "loyalty_cards": [{}, {"name": "second without ref"}]}',  # 15
    ]
    file = tmp_path / "bad.ndjson"
    file.write_bytes(b"\n".join(lines) + b"\n")
    summary = importer.ok("--customer-list", list_id, str(file))
    found = {line: reject for line, reject in rejects(tmp_path / "bad.ndjson.rejects.ndjson").items()}
    assert sorted(found) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    assert (summary["read"], summary["created"], summary["rejected"]) == (14, 2, 12)
    assert found[2]["errors"][0]["field"] == "line" and found[2]["errors"][0]["message"].startswith(
        "is not valid JSON ("
    )
    assert found[2]["row"] == lines[1].decode()
    assert found[3]["errors"] == [{"field": "line", "message": "must be a JSON object"}]
    # What the API answers for the same body.
    for line in (4, 5, 6):
        response = await api.post(
            f"/v1/customer_lists/{list_id}/customers",
            content=lines[line - 1],
            headers={"Content-Type": "application/json"},
        )
        assert found[line]["errors"] == response.json()["errors"], line
    assert found[7]["errors"] == [
        {"field": "loyalty_cards.1.ref", "message": "is already used by another loyalty card of this customer"}
    ]
    assert {error["field"] for error in found[8]["errors"]} == {"loyalty_cards.0.colour", "loyalty_cards.0.balance"}
    assert found[9]["errors"] == [{"field": "loyalty_cards", "message": "must be a list of loyalty cards"}]
    assert found[10]["errors"] == [{"field": "email", "message": "can't be blank: it is the match key (--key email)"}]
    assert found[11]["errors"] == [{"field": "line", "message": "is not valid UTF-8 text"}]
    assert found[12]["errors"][0]["field"] == "line"
    assert found[15]["errors"] == [
        {
            "field": "loyalty_cards.1.ref",
            "message": "can't be null: this customer already has a loyalty card without ref",
        }
    ]
    ok2 = await by_email(api, list_id, "ok2@example.com")
    assert [card["ref"] for card in ok2["loyalty_cards"]] == [None, "B"]


async def test_an_email_several_customers_share_is_a_reject(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    for name in ("One", "Two"):
        await api.post(
            f"/v1/customer_lists/{list_id}/customers", json={"email": "Twin@example.com", "first_name": name}
        )
    file = write(tmp_path / "twins.csv", "email,first_name\ntwin@example.com,Three\nsolo@example.com,Solo\n")
    summary = importer.ok("--customer-list", list_id, str(file))
    assert (summary["created"], summary["rejected"]) == (1, 1)
    assert rejects(tmp_path / "twins.csv.rejects.ndjson")[2]["errors"] == [
        {"field": "email", "message": "matches 2 customers of this list: the match key must name one customer"}
    ]
    twins = (await api.get(f"/v1/customer_lists/{list_id}/customers", params={"email": "twin@example.com"})).json()
    assert sorted(customer["first_name"] for customer in twins) == ["One", "Two"]


# --- private refs ---------------------------------------------------------------------------------------


async def test_matching_by_private_ref(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    other_client = await tenant.new_client()
    other = await tenant.api(WRITE, client_id=other_client)
    base = f"/v1/customer_lists/{list_id}/customers"
    known = (await api.post(base, json={"private_ref": "P1", "email": "old@example.com", "first_name": "Ann"})).json()
    # Another client's P2 is another client's: it doesn't match this client's P2.
    theirs = (await other.post(base, json={"private_ref": "P2", "first_name": "Theirs"})).json()
    anonymised = (await api.post(base, json={"private_ref": "P3", "first_name": "Gone", "city": "Lyon"})).json()
    assert (await api.post(f"{base}/{anonymised['id']}/anonymise")).status_code == 200

    file = write(
        tmp_path / "refs.csv",
        "private_ref,email,first_name,city,loyalty_card_ref,balance\n"
        "P1,new@example.com,Ann,,LOY,5\n"
        "P2,,Bob,,,\n"
        "P3,back@example.com,Back,Paris,,\n"
        ",nokey@example.com,No key,,,\n"
        "P4,,Dan,,,\n"
        "P4,,Dan,,CARD,1\n",
    )
    summary = importer.ok("--customer-list", list_id, "--key", "private_ref", "--client", tenant.client_id, str(file))
    assert (summary["created"], summary["updated"], summary["unchanged"], summary["rejected"]) == (2, 3, 0, 1)
    assert rejects(tmp_path / "refs.csv.rejects.ndjson")[5]["errors"] == [
        {"field": "private_ref", "message": "can't be blank: it is the match key (--key private_ref)"}
    ]
    ann = (await api.get(f"{base}/{known['id']}")).json()
    assert (ann["email"], ann["private_ref"], [card["balance"] for card in ann["loyalty_cards"]]) == (
        "new@example.com", "P1", ["5.0"],
    )  # fmt: skip
    # The anonymised customer keeps its nulled fields; the others update.
    gone = (await api.get(f"{base}/{anonymised['id']}")).json()
    assert (gone["first_name"], gone["email"], gone["city"], gone["anonymised"]) == (None, None, "Paris", True)
    bob = (await api.get(base, params={"private_ref": "P2"})).json()
    assert [customer["first_name"] for customer in bob] == ["Bob"] and bob[0]["id"] != theirs["id"]
    assert (await other.get(f"{base}/{bob[0]['id']}")).json()["private_ref"] is None  # refs are per client
    assert (await other.get(f"{base}/{theirs['id']}")).json()["first_name"] == "Theirs"
    dan = (await api.get(base, params={"private_ref": "P4"})).json()
    assert [card["ref"] for card in dan[0]["loyalty_cards"]] == ["CARD"]

    again = importer.ok("--customer-list", list_id, "--key", "private_ref", "--client", tenant.client_id, str(file))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)


async def test_private_refs_set_with_email_matching(importer: Importer, tenant: Tenant, tmp_path: Path) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    base = f"/v1/customer_lists/{list_id}/customers"
    holder = (await api.post(base, json={"private_ref": "TAKEN", "email": "holder@example.com"})).json()
    moving = (await api.post(base, json={"private_ref": "OLD", "email": "moving@example.com"})).json()
    file = write(
        tmp_path / "refs.csv",
        "email,private_ref\n"
        "new@example.com,TAKEN\n"  # 2: another customer's ref
        "moving@example.com,NEW\n"  # 3: changes its ref; OLD is free again
        "other@example.com,OLD\n"  # 4: takes it
        "twice@example.com,NEW\n"  # 5: NEW was just taken in this file
        "holder@example.com,\n",  # 6: an empty cell is null: the private ref is removed
    )
    summary = importer.ok("--customer-list", list_id, "--client", tenant.client_id, str(file))
    assert (summary["created"], summary["updated"], summary["rejected"]) == (1, 2, 2)
    taken = {"field": "private_ref", "message": "is already used by another customer of this list"}
    assert {line: r["errors"] for line, r in rejects(tmp_path / "refs.csv.rejects.ndjson").items()} == {
        2: [taken],
        5: [taken],
    }
    assert (await api.get(f"{base}/{moving['id']}")).json()["private_ref"] == "NEW"
    assert (await api.get(f"{base}/{holder['id']}")).json()["private_ref"] is None
    assert (await by_email(api, list_id, "other@example.com"))["private_ref"] == "OLD"
    # Without --client the column is ignored (whose refs would they be?).
    write(file, "email,private_ref\nmoving@example.com,IGNORED\n")
    assert importer.ok("--customer-list", list_id, str(file))["unchanged"] == 1
    assert (await api.get(f"{base}/{moving['id']}")).json()["private_ref"] == "NEW"


# --- an interrupted import ------------------------------------------------------------------------------


async def test_an_interrupted_import_leaves_whole_batches_and_a_rerun_completes_it(
    importer: Importer, tenant: Tenant, tmp_path: Path
) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    header = b"email,first_name,loyalty_card_ref,balance\n"
    total = 120
    # Piped through stdin: the test decides how much the import has read when it is killed.
    process = importer.popen("--customer-list", list_id, "--format", "csv", "--batch-size", "20", "-")
    assert process.stdin is not None
    process.stdin.write(header + csv_for(range(1, 71)))
    process.stdin.flush()
    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline:  # batches of 20 rows: a customer's rows are never split
        committed = await count(api, list_id)
        if committed >= 45:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # anything still under way would show now
    process.kill()  # as a crash would
    process.wait(timeout=30)
    customers = await everything(api, list_id)
    # What the batches committed: whole customers, the first ones of the file, each with all its cards.
    assert 45 <= len(customers) < 70
    assert [customer["email"] for customer in customers] == [
        f"c{n:04d}@example.com" for n in range(1, len(customers) + 1)
    ]
    for n, customer in enumerate(customers, start=1):
        cards = customer["loyalty_cards"]
        assert [(card["ref"], card["balance"]) for card in cards] == [("LOY", f"{n}.0")] + (
            [("BONUS", "0.5")] if n % 3 == 0 else []
        )
        assert all(len(card["operations"]) == 1 for card in cards)

    file = tmp_path / "all.csv"
    file.write_bytes(header + csv_for(range(1, total + 1)))
    summary = importer.ok("--customer-list", list_id, "--batch-size", "20", str(file))
    assert summary["created"] == total - len(customers)
    done = await everything(api, list_id)
    assert len(done) == total
    assert done[: len(customers)] == customers  # what was there is untouched
    balances = [float(card["balance"]) for customer in done for card in customer["loyalty_cards"]]
    assert sum(balances) == sum(range(1, total + 1)) + 0.5 * (total // 3)


async def test_ctrl_c_stops_with_a_message(importer: Importer, tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    process = importer.popen("--customer-list", list_id, "--format", "csv", "--batch-size", "5", "-")
    assert process.stdin is not None
    process.stdin.write(b"email,first_name\n" + b"".join(f"u{n}@example.com,U\n".encode() for n in range(12)))
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if await count(api, list_id) >= 5:
            break
        await asyncio.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == b""
    assert b"interrupted" in err and b"Traceback" not in err
    assert await count(api, list_id) in (5, 10)


# --- bad arguments --------------------------------------------------------------------------------------


async def test_bad_arguments_are_a_message_and_write_nothing(
    importer: Importer, tenant: Tenant, tmp_path: Path
) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    good = write(tmp_path / "good.csv", "email\na@example.com\n")
    cases = {
        "no customer list 'nope'": ("--customer-list", "nope", str(good)),
        "no client 'nope'": ("--customer-list", list_id, "--client", "nope", str(good)),
        "needs --client": ("--customer-list", list_id, "--key", "private_ref", str(good)),
        "--key must be": ("--customer-list", list_id, "--key", "phone", str(good)),
        "--format must be": ("--customer-list", list_id, "--format", "xml", str(good)),
        "cannot tell the format": ("--customer-list", list_id, str(write(tmp_path / "x.txt", "email\n"))),
        "give --format": ("--customer-list", list_id, "-"),
        "cannot read": ("--customer-list", list_id, str(tmp_path / "missing.csv")),
        "unknown column in the header: 'emial'": (
            "--customer-list", list_id, str(write(tmp_path / "typo.csv", "emial,first_name\na@example.com,A\n")),
        ),
        "no 'private_ref' column": (
            "--customer-list", list_id, "--key", "private_ref", "--client", tenant.client_id, str(good),
        ),
        "named twice": ("--customer-list", list_id, str(write(tmp_path / "twice.csv", "email,email\na,b\n"))),
        "is empty": ("--customer-list", list_id, str(write(tmp_path / "empty.csv", ""))),
        "cannot write": ("--customer-list", list_id, "--rejects", str(tmp_path / "no" / "such" / "dir"), str(good)),
    }  # fmt: skip
    for expected, args in cases.items():
        message = importer.fails(*args)
        assert expected in message, (args, message)
    assert await count(api, list_id) == 0
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".rejects.ndjson")]
