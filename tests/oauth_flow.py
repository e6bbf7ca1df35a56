"""The OAuth 2.0 code flow as a client's user goes through it: log in, consent, get a code, exchange it."""

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from patronage.auth import service as auth
from patronage.customer_lists import service as lists
from patronage.db import Database
from patronage.tenancy import service as tenancy

REDIRECT = "https://app.example.com/oauth/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
PASSWORD = "correct horse battery staple"


@dataclass
class Env:
    db: Database
    email: str
    account_id: str
    location_id: str
    other_location_id: str
    client_id: str
    client_secret: str
    client_name: str

    def params(self, scope: str = "location[orders.read]", **extra: str) -> dict[str, str]:
        return {"client_id": self.client_id, "redirect_uri": REDIRECT, "scope": scope, "state": "xyz-42", **extra}

    async def customer_list(self, name: str, location_id: str | None) -> str:
        async with self.db.session(write=True) as session:
            account = await tenancy.get_account(session, self.account_id)
            location = await tenancy.get_location(session, location_id) if location_id else None
            return (await lists.insert(session, account, location, name)).id


async def make_env(db: Database) -> Env:
    async with db.session(write=True) as session:
        email = f"oauth-{secrets.token_hex(6)}@example.com"
        user = await tenancy.create_user(session, email, PASSWORD)
        account = await tenancy.create_account(session, user, "Burger Co", "EUR", "FR", "Europe/Paris")
        first = await tenancy.create_location(session, account, "Paris Bastille")
        second = await tenancy.create_location(session, account, "Lyon Part-Dieu")
        name = f"POS {secrets.token_hex(3)}"
        created = await auth.create_client(session, name, [REDIRECT, "https://app.example.com/cb?tenant=7"])
        return Env(db, email, account.id, first.id, second.id, created.client.id, created.secret, name)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?") or location.startswith("https://app.example.com/cb?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def log_in(http: httpx.AsyncClient, env: Env, params: dict[str, str]) -> str:
    """Logs in through the login form (unless already logged in); returns the consent page's CSRF token."""
    page = await http.get("/oauth2/v1/authorize", params=params)
    assert page.status_code == 200, page.text
    if 'action="/oauth2/v1/authorize"' in page.text:
        return csrf_token(page.text)
    assert 'action="/oauth2/v1/login"' in page.text
    logged = await http.post(
        "/oauth2/v1/login",
        data={**params, "email": env.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert logged.status_code == 303, logged.text
    assert logged.headers["location"].startswith("/oauth2/v1/authorize?")
    consent = await http.get(logged.headers["location"])
    assert consent.status_code == 200, consent.text
    assert 'action="/oauth2/v1/authorize"' in consent.text
    return csrf_token(consent.text)


async def authorize(
    http: httpx.AsyncClient, env: Env, params: dict[str, str], decision: str = "allow", **choice: str
) -> httpx.Response:
    csrf = await log_in(http, env, params)
    return await http.post("/oauth2/v1/authorize", data={**params, "csrf_token": csrf, "decision": decision, **choice})


async def oauth_code(http: httpx.AsyncClient, env: Env, params: dict[str, str], **choice: str) -> str:
    query = redirect_query(await authorize(http, env, params, **choice))
    assert query["state"] == params["state"]
    return query["code"]


async def exchange_code(http: httpx.AsyncClient, env: Env, code: str, **kwargs: Any) -> httpx.Response:
    if not kwargs:
        kwargs = {"data": {"code": code, "client_id": env.client_id, "client_secret": env.client_secret}}
    return await http.post("/oauth2/v1/token", **kwargs)
