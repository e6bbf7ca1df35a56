"""Loyalty programmes (a Patronage extension): one per card scheme of a list, read, replaced whole, deleted;
every field validated with the contract's 422."""

import pytest

from helpers import Api, Tenant

WRITE = "location[all_customer_lists.write]"


def _programmes(list_id: str) -> str:
    return f"/v1/customer_lists/{list_id}/loyalty_programmes"


async def test_a_programme_is_created_replaced_listed_and_deleted(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    assert (await api.get(f"{_programmes(list_id)}/LOY")).status_code == 404
    body = {
        "name": "Club",
        "points_per_unit": "0.5",
        "earning_statuses": ["completed", "accepted"],
        "rounding": {"mode": "nearest", "decimals": 1},
        "count_charges": True,
        "count_discounts": False,
        "allow_negative_balance": True,
        "expiry_days": 365,
        "tiers": [{"name": "Gold", "threshold": "500"}, {"name": "Silver", "threshold": 100}],
    }
    created = await api.put(f"{_programmes(list_id)}/LOY", json=body)
    assert created.status_code == 200, created.text
    programme = created.json()
    assert {k: v for k, v in programme.items() if k not in ("created_at", "updated_at")} == {
        "customer_list_id": list_id,
        "ref": "LOY",
        "name": "Club",
        "points_per_unit": "0.5",
        "earning_statuses": ["completed", "accepted"],
        "rounding": {"mode": "nearest", "decimals": 1},
        "count_charges": True,
        "count_discounts": False,
        "allow_negative_balance": True,
        "expiry_days": 365,
        # Sorted by threshold, exact decimals as strings.
        "tiers": [{"name": "Silver", "threshold": "100.0"}, {"name": "Gold", "threshold": "500.0"}],
    }
    assert (await api.get(f"{_programmes(list_id)}/LOY")).json() == programme

    # PUT replaces the whole programme: what is left out takes its default. The GET answer may be echoed.
    replaced = await api.put(f"{_programmes(list_id)}/LOY", json={**programme, "points_per_unit": "2", "tiers": []})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["points_per_unit"] == "2.0" and replaced.json()["tiers"] == []
    assert replaced.json()["created_at"] == programme["created_at"]
    minimal = (await api.put(f"{_programmes(list_id)}/LOY", json={"points_per_unit": "1"})).json()
    assert minimal["earning_statuses"] == ["completed"]
    assert minimal["rounding"] == {"mode": "down", "decimals": 0}
    assert (minimal["count_charges"], minimal["count_discounts"], minimal["allow_negative_balance"]) == (
        False,
        True,
        False,
    )
    assert minimal["expiry_days"] is None and minimal["name"] is None

    # The null ref is a scheme of its own, written "~"; a ref starting with "~" is written with "~~" first.
    null_ref = await api.put(f"{_programmes(list_id)}/~", json={"points_per_unit": "3"})
    assert null_ref.status_code == 200 and null_ref.json()["ref"] is None
    tilde = await api.put(f"{_programmes(list_id)}/~~~x", json={"points_per_unit": "4"})
    assert tilde.status_code == 200 and tilde.json()["ref"] == "~x"
    assert (await api.get(f"{_programmes(list_id)}/~x")).status_code == 404
    listed = (await api.get(_programmes(list_id))).json()  # newest first, as cards are
    assert [(p["ref"], p["points_per_unit"]) for p in listed] == [("~x", "4.0"), (None, "3.0"), ("LOY", "1.0")]

    deleted = await api.delete(f"{_programmes(list_id)}/~")
    assert deleted.status_code == 200 and deleted.json()["ref"] is None
    assert (await api.get(f"{_programmes(list_id)}/~")).status_code == 404
    assert (await api.delete(f"{_programmes(list_id)}/~")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "points_per_unit"),
        ({"points_per_unit": "-1"}, "points_per_unit"),
        ({"points_per_unit": "0.0000001"}, "points_per_unit"),
        ({"points_per_unit": "1000000"}, "points_per_unit"),
        ({"points_per_unit": True}, "points_per_unit"),
        ({"points_per_unit": "abc"}, "points_per_unit"),
        ({"points_per_unit": "1", "earning_statuses": ["cancelled"]}, "earning_statuses"),
        ({"points_per_unit": "1", "earning_statuses": ["shipped"]}, "earning_statuses"),
        ({"points_per_unit": "1", "earning_statuses": ["completed", "completed"]}, "earning_statuses"),
        ({"points_per_unit": "1", "earning_statuses": "completed"}, "earning_statuses"),
        ({"points_per_unit": "1", "rounding": {"mode": "half"}}, "rounding.mode"),
        ({"points_per_unit": "1", "rounding": {"decimals": 7}}, "rounding.decimals"),
        ({"points_per_unit": "1", "rounding": {"decimals": "2"}}, "rounding.decimals"),
        ({"points_per_unit": "1", "rounding": {"scale": 2}}, "rounding.scale"),
        ({"points_per_unit": "1", "count_charges": "yes"}, "count_charges"),
        ({"points_per_unit": "1", "count_discounts": 1}, "count_discounts"),
        ({"points_per_unit": "1", "allow_negative_balance": None}, "allow_negative_balance"),
        ({"points_per_unit": "1", "expiry_days": 0}, "expiry_days"),
        ({"points_per_unit": "1", "expiry_days": 1.5}, "expiry_days"),
        ({"points_per_unit": "1", "tiers": [{"name": "", "threshold": "1"}]}, "tiers.0.name"),
        ({"points_per_unit": "1", "tiers": [{"name": "A", "threshold": "-1"}]}, "tiers.0.threshold"),
        ({"points_per_unit": "1", "tiers": [{"name": "A"}]}, "tiers.0.threshold"),
        (
            {"points_per_unit": "1", "tiers": [{"name": "A", "threshold": "1"}, {"name": "A", "threshold": "2"}]},
            "tiers",
        ),
        (
            {"points_per_unit": "1", "tiers": [{"name": "A", "threshold": "1"}, {"name": "B", "threshold": "1.0"}]},
            "tiers",
        ),
        ({"points_per_unit": "1", "stars": 3}, "stars"),
        ({"points_per_unit": "1", "ref": "OTHER"}, "ref"),
    ],
)
async def test_every_field_is_validated(tenant: Tenant, body: dict, field: str) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    answer = await api.put(f"{_programmes(list_id)}/LOY", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error_type"] == "unprocessable_entity"
    assert field in [error["field"] for error in answer.json()["errors"]], answer.text
    assert (await api.get(f"{_programmes(list_id)}/LOY")).status_code == 404


async def test_a_location_token_may_read_but_not_change_its_accounts_programmes(tenant: Tenant) -> None:
    account_list = await tenant.customer_list(location_id=None)
    account_api = await tenant.api("account[all_customer_lists.write]")
    assert (await account_api.put(f"{_programmes(account_list)}/LOY", json={"points_per_unit": "1"})).status_code == 200
    location_api: Api = await tenant.api(WRITE)
    assert (await location_api.get(f"{_programmes(account_list)}/LOY")).status_code == 200
    refused = await location_api.put(f"{_programmes(account_list)}/LOY", json={"points_per_unit": "2"})
    assert refused.status_code == 403
    assert (await location_api.delete(f"{_programmes(account_list)}/LOY")).status_code == 403


async def test_a_ref_longer_than_a_card_ref_is_refused(tenant: Tenant) -> None:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    answer = await api.put(f"{_programmes(list_id)}/{'r' * 256}", json={"points_per_unit": "1"})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "ref"
