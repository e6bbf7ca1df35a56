"""Test fixtures: the real app over ASGI, on a fresh SQLite file or a scratch PostgreSQL database.

``pytest`` runs on SQLite; ``pytest --db postgresql`` on a scratch database created next to
``PATRONAGE_TEST_POSTGRES_URL`` (and dropped afterwards). Tenants are created per test, so tests
isolate each other the way accounts do, without cleaning up.
"""

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from openapi_check import OpenApiCheck
from patronage import migrate
from patronage.app import create_app
from patronage.auth import service as auth
from patronage.customer_lists import service as lists
from patronage.db import Database
from patronage.settings import Settings
from patronage.tenancy import service as tenancy

# Every test makes a user, and a production-strength Argon2 hash costs 100 ms of CPU: the suite uses a
# cheap one (the same algorithm; its strength is not what these tests are about). Set in the environment
# before any settings are read, so the app, the CLI (in process or not) and the helpers here all use it.
os.environ.update(
    PATRONAGE_PASSWORD_HASH_TIME_COST="1",
    PATRONAGE_PASSWORD_HASH_MEMORY_COST="1024",
    PATRONAGE_PASSWORD_HASH_PARALLELISM="1",
)


# What anonymising a customer nulls, spelled out from SPEC §7 (here, not imported from the code under test).
ANONYMISED_FIELDS = [
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "latitude",
    "longitude",
    "delivery_notes",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("PATRONAGE_TEST_DATABASE", "sqlite"),
        help="database to run the suite on (postgresql needs PATRONAGE_TEST_POSTGRES_URL)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Without PATRONAGE_SECRET_KEY a PostgreSQL deployment keeps its key in ./patronage.key: the suite's goes to a
    # scratch folder (inherited by the CLI and servers it starts), not into the working tree.
    if config.getoption("--db") == "postgresql":
        folder = tempfile.mkdtemp(prefix="patronage-test-keys-")
        os.environ.setdefault("PATRONAGE_SECRET_KEY_FILE", os.path.join(folder, "patronage.key"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"patronage database: {config.getoption('--db')}"


async def _admin_execute(admin_url: str, statement: str) -> None:
    import asyncpg

    url = make_url(admin_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'patronage.db'}"
        migrate.upgrade(url)
        yield url
        return
    admin_url = os.environ.get("PATRONAGE_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.exit("--db postgresql needs PATRONAGE_TEST_POSTGRES_URL", returncode=2)
    name = f"patronage_test_{secrets.token_hex(4)}"
    asyncio.run(_admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    url_text = url.render_as_string(hide_password=False)
    try:
        migrate.upgrade(url_text)
        yield url_text
    finally:
        asyncio.run(_admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Rate limits have tests of their own (test_rate_limits.py); elsewhere they would only get in the way.
    return Settings(database_url=database_url, rate_limits="off", access_log=False)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    yield application
    await application.state.db.dispose()


@pytest.fixture(scope="session")
def db(app: Any) -> Database:
    return app.state.db


@pytest.fixture(scope="session")
def openapi_check(app: Any) -> OpenApiCheck:
    return OpenApiCheck(app.openapi())


@pytest.fixture
async def client(app: Any, openapi_check: OpenApiCheck) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGI; every response is checked against the OpenAPI document (tests/openapi_check.py)."""
    transport = httpx.ASGITransport(app=app)
    hooks = {"response": [openapi_check.on_response]}
    async with httpx.AsyncClient(transport=transport, base_url="http://patronage.test", event_hooks=hooks) as http:
        yield http


class Api:
    """An HTTP client bound to one access token."""

    def __init__(self, http: httpx.AsyncClient, token: str | None):
        self.http = http
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"X-Access-Token": self.token} if self.token else {}
        return {**headers, **(extra or {})}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self._headers(kwargs.pop("headers", None))
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, json=json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)


@dataclass
class Tenant:
    """A user with one account, two locations, and a client; makes lists and tokens on demand."""

    db: Database
    http: httpx.AsyncClient
    account_id: str
    location_id: str
    other_location_id: str
    client_id: str
    client_name: str
    extra: dict[str, Any] = field(default_factory=dict)

    async def customer_list(self, name: str | None = None, *, location_id: str | None = "default") -> str:
        """A location-level list (default: the first location); ``location_id=None`` for account level."""
        if location_id == "default":
            location_id = self.location_id
        async with self.db.session(write=True) as session:
            account = await tenancy.get_account(session, self.account_id)
            location = await tenancy.get_location(session, location_id) if location_id else None
            created = await lists.insert(session, account, location, name or f"List {secrets.token_hex(3)}")
            return created.id

    async def token(
        self,
        scope: str,
        *,
        location_id: str | None = "default",
        customer_list_id: str | None = None,
        client_id: str | None = None,
    ) -> str:
        if location_id == "default":
            location_id = self.location_id if scope.startswith("location") else None
        async with self.db.session(write=True) as session:
            account = await tenancy.get_account(session, self.account_id)
            location = await tenancy.get_location(session, location_id) if location_id else None
            bound = None
            if customer_list_id:
                from patronage.customer_lists.models import CustomerList

                bound = await session.get(CustomerList, customer_list_id)
            answer = await auth.connect(
                session,
                await auth.get_client(session, client_id or self.client_id),
                account=account,
                location=location,
                scope_text=scope,
                customer_list=bound,
            )
            return answer["access_token"]

    async def api(self, scope: str, **kwargs: Any) -> Api:
        return Api(self.http, await self.token(scope, **kwargs))

    async def new_client(self, name: str = "Other app") -> str:
        async with self.db.session(write=True) as session:
            return (await auth.create_client(session, name, [])).client.id


async def make_tenant(
    db: Database, http: httpx.AsyncClient, *, currency: str = "EUR", timezone: str = "Europe/Paris"
) -> Tenant:
    async with db.session(write=True) as session:
        user = await tenancy.create_user(session, f"owner-{secrets.token_hex(6)}@example.com", "secret")
        account = await tenancy.create_account(session, user, "Burger Co", currency, "FR", timezone)
        first = await tenancy.create_location(session, account, "Paris Bastille")
        second = await tenancy.create_location(session, account, "Lyon Part-Dieu")
        client_name = f"POS {secrets.token_hex(3)}"
        client = (await auth.create_client(session, client_name, [])).client
        return Tenant(db, http, account.id, first.id, second.id, client.id, client_name)


@pytest.fixture
async def tenant(db: Database, client: httpx.AsyncClient) -> Tenant:
    return await make_tenant(db, client)


@pytest.fixture
async def other_tenant(db: Database, client: httpx.AsyncClient) -> Tenant:
    """Another user's account: none of its ids may be visible to ``tenant``."""
    return await make_tenant(db, client, currency="GBP", timezone="Europe/London")
