"""Running ``patronage export ...`` as an operator does (the real command, in a subprocess, on the test database), and
reading what it wrote the way a user's tools would (the ``csv`` module, one JSON document a line)."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PATRONAGE = Path(sys.executable).parent / "patronage"

# docs/import-export.md, spelled out here (not imported from the code under test).
CUSTOMER_COLUMNS = [
    "id", "anonymised", "private_ref", "email", "first_name", "last_name", "gender", "birth_date", "created_at",
    "company_name", "phone", "phone_access_code", "address_1", "address_2", "postal_code", "city", "state",
    "country", "latitude", "longitude", "delivery_notes", "sms_marketing", "email_marketing", "nb_orders",
    "order_total", "first_order_date", "last_order_date", "custom_fields",
]  # fmt: skip
CARD_COLUMNS = ["loyalty_card_ref", "loyalty_card_name", "balance"]
# What the doc lets the import read: the export writes nothing else.
IMPORTABLE = {
    "private_ref", "email", "first_name", "last_name", "gender", "birth_date", "company_name", "phone",
    "phone_access_code", "address_1", "address_2", "postal_code", "city", "state", "country", "latitude",
    "longitude", "delivery_notes", "sms_marketing", "email_marketing", "custom_fields", "loyalty_card_ref",
    "loyalty_card_name", "balance", "id", "created_at", "anonymised", "nb_orders", "order_total",
    "first_order_date", "last_order_date",
}  # fmt: skip
JSON_CELLS = {"custom_fields", "coupon_codes", "items", "deals", "charges", "discounts", "payments",
              "loyalty_operations", "customer", "delivery"}  # fmt: skip


def run(database_url: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PATRONAGE_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run(
        [str(PATRONAGE), "export", *args], env=env, cwd=cwd, capture_output=True, timeout=120, check=False
    )


def exported(database_url: str, *args: str) -> bytes:
    """What a successful export wrote on stdout (nothing on stderr)."""
    done = run(database_url, *args)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b"", done.stderr.decode()
    return done.stdout


def refused(database_url: str, *args: str, cwd: Path | None = None) -> str:
    """A bad argument: exit 1, nothing on stdout, one short message on stderr (no traceback)."""
    done = run(database_url, *args, cwd=cwd)
    stderr = done.stderr.decode()
    assert done.returncode == 1, (args, done.returncode, stderr)
    assert done.stdout == b"", done.stdout
    assert stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    return stderr.strip()


def ndjson(data: bytes) -> list[dict[str, Any]]:
    """One JSON object a line, each line ended by a newline."""
    assert data == b"" or data.endswith(b"\n")
    return [json.loads(line) for line in data.decode("utf-8").split("\n")[:-1]]


def csv_table(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """RFC 4180: CRLF after every record (the csv module keeps a quoted cell's own line breaks as they are)."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body)
    return header, [dict(zip(header, row, strict=True)) for row in body]


def cell(value: Any) -> str:
    """What the doc says a value looks like in a CSV cell (JSON cells are compared parsed, see ``same_cell``)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def same_cell(name: str, text: str, value: Any) -> bool:
    if name in JSON_CELLS:
        return (text == "" and value is None) or (text != "" and json.loads(text) == value)
    return text == cell(value)


def check_row(row: dict[str, str], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        assert same_cell(name, row[name], value), (name, row[name], value)


def same_resources(got: list[dict[str, Any]], expected: list[dict[str, Any]], *, ordered: bool = True) -> None:
    """Equal lists of resources (with their fields in the same order, unless not ``ordered``); a difference is
    reported field by field."""
    assert [resource.get("id") for resource in got] == [resource.get("id") for resource in expected]
    for one, other in zip(got, expected, strict=True):
        differences = {k: (one.get(k), other.get(k)) for k in one.keys() | other.keys() if one.get(k) != other.get(k)}
        assert not differences, differences
        assert not ordered or list(one) == list(other)  # the API's order of fields
