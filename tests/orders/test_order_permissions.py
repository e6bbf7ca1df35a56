"""Every order route, four callers side by side (SPEC §6, §8): anonymous, a token of the tenant lacking the
permission, another tenant's token, an allowed one. Customer-list permissions alone do not reach orders, nor
does orders.read write them."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

READ = "location[orders.read]"
WRITE = "location[orders.write]"
ACCOUNT_READ = "account[orders.read]"
LISTS_ONLY = "location[all_customer_lists.write]"
READ_ONLY = "location[orders.read,all_customer_lists.write]"
NEW = {"status": "new"}
ACCEPTED = {"status": "accepted"}

ENDPOINTS = [
    Endpoint("GET", "/v1/locations/{location_id}/orders", READ, LISTS_ONLY),
    Endpoint("GET", "/v1/location/orders", READ, LISTS_ONLY),
    Endpoint("GET", "/v1/accounts/{account_id}/orders", ACCOUNT_READ, "account[all_customer_lists.read]"),
    # The account's index is for account-level connections: a location-level one is refused.
    Endpoint("GET", "/v1/account/orders", ACCOUNT_READ, READ),
    Endpoint("POST", "/v1/locations/{location_id}/orders", WRITE, READ_ONLY, NEW, 201),
    Endpoint("POST", "/v1/location/orders", WRITE, READ_ONLY, NEW, 201),
    Endpoint("GET", "/v1/locations/{location_id}/orders/{order_id}", READ, LISTS_ONLY),
    Endpoint("GET", "/v1/location/orders/{order_id}", READ, LISTS_ONLY),
    Endpoint("PATCH", "/v1/locations/{location_id}/orders/{order_id}", WRITE, READ_ONLY, ACCEPTED),
    Endpoint("PUT", "/v1/locations/{location_id}/orders/{order_id}", WRITE, READ_ONLY, ACCEPTED),
    Endpoint("PATCH", "/v1/location/orders/{order_id}", WRITE, READ_ONLY, ACCEPTED),
    Endpoint("PUT", "/v1/location/orders/{order_id}", WRITE, READ_ONLY, ACCEPTED),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_order_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant))
