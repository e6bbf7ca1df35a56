"""Every customer route, four callers side by side (SPEC §6): anonymous, a token of the tenant lacking the
permission, another tenant's token, an allowed one."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

READ = "location[all_customer_lists.read]"
WRITE = "location[all_customer_lists.write]"
NO_LISTS = "location[orders.write]"
CUSTOMERS = "/v1/customer_lists/{customer_list_id}/customers"
CUSTOMER = CUSTOMERS + "/{customer_id}"

ENDPOINTS = [
    Endpoint("GET", CUSTOMERS, READ, NO_LISTS),
    Endpoint("GET", CUSTOMER, READ, NO_LISTS),
    Endpoint("POST", CUSTOMERS, WRITE, READ, {"first_name": "Bob"}, 201),
    Endpoint("PATCH", CUSTOMER, WRITE, READ, {"first_name": "Bob"}),
    Endpoint("PUT", CUSTOMER, WRITE, READ, {"first_name": "Bob"}),
    Endpoint("POST", CUSTOMER + "/anonymise", WRITE, READ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_customer_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant))
