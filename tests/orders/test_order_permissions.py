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

ORDER_ENDPOINTS = [
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
# The delivery of an order (deliveries.md): POST attaches one to a delivery order that has none; the other
# routes find one attached.
ATTACH = {"carrier": "UPS", "status": "pending"}
ENROUTE = {"status": "pickup_enroute"}
DELIVERY = "/v1/locations/{location_id}/orders/{order_id}/delivery"
SHORT_DELIVERY = "/v1/location/orders/{order_id}/delivery"
DELIVERY_ENDPOINTS = [
    Endpoint("POST", DELIVERY, WRITE, READ_ONLY, ATTACH, 201),
    Endpoint("POST", SHORT_DELIVERY, WRITE, READ_ONLY, ATTACH, 201),
    Endpoint("GET", DELIVERY, READ, LISTS_ONLY),
    Endpoint("GET", SHORT_DELIVERY, READ, LISTS_ONLY),
    Endpoint("PATCH", DELIVERY, WRITE, READ_ONLY, ENROUTE),
    Endpoint("PUT", DELIVERY, WRITE, READ_ONLY, ENROUTE),
    Endpoint("PATCH", SHORT_DELIVERY, WRITE, READ_ONLY, ENROUTE),
    Endpoint("PUT", SHORT_DELIVERY, WRITE, READ_ONLY, ENROUTE),
]
ENDPOINTS = ORDER_ENDPOINTS + DELIVERY_ENDPOINTS


@pytest.mark.parametrize("endpoint", ORDER_ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_order_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    await check_permissions(endpoint, tenant, other_tenant, await resources(tenant))


@pytest.mark.parametrize("endpoint", DELIVERY_ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_delivery_permissions(tenant: Tenant, other_tenant: Tenant, endpoint: Endpoint) -> None:
    ids = await resources(tenant)
    api = await tenant.api(WRITE)
    orders = f"/v1/locations/{tenant.location_id}/orders"
    order = await api.post(orders, json={"status": "new", "service_type": "delivery"})
    assert order.status_code == 201, order.text
    ids["order_id"] = order.json()["id"]
    if endpoint.method != "POST":
        attached = await api.post(f"{orders}/{ids['order_id']}/delivery", json=ATTACH)
        assert attached.status_code == 201, attached.text
    await check_permissions(endpoint, tenant, other_tenant, ids)
