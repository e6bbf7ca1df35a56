"""The token answer on the wire (authentication.md 3.2, SPEC §10): every field of the reference's example, and
``user_id`` and ``app_instance_id``, which HubRise's Ruby client reads after ``authorize!``."""

import base64
import json
import re

import httpx
import pytest

from oauth_flow import Env, exchange_code, make_env, oauth_code
from patronage.db import Database

# authentication.md 3.2, "Example of response".
REFERENCE_EXAMPLE = {
    "access_token": "b9922a78d3ffab6b95e9d72e88",
    "token_type": "Bearer",
    "account_id": "3r4s3",
    "location_id": "3r4s3-1",
    "catalog_id": "psmlf",
    "customer_list_id": "xab66",
    "account_name": "Bella Pizza",
    "location_name": "Paris",
    "catalog_name": "Bella Pizza",
    "customer_list_name": "Bella Pizza",
}
# What the Ruby client keeps of the answer (initialize_scope_params).
RUBY_CLIENT_READS = [
    "access_token",
    "app_instance_id",
    "user_id",
    "account_id",
    "location_id",
    "catalog_id",
    "customer_list_id",
]
EXTENSIONS = {"connection_id", "scope"}


@pytest.fixture
async def env(db: Database) -> Env:
    return await make_env(db)


def _basic(env: Env) -> dict[str, str]:
    credentials = base64.b64encode(f"{env.client_id}:{env.client_secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


async def _user_id(client: httpx.AsyncClient, token: str) -> str:
    response = await client.get("/v1/user", headers={"X-Access-Token": token})
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def test_the_answer_has_every_field_of_the_reference_and_what_the_ruby_client_reads(
    client: httpx.AsyncClient, env: Env
) -> None:
    here = await env.customer_list("Bella Pizza", env.location_id)
    params = env.params("location[orders.write,customer_list.write],profile")
    code = await oauth_code(client, env, params, location_id=env.location_id, customer_list_id=here)
    # The reference's request: credentials by HTTP Basic, the code alone in a form.
    response = await client.post("/oauth2/v1/token", data={"code": code}, headers=_basic(env))
    assert response.status_code == 200, response.text
    body = response.json()

    assert set(body) == set(REFERENCE_EXAMPLE) | {"user_id", "app_instance_id"} | EXTENSIONS
    assert body["token_type"] == "Bearer"
    assert re.fullmatch(r"[0-9a-f]{32}", body["access_token"])
    assert (body["account_id"], body["location_id"]) == (env.account_id, env.location_id)
    assert body["customer_list_id"] == here
    assert (body["account_name"], body["location_name"], body["customer_list_name"]) == (
        "Burger Co",
        "Paris Bastille",
        "Bella Pizza",
    )
    assert body["catalog_id"] is None and body["catalog_name"] is None  # Patronage has no catalogs
    assert body["user_id"] == await _user_id(client, body["access_token"])
    assert body["app_instance_id"] == body["connection_id"]
    assert re.fullmatch(r"[0-9a-z]+", body["app_instance_id"])
    # Each field has the type of the reference's value (a string), or is null where Patronage has nothing.
    for key, example in REFERENCE_EXAMPLE.items():
        assert isinstance(body[key], type(example)) or (body[key] is None and key.startswith("catalog")), key


async def test_the_ruby_clients_exchange_gets_every_field_it_reads(client: httpx.AsyncClient, env: Env) -> None:
    """``authorize!`` POSTs ``{client_id, client_secret, code}`` as JSON and keeps the fields below."""
    code = await oauth_code(client, env, env.params("account[orders.read],profile"), account_id=env.account_id)
    response = await client.post(
        "/oauth2/v1/token",
        content=json.dumps({"client_id": env.client_id, "client_secret": env.client_secret, "code": code}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    kept = {key: body[key] for key in RUBY_CLIENT_READS}
    assert kept["account_id"] == env.account_id
    assert kept["location_id"] is None and kept["customer_list_id"] is None and kept["catalog_id"] is None
    assert kept["user_id"] == await _user_id(client, kept["access_token"])
    assert kept["app_instance_id"] == body["connection_id"]


async def test_reauthorising_answers_the_same_connection(client: httpx.AsyncClient, env: Env) -> None:
    params = env.params("location[orders.read]")
    answers = []
    for _ in range(2):
        code = await oauth_code(client, env, params, location_id=env.location_id)
        answers.append((await exchange_code(client, env, code)).json())
    first, again = answers
    assert again == first  # the same token, user, app instance: field for field


async def test_a_refused_exchange_answers_no_token(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    wrong = await client.post("/oauth2/v1/token", data={"code": code}, headers={"Authorization": "Basic eDp5"})
    assert wrong.status_code == 401
    assert wrong.json()["error_type"] == "unauthorized" and "access_token" not in wrong.json()
    # The refused attempt did not use the code up.
    assert (await exchange_code(client, env, code)).status_code == 200
    used = await exchange_code(client, env, code)
    assert used.status_code == 400
    assert used.json()["error"] == "invalid_grant" and "access_token" not in used.json()
