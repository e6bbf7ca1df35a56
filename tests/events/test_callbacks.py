"""Callbacks and passive events (SPEC §9): subscribing, who receives which event, states, acknowledging."""

from typing import Any

import pytest

from helpers import Api, Tenant

WRITER = "location[orders.write,all_customer_lists.write]"
READER = "location[orders.read,all_customer_lists.read]"
ALL_EVENTS = {"customer": ["create", "update"], "order": ["create", "update"]}


async def _subscribe(api: Api, events: dict[str, list[str]] | None = None, url: str | None = None) -> None:
    response = await api.post("/v1/callback", json={"url": url, "events": events or ALL_EVENTS})
    assert response.status_code == 200, response.text


async def _events(api: Api) -> list[dict[str, Any]]:
    response = await api.get("/v1/callback/events")
    assert response.status_code == 200, response.text
    return response.json()


async def _event(api: Api, event_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/callback/events/{event_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def _customer(api: Api, list_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/v1/customer_lists/{list_id}/customers", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def _order(api: Api, location_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/v1/locations/{location_id}/orders", json={"status": "new", **fields})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def pair(tenant: Tenant) -> tuple[Api, Api, str]:
    """A writer and a subscriber of two different clients on one location, and a list they share."""
    list_id = await tenant.customer_list()
    writer = await tenant.api(WRITER)
    listener = await tenant.api(READER, client_id=await tenant.new_client("Loyalty app"))
    await _subscribe(listener)
    return writer, listener, list_id


async def test_callback_is_created_read_replaced_and_deleted(tenant: Tenant) -> None:
    api = await tenant.api(READER)
    assert (await api.get("/v1/callback")).json() == {"url": None, "events": {}}

    created = await api.post("/v1/callback", json={"url": None, "events": {"customer": ["create"]}})
    assert created.status_code == 200
    assert created.json() == {"url": None, "events": {"customer": ["create"]}}
    assert (await api.get("/v1/callback")).json() == created.json()

    replaced = await api.post("/v1/callback", json={"url": "https://example.com/hook", "events": {"order": ["update"]}})
    assert replaced.json() == {"url": "https://example.com/hook", "events": {"order": ["update"]}}
    assert (await api.get("/v1/callback")).json() == replaced.json()

    deleted = await api.delete("/v1/callback")
    assert deleted.status_code == 200
    assert deleted.json() == replaced.json()
    assert (await api.get("/v1/callback")).json() == {"url": None, "events": {}}
    again = await api.delete("/v1/callback")
    assert (again.status_code, again.json()) == (200, {"url": None, "events": {}})


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": None}, "events"),
        ({"url": None, "events": {"customer": ["delete"]}}, "events.customer"),
        ({"url": None, "events": {"spaceship": ["create"]}}, "events.spaceship"),
        ({"url": None, "events": {"customer": "create"}}, "events.customer"),
        ({"url": None, "events": ["customer.create"]}, "events"),
        ({"url": 42, "events": ALL_EVENTS}, "url"),
        ({"url": "ftp://example.com/hook", "events": ALL_EVENTS}, "url"),
        ({"url": "not a url", "events": ALL_EVENTS}, "url"),
        ({"url": "http://127.0.0.1:8080/hook", "events": ALL_EVENTS}, "url"),
        ({"url": "http://10.1.2.3/hook", "events": ALL_EVENTS}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data", "events": ALL_EVENTS}, "url"),
        ({"url": "http://[::1]/hook", "events": ALL_EVENTS}, "url"),
        ({"url": "http://localhost/hook", "events": ALL_EVENTS}, "url"),
        ({"url": "hTTPS://\u008du\u001b", "events": ALL_EVENTS}, "url"),  # a host IDNA cannot encode
        ({"url": "https://exa\tmple.com/hook", "events": ALL_EVENTS}, "url"),
        ({"url": "https://" + "a" * 64 + ".com/hook", "events": ALL_EVENTS}, "url"),  # a label over 63
        ({"url": None, "events": ALL_EVENTS, "secret": "x"}, "secret"),
    ],
)
async def test_bad_callbacks_are_refused_and_change_nothing(tenant: Tenant, body: dict, field: str) -> None:
    api = await tenant.api(READER)
    await _subscribe(api, {"order": ["create"]})
    response = await api.post("/v1/callback", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error_type"] == "unprocessable_entity"
    assert field in {error["field"] for error in response.json()["errors"]}
    assert (await api.get("/v1/callback")).json() == {"url": None, "events": {"order": ["create"]}}


async def test_events_hubrise_knows_but_never_fires_are_accepted(tenant: Tenant) -> None:
    api = await tenant.api(READER)
    response = await api.post("/v1/callback", json={"events": {"catalog": ["update"], "inventory": ["update"]}})
    assert response.status_code == 200
    assert response.json()["url"] is None


async def test_customer_create_and_update_reach_the_subscriber_not_the_writer(pair: tuple[Api, Api, str]) -> None:
    writer, listener, list_id = pair
    await _subscribe(writer)  # the writer listens too, and must not hear itself
    customer = await _customer(writer, list_id, first_name="Ada", email="ada@example.com")
    updated = await writer.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"city": "Paris"})
    assert updated.status_code == 200

    assert await _events(writer) == []
    index = await _events(listener)
    assert [(e["resource_type"], e["event_type"]) for e in index] == [("customer", "create"), ("customer", "update")]
    assert all("new_state" not in e and "previous_state" not in e for e in index)
    assert {e["customer_id"] for e in index} == {customer["id"]}
    assert {e["customer_list_id"] for e in index} == {list_id}

    created = await _event(listener, index[0]["id"])
    assert "previous_state" not in created
    assert created["new_state"]["first_name"] == "Ada"
    assert created["new_state"]["city"] is None
    changed = await _event(listener, index[1]["id"])
    assert changed["previous_state"]["city"] is None
    assert changed["new_state"]["city"] == "Paris"
    assert (
        changed["new_state"] == (await listener.get(f"/v1/customer_lists/{list_id}/customers/{customer['id']}")).json()
    )
    assert changed["created_at"].endswith(("+01:00", "+02:00"))  # the location's time zone (Paris)


async def test_states_show_each_subscriber_its_own_private_ref(tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    writer = await tenant.api(WRITER)
    listener_client = await tenant.new_client("Loyalty app")
    listener = await tenant.api("location[all_customer_lists.write]", client_id=listener_client)
    customer = await _customer(writer, list_id, first_name="Bo", private_ref="POS-1")
    await listener.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"private_ref": "APP-1"})
    await _subscribe(listener)

    await writer.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"private_ref": "POS-2"})
    [event] = await _events(listener)
    detail = await _event(listener, event["id"])
    assert detail["previous_state"]["private_ref"] == "APP-1"
    assert detail["new_state"]["private_ref"] == "APP-1"


async def test_only_subscribed_event_types_are_recorded(tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    writer = await tenant.api(WRITER)
    listener = await tenant.api(READER, client_id=await tenant.new_client("Loyalty app"))
    await _subscribe(listener, {"customer": ["update"]})
    customer = await _customer(writer, list_id, first_name="Cy")
    await _order(writer, tenant.location_id)
    assert await _events(listener) == []
    await writer.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"first_name": "Cyd"})
    assert [e["event_type"] for e in await _events(listener)] == ["update"]


async def test_events_go_only_to_connections_that_can_read_the_resource(tenant: Tenant, other_tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    other_list_id = await tenant.customer_list()
    writer = await tenant.api(WRITER)
    app_client = await tenant.new_client("Loyalty app")
    bound = await tenant.api("location[customer_list.read]", customer_list_id=other_list_id, client_id=app_client)
    other_location = await tenant.api(READER, location_id=tenant.other_location_id, client_id=app_client)
    orders_only = await tenant.api("location[orders.read]", client_id=app_client)
    lists_only = await tenant.api("location[all_customer_lists.read]", client_id=app_client)
    stranger = await other_tenant.api(READER)
    for api in (bound, other_location, orders_only, lists_only, stranger):
        await _subscribe(api)

    await _customer(writer, list_id, first_name="Di")
    await _order(writer, tenant.location_id)

    assert await _events(bound) == []  # bound to another list
    assert await _events(stranger) == []  # another account
    assert await _events(other_location) == []  # a location list of another location, an order elsewhere
    assert [e["resource_type"] for e in await _events(orders_only)] == ["order"]
    assert [e["resource_type"] for e in await _events(lists_only)] == ["customer"]


async def test_order_events_carry_order_states(pair: tuple[Api, Api, str], tenant: Tenant) -> None:
    writer, listener, list_id = pair
    customer = await _customer(writer, list_id, first_name="Eve")
    order = await _order(writer, tenant.location_id, customer_id=customer["id"], private_ref="O-1")
    response = await writer.patch(
        f"/v1/locations/{tenant.location_id}/orders/{order['id']}", json={"status": "accepted"}
    )
    assert response.status_code == 200

    order_events = [e for e in await _events(listener) if e["resource_type"] == "order"]
    assert [e["event_type"] for e in order_events] == ["create", "update"]
    assert {(e["order_id"], e["location_id"]) for e in order_events} == {(order["id"], tenant.location_id)}
    update = await _event(listener, order_events[1]["id"])
    assert update["previous_state"]["status"] == "new"
    assert update["new_state"]["status"] == "accepted"
    assert update["new_state"]["private_ref"] is None  # the writer's private ref is not the listener's
    assert update["new_state"]["total"] == order["total"]


async def test_anonymising_fires_an_update_for_the_customer_and_each_order(
    pair: tuple[Api, Api, str], tenant: Tenant
) -> None:
    writer, listener, list_id = pair
    customer = await _customer(writer, list_id, first_name="Fay", email="fay@example.com")
    first = await _order(writer, tenant.location_id, customer_id=customer["id"])
    second = await _order(writer, tenant.location_id, customer_id=customer["id"])
    await _order(writer, tenant.location_id)  # a guest order: untouched
    seen = {e["id"] for e in await _events(listener)}

    response = await writer.post(f"/v1/customer_lists/{list_id}/customers/{customer['id']}/anonymise")
    assert response.status_code == 200
    fresh = [e for e in await _events(listener) if e["id"] not in seen]
    assert sorted((e["resource_type"], e.get("order_id")) for e in fresh) == sorted(
        [("customer", None), ("order", first["id"]), ("order", second["id"])]
    )
    for event in fresh:
        detail = await _event(listener, event["id"])
        assert detail["event_type"] == "update"
        # Erasure reaches the events too (tests/customers/test_erasure.py): both states show the anonymised
        # customer, the previous one with its other fields as they were.
        if event["resource_type"] == "customer":
            assert detail["previous_state"]["email"] is None and detail["previous_state"]["id"] == customer["id"]
            assert detail["new_state"]["email"] is None
            assert detail["new_state"]["anonymised"] is True
        else:
            assert detail["previous_state"]["customer"]["first_name"] is None
            assert detail["previous_state"]["id"] == event["order_id"]
            assert detail["new_state"]["customer"]["first_name"] is None

    again = await writer.post(f"/v1/customer_lists/{list_id}/customers/{customer['id']}/anonymise")
    assert again.status_code == 200
    assert len(await _events(listener)) == len(seen) + 3  # a second anonymisation changes nothing


async def test_events_are_acknowledged_one_by_one_and_stay_private(pair: tuple[Api, Api, str], tenant: Tenant) -> None:
    writer, listener, list_id = pair
    await _customer(writer, list_id, first_name="Gil")
    await _customer(writer, list_id, first_name="Hal")
    first, second = await _events(listener)

    assert (await writer.get(f"/v1/callback/events/{first['id']}")).status_code == 404
    assert (await writer.delete(f"/v1/callback/events/{first['id']}")).status_code == 404

    acknowledged = await listener.delete(f"/v1/callback/events/{first['id']}")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["id"] == first["id"]
    assert [e["id"] for e in await _events(listener)] == [second["id"]]
    assert (await listener.get(f"/v1/callback/events/{first['id']}")).status_code == 404
    assert (await listener.delete(f"/v1/callback/events/{first['id']}")).status_code == 404


async def test_events_are_paginated_oldest_first(pair: tuple[Api, Api, str]) -> None:
    writer, listener, list_id = pair
    names = [f"Customer {n:02d}" for n in range(7)]
    for name in names:
        await _customer(writer, list_id, first_name=name)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"count": "3", **({"cursor": cursor} if cursor else {})}
        response = await listener.get("/v1/callback/events", params=params)
        assert response.status_code == 200
        seen += [e["id"] for e in response.json()]
        cursor = response.headers.get("X-Cursor-Next")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7
    states = [(await _event(listener, event_id))["new_state"]["first_name"] for event_id in seen]
    assert states == names


async def test_deleting_the_callback_stops_events_and_drops_the_pending_ones(pair: tuple[Api, Api, str]) -> None:
    writer, listener, list_id = pair
    await _customer(writer, list_id, first_name="Ivy")
    assert len(await _events(listener)) == 1
    assert (await listener.delete("/v1/callback")).status_code == 200
    assert await _events(listener) == []
    await _customer(writer, list_id, first_name="Jo")
    assert await _events(listener) == []


async def test_a_failed_write_records_no_event(pair: tuple[Api, Api, str]) -> None:
    writer, listener, list_id = pair
    customer = await _customer(writer, list_id, first_name="Kim")
    before = await _events(listener)
    bad = await writer.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"email": "nope"})
    assert bad.status_code == 422
    assert await _events(listener) == before


async def test_the_hubrise_ruby_client_wire_shapes_work(pair: tuple[Api, Api, str]) -> None:
    """The official Ruby client sends ``{}`` as a JSON body with DELETE, and PUT for updates."""
    writer, listener, list_id = pair
    customer = await _customer(writer, list_id, first_name="Lou")
    path = f"/v1/customer_lists/{list_id}/customers/{customer['id']}"
    assert (await writer.put(path, json={"last_name": "Reed"})).status_code == 200
    json_headers = {"Content-Type": "application/json"}
    first, second = await _events(listener)

    acknowledged = await listener.request(
        "DELETE", f"/v1/callback/events/{first['id']}", content=b"{}", headers=json_headers
    )
    assert acknowledged.status_code == 200
    assert [e["id"] for e in await _events(listener)] == [second["id"]]
    removed = await listener.request("DELETE", "/v1/callback", content=b"{}", headers=json_headers)
    assert removed.status_code == 200
    assert (await listener.get("/v1/callback")).json() == {"url": None, "events": {}}


def _documented(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The schema /openapi.json gives for the operation's 200 answer."""
    return spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


def _model(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def _variant(spec: dict[str, Any], union: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The one model of the union that documents this event (by resource type, and event type if it says)."""

    def fits(model: dict[str, Any]) -> bool:
        for key in ("resource_type", "event_type"):
            allowed = model["properties"][key]
            if event[key] not in allowed.get("enum", [allowed.get("const")]):
                return False
        return True

    [model] = [m for m in (_model(spec, ref) for ref in union["oneOf"]) if fits(m)]
    return model


async def test_callbacks_and_events_are_documented_key_for_key(
    pair: tuple[Api, Api, str], tenant: Tenant, client: Any
) -> None:
    writer, listener, list_id = pair
    spec = (await client.get("/openapi.json")).json()
    callback = (await listener.get("/v1/callback")).json()
    documented = _model(spec, _documented(spec, "get", "/v1/callback"))
    assert set(callback) == set(documented["properties"]) == set(documented["required"])

    customer = await _customer(writer, list_id, first_name="Max")
    order = await _order(writer, tenant.location_id, customer_id=customer["id"])
    await writer.patch(f"/v1/customer_lists/{list_id}/customers/{customer['id']}", json={"city": "Lyon"})
    await writer.patch(f"/v1/locations/{tenant.location_id}/orders/{order['id']}", json={"status": "accepted"})
    index = await _events(listener)
    kinds = {(e["resource_type"], e["event_type"]) for e in index}
    assert kinds == {("customer", "create"), ("customer", "update"), ("order", "create"), ("order", "update")}
    summary = _documented(spec, "get", "/v1/callback/events")["items"]
    detail = _documented(spec, "get", "/v1/callback/events/{event_id}")
    for event in index:
        listed = _variant(spec, summary, event)
        assert set(event) == set(listed["properties"]) == set(listed["required"])
        full = await _event(listener, event["id"])
        model = _variant(spec, detail, event)
        assert set(full) == set(model["properties"]) == set(model["required"])
    customer_event = await _event(listener, next(e["id"] for e in index if e["resource_type"] == "customer"))
    customer_out = _model(
        spec, _documented(spec, "get", "/v1/customer_lists/{customer_list_id}/customers/{customer_id}")
    )
    assert set(customer_event["new_state"]) == set(customer_out["properties"])
