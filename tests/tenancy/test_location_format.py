"""Locations, accounts and the user on the wire, field by field against HubRise's reference (accounts.md), and
the location update with its access rules."""

import copy
import re
from typing import Any

import pytest

from helpers import Api, Tenant

# accounts.md 1.1, "Example request" (GET /locations/3r4s3-1).
REFERENCE_LOCATION = {
    "id": "3r4s3-1",
    "name": "Paris",
    "account": {"id": "3r4s3", "name": "Bella Pizza", "currency": "EUR"},
    "address": "13 rue du Chant des Oiseaux",
    "postal_code": "75003",
    "city": "Paris",
    "country": "FR",
    "timezone": {"name": "Europe/Paris"},
    "cutoff_time": "06:00",
    "opening_hours": {"monday": [{"from": "12:00", "to": "14:00"}, {"from": "18:00", "to": "01:00"}]},
    "preparation_time": 15,
    "order_acceptance": {"mode": "online"},
    "custom_fields": {"delivery": {"door_time": "35"}},
}
# accounts.md 1.2, "Example request" (PATCH /locations/3r4s3-1), with a resume_at still to come.
REFERENCE_UPDATE = {
    "cutoff_time": "05:00",
    "opening_hours": {
        "monday": [{"from": "09:00", "to": "12:30"}, {"from": "14:00", "to": "23:30"}],
        "tuesday": [{"from": "09:00", "to": "12:30"}, {"from": "14:00", "to": "23:30"}],
        "wednesday": [{"from": "09:00", "to": "12:30"}, {"from": "14:00", "to": "01:30"}],
        "thursday": [],
        "friday": [{"from": "17:00", "to": "02:00"}],
        "saturday": [{"from": "18:00", "to": "02:00"}],
        "sunday": [{"from": "18:00", "to": "23:00"}],
    },
    "preparation_time": 20,
    "order_acceptance": {"mode": "busy", "resume_at": "2099-06-04T19:30:00+02:00", "extra_preparation_time": 25},
    "custom_fields": {"delivery": {"door_time": "35"}},
}
REFERENCE_ACCOUNT = {"id": "3r4s3", "name": "Mister Pizza", "currency": "EUR"}
REFERENCE_USER = {
    "id": "v6ap7",
    "first_name": "Tom",
    "last_name": "Jones",
    "email": "tom.jones@dummy-mail.org",
    "timezone": {"name": "Europe/Paris"},
    "locales": ["en-GB", "fr-FR"],
}
LOCATION_EXTENSIONS = {"account_id", "currency"}
ACCOUNT_EXTENSIONS = {"country", "timezone"}
WRITER = "location[orders.write]"


def _timezone_ok(value: Any, name: str) -> None:
    """general-concepts.md's Timezone: the IANA name, and the deprecated offset in seconds."""
    assert set(value) == {"name", "offset"} and value["name"] == name
    assert isinstance(value["offset"], int) and value["offset"] in (3600, 7200)  # Paris, winter or summer


async def _location(api: Api, path: str = "/v1/location") -> dict[str, Any]:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_location_has_every_field_of_the_reference(tenant: Tenant) -> None:
    location = await _location(await tenant.api("location[orders.read]"))
    assert set(location) == set(REFERENCE_LOCATION) | LOCATION_EXTENSIONS
    assert set(location["account"]) == set(REFERENCE_LOCATION["account"]) | ACCOUNT_EXTENSIONS
    assert (location["id"], location["name"], location["country"]) == (tenant.location_id, "Paris Bastille", "FR")
    assert {key: location["account"][key] for key in REFERENCE_ACCOUNT} == {
        "id": tenant.account_id,
        "name": "Burger Co",
        "currency": "EUR",
    }
    _timezone_ok(location["timezone"], "Europe/Paris")
    # What Patronage keeps no record of is null; the rest reads HubRise's defaults until set.
    assert (location["address"], location["postal_code"], location["city"]) == (None, None, None)
    assert location["cutoff_time"] == "06:00"
    assert location["opening_hours"] is None  # "null indicates they have not been set"
    assert location["preparation_time"] is None
    assert location["order_acceptance"] == {"mode": "online"}
    assert location["custom_fields"] == {}
    assert (location["account_id"], location["currency"]) == (tenant.account_id, "EUR")


async def test_every_location_path_answers_the_same_shape(tenant: Tenant) -> None:
    location_api = await tenant.api("location[orders.read]")
    account_api = await tenant.api("account[orders.read]")
    own = await _location(location_api)
    assert await _location(location_api, f"/v1/locations/{tenant.location_id}") == own
    assert await _location(account_api, f"/v1/locations/{tenant.location_id}") == own
    # accounts.md 1.3: the account's locations, each as Retrieve Location shows it.
    listed = (await account_api.get("/v1/locations")).json()
    assert [item["id"] for item in listed] == [tenant.location_id, tenant.other_location_id]
    assert listed[0] == own
    assert listed[1] == await _location(account_api, f"/v1/locations/{tenant.other_location_id}")
    assert (await location_api.get("/v1/locations")).json() == [own]


async def test_an_account_has_the_reference_fields(tenant: Tenant) -> None:
    account_api = await tenant.api("account[orders.read]")
    account = (await account_api.get("/v1/account")).json()
    assert set(account) == set(REFERENCE_ACCOUNT) | ACCOUNT_EXTENSIONS
    assert (account["id"], account["name"], account["currency"], account["country"]) == (
        tenant.account_id,
        "Burger Co",
        "EUR",
        "FR",
    )
    _timezone_ok(account["timezone"], "Europe/Paris")
    assert (await account_api.get(f"/v1/accounts/{tenant.account_id}")).json() == account
    assert (await account_api.get("/v1/accounts")).json() == [account]
    assert (await _location(account_api, f"/v1/locations/{tenant.location_id}"))["account"] == account


@pytest.mark.parametrize("level", ["location", "account"])
async def test_the_user_has_the_reference_fields(tenant: Tenant, level: str) -> None:
    with_email = (await (await tenant.api(f"{level}[orders.read],profile_with_email")).get("/v1/user")).json()
    profile = (await (await tenant.api(f"{level}[orders.read],profile")).get("/v1/user")).json()
    assert set(with_email) == set(REFERENCE_USER)
    # accounts.md 3.1: "The email field is included only if the access level is profile_with_email".
    assert set(profile) == set(REFERENCE_USER) - {"email"}
    assert re.fullmatch(r"owner-[0-9a-f]+@example\.com", with_email["email"])
    for user in (profile, with_email):
        assert user["first_name"] is None and user["last_name"] is None  # Patronage keeps no names
        assert user["locales"] == []
        _timezone_ok(user["timezone"], "Europe/Paris")  # the connection's location's (or account's) zone
    assert profile["id"] == with_email["id"]


async def test_the_reference_update_is_applied_and_read_back(tenant: Tenant) -> None:
    api = await tenant.api(WRITER)
    before = await _location(api)
    response = await api.patch("/v1/location", json=REFERENCE_UPDATE)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == await _location(api)
    for key in ("cutoff_time", "opening_hours", "preparation_time", "order_acceptance", "custom_fields"):
        assert updated[key] == REFERENCE_UPDATE[key], key
    # Nothing else moved.
    unchanged = set(before) - set(REFERENCE_UPDATE)
    assert {key: updated[key] for key in unchanged} == {key: before[key] for key in unchanged}

    # The reference's own order_acceptance example has a resume_at that has passed: the location reverted.
    past = {"mode": "busy", "resume_at": "2025-06-04T19:30:00+02:00", "extra_preparation_time": 25}
    reverted = await api.patch("/v1/location", json={"order_acceptance": past})
    assert reverted.json()["order_acceptance"] == {"mode": "online"}


@pytest.mark.parametrize(
    "sent, shown",
    [
        ({"mode": "online"}, {"mode": "online"}),
        (
            {"mode": "busy", "extra_preparation_time": 10},
            {"mode": "busy", "resume_at": None, "extra_preparation_time": 10},
        ),
        ({"mode": "paused"}, {"mode": "paused", "resume_at": None, "reason": None}),
        (
            {"mode": "paused", "resume_at": "2099-01-10T12:00:00", "reason": "Kitchen closed"},
            {"mode": "paused", "resume_at": "2099-01-10T12:00:00+01:00", "reason": "Kitchen closed"},
        ),
        (
            {"mode": "busy", "resume_at": "2099-07-01T10:00:00Z", "extra_preparation_time": 0},
            {"mode": "busy", "resume_at": "2099-07-01T12:00:00+02:00", "extra_preparation_time": 0},
        ),
    ],
)
async def test_order_acceptance_follows_the_reference_templates(tenant: Tenant, sent: dict, shown: dict) -> None:
    api = await tenant.api(WRITER)
    response = await api.patch("/v1/location", json={"order_acceptance": sent})
    assert response.status_code == 200, response.text
    assert response.json()["order_acceptance"] == shown == (await _location(api))["order_acceptance"]


async def test_custom_fields_merge_and_other_fields_stay(tenant: Tenant) -> None:
    api = await tenant.api(WRITER)
    await api.patch("/v1/location", json={"preparation_time": 15, "custom_fields": {"a": 1, "b": {"c": [1, 2]}}})
    changed = await api.patch("/v1/location", json={"custom_fields": {"a": None, "d": "x"}})
    assert changed.json()["custom_fields"] == {"b": {"c": [1, 2]}, "d": "x"}
    assert changed.json()["preparation_time"] == 15
    cleared = await api.patch("/v1/location", json={"custom_fields": None, "preparation_time": None})
    assert (cleared.json()["custom_fields"], cleared.json()["preparation_time"]) == ({}, None)
    unset = await api.patch("/v1/location", json={"opening_hours": {"monday": [{"from": "10:00", "to": "11:00"}]}})
    assert unset.json()["opening_hours"] == {"monday": [{"from": "10:00", "to": "11:00"}]}
    assert (await api.patch("/v1/location", json={"opening_hours": None})).json()["opening_hours"] is None


async def test_a_location_read_can_be_sent_back_as_an_update(tenant: Tenant) -> None:
    """A client that GETs, edits and PATCHes the whole object: unchanged read-only fields are accepted."""
    api = await tenant.api(WRITER)
    for acceptance in (None, {"mode": "paused", "reason": "Closed"}, {"mode": "busy", "extra_preparation_time": 5}):
        if acceptance:
            assert (await api.patch("/v1/location", json={"order_acceptance": acceptance})).status_code == 200
        location = await _location(api)
        edited = {**copy.deepcopy(location), "preparation_time": 12}
        response = await api.put("/v1/location", json=edited)
        assert response.status_code == 200, response.text
        assert response.json() == {**location, "preparation_time": 12}


async def test_the_cutoff_rules_the_opening_hours(tenant: Tenant) -> None:
    api = await tenant.api(WRITER)
    late = {"monday": [{"from": "18:00", "to": "01:00"}]}  # 01:00 is before the 06:00 cutoff: the same day
    assert (await api.patch("/v1/location", json={"opening_hours": late})).status_code == 200
    until_cutoff = {"monday": [{"from": "18:00", "to": "06:00"}]}
    assert (await api.patch("/v1/location", json={"opening_hours": until_cutoff})).status_code == 200
    assert (await api.patch("/v1/location", json={"opening_hours": late})).status_code == 200
    # "If the cutoff_time was 00:00, 01:00 would be considered on the next day and the API would return an error."
    response = await api.patch("/v1/location", json={"cutoff_time": "00:00"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["opening_hours.monday.0.to"]
    after = await _location(api)
    assert (after["cutoff_time"], after["opening_hours"]) == ("06:00", late)
    both = await api.patch(
        "/v1/location", json={"cutoff_time": "00:00", "opening_hours": {"monday": [{"from": "18:00", "to": "23:59"}]}}
    )
    assert both.status_code == 200 and both.json()["cutoff_time"] == "00:00"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"cutoff_time": "6:00"}, "cutoff_time"),
        ({"cutoff_time": "24:00"}, "cutoff_time"),
        ({"cutoff_time": None}, "cutoff_time"),
        ({"cutoff_time": 600}, "cutoff_time"),
        ({"opening_hours": {"monday": [{"from": "14:00", "to": "12:00"}]}}, "opening_hours.monday.0.to"),
        ({"opening_hours": {"monday": [{"from": "12:00", "to": "12:00"}]}}, "opening_hours.monday.0.to"),
        (
            {"opening_hours": {"monday": [{"from": "09:00", "to": "12:00"}, {"from": "11:00", "to": "13:00"}]}},
            "opening_hours.monday.1",
        ),
        ({"opening_hours": {"funday": [{"from": "09:00", "to": "12:00"}]}}, "opening_hours.funday"),
        ({"opening_hours": {"monday": [], "sunday": []}}, "opening_hours"),
        ({"opening_hours": {}}, "opening_hours"),
        ({"opening_hours": {"monday": [{"from": "09:00"}]}}, "opening_hours.monday.0.to"),
        ({"opening_hours": {"monday": [{"from": "09:00", "to": "10:00", "note": "x"}]}}, "opening_hours.monday.0.note"),
        ({"opening_hours": {"monday": [{"from": "9h", "to": "10:00"}]}}, "opening_hours.monday.0.from"),
        ({"opening_hours": {"monday": {"from": "09:00", "to": "10:00"}}}, "opening_hours.monday"),
        ({"opening_hours": "always"}, "opening_hours"),
        ({"preparation_time": -1}, "preparation_time"),
        ({"preparation_time": "15"}, "preparation_time"),
        ({"preparation_time": 1.5}, "preparation_time"),
        ({"preparation_time": True}, "preparation_time"),
        ({"preparation_time": 100000}, "preparation_time"),
        ({"order_acceptance": {"mode": "busy"}}, "order_acceptance"),
        ({"order_acceptance": {"mode": "online", "reason": "x"}}, "order_acceptance"),
        ({"order_acceptance": {"mode": "closed"}}, "order_acceptance"),
        ({"order_acceptance": {"mode": "paused", "resume_at": "tomorrow"}}, "order_acceptance"),
        ({"order_acceptance": {"mode": "paused", "reason": "x" * 256}}, "order_acceptance"),
        ({"order_acceptance": {"mode": "busy", "extra_preparation_time": -5}}, "order_acceptance"),
        ({"order_acceptance": None}, "order_acceptance"),
        ({"custom_fields": "x"}, "custom_fields"),
        ({"custom_fields": {"big": "x" * 9000}}, "custom_fields"),
        ({"name": "New name"}, "name"),
        ({"address": "1 rue de la Paix"}, "address"),
        ({"timezone": {"name": "Europe/London"}}, "timezone"),
        ({"status": "open"}, "status"),
    ],
)
async def test_bad_updates_are_refused_and_change_nothing(tenant: Tenant, body: dict, field: str) -> None:
    api = await tenant.api(WRITER)
    before = await _location(api)
    response = await api.patch("/v1/location", json={"preparation_time": 30, **body})
    assert response.status_code == 422, response.text
    answer = response.json()
    assert (answer["error_type"], answer["message"]) == ("unprocessable_entity", "Validation failed")
    fields = [error["field"] for error in answer["errors"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), fields
    assert await _location(api) == before


async def test_who_may_update_a_location(tenant: Tenant, other_tenant: Tenant) -> None:
    change = {"custom_fields": {"who": "me"}}
    anonymous = Api(tenant.http, None)
    for path in ("/v1/location", f"/v1/locations/{tenant.location_id}"):
        response = await anonymous.patch(path, json=change)
        assert (response.status_code, response.json()["error_type"]) == (401, "unauthorized")

    # A read-only scope reads its location but may not change it.
    for scope in ("location[orders.read]", "location[all_customer_lists.read],profile", "location[]"):
        api = await tenant.api(scope)
        for path in ("/v1/location", f"/v1/locations/{tenant.location_id}"):
            response = await api.patch(path, json=change)
            assert (response.status_code, response.json()["error_type"]) == (403, "forbidden"), scope

    location_api = await tenant.api(WRITER)
    # Locations it may not address are not found; the short endpoint is for location-level connections.
    for path in (f"/v1/locations/{tenant.other_location_id}", f"/v1/locations/{other_tenant.location_id}"):
        response = await location_api.patch(path, json=change)
        assert (response.status_code, response.json()["error_type"]) == (404, "not_found")
    account_api = await tenant.api("account[orders.write]")
    forbidden = await account_api.patch("/v1/location", json=change)
    assert forbidden.status_code == 403
    assert (await account_api.patch(f"/v1/locations/{other_tenant.location_id}", json=change)).status_code == 404

    # Every refusal stored nothing.
    for path in (f"/v1/locations/{tenant.location_id}", f"/v1/locations/{tenant.other_location_id}"):
        assert (await _location(account_api, path))["custom_fields"] == {}

    # Allowed: the location's own connection with a write scope, and an account-level one on any location.
    list_id = await tenant.customer_list()
    for scope, kwargs in [
        (WRITER, {}),
        ("location[all_customer_lists.write]", {}),
        ("location[customer_list.write]", {"customer_list_id": list_id}),
    ]:
        api = await tenant.api(scope, **kwargs)
        response = await api.patch("/v1/location", json={"custom_fields": {"scope": scope}})
        assert response.status_code == 200, (scope, response.text)
    other = await account_api.patch(f"/v1/locations/{tenant.other_location_id}", json={"custom_fields": {"x": 1}})
    assert (other.status_code, other.json()["custom_fields"]) == (200, {"x": 1})
    assert (await _location(account_api, f"/v1/locations/{tenant.location_id}"))["custom_fields"] == {
        "scope": "location[customer_list.write]"
    }
