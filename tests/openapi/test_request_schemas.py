"""The request schemas say what the server accepts, as far as a schema can (a schema checker, schemathesis, sends
what they allow and expects it accepted, and what they refuse and expects it refused): each value below is sent
and its answer compared with what the document's schema says of it."""

from typing import Any

import httpx
from jsonschema import Draft202012Validator

from helpers import Tenant, resources
from openapi_check import request_schema


def _body_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return request_schema(spec, spec["paths"][path][method])


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return Draft202012Validator(schema).is_valid(value)


async def test_a_body_is_required_where_its_schema_has_required_fields(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path.startswith("/v1/") and "requestBody" in operation:
                required = bool(request_schema(spec, operation).get("required"))
                assert operation["requestBody"]["required"] == required, f"{method.upper()} {path}"


DELTAS = ["5", "-2.5", "5.", ".5", "+3", "0.000001", "1.1234560", "99999999", "0001"]
NOT_DELTAS = ["0", "0.0", "-0.000", ".", "", "1e3", "1.1234567", "0.0000001", "1000000000000", "1,5", " 1"]


async def test_the_delta_schema_is_what_the_server_accepts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = (await client.get("/openapi.json")).json()
    path = "/v1/customer_lists/{customer_list_id}/loyalty_cards/{loyalty_card_id}/operations"
    delta = _body_schema(spec, path, "post")["properties"]["delta"]
    api = await tenant.api("location[all_customer_lists.write]")
    url = path.format(**await resources(tenant))
    for value in DELTAS + NOT_DELTAS:
        response = await api.post(url, json={"delta": value})
        assert (response.status_code == 201) == _valid(delta, value) == (value in DELTAS), (value, response.text)


async def test_the_country_schema_is_what_the_server_accepts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = (await client.get("/openapi.json")).json()
    path = "/v1/customer_lists/{customer_list_id}/customers"
    country = _body_schema(spec, path, "post")["properties"]["country"]
    api = await tenant.api("location[all_customer_lists.write]")
    url = path.format(**await resources(tenant))
    accepted = ["FR", "fr", "Gb", "US", "ax"]
    for value in accepted + ["XX", "FRA", "F", "", "uk", "f1"]:
        response = await api.post(url, json={"country": value})
        assert (response.status_code == 201) == _valid(country, value) == (value in accepted), (value, response.text)


async def test_the_callback_events_schema_is_what_the_server_accepts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = (await client.get("/openapi.json")).json()
    events = _body_schema(spec, "/v1/callback", "post")["properties"]["events"]
    api = await tenant.api("location[orders.read]")
    accepted = [{"customer": ["create", "update"]}, {"order": []}, {"inventory": ["update"]}, {"elsewhere": []}]
    refused = [{"customer": ["delete"]}, {"inventory": ["create"]}, {"elsewhere": ["create"]}, {"order": "create"}]
    for value in accepted + refused:
        response = await api.post("/v1/callback", json={"url": None, "events": value})
        assert (response.status_code == 200) == _valid(events, value) == (value in accepted), (value, response.text)
