"""Every location, account and user route, four callers side by side (SPEC §6): anonymous, a token of the
tenant lacking what it needs, another tenant's token, an allowed one. Reading the connection's own location or
account needs no permission, only the right level; ``lacking=None`` marks what every connection may read."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

LOCATION = "location[orders.read]"
ACCOUNT = "account[orders.read]"
WRITE = "location[orders.write]"
CHANGE = {"custom_fields": {"till": 2}}

ENDPOINTS = [
    Endpoint("GET", "/v1/location", LOCATION, ACCOUNT),
    # Not revealed (404) to a connection of the account's other location.
    Endpoint("GET", "/v1/locations/{location_id}", LOCATION, None, refused=404),
    # Changing a location needs a write permission (of any resource); a read-only scope is refused.
    Endpoint("PATCH", "/v1/location", WRITE, LOCATION, CHANGE),
    Endpoint("PUT", "/v1/location", WRITE, LOCATION, CHANGE),
    Endpoint("PATCH", "/v1/locations/{location_id}", WRITE, LOCATION, CHANGE),
    Endpoint("PUT", "/v1/locations/{location_id}", WRITE, LOCATION, CHANGE),
    Endpoint("GET", "/v1/account", ACCOUNT, LOCATION),
    Endpoint("GET", "/v1/accounts/{account_id}", LOCATION, None),
    Endpoint("GET", "/v1/locations", LOCATION, None),
    Endpoint("GET", "/v1/accounts", LOCATION, None),
    Endpoint("GET", "/v1/user", LOCATION + ",profile", LOCATION),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_tenancy_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    lacking = None
    if endpoint.path == "/v1/locations/{location_id}" and endpoint.method == "GET":
        lacking = await tenant.api(LOCATION, location_id=tenant.other_location_id)
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant), lacking=lacking)
