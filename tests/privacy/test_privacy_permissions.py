"""The right-of-access route, four callers side by side (SPEC §6): anonymous, a token of the tenant without
customer-list permissions, another tenant's token, a reader of the list."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/customer_lists/{customer_list_id}/customers/{customer_id}/export",
        "location[all_customer_lists.read]",
        "location[orders.write]",
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_privacy_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant))
