from conftest import Api, Tenant


async def test_location_token_reads_its_location_and_account(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.read]")
    location = (await api.get("/v1/location")).json()
    assert location == {
        "id": tenant.location_id,
        "account_id": tenant.account_id,
        "name": "Paris Bastille",
        "currency": "EUR",
        "country": "FR",
        "timezone": "Europe/Paris",
    }
    assert (await api.get(f"/v1/locations/{tenant.location_id}")).json() == location
    assert (await api.get(f"/v1/accounts/{tenant.account_id}")).json()["name"] == "Burger Co"
    assert location["id"].startswith(tenant.account_id + "-")


async def test_location_token_does_not_see_other_locations(tenant: Tenant, other_tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.read]")
    assert (await api.get(f"/v1/locations/{tenant.other_location_id}")).status_code == 404
    assert (await api.get(f"/v1/locations/{other_tenant.location_id}")).status_code == 404
    assert (await api.get(f"/v1/accounts/{other_tenant.account_id}")).status_code == 404
    assert (await api.get("/v1/account")).status_code == 403


async def test_account_token_reads_every_location_of_its_account(tenant: Tenant, other_tenant: Tenant) -> None:
    api = await tenant.api("account[all_customer_lists.read]")
    assert (await api.get("/v1/account")).json()["id"] == tenant.account_id
    assert (await api.get(f"/v1/locations/{tenant.other_location_id}")).status_code == 200
    assert (await api.get(f"/v1/locations/{other_tenant.location_id}")).status_code == 404
    assert (await api.get("/v1/location")).status_code == 403


async def test_missing_unknown_and_revoked_tokens_are_401(tenant: Tenant) -> None:
    for token in (None, "0" * 32):
        response = await Api(tenant.http, token).get("/v1/location")
        assert response.status_code == 401
        assert response.json()["error_type"] == "unauthorized"


async def test_locations_and_accounts_indexes_show_what_the_connection_may_address(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    location_api = await tenant.api("location[orders.read]")
    account_api = await tenant.api("account[orders.read]")
    assert [loc["id"] for loc in (await location_api.get("/v1/locations")).json()] == [tenant.location_id]
    assert [loc["id"] for loc in (await account_api.get("/v1/locations")).json()] == [
        tenant.location_id,
        tenant.other_location_id,
    ]
    for api in (location_api, account_api):
        accounts = (await api.get("/v1/accounts")).json()
        assert [account["id"] for account in accounts] == [tenant.account_id]


async def test_the_user_needs_a_profile_scope_and_the_email_its_own(tenant: Tenant) -> None:
    assert (await (await tenant.api("location[orders.read]")).get("/v1/user")).status_code == 403
    profile = (await (await tenant.api("location[orders.read],profile")).get("/v1/user")).json()
    with_email = (await (await tenant.api("location[orders.read],profile_with_email")).get("/v1/user")).json()
    assert profile["id"] == with_email["id"]
    assert profile["email"] is None
    assert with_email["email"].startswith("owner-") and with_email["email"].endswith("@example.com")
