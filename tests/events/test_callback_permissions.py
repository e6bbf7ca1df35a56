"""Every callback and event route, four callers side by side (SPEC §6, §9): anonymous, a token of the tenant
that does not own the event, another tenant's token, the owner. A callback needs no permission: each connection
has its own, and another connection's events are not revealed (404)."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

SCOPE = "location[all_customer_lists.write]"
CALLBACK = {"url": None, "events": {"customer": ["create"]}}

ENDPOINTS = [
    # Any connection reads, replaces and deletes its own callback (none: url null, no events), never another's.
    Endpoint("GET", "/v1/callback", SCOPE, None),
    Endpoint("POST", "/v1/callback", SCOPE, None, CALLBACK),
    Endpoint("DELETE", "/v1/callback", SCOPE, None),
    Endpoint("GET", "/v1/callback/events", SCOPE, None),
    Endpoint("GET", "/v1/callback/events/{event_id}", SCOPE, SCOPE, refused=404),
    Endpoint("DELETE", "/v1/callback/events/{event_id}", SCOPE, SCOPE, refused=404),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_callback_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    owner = await tenant.api(SCOPE)
    assert (await owner.post("/v1/callback", json=CALLBACK)).status_code == 200
    ids = await resources(tenant)  # its customer is created by another connection: an event for the owner
    [event] = (await owner.get("/v1/callback/events")).json()
    ids["event_id"] = event["id"]
    await check_permissions(endpoint, tenant, other_tenant, ids, allowed=owner)
