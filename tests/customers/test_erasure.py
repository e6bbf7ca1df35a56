"""Anonymising a customer reaches every copy Patronage holds of the person: the pending events' states and the
stored answers of idempotent requests, as well as the orders' copies; after it, no table holds their email,
names or phone."""

import secrets
from typing import Any

from sqlalchemy import select

from helpers import ANONYMISED_FIELDS, Api, Tenant
from patronage.db import Base, Database

WRITER = "location[orders.write,all_customer_lists.write]"
LISTENER = "location[orders.read,all_customer_lists.read]"


def _person() -> dict[str, str]:
    tag = secrets.token_hex(4)
    return {
        "first_name": f"Zoë{tag}",
        "last_name": f"Erasable{tag}",
        "email": f"erase.{tag}@example.com",
        "phone": f"+3361{int(tag, 16) % 10**7:07d}",
        "address_1": f"{tag} rue de la Paix",
    }


async def _everything_stored(db: Database) -> str:
    """Every value of every row of every table, as text (what an operator's search of the database sees)."""
    values = []
    async with db.session(write=False) as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                values.extend(str(value) for value in row if value is not None)
    return "\n".join(values)


async def _set_up(tenant: Tenant) -> tuple[Api, Api, str]:
    list_id = await tenant.customer_list()
    writer = await tenant.api(WRITER)
    listener = await tenant.api(LISTENER, client_id=await tenant.new_client("Loyalty app"))
    events = {"customer": ["create", "update"], "order": ["create", "update"]}
    assert (await listener.post("/v1/callback", json={"url": None, "events": events})).status_code == 200
    return writer, listener, list_id


async def test_anonymising_scrubs_pending_events_and_stored_answers(tenant: Tenant, db: Database) -> None:
    writer, listener, list_id = await _set_up(tenant)
    person = _person()
    customers = f"/v1/customer_lists/{list_id}/customers"
    created = await writer.post(customers, json=person, headers={"Idempotency-Key": "create-1"})
    assert created.status_code == 201
    customer_id = created.json()["id"]
    assert (await writer.patch(f"{customers}/{customer_id}", json={"company_name": "Acme"})).status_code == 200
    order = await writer.post(
        f"/v1/locations/{tenant.location_id}/orders",
        json={"status": "new", "customer_id": customer_id},
        headers={"Idempotency-Key": "order-1"},
    )
    assert order.status_code == 201 and order.json()["customer"]["email"] == person["email"]
    stored = await _everything_stored(db)
    assert all(value in stored for value in person.values())  # the search below can find them

    assert (await writer.post(f"{customers}/{customer_id}/anonymise", json={})).status_code == 200

    stored = await _everything_stored(db)
    assert [value for value in person.values() if value in stored] == []
    # The events still fire, states and all; they show the anonymised customer.
    pending = (await listener.get("/v1/callback/events")).json()
    kinds = [(event["resource_type"], event["event_type"]) for event in pending]
    assert kinds == [
        ("customer", "create"),
        ("customer", "update"),
        ("order", "create"),
        ("customer", "update"),
        ("order", "update"),
    ]
    for event in pending:
        full = (await listener.get(f"/v1/callback/events/{event['id']}")).json()
        for state in (full.get("previous_state"), full.get("new_state")):
            if state is None:
                continue
            customer = state if event["resource_type"] == "customer" else state["customer"]
            assert customer["id"] == customer_id and customer["anonymised"] is True
            assert all(customer[name] is None for name in ANONYMISED_FIELDS)
    # A retried request gets its stored answer, as the customer is now.
    replayed = await writer.post(customers, json=person, headers={"Idempotency-Key": "create-1"})
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == customer_id and replayed.json()["anonymised"] is True
    assert all(replayed.json()[name] is None for name in ANONYMISED_FIELDS)
    order_again = await writer.post(
        f"/v1/locations/{tenant.location_id}/orders",
        json={"status": "new", "customer_id": customer_id},
        headers={"Idempotency-Key": "order-1"},
    )
    assert order_again.json()["id"] == order.json()["id"] and order_again.json()["customer"]["email"] is None


async def test_other_customers_copies_are_left_alone(tenant: Tenant, db: Database) -> None:
    writer, listener, list_id = await _set_up(tenant)
    customers = f"/v1/customer_lists/{list_id}/customers"
    kept, erased = _person(), _person()
    kept_id = (await writer.post(customers, json=kept, headers={"Idempotency-Key": "kept"})).json()["id"]
    erased_id = (await writer.post(customers, json=erased)).json()["id"]

    assert (await writer.post(f"{customers}/{erased_id}/anonymise", json={})).status_code == 200

    stored = await _everything_stored(db)
    assert all(value in stored for value in kept.values())
    events: list[dict[str, Any]] = (await listener.get("/v1/callback/events")).json()
    first = (await listener.get(f"/v1/callback/events/{events[0]['id']}")).json()
    assert first["new_state"]["id"] == kept_id and first["new_state"]["email"] == kept["email"]
    replayed = await writer.post(customers, json=kept, headers={"Idempotency-Key": "kept"})
    assert replayed.json()["email"] == kept["email"]
