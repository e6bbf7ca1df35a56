"""Loyalty cards (seed §3, SPEC §7): the current edition's rules."""

import pytest

from helpers import Api, Tenant


async def _setup(tenant: Tenant, scope: str = "location[all_customer_lists.write]") -> tuple[Api, str, str]:
    api = await tenant.api(scope)
    list_id = await tenant.customer_list()
    customer = await api.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": "Ann"})
    assert customer.status_code == 201
    return api, list_id, customer.json()["id"]


async def test_create_retrieve_and_list_cards(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    created = await api.post(
        f"/v1/customer_lists/{list_id}/loyalty_cards",
        json={"customer_id": customer_id, "name": "Come back!", "ref": "LOY"},
    )
    assert created.status_code == 201
    card = created.json()
    assert card == {
        "id": card["id"],
        "customer_id": customer_id,
        "name": "Come back!",
        "ref": "LOY",
        "balance": "0.0",
    }
    assert (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}")).json() == card
    plain = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    assert plain["name"] is None and plain["ref"] is None

    by_ref = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"ref": "LOY"})).json()
    assert [c["id"] for c in by_ref] == [card["id"]]
    by_name = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"name": "Come back!"})).json()
    assert [c["id"] for c in by_name] == [card["id"]]
    of_customer = (
        await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"customer_id": customer_id})
    ).json()
    assert {c["id"] for c in of_customer} == {card["id"], plain["id"]}

    customer = (await api.get(f"/v1/customer_lists/{list_id}/customers/{customer_id}")).json()
    assert sorted(customer["loyalty_cards"], key=lambda c: c["id"]) == sorted(
        [
            {"id": card["id"], "ref": "LOY", "name": "Come back!", "balance": "0.0"},
            {"id": plain["id"], "ref": None, "name": None, "balance": "0.0"},
        ],
        key=lambda c: c["id"],
    )


async def test_ref_is_unique_per_customer_and_one_null_ref_card(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    other = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    assert (await api.post(cards, json={"customer_id": customer_id, "ref": "A"})).status_code == 201
    duplicate = await api.post(cards, json={"customer_id": customer_id, "ref": "A", "name": "x"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "ref"
    # Another customer may use the same ref.
    assert (await api.post(cards, json={"customer_id": other, "ref": "A"})).status_code == 201
    assert (await api.post(cards, json={"customer_id": customer_id})).status_code == 201
    second_null = await api.post(cards, json={"customer_id": customer_id, "ref": None})
    assert second_null.status_code == 422
    assert second_null.json()["errors"] == [{"field": "ref", "message": second_null.json()["errors"][0]["message"]}]
    listed = (await api.get(cards, params={"customer_id": customer_id})).json()
    assert len(listed) == 2


async def test_customer_id_must_be_a_customer_of_the_same_list(tenant: Tenant, other_tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    other_list = await tenant.customer_list()
    stranger = (await api.post(f"/v1/customer_lists/{other_list}/customers", json={})).json()["id"]
    for bad in (stranger, "nope", None, 12):
        response = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": bad})
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "customer_id"
    missing = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "customer_id"


async def test_update_changes_name_and_ref_only(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    card = (await api.post(cards, json={"customer_id": customer_id, "ref": "A", "name": "Old"})).json()
    (await api.post(cards, json={"customer_id": customer_id, "ref": "B"})).json()
    patched = await api.patch(f"{cards}/{card['id']}", json={"ref": "LOYALTY"})
    assert patched.status_code == 200
    assert patched.json()["ref"] == "LOYALTY" and patched.json()["name"] == "Old"
    put = await api.put(f"{cards}/{card['id']}", json={"name": None})
    assert put.json()["name"] is None and put.json()["ref"] == "LOYALTY"
    taken = await api.patch(f"{cards}/{card['id']}", json={"ref": "B"})
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "ref"
    # Echoing read-only fields with their current values is fine; changing them is not.
    echoed = await api.patch(f"{cards}/{card['id']}", json={**put.json(), "name": "New"})
    assert echoed.status_code == 200 and echoed.json()["name"] == "New"
    for field, value in (("balance", "10.0"), ("customer_id", "other"), ("id", "x")):
        response = await api.patch(f"{cards}/{card['id']}", json={field: value})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    assert (await api.get(f"{cards}/{card['id']}")).json()["balance"] == "0.0"


async def test_balance_may_not_be_set_on_create(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    response = await api.post(
        f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id, "balance": "5.0"}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "balance"


async def test_cards_of_other_lists_and_accounts_are_404(tenant: Tenant, other_tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    other_list = await tenant.customer_list()
    assert (await api.get(f"/v1/customer_lists/{other_list}/loyalty_cards/{card['id']}")).status_code == 404
    stranger = await other_tenant.api("account[all_customer_lists.write]")
    assert (await stranger.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}")).status_code == 404
    assert (await stranger.get(f"/v1/customer_lists/{list_id}/loyalty_cards")).status_code == 404


async def test_read_scope_reads_but_does_not_write(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant)
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    reader = await tenant.api("location[all_customer_lists.read]")
    cards = f"/v1/customer_lists/{list_id}/loyalty_cards"
    assert (await reader.get(f"{cards}/{card['id']}")).status_code == 200
    assert (await reader.get(f"{cards}/{card['id']}/operations")).status_code == 200
    assert (await reader.post(cards, json={"customer_id": customer_id, "ref": "R"})).status_code == 403
    assert (await reader.patch(f"{cards}/{card['id']}", json={"name": "x"})).status_code == 403
    response = await reader.post(f"{cards}/{card['id']}/operations", json={"delta": "1"})
    assert response.status_code == 403 and response.json()["error_type"] == "forbidden"
    assert (await reader.get(f"{cards}/{card['id']}")).json()["balance"] == "0.0"


@pytest.mark.parametrize("count", ["0", "101", "x"])
async def test_card_index_validates_count(tenant: Tenant, count: str) -> None:
    api, list_id, _ = await _setup(tenant)
    response = await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards", params={"count": count})
    assert response.status_code == 422


async def test_deleting_the_list_removes_cards_and_operations(tenant: Tenant) -> None:
    api, list_id, customer_id = await _setup(tenant, "location[all_customer_lists.write]")
    card = (await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer_id})).json()
    operations = f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}/operations"
    assert (await api.post(operations, json={"delta": "3"})).status_code == 201
    assert (await api.delete(f"/v1/customer_lists/{list_id}")).status_code == 200
    from sqlalchemy import func, select

    from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation

    async with tenant.db.session(write=False) as session:
        cards_left = await session.scalar(
            select(func.count()).select_from(LoyaltyCard).where(LoyaltyCard.customer_list_id == list_id)
        )
        operations_left = await session.scalar(
            select(func.count()).select_from(LoyaltyOperation).where(LoyaltyOperation.loyalty_card_id == card["id"])
        )
    assert (cards_left, operations_left) == (0, 0)
