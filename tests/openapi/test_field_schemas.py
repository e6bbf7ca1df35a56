"""Field by field, the document's request schemas and the server agree (what schemathesis checks, with its
positive and negative data): each value below is sent, and whether the server accepts it is compared with what
the document's schema says of it and with what the table expects. The document is read with exact decimals, so
that ``multipleOf: 1e-06`` is checked exactly, as schemathesis does."""

import json
from decimal import Decimal
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from helpers import Api, Tenant, resources
from openapi_check import request_schema


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    return json.loads((await client.get("/openapi.json")).text, parse_float=Decimal)


def _inlined(spec: dict[str, Any], schema: Any) -> Any:
    """``schema`` with its ``#/components/...`` references replaced by what they name."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            target: Any = spec
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inlined(spec, target)
        return {key: _inlined(spec, value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(spec, item) for item in schema]
    return schema


def _body(spec: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    return _inlined(spec, request_schema(spec, spec["paths"][path][method]))


def _parameter(spec: dict[str, Any], path: str, name: str, method: str = "get") -> dict[str, Any]:
    return next(p["schema"] for p in spec["paths"][path][method]["parameters"] if p["name"] == name)


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return Draft202012Validator(schema).is_valid(value)


def number(text: str) -> Decimal:
    """A JSON number, sent as written (not through a float)."""
    return Decimal(text)


async def _send(api: Api, method: str, url: str, body: Any) -> httpx.Response:
    text = json.dumps(body, default=lambda n: f"__n__{n}__n__").replace('"__n__', "").replace('__n__"', "")
    return await api.request(method, url, content=text, headers={"Content-Type": "application/json"})


async def _agree(api: Api, method: str, url: str, schema: dict[str, Any], cases: list[tuple[Any, bool]], body) -> None:
    """For each (value, expected): the server accepts ``body(value)`` == the schema allows ``value`` == expected."""
    for value, expected in cases:
        response = await _send(api, method, url, body(value))
        accepted = response.status_code < 300
        assert accepted == _valid(schema, value) == expected, (value, response.status_code, response.text[:300])


async def _agree_on_query(api: Api, url: str, name: str, schema: dict[str, Any], cases: list[tuple[Any, bool]]) -> None:
    """For each (value, expected): ``GET url?name=value`` answers 200 == the schema allows it == expected."""
    for value, expected in cases:
        response = await api.get(url, params={name: value})
        assert (response.status_code == 200) == _valid(schema, value) == expected, (value, response.text[:300])


async def test_count_bounds_are_minimum_and_maximum(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    count = _parameter(spec, "/v1/location/customer_lists", "count")
    assert (count["minimum"], count["maximum"]) == (1, 100)
    api = await tenant.api("location[all_customer_lists.read]")
    cases = [(0, False), (1, True), (100, True), (101, False)]
    await _agree_on_query(api, "/v1/location/customer_lists", "count", count, cases)


async def test_a_delta_may_be_a_json_number(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    path = "/v1/customer_lists/{customer_list_id}/loyalty_cards/{loyalty_card_id}/operations"
    delta = _body(spec, path)["properties"]["delta"]
    api = await tenant.api("location[all_customer_lists.write]")
    cases = [
        (number("5"), True),
        (number("-2.5"), True),
        (number("0.000001"), True),
        (number("-99999.999999"), True),
        (number("0"), False),
        (number("0.0"), False),
        (number("0.0000001"), False),
        (number("1E+12"), False),
        (number("-1000000000000"), False),
    ]
    url = path.format(**await resources(tenant))
    await _agree(api, "POST", url, delta, cases, lambda value: {"delta": value})


async def test_a_list_name_is_not_blank_and_255_characters_once_trimmed(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    spec = await _document(client)
    name = _body(spec, "/v1/location/customer_lists")["properties"]["name"]
    api = await tenant.api("location[all_customer_lists.write]")
    cases = [
        ("Online", True),
        ("  Two words  ", True),
        ("\u3000é\u3000", True),
        (" " + "x" * 255 + "\t", True),
        ("", False),
        ("   ", False),
        ("\x1c\u2028", False),  # what str.strip() removes, beyond a regular expression's \s
        ("x" * 256, False),
        ("a\u0000b", False),
    ]
    await _agree(api, "POST", "/v1/location/customer_lists", name, cases, lambda value: {"name": value})


async def test_coordinates_are_strings_or_numbers_within_their_range(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    path = "/v1/customer_lists/{customer_list_id}/customers"
    latitude = _body(spec, path)["properties"]["latitude"]
    api = await tenant.api("location[all_customer_lists.write]")
    cases = [
        ("48.8589507", True),
        ("-90", True),
        ("+90.000", True),
        ("0." + "0" * 25 + "1", True),
        (number("45.5"), True),
        (number("-90"), True),
        ("90.1", False),
        ("-91", False),
        ("1e2", False),
        (number("90.5"), False),
        (number("1E-85"), False),
    ]
    url = path.format(customer_list_id=await tenant.customer_list())
    await _agree(api, "POST", url, latitude, cases, lambda value: {"latitude": value})


def _order(item: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    item = {"product_name": "Burger", "price": "9.50 EUR", "quantity": "1", **(item or {})}
    return {"status": "new", "items": [item], **fields}


def _items_schema(spec: dict[str, Any]) -> dict[str, Any]:
    items = _body(spec, "/v1/location/orders")["properties"]["items"]
    return next(branch for branch in items["anyOf"] if branch.get("type") == "array")["items"]


async def test_order_item_decimals_and_amounts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    item = _items_schema(spec)["properties"]
    api = await tenant.api("location[orders.write]")
    tax_rate = [("20.0", True), (number("5.5"), True), (number("0"), True), ("100", True)]
    tax_rate += [("100.5", False), ("-1", False), (number("101"), False), ("5.1234567", False)]
    await _agree(api, "POST", "/v1/location/orders", item["tax_rate"], tax_rate, lambda v: _order({"tax_rate": v}))
    quantity = [("0.5", True), (number("2"), True), ("999999999", True), ("0", False), ("1000000000", False)]
    await _agree(api, "POST", "/v1/location/orders", item["quantity"], quantity, lambda v: _order({"quantity": v}))
    price = [("9.50 EUR", True), ("-1.00 EUR", True), ("0009.5 EUR", True)]
    price += [("9.50EUR", False), ("9.50", False), ("1000000000000 EUR", False), ("9,50 EUR", False)]
    await _agree(api, "POST", "/v1/location/orders", item["price"], price, lambda v: _order({"price": v}))
    option = item["options"]["anyOf"][0]["items"]["properties"]["quantity"]
    options = [(2, True), ("3", True), ("2.0", True), (0, False), ("2.5", False), (1_000_000_000, False)]
    await _agree(
        api,
        "POST",
        "/v1/location/orders",
        option,
        options,
        lambda v: _order({"options": [{"name": "Egg", "quantity": v}]}),
    )


async def test_a_deal_lines_pricing_value_follows_its_pricing_effect(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    deal_line = _items_schema(spec)["properties"]["deal_line"]["anyOf"][0]
    api = await tenant.api("location[orders.write]")
    cases = [
        ({"pricing_effect": "fixed_price", "pricing_value": "5.00 EUR"}, True),
        ({"pricing_effect": "percentage_off", "pricing_value": "30"}, True),
        ({"pricing_effect": "unchanged"}, True),
        ({}, True),
        ({"pricing_effect": "fixed_price"}, False),
        ({"pricing_effect": "percentage_off", "pricing_value": "5.00 EUR"}, False),
        ({"pricing_effect": "unchanged", "pricing_value": "30"}, False),
        ({"pricing_value": "5.00 EUR"}, False),
    ]
    cases = [({"deal_key": "menu", **line}, expected) for line, expected in cases]
    deals = {"menu": {"name": "Menu"}}
    await _agree(api, "POST", "/v1/location/orders", deal_line, cases, lambda v: _order({"deal_line": v}, deals=deals))


async def test_a_location_update_says_its_clock_times_hours_and_templates(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    spec = await _document(client)
    update = _body(spec, "/v1/location", "patch")["properties"]
    api = await tenant.api("location[orders.write]")
    cutoff = [("06:00", True), ("23:59", True), ("24:00", False), ("6:00", False), ("06:60", False)]
    await _agree(api, "PATCH", "/v1/location", update["cutoff_time"], cutoff, lambda v: {"cutoff_time": v})
    slot = [{"from": "10:00", "to": "12:00"}]
    hours = [({"monday": slot}, True), ({"monday": [], "friday": slot}, True), (None, True)]
    hours += [({}, False), ({"monday": []}, False), ({"monday": None}, False)]
    await _agree(api, "PATCH", "/v1/location", update["opening_hours"], hours, lambda v: {"opening_hours": v})
    templates = [
        ({"mode": "online"}, True),
        ({"mode": "busy", "extra_preparation_time": 10, "resume_at": "2030-06-04T19:30:00+02:00"}, True),
        ({"mode": "paused", "reason": "Closed", "resume_at": None}, True),
        ({"mode": "online", "reason": None}, False),
        ({"mode": "busy"}, False),
        ({"mode": "busy", "extra_preparation_time": None}, False),
        ({"mode": "busy", "extra_preparation_time": 10, "reason": "x"}, False),
        ({"mode": "paused", "extra_preparation_time": 5}, False),
    ]
    acceptance = update["order_acceptance"]
    await _agree(api, "PATCH", "/v1/location", acceptance, templates, lambda v: {"order_acceptance": v})


async def test_times_are_refused_outside_the_years_2_to_9998(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """A time in year 1 or 9999 may not survive a move to UTC or to a time zone: these were 500s."""
    spec = await _document(client)
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    times = [
        ("2020-06-25T11:43:51+02:00", True),
        ("0002-01-01T00:00:00+14:00", True),
        ("9998-12-31T23:59:59-12:00", True),
        ("0001-01-01T00:00:00+01:00", False),
        ("9999-12-31T23:59:59-01:00", False),
    ]
    expected_time = _body(spec, "/v1/location/orders")["properties"]["expected_time"]
    await _agree(api, "POST", "/v1/location/orders", expected_time, times, lambda v: _order(expected_time=v))
    resume_at = _body(spec, "/v1/location", "patch")["properties"]["order_acceptance"]["oneOf"][2]["properties"]
    resume_at = resume_at["resume_at"]
    paused = [(value, expected) for value, expected in times if value != "2020-06-25T11:43:51+02:00"]
    await _agree(
        api,
        "PATCH",
        "/v1/location",
        resume_at,
        paused,
        lambda v: {"order_acceptance": {"mode": "paused", "resume_at": v}},
    )
    ids = await resources(tenant)
    as_of = _parameter(spec, "/v1/customer_lists/{customer_list_id}/loyalty_cards/{loyalty_card_id}", "as_of")
    after = _parameter(spec, "/v1/location/orders", "after")
    card_url = "/v1/customer_lists/{customer_list_id}/loyalty_cards/{loyalty_card_id}".format(**ids)
    await _agree_on_query(
        api, "/v1/location/orders", "after", after, times + [("0001-01-01", False), ("2020-06-25", True)]
    )
    await _agree_on_query(api, card_url, "as_of", as_of, times)


async def test_the_status_filter_names_the_statuses(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    status = _parameter(spec, "/v1/location/orders", "status")
    api = await tenant.api("location[orders.read]")
    cases = [("new", True), ("delivery_failed", True), ("done", False), ("NEW", False)]
    await _agree_on_query(api, "/v1/location/orders", "status", status, cases)


async def test_a_programme_says_its_rate_thresholds_statuses_and_ref(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    path = "/v1/customer_lists/{customer_list_id}/loyalty_programmes/{ref}"
    programme = _body(spec, path, "put")["properties"]
    api = await tenant.api("location[all_customer_lists.write]")
    url = path.format(customer_list_id=await tenant.customer_list(), ref="LOY")
    rates = [("1", True), ("-0", True), (number("999999.999999"), True), ("-1", False), ("1000000", False)]
    await _agree(api, "PUT", url, programme["points_per_unit"], rates, lambda v: {"points_per_unit": v})
    statuses = [(["completed"], True), (["new", "accepted"], True)]
    statuses += [(["cancelled"], False), (["completed", "completed"], False), (["done"], False)]
    await _agree(
        api,
        "PUT",
        url,
        programme["earning_statuses"],
        statuses,
        lambda v: {"points_per_unit": "1", "earning_statuses": v},
    )
    threshold = programme["tiers"]["items"]["properties"]["threshold"]
    thresholds = [("500", True), (number("0"), True), ("-5", False)]
    await _agree(
        api,
        "PUT",
        url,
        threshold,
        thresholds,
        lambda v: {"points_per_unit": "1", "tiers": [{"name": "Gold", "threshold": v}]},
    )
    ref = _parameter(spec, path, "ref", "put")
    for value, expected in [("x" * 255, True), ("~~" + "x" * 255, True), ("~", True), ("x" * 256, False)]:
        answer = await api.put(
            path.format(customer_list_id=url.split("/")[3], ref=value), json={"points_per_unit": "1"}
        )
        assert (answer.status_code == 200) == _valid(ref, value) == expected, (len(value), answer.text)


async def test_a_callback_url_with_a_bad_port_or_bracket_is_a_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """urlsplit's ValueError on these was a 500."""
    spec = await _document(client)
    url_schema = _body(spec, "/v1/callback")["properties"]["url"]
    api = await tenant.api("location[orders.read]")
    for value in ["http://example.com:99999/events", "http://example.com:port/", "http://[::1/events"]:
        response = await api.post("/v1/callback", json={"url": value, "events": {}})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "url", response.text
    for value in ["http://exa mple.com/", "http://example.com/\u0085", "http://\u0000"]:
        response = await api.post("/v1/callback", json={"url": value, "events": {}})
        assert response.status_code == 422 and not _valid(url_schema, value), (value, response.text)


async def test_request_strings_say_that_a_nul_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    spec = await _document(client)
    path = "/v1/customer_lists/{customer_list_id}/customers"
    customer = _body(spec, path)
    api = await tenant.api("location[all_customer_lists.write]")
    url = path.format(customer_list_id=await tenant.customer_list())
    cases = [
        ({"first_name": "Ann"}, True),
        ({"custom_fields": {"tier": "gold"}}, True),
        ({"first_name": "A\u0000nn"}, False),
        ({"custom_fields": {"ti\u0000er": "gold"}}, False),
    ]
    await _agree(api, "POST", url, customer, cases, lambda value: value)
    cursor = _parameter(spec, path, "cursor")
    assert not _valid(cursor, "a\u0000") and _valid(cursor, "abc")
    assert (await api.get(url, params={"cursor": "a\u0000"})).status_code == 422
