"""Right of access (GDPR Art. 15, a Patronage extension): one document with everything held about a customer,
over HTTP for whoever may read the customer, and from the operator's CLI."""

import asyncio
import json
import os
import subprocess
from decimal import Decimal

from helpers import Api, Tenant
from live import PATRONAGE

WRITE = "location[orders.write,all_customer_lists.write]"
EVENTS = {"customer": ["create", "update"], "order": ["create", "update"]}


async def _subscribe(api: Api) -> None:
    assert (await api.post("/v1/callback", json={"url": None, "events": EVENTS})).status_code == 200


async def _set_up(tenant: Tenant) -> tuple[Api, Api, str, str]:
    """Two clients' connections, both subscribed; a customer with a card, two operations and an order."""
    list_id = await tenant.customer_list()
    pos = await tenant.api(WRITE)
    app = await tenant.api(WRITE, client_id=await tenant.new_client("Loyalty app"))
    await _subscribe(pos)
    await _subscribe(app)
    customers = f"/v1/customer_lists/{list_id}/customers"
    created = await pos.post(customers, json={"first_name": "Ida", "email": "ida@example.com", "private_ref": "P-1"})
    customer_id = created.json()["id"]
    assert (await app.patch(f"{customers}/{customer_id}", json={"private_ref": "L-7"})).status_code == 200
    card = (await pos.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    for delta in ("10.5", "-2.25"):
        operation = await pos.post(
            f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}/operations", json={"delta": delta}
        )
        assert operation.status_code == 201
    order = await pos.post(
        f"/v1/locations/{tenant.location_id}/orders", json={"status": "new", "customer_id": customer_id}
    )
    assert order.status_code == 201
    return pos, app, list_id, customer_id


async def test_the_export_holds_the_customer_its_ledger_orders_and_pending_events(tenant: Tenant) -> None:
    pos, app, list_id, customer_id = await _set_up(tenant)

    response = await pos.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}/export")

    assert response.status_code == 200
    export = response.json()
    assert export["customer"] == (await pos.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}")).json()
    assert export["customer"]["private_ref"] == "P-1"  # the reader's own ref
    [card] = export["loyalty_cards"]
    assert card["balance"] == "8.25"
    assert [op["delta"] for op in card["operations"]] == ["10.5", "-2.25"]  # oldest first
    assert [Decimal(op["new_balance"]) for op in card["operations"]] == [Decimal("10.5"), Decimal("8.25")]
    [order] = export["orders"]
    assert order["customer_id"] == customer_id and order["customer"]["email"] == "ida@example.com"
    # Pending events of every connection of the account that show the customer, oldest first.
    seen = [(e["client_name"], e["resource_type"], e["event_type"]) for e in export["pending_events"]]
    assert seen == [
        ("Loyalty app", "customer", "create"),
        (tenant.client_name, "customer", "update"),
        ("Loyalty app", "order", "create"),
    ]
    assert export["pending_events"][1]["new_state"]["private_ref"] == "P-1"  # the reader's connection's event


async def test_another_clients_private_refs_stay_hidden(tenant: Tenant) -> None:
    pos, app, list_id, customer_id = await _set_up(tenant)

    export = (await app.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}/export")).json()

    assert export["customer"]["private_ref"] == "L-7"
    pos_update = export["pending_events"][1]
    assert pos_update["client_name"] == tenant.client_name
    assert pos_update["new_state"]["private_ref"] is None  # it holds "P-1", the other client's


async def test_who_may_export(tenant: Tenant, other_tenant: Tenant) -> None:
    list_id = await tenant.customer_list()
    writer = await tenant.api(WRITE)
    customer_id = (await writer.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    path = f"/v1/customer_lists/{list_id}/customers/{customer_id}/export"

    reader = await tenant.api("location[all_customer_lists.read]")
    assert (await reader.get(path)).status_code == 200
    assert (await Api(writer.http, None).get(path)).status_code == 401
    assert (await (await tenant.api("location[orders.read]")).get(path)).status_code == 403
    stranger = await other_tenant.api("account[all_customer_lists.write]")
    assert (await stranger.get(path)).status_code == 404
    unknown = await reader.get(f"/v1/customer_lists/{list_id}/customers/nobody/export")
    assert unknown.status_code == 404 and unknown.json()["error_type"] == "not_found"


async def test_the_operator_exports_from_the_cli(tenant: Tenant, database_url: str) -> None:
    pos, _, list_id, customer_id = await _set_up(tenant)

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PATRONAGE), "admin", "export-customer", "--customer-list", list_id, *extra],
            env={**os.environ, "PATRONAGE_DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = await asyncio.to_thread(run, "--customer", customer_id)
    assert done.returncode == 0, done.stderr
    export = json.loads(done.stdout)
    over_http = (await pos.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}/export")).json()
    assert export["customer"] == {**over_http["customer"], "private_ref": None}  # nobody's refs by default
    assert export["loyalty_cards"] == over_http["loyalty_cards"]
    assert [e["id"] for e in export["pending_events"]] == [e["id"] for e in over_http["pending_events"]]
    with_refs = json.loads(
        (await asyncio.to_thread(run, "--customer", customer_id, "--client", tenant.client_id)).stdout
    )
    assert with_refs["customer"]["private_ref"] == "P-1"

    missing = await asyncio.to_thread(run, "--customer", "nobody")
    assert missing.returncode == 1 and "no customer nobody" in missing.stderr and "Traceback" not in missing.stderr
