"""Every customer-list route, four callers side by side (SPEC §6): anonymous, a token of the tenant lacking the
permission, another tenant's token, an allowed one."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

READ = "location[all_customer_lists.read]"
WRITE = "location[all_customer_lists.write]"
ACCOUNT_READ = "account[all_customer_lists.read]"
ACCOUNT_WRITE = "account[all_customer_lists.write]"
NO_LISTS = "location[orders.read]"
NO_LISTS_ACCOUNT = "account[orders.read]"

ENDPOINTS = [
    Endpoint("GET", "/v1/customer_lists/{customer_list_id}", READ, NO_LISTS),
    Endpoint("PATCH", "/v1/customer_lists/{customer_list_id}", WRITE, READ, {"name": "Renamed"}),
    Endpoint("PUT", "/v1/customer_lists/{customer_list_id}", WRITE, READ, {"name": "Renamed"}),
    Endpoint("DELETE", "/v1/customer_lists/{customer_list_id}", WRITE, READ),
    Endpoint("GET", "/v1/locations/{location_id}/customer_lists", READ, NO_LISTS),
    Endpoint("POST", "/v1/locations/{location_id}/customer_lists", WRITE, READ, {"name": "New"}, 201),
    Endpoint("GET", "/v1/location/customer_lists", READ, NO_LISTS),
    Endpoint("POST", "/v1/location/customer_lists", WRITE, READ, {"name": "New"}, 201),
    # The account's endpoints are for account-level connections: a location-level one is refused (403).
    Endpoint("GET", "/v1/accounts/{account_id}/customer_lists", ACCOUNT_READ, READ),
    Endpoint("POST", "/v1/accounts/{account_id}/customer_lists", ACCOUNT_WRITE, ACCOUNT_READ, {"name": "New"}, 201),
    Endpoint("GET", "/v1/account/customer_lists", ACCOUNT_READ, NO_LISTS_ACCOUNT),
    Endpoint("POST", "/v1/account/customer_lists", ACCOUNT_WRITE, WRITE, {"name": "New"}, 201),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_customer_list_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant))
