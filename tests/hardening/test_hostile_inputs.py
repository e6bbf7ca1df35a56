"""Hostile input on every field of every endpoint the OpenAPI document describes: never a 5xx.

For each operation, real ids of a prepared tenant fill the path; then every top-level body field, every query
parameter and every path parameter gets, one at a time, values a fuzzer or an attacker sends: lone
surrogates, NULs, non-finite and enormous numbers, deep nesting, wrong types, invalid UTF-8. Whatever the
answer, it must be a 4xx (or a success) in the contract's error JSON, and the server must go on answering.
"""

import json
import re
from typing import Any

import httpx
import pytest

from helpers import Tenant
from openapi_check import request_schema

# Raw JSON texts: json.dumps cannot write these values, a hostile client can.
RAW_VALUES = [
    '"\\ud800"',
    '"a\\udfffb"',
    '"\\u0000"',
    "1e400",
    "-1e400",
    "0.1e1000",
    "1" + "0" * 400,
    "-0",
    '"NaN"',
    '"Infinity"',
    '"1_000"',
    '"\\u0661\\u0662"',
    '" 12 "',
    "true",
    "null",
    "[]",
    "{}",
    '{"a": {"b": {"c": 1e400}}}',
    '{"\\ud800": 1}',
    "[" * 70 + "]" * 70,
    '"' + "x" * 70_000 + '"',
]
PATH_VALUES = ["%00", "%ED%A0%80", "%FF", "x" * 300, "..", "%2F"]
# Already percent-encoded, as they travel: a lone surrogate's UTF-8 bytes, NUL, a byte that is no UTF-8...
QUERY_VALUES = ["%ED%A0%80", "%00", "%FF", "1e400", "-1", "0", "999999999999999999999", "%25", "%", "*" * 300]

FULL_LOCATION_SCOPE = "location[all_customer_lists.write,orders.write]"
FULL_ACCOUNT_SCOPE = "account[all_customer_lists.write,orders.write]"


async def _fixtures(tenant: Tenant, http: httpx.AsyncClient) -> dict[str, str]:
    headers = {"X-Access-Token": await tenant.token(FULL_LOCATION_SCOPE)}
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    customer = (await http.post(f"{base}/customers", json={"email": "h@example.com"}, headers=headers)).json()
    card = (await http.post(f"{base}/loyalty_cards", json={"customer_id": customer["id"]}, headers=headers)).json()
    operation = (
        await http.post(f"{base}/loyalty_cards/{card['id']}/operations", json={"delta": "5"}, headers=headers)
    ).json()
    order = (
        await http.post(
            f"/v1/locations/{tenant.location_id}/orders",
            json={"status": "new", "customer_id": customer["id"]},
            headers=headers,
        )
    ).json()
    return {
        "customer_list_id": list_id,
        "customer_id": customer["id"],
        "loyalty_card_id": card["id"],
        "operation_id": operation["id"],
        "order_id": order["id"],
        "location_id": tenant.location_id,
        "account_id": tenant.account_id,
        "event_id": "nothing",
    }


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    ]


def _fill(path: str, ids: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if hostile is not None and hostile[0] == name:
            return hostile[1]
        return ids.get(name, "unknown")

    return re.sub(r"\{([^}]+)\}", value, path)


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    return list(request_schema(document, operation).get("properties", {}))


def _assert_sane(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400 and response.status_code != 405:
        body = response.json()
        assert set(body) >= {"message", "error_type"}, f"{what}: {body}"


@pytest.mark.parametrize("scope", [FULL_LOCATION_SCOPE, FULL_ACCOUNT_SCOPE])
async def test_no_hostile_value_anywhere_answers_5xx(
    tenant: Tenant, client: httpx.AsyncClient, app: Any, scope: str
) -> None:
    ids = await _fixtures(tenant, client)
    token = await tenant.token(scope)
    headers = {"X-Access-Token": token, "Content-Type": "application/json"}
    checked = 0
    for method, template, operation in _operations(app.openapi()):
        path = _fill(template, ids)
        for field in _body_fields(app.openapi(), operation) if method in ("POST", "PATCH", "PUT") else []:
            for raw in RAW_VALUES:
                body = '{"' + field + '": ' + raw + "}"
                response = await client.request(method, path, content=body.encode(), headers=headers)
                _assert_sane(response, f"{method} {template} {field}={raw[:40]}")
                checked += 1
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                for value in QUERY_VALUES:
                    response = await client.request(method, f"{path}?{parameter['name']}={value}", headers=headers)
                    _assert_sane(response, f"{method} {template} ?{parameter['name']}={value[:40]!r}")
                    checked += 1
            if parameter["in"] == "path":
                for value in PATH_VALUES:
                    hostile_path = _fill(template, ids, (parameter["name"], value))
                    response = await client.request(method, hostile_path, headers=headers)
                    _assert_sane(response, f"{method} {hostile_path[:80]}")
                    checked += 1
        if method in ("POST", "PATCH", "PUT"):
            for raw_body in (b"\xff\xfe{}", b'{"a": "\xff"}', b"[" * 100_000, b"{" + b'"a":1,' * 50_000 + b'"b":2}'):
                response = await client.request(method, path, content=raw_body, headers=headers)
                _assert_sane(response, f"{method} {template} raw {raw_body[:20]!r}")
                checked += 1
    assert checked > 1000
    assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/location/customer_lists", "name"),
        ("{list}/loyalty_cards", "customer_id"),
        ("{card}/operations", "order_id"),
        ("{list}/customers", "custom_fields.note"),
    ],
)
async def test_a_lone_surrogate_is_a_422_naming_the_field(
    tenant: Tenant, client: httpx.AsyncClient, path: str, field: str
) -> None:
    ids = await _fixtures(tenant, client)
    headers = {"X-Access-Token": await tenant.token(FULL_LOCATION_SCOPE), "Content-Type": "application/json"}
    base = f"/v1/customer_lists/{ids['customer_list_id']}"
    path = path.format(list=base, card=f"{base}/loyalty_cards/{ids['loyalty_card_id']}")
    body = {"delta": "1"} if path.endswith("/operations") else {}
    parts = field.split(".")
    raw = json.dumps(body)[:-1].lstrip("{")
    inner = '"\\ud800"' if len(parts) == 1 else '{"' + parts[1] + '": "\\ud800"}'
    text = "{" + (raw + ", " if raw else "") + f'"{parts[0]}": {inner}' + "}"
    response = await client.post(path, content=text.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    # And the connection is fine afterwards.
    assert (await client.get(f"{base}/customers", headers=headers)).status_code == 200
