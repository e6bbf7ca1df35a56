"""Every loyalty-programme route (a Patronage extension), four callers side by side (SPEC §6): anonymous, a token
of the tenant lacking the permission, another tenant's token, an allowed one."""

import pytest

from helpers import Endpoint, Tenant, check_permissions, resources

READ = "location[all_customer_lists.read]"
WRITE = "location[all_customer_lists.write]"
NO_LISTS = "location[orders.write]"
PROGRAMMES = "/v1/customer_lists/{customer_list_id}/loyalty_programmes"
PROGRAMME = PROGRAMMES + "/{ref}"
BODY = {"points_per_unit": "1"}

ENDPOINTS = [
    Endpoint("GET", PROGRAMMES, READ, NO_LISTS),
    Endpoint("GET", PROGRAMME, READ, NO_LISTS),
    Endpoint("PUT", PROGRAMME, WRITE, READ, BODY),
    Endpoint("DELETE", PROGRAMME, WRITE, READ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_programme_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    ids = await resources(tenant)
    api = await tenant.api(WRITE)
    answer = await api.put(f"/v1/customer_lists/{ids['customer_list_id']}/loyalty_programmes/GOLD", json=BODY)
    assert answer.status_code == 200, answer.text
    await check_permissions(endpoint, tenant, other_tenant, {**ids, "ref": "GOLD"})
