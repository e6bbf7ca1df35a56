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
