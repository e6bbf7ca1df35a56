"""Idempotency-Key on POST (SPEC §7): once per connection and key for 24 h."""

from datetime import timedelta

from sqlalchemy import update

from helpers import Tenant
from patronage.db import utcnow
from patronage.idempotency import IdempotencyKey


async def _card(tenant: Tenant):
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    customer_id = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    return api, list_id, customer_id, f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}"


async def test_a_retry_replays_the_first_response_and_writes_once(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant)
    key = {"Idempotency-Key": "order-1234-points"}
    first = await api.post(f"{card}/operations", json={"delta": "2.5", "reason": "Order"}, headers=key)
    again = await api.post(f"{card}/operations", json={"reason": "Order", "delta": "2.5"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (await api.get(card)).json()["balance"] == "2.5"
    assert len((await api.get(f"{card}/operations")).json()) == 1


async def test_the_same_key_with_another_body_is_422(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant)
    key = {"Idempotency-Key": "k-1"}
    assert (await api.post(f"{card}/operations", json={"delta": "1"}, headers=key)).status_code == 201
    other = await api.post(f"{card}/operations", json={"delta": "100"}, headers=key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (await api.get(card)).json()["balance"] == "1.0"


async def test_keys_of_different_connections_never_collide(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant)
    other = await tenant.api("location[all_customer_lists.write]")
    key = {"Idempotency-Key": "shared-key"}
    assert (await api.post(f"{card}/operations", json={"delta": "1"}, headers=key)).status_code == 201
    second = await other.post(f"{card}/operations", json={"delta": "1"}, headers=key)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert (await api.get(card)).json()["balance"] == "2.0"


async def test_a_failed_request_does_not_use_up_its_key(tenant: Tenant) -> None:
    api, list_id, customer_id, _ = await _card(tenant)
    key = {"Idempotency-Key": "card-1"}
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    failed = await api.post(cards, json={"customer_id": customer_id, "ref": None}, headers=key)
    assert failed.status_code == 422  # the customer already has a card without ref
    assert (await api.post(cards, json={"customer_id": customer_id, "ref": "X"}, headers=key)).status_code == 201


async def test_keys_expire_after_24_hours(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant)
    key = {"Idempotency-Key": "old-key"}
    assert (await api.post(f"{card}/operations", json={"delta": "1"}, headers=key)).status_code == 201
    async with tenant.db.session(write=True) as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old-key")
            .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )
    again = await api.post(f"{card}/operations", json={"delta": "1"}, headers=key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert (await api.get(card)).json()["balance"] == "2.0"


async def test_an_overlong_key_is_422(tenant: Tenant) -> None:
    api, _, _, card = await _card(tenant)
    response = await api.post(f"{card}/operations", json={"delta": "1"}, headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert (await api.get(card)).json()["balance"] == "0.0"
