"""Every loyalty route, four callers side by side (SPEC §6): anonymous, a token of the tenant lacking the
permission, another tenant's token, an allowed one."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

READ = "location[all_customer_lists.read]"
WRITE = "location[all_customer_lists.write]"
NO_LISTS = "location[orders.write]"
CARDS = "/v1/customer_lists/{customer_list_id}/loyalty_cards"
CARD = CARDS + "/{loyalty_card_id}"
OPERATIONS = CARD + "/operations"

ENDPOINTS = [
    Endpoint("GET", CARDS, READ, NO_LISTS),
    Endpoint("GET", CARD, READ, NO_LISTS),
    Endpoint("GET", CARD + "/ledger", READ, NO_LISTS),
    Endpoint("POST", CARDS, WRITE, READ, {"customer_id": "{customer_id}", "ref": "second"}, 201),
    Endpoint("PATCH", CARD, WRITE, READ, {"name": "Gold"}),
    Endpoint("PUT", CARD, WRITE, READ, {"name": "Gold"}),
    Endpoint("GET", OPERATIONS, READ, NO_LISTS),
    Endpoint("GET", OPERATIONS + "/{operation_id}", READ, NO_LISTS),
    Endpoint("POST", OPERATIONS, WRITE, READ, {"delta": "2.5", "reason": "Visit"}, 201),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_loyalty_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant))
