"""Callbacks and events on the wire, field by field against HubRise's reference (callbacks.md), which SPEC §9
settles: what a client written for HubRise reads must be there, named and shaped as there."""

import re
from typing import Any

import pytest

from helpers import Api, Tenant

WRITER = "location[orders.write,all_customer_lists.write]"
READER = "location[orders.read,all_customer_lists.read]"

# callbacks.md, 1.2: "The allowed combinations of resource and event types are".
REFERENCE_COMBINATIONS = [
    "catalog.create",
    "catalog.delete",
    "catalog.update",
    "customer.create",
    "customer.update",
    "delivery.create",
    "delivery.update",
    "inventory.patch",
    "inventory.update",
    "location.update",
    "order.create",
    "order.update",
]
NEVER_FIRED = [c for c in REFERENCE_COMBINATIONS if not c.startswith(("customer.", "order."))]

# The keys of the reference's examples (Retrieve Event, List Events); Patronage adds ``account_id``.
CUSTOMER_EVENT = {"id", "resource_type", "event_type", "created_at", "customer_id", "customer_list_id"}
ORDER_EVENT = {"id", "resource_type", "event_type", "created_at", "order_id", "location_id"}
EXTENSIONS = {"account_id"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
ID = re.compile(r"^[0-9a-z]+$")


def _events_map(combinations: list[str]) -> dict[str, list[str]]:
    events: dict[str, list[str]] = {}
    for combination in combinations:
        resource, event_type = combination.split(".")
        events.setdefault(resource, []).append(event_type)
    return events


async def _listener(tenant: Tenant, combinations: list[str] = REFERENCE_COMBINATIONS) -> Api:
    api = await tenant.api(READER, client_id=await tenant.new_client("Listening app"))
    response = await api.post("/v1/callback", json={"url": None, "events": _events_map(combinations)})
    assert response.status_code == 200, response.text
    return api


async def test_a_connection_without_callback_reads_what_hubrise_answers(tenant: Tenant) -> None:
    api = await tenant.api(READER)
    response = await api.get("/v1/callback")
    # callbacks.md 1.1: "If no callback has been set, the response will be as follows".
    assert (response.status_code, response.json()) == (200, {"url": None, "events": {}})
    removed = await api.delete("/v1/callback")
    assert (removed.status_code, removed.json()) == (200, {"url": None, "events": {}})


async def test_the_reference_examples_round_trip(tenant: Tenant) -> None:
    api = await tenant.api(READER)
    # callbacks.md 1.2's request, then 1.1's answer: the callback reads back as saved.
    body = {"url": "https://example.com/hubrise_callback", "events": {"order": ["create"], "customer": ["create"]}}
    saved = await api.post("/v1/callback", json=body)
    assert (saved.status_code, saved.json()) == (200, body)
    assert (await api.get("/v1/callback")).json() == body
    passive = {"url": None, "events": {"order": ["create", "update"]}}
    assert (await api.post("/v1/callback", json=passive)).json() == passive
    assert (await api.get("/v1/callback")).json() == passive


async def test_every_combination_the_reference_lists_is_accepted_stored_and_returned(tenant: Tenant) -> None:
    api = await tenant.api(READER)
    events = _events_map(REFERENCE_COMBINATIONS)
    response = await api.post("/v1/callback", json={"url": None, "events": events})
    assert response.status_code == 200, response.text
    assert response.json() == {"url": None, "events": events}
    assert (await api.get("/v1/callback")).json() == {"url": None, "events": events}


@pytest.mark.parametrize("combination", NEVER_FIRED)
async def test_combinations_patronage_never_fires_stay_silent(tenant: Tenant, combination: str) -> None:
    listener = await _listener(tenant, [combination])
    writer = await tenant.api(WRITER)
    list_id = await tenant.customer_list()
    customer = await writer.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Ann"})
    order = await writer.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new"})
    patched = await writer.patch("/v1/location", json={"custom_fields": {"door_time": "35"}})
    assert (customer.status_code, order.status_code, patched.status_code) == (201, 201, 200)
    assert (await listener.get("/v1/callback/events")).json() == []
    resource, event_type = combination.split(".")
    assert (await listener.get("/v1/callback")).json()["events"] == {resource: [event_type]}


@pytest.mark.parametrize(
    "events",
    [
        {"customer": ["delete"]},
        {"order": ["delete"]},
        {"location": ["create"]},
        {"catalog": ["patch"]},
        {"inventory": ["create"]},
        {"user": ["update"]},
        {"customer": ["create"], "order": ["remove"]},
    ],
)
async def test_combinations_outside_the_reference_are_refused_and_store_nothing(
    tenant: Tenant, events: dict[str, list[str]]
) -> None:
    api = await tenant.api(READER)
    response = await api.post("/v1/callback", json={"url": None, "events": events})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_type"] == "unprocessable_entity" and body["message"] == "Validation failed"
    assert all(error["field"].startswith("events.") for error in body["errors"])
    assert (await api.get("/v1/callback")).json() == {"url": None, "events": {}}


async def test_customer_events_carry_the_reference_fields(tenant: Tenant) -> None:
    listener = await _listener(tenant)
    writer = await tenant.api(WRITER)
    list_id = await tenant.customer_list()
    created = await writer.post(
        f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Thomas", "email": "tom@dummy-mail.org"}
    )
    customer = created.json()
    path = f"/v1/customer_lists/{list_id}/customers/{customer['id']}"
    assert (await writer.patch(path, json={"first_name": "Tom"})).status_code == 200

    index = (await listener.get("/v1/callback/events")).json()
    assert [(e["resource_type"], e["event_type"]) for e in index] == [("customer", "create"), ("customer", "update")]
    for listed in index:
        # List Events: the ids and types, no states ("not included to save bandwidth").
        assert set(listed) == CUSTOMER_EVENT | EXTENSIONS
        assert listed["customer_id"] == customer["id"] and listed["customer_list_id"] == list_id
        assert listed["account_id"] == tenant.account_id
        assert ID.match(listed["id"]) and TIME.match(listed["created_at"])

    create = (await listener.get(f"/v1/callback/events/{index[0]['id']}")).json()
    update = (await listener.get(f"/v1/callback/events/{index[1]['id']}")).json()
    # "The new_state field is only present for create and update event types. The previous_state field is
    # only present for update and delete event types."
    assert set(create) == CUSTOMER_EVENT | EXTENSIONS | {"new_state"}
    assert set(update) == CUSTOMER_EVENT | EXTENSIONS | {"previous_state", "new_state"}
    for detail, listed in ((create, index[0]), (update, index[1])):
        assert {key: detail[key] for key in listed} == listed
    assert create["new_state"]["first_name"] == "Thomas"
    assert update["previous_state"]["first_name"] == "Thomas"
    assert update["new_state"]["first_name"] == "Tom"
    assert update["new_state"] == (await listener.get(path)).json()


async def test_order_events_carry_the_reference_fields(tenant: Tenant) -> None:
    listener = await _listener(tenant, ["order.create", "order.update"])
    writer = await tenant.api(WRITER)
    order = (await writer.post(f"/v1/locations/{tenant.location_id}/orders", json={"status": "new"})).json()
    path = f"/v1/locations/{tenant.location_id}/orders/{order['id']}"
    assert (await writer.patch(path, json={"status": "accepted"})).status_code == 200

    index = (await listener.get("/v1/callback/events")).json()
    assert [(e["resource_type"], e["event_type"]) for e in index] == [("order", "create"), ("order", "update")]
    for listed in index:
        assert set(listed) == ORDER_EVENT | EXTENSIONS
        assert (listed["order_id"], listed["location_id"]) == (order["id"], tenant.location_id)
        assert TIME.match(listed["created_at"])
    create = (await listener.get(f"/v1/callback/events/{index[0]['id']}")).json()
    update = (await listener.get(f"/v1/callback/events/{index[1]['id']}")).json()
    assert set(create) == ORDER_EVENT | EXTENSIONS | {"new_state"}
    assert set(update) == ORDER_EVENT | EXTENSIONS | {"previous_state", "new_state"}
    assert (update["previous_state"]["status"], update["new_state"]["status"]) == ("new", "accepted")
    assert update["new_state"] == (await listener.get(path)).json()
    # Acknowledging answers the event as Retrieve Event shows it.
    acknowledged = await listener.delete(f"/v1/callback/events/{index[1]['id']}")
    assert (acknowledged.status_code, acknowledged.json()) == (200, update)


async def test_callbacks_and_events_follow_the_access_rules(tenant: Tenant, other_tenant: Tenant) -> None:
    listener = await _listener(tenant)
    writer = await tenant.api(WRITER)
    list_id = await tenant.customer_list()
    await writer.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Una"})
    [event] = (await listener.get("/v1/callback/events")).json()

    anonymous = Api(tenant.http, None)
    for method, path in [
        ("GET", "/v1/callback"),
        ("POST", "/v1/callback"),
        ("DELETE", "/v1/callback"),
        ("GET", "/v1/callback/events"),
        ("GET", f"/v1/callback/events/{event['id']}"),
        ("DELETE", f"/v1/callback/events/{event['id']}"),
    ]:
        response = await anonymous.request(method, path, json={"events": {}} if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.json()["error_type"] == "unauthorized"

    # Another tenant's connection (or another connection of the same tenant) never sees the event.
    for stranger in (await other_tenant.api(READER), writer):
        for method in ("GET", "DELETE"):
            response = await stranger.request(method, f"/v1/callback/events/{event['id']}")
            assert response.status_code == 404
            assert response.json()["error_type"] == "not_found"
        assert (await stranger.get("/v1/callback")).json() == {"url": None, "events": {}}
    assert [e["id"] for e in (await listener.get("/v1/callback/events")).json()] == [event["id"]]

    # Any access level with any scope may keep a callback (callbacks.md: "Location, Account").
    for scope in ("location[orders.read]", "account[customer_list.read]", "location[all_customer_lists.write]"):
        list_kwargs: dict[str, Any] = {"customer_list_id": list_id} if "customer_list." in scope else {}
        if scope.startswith("account"):
            list_kwargs["customer_list_id"] = await tenant.customer_list(location_id=None)
        api = await tenant.api(scope, **list_kwargs)
        saved = await api.post("/v1/callback", json={"url": None, "events": {"order": ["create"]}})
        assert saved.status_code == 200, (scope, saved.text)
