"""The OAuth 2.0 authorisation server (SPEC §10): login and consent pages, codes, tokens, revocation."""

import asyncio
import base64
import re
import secrets
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from oauth_flow import (
    OOB,
    PASSWORD,
    REDIRECT,
    Env,
    authorize,
    csrf_token,
    exchange_code,
    log_in,
    make_env,
    oauth_code,
    redirect_query,
)
from patronage.app import create_app
from patronage.auth import service as auth
from patronage.auth.models import Connection
from patronage.db import Database, utcnow
from patronage.edges.ratelimit import SIGN_IN_WINDOW
from patronage.ids import hash_secret
from patronage.oauth.models import OAuthCode, OAuthLogin
from patronage.settings import Settings
from patronage.tenancy import service as tenancy


@pytest.fixture
async def env(db: Database) -> Env:
    return await make_env(db)


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def test_the_full_location_flow_gives_a_token_that_works(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.other_location_id)
    response = await exchange_code(client, env, code)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert re.fullmatch(r"[0-9a-f]{32}", body["access_token"])
    assert body["account_id"] == env.account_id
    assert body["location_id"] == env.other_location_id
    assert body["account_name"] == "Burger Co"
    assert body["location_name"] == "Lyon Part-Dieu"
    assert body["customer_list_id"] is None and body["customer_list_name"] is None
    location = await client.get("/v1/location", headers={"X-Access-Token": body["access_token"]})
    assert location.status_code == 200, location.text
    assert location.json()["id"] == env.other_location_id


async def test_the_login_cookie_is_http_only_lax_and_stored_hashed(client: httpx.AsyncClient, env: Env) -> None:
    params = env.params()
    page = await client.get("/oauth2/v1/authorize", params=params)
    logged = await client.post(
        "/oauth2/v1/login",
        data={**params, "email": env.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    cookie = logged.headers["set-cookie"]
    assert cookie.startswith("patronage_oauth_login=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/oauth2" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    async with env.db.session(write=False) as session:
        assert await session.get(OAuthLogin, hash_secret(value)) is not None
        assert await session.get(OAuthLogin, value) is None
    # Logged in: the next authorisation goes straight to the consent page.
    again = await client.get("/oauth2/v1/authorize", params=env.params(state="second"))
    assert 'action="/oauth2/v1/authorize"' in again.text and 'action="/oauth2/v1/login"' not in again.text
    assert env.email in again.text


async def test_the_account_level_flow(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params("account[all_customer_lists.read]"), account_id=env.account_id)
    body = (await exchange_code(client, env, code)).json()
    assert body["account_id"] == env.account_id and body["location_id"] is None and body["location_name"] is None
    headers = {"X-Access-Token": body["access_token"]}
    assert (await client.get("/v1/account", headers=headers)).json()["id"] == env.account_id
    assert (await client.get("/v1/location", headers=headers)).status_code == 403


async def test_a_customer_list_scope_binds_the_chosen_list(client: httpx.AsyncClient, env: Env) -> None:
    here = await env.customer_list("Here", env.location_id)
    shared = await env.customer_list("Shared", None)
    there = await env.customer_list("There", env.other_location_id)
    params = env.params("location[customer_list.read]")
    csrf = await log_in(client, env, params)
    page = await client.get("/oauth2/v1/authorize", params=params)
    for list_id in (here, shared, there):
        assert f'value="{list_id}"' in page.text
    # A list of another location is not reachable from this location: the page says so, no code.
    refused = await client.post(
        "/oauth2/v1/authorize",
        data={
            **params,
            "csrf_token": csrf,
            "decision": "allow",
            "location_id": env.location_id,
            "customer_list_id": there,
        },
    )
    assert refused.status_code == 400 and "location" not in refused.headers
    assert "Choose a customer list" in refused.text
    missing = await client.post(
        "/oauth2/v1/authorize",
        data={**params, "csrf_token": csrf, "decision": "allow", "location_id": env.location_id},
    )
    assert missing.status_code == 400 and "location" not in missing.headers
    allowed = await client.post(
        "/oauth2/v1/authorize",
        data={
            **params,
            "csrf_token": csrf,
            "decision": "allow",
            "location_id": env.location_id,
            "customer_list_id": shared,
        },
    )
    body = (await exchange_code(client, env, redirect_query(allowed)["code"])).json()
    assert body["customer_list_id"] == shared and body["customer_list_name"] == "Shared"
    assert body["location_id"] == env.location_id
    headers = {"X-Access-Token": body["access_token"]}
    assert (await client.get(f"/v1/customer_lists/{shared}", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/customer_lists/{here}", headers=headers)).status_code == 404


async def test_an_account_level_customer_list_scope_may_bind_a_location_list(
    client: httpx.AsyncClient, env: Env
) -> None:
    there = await env.customer_list("There", env.other_location_id)
    code = await oauth_code(
        client, env, env.params("account[customer_list.write]"), account_id=env.account_id, customer_list_id=there
    )
    body = (await exchange_code(client, env, code)).json()
    assert body["customer_list_id"] == there and body["location_id"] is None


async def test_denying_redirects_with_access_denied_and_the_state(client: httpx.AsyncClient, env: Env) -> None:
    response = await authorize(client, env, env.params(), decision="deny")
    query = redirect_query(response)
    assert query == {"error": "access_denied", "state": "xyz-42"}
    async with env.db.session(write=False) as session:
        assert (await session.scalars(select(OAuthCode).where(OAuthCode.client_id == env.client_id))).first() is None


async def test_a_registered_redirect_uri_keeps_its_own_query(client: httpx.AsyncClient, env: Env) -> None:
    params = {**env.params(), "redirect_uri": "https://app.example.com/cb?tenant=7"}
    query = redirect_query(await authorize(client, env, params, location_id=env.location_id))
    assert query["tenant"] == "7" and query["state"] == "xyz-42" and query["code"]


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "https://evil.example.com/cb"},
        {"redirect_uri": REDIRECT + "/extra"},
        {"redirect_uri": ""},
        {"client_id": "000000000000.clients.patronage"},
        {"client_id": ""},
    ],
)
async def test_an_untrusted_client_or_redirect_uri_is_an_error_page_never_a_redirect(
    client: httpx.AsyncClient, env: Env, change: dict[str, str]
) -> None:
    params = {**env.params(), **change}
    response = await client.get("/oauth2/v1/authorize", params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    # Nor after logging in: the consent form is checked again.
    posted = await client.post("/oauth2/v1/authorize", data={**params, "decision": "deny", "csrf_token": "x"})
    assert posted.status_code == 400 and "location" not in posted.headers


async def test_a_malformed_scope_redirects_with_invalid_scope(client: httpx.AsyncClient, env: Env) -> None:
    for scope in ("location[nonsense.read]", "", "everything"):
        response = await client.get("/oauth2/v1/authorize", params=env.params(scope))
        assert redirect_query(response) == {"error": "invalid_scope", "state": "xyz-42"}


async def test_oob_shows_the_code_on_a_page(client: httpx.AsyncClient, env: Env) -> None:
    params = {**env.params(), "redirect_uri": OOB}
    response = await authorize(client, env, params, location_id=env.location_id)
    assert response.status_code == 200 and "location" not in response.headers
    code = re.search(r'<code id="code">([0-9a-f]+)</code>', response.text).group(1)
    assert (await exchange_code(client, env, code)).status_code == 200
    bad_scope = await client.get("/oauth2/v1/authorize", params={**params, "scope": "nope"})
    assert bad_scope.status_code == 400 and "invalid_scope" in bad_scope.text and "location" not in bad_scope.headers


async def test_a_code_is_single_use(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    assert (await exchange_code(client, env, code)).status_code == 200
    again = await exchange_code(client, env, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant" and again.json()["error_type"] == "unprocessable_entity"


async def test_an_expired_or_unknown_code_is_refused(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    async with env.db.session(write=True) as session:
        row = await session.get(OAuthCode, hash_secret(code))
        assert row.expires_at - row.created_at == timedelta(minutes=10)
        await session.execute(
            update(OAuthCode)
            .where(OAuthCode.code_hash == hash_secret(code))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await exchange_code(client, env, code)).status_code == 400
    assert (await exchange_code(client, env, "0" * 40)).status_code == 400
    missing = await client.post(
        "/oauth2/v1/token", data={"client_id": env.client_id, "client_secret": env.client_secret}
    )
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


async def test_codes_are_stored_hashed_and_bound_to_their_client(
    client: httpx.AsyncClient, env: Env, db: Database
) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    async with db.session(write=False) as session:
        assert await session.get(OAuthCode, code) is None
    other = await make_env(db)
    stolen = await exchange_code(
        client, env, code, data={"code": code, "client_id": other.client_id, "client_secret": other.client_secret}
    )
    assert stolen.status_code == 400
    # The mismatch did not burn the code for its own client.
    assert (await exchange_code(client, env, code)).status_code == 200


async def test_a_redirect_uri_sent_to_the_token_endpoint_must_match(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    creds = {"client_id": env.client_id, "client_secret": env.client_secret}
    wrong = await exchange_code(
        client, env, code, data={**creds, "code": code, "redirect_uri": "https://x.example.com"}
    )
    assert wrong.status_code == 400
    right = await exchange_code(client, env, code, data={**creds, "code": code, "redirect_uri": REDIRECT})
    assert right.status_code == 200


async def test_wrong_client_credentials_are_a_401(client: httpx.AsyncClient, env: Env) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    wrong = await exchange_code(
        client, env, code, data={"code": code, "client_id": env.client_id, "client_secret": "nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error_type"] == "unauthorized" and wrong.json()["error"] == "invalid_client"
    basic = await exchange_code(client, env, code, data={"code": code}, headers=_basic(env.client_id, "nope"))
    assert basic.status_code == 401 and basic.headers["www-authenticate"].startswith("Basic")
    assert (await exchange_code(client, env, code, data={"code": code})).status_code == 401
    garbled = await exchange_code(client, env, code, data={"code": code}, headers={"Authorization": "Basic !!!"})
    assert garbled.status_code == 401
    # None of these used the code.
    assert (await exchange_code(client, env, code)).status_code == 200


async def test_basic_json_and_query_client_authentication(client: httpx.AsyncClient, env: Env) -> None:
    creds = {"client_id": env.client_id, "client_secret": env.client_secret}
    params = env.params()
    by_basic = await exchange_code(
        client,
        env,
        "",
        data={"code": await oauth_code(client, env, params, location_id=env.location_id)},
        headers=_basic(env.client_id, env.client_secret),
    )
    assert by_basic.status_code == 200, by_basic.text
    by_json = await exchange_code(
        client, env, "", json={**creds, "code": await oauth_code(client, env, params, location_id=env.location_id)}
    )
    assert by_json.status_code == 200, by_json.text
    # HubRise's own examples put everything in the query string.
    by_query = await exchange_code(
        client, env, "", params={**creds, "code": await oauth_code(client, env, params, location_id=env.location_id)}
    )
    assert by_query.status_code == 200, by_query.text
    other = await client.post("/oauth2/v1/token", content=b"code=x", headers={"Content-Type": "text/plain"})
    assert other.status_code == 415


async def test_reauthorising_returns_the_same_token_unless_the_device_differs(
    client: httpx.AsyncClient, env: Env
) -> None:
    async def token_for(scope: str = "location[orders.read]", **extra: str) -> str:
        params = env.params(scope, **extra)
        response = await exchange_code(client, env, await oauth_code(client, env, params, location_id=env.location_id))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    first = await token_for()
    assert await token_for() == first
    tablet = await token_for(device_id="tablet-1")
    assert tablet != first
    assert await token_for(device_id="tablet-1") == tablet
    assert await token_for(device_id="tablet-2") not in (first, tablet)
    assert await token_for("location[orders.write]") != first
    for token in (first, tablet):
        assert (await client.get("/v1/location", headers={"X-Access-Token": token})).status_code == 200
    async with env.db.session(write=False) as session:
        # The tokens are made again from the client's secret and a salt: no form of them is stored.
        rows = (
            await session.execute(
                select(Connection.token_salt, Connection.token_sealed).where(Connection.client_id == env.client_id)
            )
        ).all()
        assert rows and all(salt and sealed is None and salt not in (first, tablet) for salt, sealed in rows)


async def test_concurrent_exchanges_for_one_grant_share_one_connection(client: httpx.AsyncClient, env: Env) -> None:
    """An app that authorises twice at once (two tabs, a double click) still ends with one token."""
    params = env.params("location[orders.read]", device_id=f"till-{secrets.token_hex(3)}")
    codes = [await oauth_code(client, env, params, location_id=env.location_id) for _ in range(6)]
    responses = await asyncio.gather(*(exchange_code(client, env, code) for code in codes))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["access_token"] for r in responses}) == 1
    async with env.db.session(write=False) as session:
        live = await session.scalars(
            select(Connection.id).where(
                Connection.client_id == env.client_id,
                Connection.device_id == params["device_id"],
                Connection.revoked_at.is_(None),
            )
        )
        assert len(live.all()) == 1


async def test_a_revoked_connection_is_not_reused(client: httpx.AsyncClient, env: Env) -> None:
    params = env.params()
    first = (
        await exchange_code(client, env, await oauth_code(client, env, params, location_id=env.location_id))
    ).json()
    revoked = await client.post(
        "/oauth2/v1/revoke", data={"token": first["access_token"]}, headers=_basic(env.client_id, env.client_secret)
    )
    assert revoked.status_code == 200
    second = (
        await exchange_code(client, env, await oauth_code(client, env, params, location_id=env.location_id))
    ).json()
    assert second["access_token"] != first["access_token"]


async def test_revoking_makes_the_token_a_401_and_is_idempotent(env: Env, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auth_cache_seconds": 0}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://patronage.test") as http:
        code = await oauth_code(http, env, env.params(), location_id=env.location_id)
        token = (await exchange_code(http, env, code)).json()["access_token"]
        headers = {"X-Access-Token": token}
        assert (await http.get("/v1/location", headers=headers)).status_code == 200
        # Another client cannot revoke it, nor can a wrong secret.
        other = await make_env(env.db)
        creds = {"client_id": other.client_id, "client_secret": other.client_secret}
        assert (await http.post("/oauth2/v1/revoke", data={"token": token, **creds})).status_code == 200
        assert (await http.get("/v1/location", headers=headers)).status_code == 200
        wrong = {"token": token, "client_id": env.client_id, "client_secret": "nope"}
        assert (await http.post("/oauth2/v1/revoke", data=wrong)).status_code == 401
        mine = {"token": token, "client_id": env.client_id, "client_secret": env.client_secret}
        for _ in range(2):
            response = await http.post("/oauth2/v1/revoke", json=mine)
            assert response.status_code == 200, response.text
        assert (await http.get("/v1/location", headers=headers)).status_code == 401
        async with env.db.session(write=False) as session:
            row = await session.scalar(select(Connection).where(Connection.token_hash == hash_secret(token)))
            assert row.revoked_at is not None and row.token_sealed is None
        unknown = {**mine, "token": "f" * 32}
        assert (await http.post("/oauth2/v1/revoke", data=unknown)).status_code == 200
        assert (await http.post("/oauth2/v1/revoke", data={**mine, "token": ""})).status_code == 400
    await app.state.db.dispose()


async def test_forms_without_their_csrf_token_are_refused(client: httpx.AsyncClient, env: Env, app: Any) -> None:
    params = env.params()
    await client.get("/oauth2/v1/authorize", params=params)
    login = {**params, "email": env.email, "password": PASSWORD}
    for token in ({}, {"csrf_token": "forged"}):
        response = await client.post("/oauth2/v1/login", data={**login, **token})
        assert response.status_code == 403 and "set-cookie" not in response.headers
    csrf = await log_in(client, env, params)
    for token in ({}, {"csrf_token": "forged"}):
        response = await client.post(
            "/oauth2/v1/authorize", data={**params, "decision": "allow", "location_id": env.location_id, **token}
        )
        assert response.status_code == 403 and "location" not in response.headers
    # The consent token is tied to the login: another login's token does not fit this one.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://patronage.test") as other:
        other_csrf = await log_in(other, env, params)
    assert other_csrf != csrf
    response = await client.post(
        "/oauth2/v1/authorize",
        data={**params, "decision": "allow", "location_id": env.location_id, "csrf_token": other_csrf},
    )
    assert response.status_code == 403


async def test_a_wrong_password_shows_the_login_page_again_without_a_cookie(
    client: httpx.AsyncClient, env: Env
) -> None:
    params = env.params()
    page = await client.get("/oauth2/v1/authorize", params=params)
    for email, password in ((env.email, "wrong"), ("nobody@example.com", PASSWORD)):
        response = await client.post(
            "/oauth2/v1/login",
            data={**params, "email": email, "password": password, "csrf_token": csrf_token(page.text)},
        )
        assert response.status_code == 401
        assert "Wrong email or password" in response.text and 'action="/oauth2/v1/login"' in response.text
        assert "set-cookie" not in response.headers
        assert "patronage_oauth_login" not in client.cookies
    again = await client.get("/oauth2/v1/authorize", params=params)
    assert 'action="/oauth2/v1/login"' in again.text


async def test_an_expired_login_asks_to_log_in_again(client: httpx.AsyncClient, env: Env) -> None:
    params = env.params()
    csrf = await log_in(client, env, params)
    async with env.db.session(write=True) as session:
        await session.execute(
            update(OAuthLogin)
            .where(OAuthLogin.user_id == (await tenancy.find_user(session, env.email)).id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await client.post(
        "/oauth2/v1/authorize", data={**params, "csrf_token": csrf, "decision": "allow", "location_id": env.location_id}
    )
    assert response.status_code == 401 and 'action="/oauth2/v1/login"' in response.text


async def test_the_consent_page_offers_only_the_users_own_locations(
    client: httpx.AsyncClient, env: Env, db: Database
) -> None:
    other = await make_env(db)
    params = env.params()
    csrf = await log_in(client, env, params)
    page = await client.get("/oauth2/v1/authorize", params=params)
    assert env.location_id in page.text and env.other_location_id in page.text
    assert other.location_id not in page.text
    response = await client.post(
        "/oauth2/v1/authorize",
        data={**params, "csrf_token": csrf, "decision": "allow", "location_id": other.location_id},
    )
    assert response.status_code == 400 and "location" not in response.headers


async def test_the_pages_escape_what_they_echo(client: httpx.AsyncClient, env: Env) -> None:
    params = env.params(state='"><script>alert(1)</script>')
    page = await client.get("/oauth2/v1/authorize", params=params)
    assert page.status_code == 200
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_a_client_name_and_a_scope_holding_markup_are_shown_escaped(client: httpx.AsyncClient, env: Env) -> None:
    async with env.db.session(write=True) as session:
        named = await auth.create_client(session, "<script>alert('name')</script> & Co", [REDIRECT])
    params = {**env.params(), "client_id": named.client.id}
    page = await client.get("/oauth2/v1/authorize", params=params)
    assert page.status_code == 200 and 'action="/oauth2/v1/login"' in page.text
    assert "<script>" not in page.text and "&lt;script&gt;alert(" in page.text and "&amp; Co" in page.text
    # The login form does not check the scope: it comes back, escaped, in the page's hidden fields.
    marked = {**params, "scope": '"><script>alert("scope")</script>'}
    refused = await client.post(
        "/oauth2/v1/login",
        data={**marked, "email": env.email, "password": "wrong", "csrf_token": csrf_token(page.text)},
    )
    assert refused.status_code == 401 and 'action="/oauth2/v1/login"' in refused.text
    assert "<script>" not in refused.text and "&lt;script&gt;alert(" in refused.text
    await log_in(client, env, params)
    consent = await client.get("/oauth2/v1/authorize", params=params)
    assert 'action="/oauth2/v1/authorize"' in consent.text
    assert "<script>" not in consent.text and "&lt;script&gt;alert(" in consent.text


async def test_nul_characters_are_refused_in_forms_and_token_parameters(client: httpx.AsyncClient, env: Env) -> None:
    """PostgreSQL cannot compare text holding a NUL: each way in refuses one, as an error of its own kind."""
    params = env.params()
    page = await client.get("/oauth2/v1/authorize", params=params)
    login = {**params, "email": "a\x00@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    form = await client.post("/oauth2/v1/login", data=login)
    assert form.status_code == 400 and "NUL" in form.text and "set-cookie" not in form.headers
    queried = await client.get("/oauth2/v1/authorize", params={**params, "client_id": "x\x00"})
    assert queried.status_code == 422 and queried.json()["errors"][0]["field"] == "client_id"
    creds = {"client_id": env.client_id, "client_secret": env.client_secret}
    for sent in ({"json": {**creds, "code": "a\x00"}}, {"data": {**creds, "code": "a\x00"}}):
        response = await client.post("/oauth2/v1/token", **sent)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert response.json()["message"] == "The code parameter must not hold a NUL character"
    basic = await client.post("/oauth2/v1/token", data={"code": "x"}, headers=_basic("a\x00b", "secret"))
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"


async def test_the_token_answer_is_documented_key_for_key(client: httpx.AsyncClient, env: Env) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    answer_ref = spec["paths"]["/oauth2/v1/token"]["post"]["responses"]["200"]["content"]["application/json"]
    documented = schemas[answer_ref["schema"]["$ref"].rsplit("/", 1)[1]]
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    body = (await exchange_code(client, env, code)).json()
    assert set(body) == set(documented["properties"]) == set(documented["required"])
    refused = (await exchange_code(client, env, code)).json()
    assert set(refused) == set(schemas["OAuthErrorBody"]["properties"])


async def test_cors_does_not_apply_to_the_oauth_endpoints(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/oauth2/v1/token",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    posted = await client.post("/oauth2/v1/token", data={"code": "x"}, headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in posted.headers
    api = await client.get("/v1/location", headers={"Origin": "https://evil.example.com"})
    assert api.headers["access-control-allow-origin"] == "*"


async def test_a_token_revoked_through_a_process_stops_working_there_at_once(
    client: httpx.AsyncClient, env: Env
) -> None:
    code = await oauth_code(client, env, env.params(), location_id=env.location_id)
    token = (await exchange_code(client, env, code)).json()["access_token"]
    headers = {"X-Access-Token": token}
    assert (await client.get("/v1/location", headers=headers)).status_code == 200  # now in the token cache
    mine = {"token": token, "client_id": env.client_id, "client_secret": env.client_secret}
    assert (await client.post("/oauth2/v1/revoke", data=mine)).status_code == 200
    assert (await client.get("/v1/location", headers=headers)).status_code == 401


async def test_sign_ins_are_throttled_per_email(env: Env, settings: Settings) -> None:
    """Ten attempts per email per quarter hour: guessing a password on the login page stays slow."""
    app = create_app(settings.model_copy(update={"rate_limits": True}))
    to_window_end = SIGN_IN_WINDOW - time.time() % SIGN_IN_WINDOW
    if to_window_end < 10:  # all the attempts below must fall in one window
        await asyncio.sleep(to_window_end)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://patronage.test") as http:
        params = env.params()
        page = await http.get("/oauth2/v1/authorize", params=params)
        form = {**params, "csrf_token": csrf_token(page.text)}

        async def sign_in(email: str, password: str) -> httpx.Response:
            return await http.post("/oauth2/v1/login", data={**form, "email": email, "password": password})

        statuses = [(await sign_in(env.email.upper(), f"guess {n}")).status_code for n in range(10)]
        assert statuses == [401] * 10
        refused = await sign_in(env.email, PASSWORD)  # even the right password, until the window ends
        assert refused.status_code == 429 and "Too many sign-in attempts" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 900
        assert "patronage_oauth_login" not in http.cookies
        assert (await sign_in("someone-else@example.com", "guess")).status_code == 401  # other emails unaffected
    await app.state.db.dispose()
