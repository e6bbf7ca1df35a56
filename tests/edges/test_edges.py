"""The edges of the API (SPEC §1, §2): method override, CORS, media types, ETags, request ids, logs, metrics."""

import json
import socket
from pathlib import Path

import httpx
import pytest

from helpers import Api, Tenant, make_tenant
from live import live_server
from patronage.app import create_app
from patronage.settings import Settings


async def test_method_override_on_post(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list("Before")
    renamed = await api.post(
        f"/v1/customer_lists/{list_id}", json={"name": "After"}, headers={"X-Http-Method-Override": "PATCH"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "After"
    put = await api.post(
        f"/v1/customer_lists/{list_id}", json={"name": "Again"}, headers={"X-Http-Method-Override": "put"}
    )
    assert put.status_code == 200 and put.json()["name"] == "Again"
    deleted = await api.post(f"/v1/customer_lists/{list_id}", headers={"X-Http-Method-Override": "DELETE"})
    assert deleted.status_code == 200
    assert (await api.get(f"/v1/customer_lists/{list_id}")).status_code == 404


async def test_method_override_is_refused_on_get_and_for_other_methods(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    on_get = await api.get(f"/v1/customer_lists/{list_id}", headers={"X-Http-Method-Override": "DELETE"})
    assert on_get.status_code == 400 and on_get.json()["error_type"]
    assert (await api.get(f"/v1/customer_lists/{list_id}")).status_code == 200
    bogus = await api.post(f"/v1/customer_lists/{list_id}", headers={"X-Http-Method-Override": "GET"})
    assert bogus.status_code == 400


async def test_cors_preflight_and_exposed_headers(client: httpx.AsyncClient, tenant: Tenant) -> None:
    preflight = await client.options(
        "/v1/location/customer_lists",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Access-Token, Idempotency-Key, Content-Type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "x-access-token" in allowed and "idempotency-key" in allowed
    api = await tenant.api("location[all_customer_lists.read]")
    response = await api.get("/v1/location/customer_lists", headers={"Origin": "https://shop.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-cursor-next" in response.headers["access-control-expose-headers"].lower()
    # Outside the API (operations, OAuth) there is no CORS.
    health = await client.get("/health", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in health.headers


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"name": "x"}', "text/plain", 415),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b'{"name": ', "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b'"just a string"', "application/json", 422),
        (b"\xff\xfe", "application/json", 400),
    ],
)
async def test_media_types(tenant: Tenant, content: bytes, content_type: str, status: int) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    response = await api.post("/v1/location/customer_lists", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["error_type"] in {"unsupported_media_type", "unprocessable_entity"}
    assert (await api.get("/v1/location/customer_lists")).json() == []


async def test_bodies_over_one_mebibyte_are_413(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    big = json.dumps({"name": "x" * (1024 * 1024)}).encode()
    response = await api.post("/v1/location/customer_lists", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["message"]

    async def chunks():
        for _ in range(20):
            yield b" " * 65536

    streamed = await api.post(
        "/v1/location/customer_lists", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_etags_and_conditional_gets(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list("Regulars")
    first = await api.get(f"/v1/customer_lists/{list_id}")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await api.get(f"/v1/customer_lists/{list_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    index = await api.get("/v1/location/customer_lists")
    assert (
        await api.get("/v1/location/customer_lists", headers={"If-None-Match": index.headers["etag"]})
    ).status_code == 304
    await api.patch(f"/v1/customer_lists/{list_id}", json={"name": "Renamed"})
    changed = await api.get(f"/v1/customer_lists/{list_id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_every_response_has_a_request_id(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for response in (
        await client.get("/health"),
        await client.get("/v1/nowhere"),
        await Api(client, "bad").get("/v1/location"),
    ):
        assert response.headers["x-request-id"]
    echoed = await client.get("/health", headers={"X-Request-Id": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"


async def test_access_logs_are_json_without_tokens(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(settings.model_copy(update={"access_log": True}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            tenant = await make_tenant(app.state.db, http)
            api = await tenant.api("location[all_customer_lists.read]")
            assert (await api.get("/v1/location/customer_lists")).status_code == 200
            assert (await api.get("/v1/customer_lists/nope?email=a*")).status_code == 404
            token = api.token
    finally:
        await app.state.db.dispose()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) >= 2
    assert {"method", "path", "status", "duration_ms", "connection_id", "request_id"} <= set(requests[0])
    assert requests[0]["path"] == "/v1/location/customer_lists" and requests[0]["connection_id"]
    assert requests[1]["path"] == "/v1/customer_lists/{customer_list_id}" and requests[1]["status"] == 404
    assert token not in json.dumps(lines)


async def test_a_served_process_writes_only_json_lines_and_no_token(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    """Everything ``patronage serve`` prints, uvicorn's own messages included, parses as JSON."""
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        token = await (await make_tenant(app.state.db, http)).token("location[all_customer_lists.read]")
    await app.state.db.dispose()
    output = tmp_path / "server.log"
    with live_server(database_url, workers=2, env={"PATRONAGE_ACCESS_LOG": "true"}, output=output) as base:
        async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}) as http:
            assert (await http.get("/v1/location/customer_lists")).status_code == 200
            assert (await http.get(f"/v1/customer_lists/{token}")).status_code == 404
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # uvicorn itself warns about this one
            raw.recv(1024)
    text = output.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(line.get("logger", "").startswith("uvicorn") for line in lines)
    paths = {line["path"] for line in lines if line.get("event") == "request"}
    assert {"/v1/location/customer_lists", "/v1/customer_lists/{customer_list_id}"} <= paths
    assert token not in text


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"access_log": True}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            before = (await http.get("/metrics")).text
            await http.get("/health")
            after = (await http.get("/metrics")).text
    finally:
        await app.state.db.dispose()

    def count(text: str) -> float:
        for line in text.splitlines():
            if line.startswith("patronage_http_requests_total{") and 'route="/health"' in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    assert count(after) == count(before) + 1
    assert "patronage_http_request_duration_seconds_bucket" in after


async def test_nul_characters_anywhere_are_clear_errors_never_500(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    for path in (
        f"{base}/customers/%00",
        f"{base}/loyalty_cards/ab%00c",
        "/v1/locations/%00/orders",
        "/v1/callback/events/%00",
    ):
        response = await api.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error_type"] == "not_found"
    filtered = await api.get(f"{base}/customers", params={"email": "a\x00*"})
    assert filtered.status_code == 422
    assert filtered.json()["errors"][0]["field"] == "email"
    created = await api.post(
        f"{base}/customers", json={"first_name": "Ann", "custom_fields": {"notes": ["ok", "b\x00"]}}
    )
    assert created.status_code == 422
    assert created.json()["errors"] == [{"field": "custom_fields.notes.1", "message": "must not hold a NUL character"}]
    order = await api.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new", "ref": "\x00"})
    assert order.status_code == 422
    assert (await api.get(f"{base}/customers")).json() == []  # nothing was written


async def test_deeply_nested_bodies_are_422_never_500(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    deep: object = "leaf"
    for _ in range(600):
        deep = {"k": deep}
    order = await api.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new", "custom_fields": deep})
    assert order.status_code == 422
    assert order.json()["errors"][0]["field"] == "custom_fields"


def _nested(levels: int) -> object:
    """A value nesting ``levels`` objects and arrays (alternately; the outermost an object)."""
    value: object = "leaf"
    for level in range(levels, 0, -1):
        value = {"k": value} if level % 2 else [value]
    return value


async def test_one_nesting_limit_for_every_body_field_custom_fields_included(tenant: Tenant) -> None:
    """A field's value may nest 32 levels (README, API notes): 32 is accepted, 33 is a 422 naming the field, for
    custom fields (customers and orders) and any other field alike."""
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    customers = f"/v1/customer_lists/{await tenant.customer_list()}/customers"
    orders = f"/v1/locations/{tenant.location_id}/orders"
    deepest = _nested(32)
    customer = await api.post(customers, json={"custom_fields": deepest})
    assert customer.status_code == 201, customer.text
    assert customer.json()["custom_fields"] == deepest
    order = await api.post(orders, json={"status": "new", "custom_fields": deepest})
    assert order.status_code == 201, order.text
    assert order.json()["custom_fields"] == deepest
    too_deep = _nested(33)
    for method, path, body, field in (
        ("POST", customers, {"custom_fields": too_deep}, "custom_fields"),
        ("PATCH", f"{customers}/{customer.json()['id']}", {"custom_fields": too_deep}, "custom_fields"),
        ("POST", orders, {"status": "new", "custom_fields": too_deep}, "custom_fields"),
        ("POST", customers, {"first_name": too_deep}, "first_name"),
        ("POST", orders, {"status": "new", "items": [_nested(32)]}, "items"),
    ):
        response = await api.request(method, path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"] == [{"field": field, "message": "may not nest more than 32 levels deep"}]
    assert [c["id"] for c in (await api.get(customers)).json()] == [customer.json()["id"]]
    assert [o["id"] for o in (await api.get(orders)).json()] == [order.json()["id"]]


async def test_a_405_lists_every_method_of_the_path(tenant: Tenant) -> None:
    api = await tenant.api("account[all_customer_lists.write]")
    response = await api.request("OPTIONS", "/v1/account/customer_lists")
    assert response.status_code == 405
    assert response.json()["error_type"] == "routing_error"
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
