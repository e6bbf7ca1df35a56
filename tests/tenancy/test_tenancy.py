import jsonschema
from pydantic import BaseModel

from helpers import Api, Tenant
from patronage.routing import Error
from patronage.tenancy.schemas import AccountOut, LocationOut, UserOut


async def test_location_token_reads_its_location_and_account(tenant: Tenant) -> None:
    api = await tenant.api("location[all_customer_lists.read]")
    location = (await api.get("/v1/location")).json()
    assert (location["id"], location["account_id"], location["account"]["id"]) == (
        tenant.location_id,
        tenant.account_id,
        tenant.account_id,
    )
    assert (location["name"], location["currency"], location["country"]) == ("Paris Bastille", "EUR", "FR")
    assert location["timezone"]["name"] == "Europe/Paris"
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
    assert "email" not in profile  # accounts.md: "included only if the access level is profile_with_email"
    assert with_email["email"].startswith("owner-") and with_email["email"].endswith("@example.com")


def _assert_documented(spec: dict, path: str, response, model: type[BaseModel]) -> None:
    """The document declares the status and names ``model`` (or a list of it) for a success, the contract's
    error JSON otherwise; the body has that shape, with every key the model has and no other."""
    documented = spec["paths"][path]["get"]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    body = response.json()
    if response.status_code >= 400:
        assert schema == {"$ref": "#/components/schemas/Error"}
        jsonschema.validate(body, Error.model_json_schema())
        return
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    assert schema == reference or schema["items"] == reference
    items = body if isinstance(body, list) else [body]
    assert items
    for item in items:
        jsonschema.validate(item, model.model_json_schema())
        required = set(model.model_json_schema()["required"])
        assert required <= set(item) <= {field.alias or name for name, field in model.model_fields.items()}


async def test_every_answer_matches_the_document(tenant: Tenant) -> None:
    spec = (await tenant.http.get("/openapi.json")).json()
    location_api = await tenant.api("location[orders.read],profile")
    account_api = await tenant.api("account[orders.read],profile_with_email")
    no_profile = await tenant.api("location[orders.read]")
    checks = [
        (location_api, "/v1/location", "/v1/location", LocationOut, 200),
        (account_api, "/v1/location", "/v1/location", LocationOut, 403),
        (location_api, "/v1/locations/{location_id}", f"/v1/locations/{tenant.location_id}", LocationOut, 200),
        (location_api, "/v1/locations/{location_id}", f"/v1/locations/{tenant.other_location_id}", LocationOut, 404),
        (account_api, "/v1/locations", "/v1/locations", LocationOut, 200),
        (account_api, "/v1/account", "/v1/account", AccountOut, 200),
        (location_api, "/v1/account", "/v1/account", AccountOut, 403),
        (location_api, "/v1/accounts/{account_id}", f"/v1/accounts/{tenant.account_id}", AccountOut, 200),
        (location_api, "/v1/accounts/{account_id}", "/v1/accounts/nosuchaccount", AccountOut, 404),
        (location_api, "/v1/accounts", "/v1/accounts", AccountOut, 200),
        (location_api, "/v1/user", "/v1/user", UserOut, 200),
        (account_api, "/v1/user", "/v1/user", UserOut, 200),
        (no_profile, "/v1/user", "/v1/user", UserOut, 403),
        (Api(tenant.http, None), "/v1/user", "/v1/user", UserOut, 401),
    ]
    for api, template, path, model, status in checks:
        response = await api.get(path)
        assert response.status_code == status, (path, response.text)
        _assert_documented(spec, template, response, model)
    user = (await account_api.get("/v1/user")).json()
    assert user["first_name"] is None and user["last_name"] is None and "@" in user["email"]


async def test_a_nul_in_a_location_or_account_id_is_404(tenant: Tenant) -> None:
    api = await tenant.api("account[orders.read]")
    for path in (f"/v1/locations/{tenant.location_id}%00", f"/v1/accounts/%00{tenant.account_id}"):
        response = await api.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["error_type"] == "not_found"
