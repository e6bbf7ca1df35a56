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
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from helpers import Tenant, admin_execute, make_tenant
from openapi_check import OpenApiCheck
from patronage import migrate
from patronage.app import create_app
from patronage.db import Database
from patronage.settings import Settings

# Every test makes a user, and a production-strength Argon2 hash costs 100 ms of CPU: the suite uses a
# cheap one (the same algorithm; its strength is not what these tests are about). Set in the environment
# before any settings are read, so the app, the CLI (in process or not) and the helpers here all use it.
os.environ.update(
    PATRONAGE_PASSWORD_HASH_TIME_COST="1",
    PATRONAGE_PASSWORD_HASH_MEMORY_COST="1024",
    PATRONAGE_PASSWORD_HASH_PARALLELISM="1",
)


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
    asyncio.run(admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    url_text = url.render_as_string(hide_password=False)
    try:
        migrate.upgrade(url_text)
        yield url_text
    finally:
        asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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


@pytest.fixture
async def tenant(db: Database, client: httpx.AsyncClient) -> Tenant:
    return await make_tenant(db, client)


@pytest.fixture
async def other_tenant(db: Database, client: httpx.AsyncClient) -> Tenant:
    """Another user's account: none of its ids may be visible to ``tenant``."""
    return await make_tenant(db, client, currency="GBP", timezone="Europe/London")
