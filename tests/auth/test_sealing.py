"""Sealed secrets never live beside their key: client secrets are sealed with PATRONAGE_SECRET_KEY or a key file
(mode 0600) outside the database, OAuth tokens are not stored at all, a database that kept its key moves it out,
and `patronage admin rotate-secret-key` re-seals everything while the processes running keep working."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from helpers import Api, admin_execute, make_tenant
from live import PATRONAGE
from oauth_flow import exchange_code, make_env, oauth_code
from patronage import migrate, sealing
from patronage.app import create_app
from patronage.auth import service as auth
from patronage.auth.models import Client, Connection
from patronage.db import Database, utcnow
from patronage.ids import hash_secret, new_token
from patronage.oauth.service import derived_token
from patronage.settings import Settings, get_settings
from webhook_receiver import receiver, worker

WRITER = "location[all_customer_lists.write]"
LISTENER = "location[all_customer_lists.read]"


# --- the keyring and the key file ----------------------------------------------------------------------------


def test_the_key_file_is_created_once_with_mode_0600(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "patronage.key"
    path.parent.mkdir()
    mine = settings.model_copy(update={"secret_key": None, "secret_key_file": str(path)})
    umask = os.umask(0)  # even with a permissive umask
    try:
        ring = sealing.keyring(mine)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.source == str(path.resolve()) and len(ring.keys) == 1
    assert ring.keys[0] in path.read_text()
    assert sealing.keyring(mine).keys == ring.keys  # created once
    assert [p.name for p in path.parent.iterdir()] == ["patronage.key"]  # no temporary file left behind


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "patronage.key"
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda _: sealing.create_key_file(path), range(16)))
    assert len(set(created)) == 1 and created[0] == sealing.read_key_file(path)


def test_where_the_key_file_is_by_default(tmp_path: Path) -> None:
    def path(url: str, **more: Any) -> Path:
        return sealing.key_file_path(Settings(database_url=url, **{"secret_key_file": None, **more}))

    assert path(f"sqlite+aiosqlite:///{tmp_path}/data/shop.db") == tmp_path / "data" / "shop.db.key"
    assert path("sqlite+aiosqlite:///./patronage.db") == Path("./patronage.db.key")
    assert path("postgresql+asyncpg://patronage@db.internal/patronage") == Path("patronage.key")
    assert path("sqlite+aiosqlite:///./p.db", secret_key_file="/etc/patronage/key") == Path("/etc/patronage/key")


def test_postgresql_without_an_explicit_key_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = "postgresql+asyncpg://patronage@db.internal/patronage"
    with caplog.at_level(logging.WARNING, logger="patronage.sealing"):
        for _ in range(2):  # once per process
            sealing.keyring(Settings(database_url=url, secret_key_file=str(tmp_path / "pg.key")))
        sealing.keyring(Settings(database_url=url, secret_key="explicit", secret_key_file=str(tmp_path / "x.key")))
        sealing.keyring(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db", secret_key_file=None))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("secret_key_from_local_file: ")
    assert str(tmp_path / "pg.key") in warnings[0] and "PATRONAGE_SECRET_KEY" in warnings[0]


def test_a_key_file_without_keys_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "empty.key"
    path.write_text("# nothing here\n")
    with pytest.raises(sealing.KeyFileError):
        sealing.keyring(Settings(secret_key_file=str(path)))


def test_the_first_key_seals_and_every_key_opens(tmp_path: Path) -> None:
    files = tmp_path / "none.key"
    old = Settings(secret_key="old key", secret_key_file=str(files))
    both = Settings(secret_key="new key", secret_key_fallbacks="old key, spare", secret_key_file=str(files))
    sealed_old = sealing.keyring(old).seal("s3cr3t-value")
    sealed_new = sealing.keyring(both).seal("newer")
    assert "s3cr3t-value" not in sealed_old
    assert sealing.keyring(both).open(sealed_old) == "s3cr3t-value"
    assert sealing.keyring(both).sealed_with_current_key(sealed_new)
    assert not sealing.keyring(both).sealed_with_current_key(sealed_old)
    with pytest.raises(sealing.SealError):
        sealing.keyring(old).open(sealed_new)
    with pytest.raises(sealing.SealError):
        sealing.keyring(Settings(secret_key="another", secret_key_file=str(files))).open(sealed_old)


def test_secrets_sealed_with_the_key_file_stay_readable_once_a_secret_key_is_set(tmp_path: Path) -> None:
    path = str(tmp_path / "patronage.key")
    before = sealing.keyring(Settings(secret_key_file=path)).seal("older")
    keyed = sealing.keyring(Settings(secret_key="operator key", secret_key_file=path))
    assert keyed.source == "PATRONAGE_SECRET_KEY" and keyed.open(before) == "older"


# --- what a copy of the database holds --------------------------------------------------------------------------


async def _raw_cells(db: Database) -> tuple[list[str], list[str]]:
    """Every table of the database and every non-null value in it, as text: what a stolen copy holds."""
    async with db.session(write=False) as session:
        tables = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
        cells: set[str] = set()
        for name in tables:
            for row in (await session.execute(text(f'SELECT * FROM "{name}"'))).all():
                cells.update(v if isinstance(v, str) else json.dumps(v, default=str) for v in row if v is not None)
    return tables, sorted(cells)


def _opens(material: str, sealed: str) -> bool:
    keys = [sealing._fernet(material)]
    with contextlib.suppress(ValueError, TypeError):
        keys.append(Fernet(material.encode()))  # the cell as a Fernet key itself
    for key in keys:
        try:
            key.decrypt(sealed.encode())
            return True
        except InvalidToken:
            pass
    return False


async def test_a_copy_of_the_database_alone_opens_no_secret(
    db: Database, client: httpx.AsyncClient, settings: Settings
) -> None:
    env = await make_env(db)
    oauth = (
        await exchange_code(client, env, await oauth_code(client, env, env.params(), location_id=env.location_id))
    ).json()
    oauth_token = oauth["access_token"]
    tenant = await make_tenant(db, client)
    cli_token = await tenant.token("location[all_customer_lists.read]")
    async with db.session(write=False) as session:
        sealed = list(await session.scalars(select(Client.secret_sealed).where(Client.id == env.client_id)))
        salt = await session.scalar(select(Connection.token_salt).where(Connection.id == oauth["connection_id"]))
    assert sealed[0] and salt
    # With the key file the secret opens, and it makes the token: what the assertions below deny is real.
    assert sealing.keyring(settings).open(sealed[0]) == env.client_secret
    assert derived_token(env.client_secret, salt) == oauth_token

    tables, cells = await _raw_cells(db)
    assert "server_key" not in tables
    for secret in (env.client_secret, oauth_token, cli_token):
        assert not any(secret in cell for cell in cells)
    candidates = [cell for cell in cells if len(cell) <= 512]
    assert not any(_opens(cell, sealed[0]) for cell in candidates)
    assert not any(derived_token(cell, salt) == oauth_token for cell in candidates)


# --- scratch databases -------------------------------------------------------------------------------------------


class Environment:
    """The process environment, as this test sets it: get_settings() reads it again at each change."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, **values: str | None) -> None:
        for name, value in values.items():
            if value is None:
                self.monkeypatch.delenv(f"PATRONAGE_{name.upper()}", raising=False)
            else:
                self.monkeypatch.setenv(f"PATRONAGE_{name.upper()}", value)
        get_settings.cache_clear()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Environment]:
    yield Environment(monkeypatch)
    monkeypatch.undo()
    get_settings.cache_clear()


def _scratch(request: pytest.FixtureRequest, tmp_path: Path, revision: str) -> Iterator[str]:
    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        migrate.upgrade(url, revision)
        yield url
        return
    admin_url = os.environ["PATRONAGE_TEST_POSTGRES_URL"]
    name = f"patronage_scratch_{secrets.token_hex(4)}"
    asyncio.run(admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url, revision)
        yield url
    finally:
        asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _scratch(request, tmp_path, "head")


@pytest.fixture
def scratch_before_0009(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _scratch(request, tmp_path, "0008")


def _settings(url: str, **more: Any) -> Settings:
    return Settings(database_url=url, rate_limits="off", access_log=False, callback_allow_private=True, **more)


class Process:
    """One server process of a deployment: an app with its own settings (keys) over the shared database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://patronage.test")

    @property
    def db(self) -> Database:
        return self.app.state.db

    def api(self, token: str) -> Api:
        return Api(self.http, token)

    async def opens(self, sealed: str) -> str:
        async with self.db.session(write=False) as session:
            return await sealing.unseal(session, sealed, self.settings)

    async def close(self) -> None:
        await self.http.aclose()
        await self.db.dispose()


async def _sealed_secrets(db: Database) -> dict[str, str]:
    async with db.session(write=False) as session:
        return dict((await session.execute(select(Client.id, Client.secret_sealed))).all())


async def _new_client(db: Database) -> auth.NewClient:
    async with db.session(write=True) as session:
        return await auth.create_client(session, "Loyalty app", [])


async def _listening(tenant: Any, client_id: str, url: str | None) -> Api:
    listener = await tenant.api(LISTENER, client_id=client_id)
    saved = await listener.post("/v1/callback", json={"url": url, "events": {"customer": ["create"]}})
    assert saved.status_code == 200, saved.text
    return listener


async def _customers(writer: Api, list_id: str, count: int) -> None:
    for n in range(count):
        made = await writer.post(f"/v1/customer_lists/{list_id}/customers", json={"first_name": f"N{n}"})
        assert made.status_code == 201, made.text


def _signed_by(secret: str, delivery: Any) -> bool:
    expected = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    return delivery.headers["x-hubrise-hmac-sha256"] == expected


def _rotate_cli(url: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(PATRONAGE), "admin", "rotate-secret-key"],
        env={**os.environ, "PATRONAGE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- a database that kept its key -----------------------------------------------------------------------------


async def _client_sealed_with_a_database_key(url: str) -> tuple[str, str, str]:
    """What versions up to 0008 left: a key in server_key, and a client secret sealed with it."""
    legacy, secret = Fernet.generate_key().decode(), secrets.token_hex(16)
    sealed = sealing._fernet(legacy).encrypt(secret.encode()).decode()
    db = Database(Settings(database_url=url))
    try:
        async with db.session(write=True) as session:
            now = utcnow()
            await session.execute(
                text("INSERT INTO server_key (name, value, created_at) VALUES ('client-secrets', :v, :now)"),
                {"v": legacy, "now": now},
            )
            await session.execute(
                text(
                    "INSERT INTO client (id, name, secret_hash, secret_sealed, redirect_uris, created_at)"
                    " VALUES ('000000000001.clients.patronage', 'Old app', :h, :s, '[]', :now)"
                ),
                {"h": hash_secret(secret), "s": sealed, "now": now},
            )
    finally:
        await db.dispose()
    return legacy, secret, sealed


async def test_a_database_that_kept_its_key_moves_it_to_the_key_file(
    scratch_before_0009: str, tmp_path: Path, environment: Environment
) -> None:
    key_file = tmp_path / "moved.key"
    environment.set(secret_key_file=str(key_file))
    legacy, secret, sealed = await _client_sealed_with_a_database_key(scratch_before_0009)
    await asyncio.to_thread(migrate.upgrade, scratch_before_0009)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sealing.read_key_file(key_file) == (legacy,)
    process = Process(_settings(scratch_before_0009))
    try:
        tables, cells = await _raw_cells(process.db)
        assert "server_key" not in tables and legacy not in cells
        assert (await _sealed_secrets(process.db))["000000000001.clients.patronage"] == sealed  # as it was
        assert await process.opens(sealed) == secret
    finally:
        await process.close()


async def test_with_a_secret_key_the_database_key_is_resealed_under_it(
    scratch_before_0009: str, tmp_path: Path, environment: Environment
) -> None:
    key_file = tmp_path / "never.key"
    environment.set(secret_key="the operator's key")
    environment.set(secret_key_file=str(key_file))
    legacy, secret, sealed = await _client_sealed_with_a_database_key(scratch_before_0009)
    await asyncio.to_thread(migrate.upgrade, scratch_before_0009)

    assert not key_file.exists()
    process = Process(_settings(scratch_before_0009))
    try:
        tables, cells = await _raw_cells(process.db)
        assert "server_key" not in tables and legacy not in cells
        resealed = (await _sealed_secrets(process.db))["000000000001.clients.patronage"]
        assert resealed != sealed and not _opens(legacy, resealed)
        assert sealing.keyring(Settings(secret_key="the operator's key", secret_key_file=str(key_file))).open(
            resealed
        ) == (secret)
    finally:
        await process.close()


async def test_an_oauth_token_sealed_before_0009_is_answered_again(
    scratch_url: str, tmp_path: Path, environment: Environment
) -> None:
    environment.set(secret_key_file=str(tmp_path / "scratch.key"))
    process = Process(_settings(scratch_url))
    try:
        env = await make_env(process.db)
        code = await oauth_code(process.http, env, env.params(), location_id=env.location_id)
        first = (await exchange_code(process.http, env, code)).json()
        # Turn it into what 0008 made: a random token, kept sealed, no salt.
        old_token = new_token()
        async with process.db.session(write=True) as session:
            connection = await session.get(Connection, first["connection_id"])
            connection.token_hash = hash_secret(old_token)
            connection.token_salt = None
            connection.token_sealed = sealing.keyring(process.settings).seal(old_token)
        code = await oauth_code(process.http, env, env.params(), location_id=env.location_id)
        again = (await exchange_code(process.http, env, code)).json()
        assert again["access_token"] == old_token and again["connection_id"] == first["connection_id"]
        assert (await process.api(old_token).get("/v1/location")).status_code == 200
    finally:
        await process.close()


# --- rotation -------------------------------------------------------------------------------------------------


async def test_rotating_the_key_file_reseals_everything_while_processes_keep_working(
    scratch_url: str, tmp_path: Path, environment: Environment
) -> None:
    key_file = tmp_path / "keys" / "patronage.key"
    key_file.parent.mkdir()
    environment.set(secret_key_file=str(key_file))
    running = Process(_settings(scratch_url))  # started before the rotation, stays up through it
    try:
        tenant = await make_tenant(running.db, running.http)
        with receiver() as hook:
            made = await _new_client(running.db)
            listener = await _listening(tenant, made.client.id, hook.url)
            await _customers(await tenant.api(WRITER), await tenant.customer_list(), 3)
            cursor_before = (await listener.get("/v1/callback/events", params={"count": "1"})).headers["X-Cursor-Next"]
            (first_key,) = sealing.read_key_file(key_file)
            before = await _sealed_secrets(running.db)

            outcome = await asyncio.to_thread(_rotate_cli, scratch_url)
            assert outcome["new_key"] is True and outcome["sealing_key"] == str(key_file.resolve())
            assert outcome["resealed"]["client_secrets"] == len(before) == 2
            assert outcome["unreadable"] == 0 and outcome["retired_keys"] == 0
            assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
            new_key, previous = sealing.read_key_file(key_file)
            assert previous == first_key != new_key

            # Every secret is now sealed with the new key alone.
            only_new = sealing.Keyring((new_key,), "test")
            after = await _sealed_secrets(running.db)
            assert all(after[i] != before[i] and only_new.sealed_with_current_key(after[i]) for i in before)
            # The process that was running opens them, seals with the new key, and honours its cursors.
            assert await running.opens(after[made.client.id]) == made.secret
            newer = await _new_client(running.db)
            assert only_new.open((await _sealed_secrets(running.db))[newer.client.id]) == newer.secret
            page = await listener.get("/v1/callback/events", params={"count": "1", "cursor": cursor_before})
            assert page.status_code == 200, page.text
            cursor_after = page.headers["X-Cursor-Next"]
            assert (await listener.get("/v1/callback/events", params={"cursor": cursor_after})).status_code == 200
            # A process started after it (a webhook worker) signs with the right secret.
            with worker(scratch_url):
                deliveries = await hook.wait_for(lambda seen: len(seen) >= 3)
            assert all(_signed_by(made.secret, delivery) for delivery in deliveries)

        # Rotating again retires the first key: its cursors are over, every secret still opens.
        again = await asyncio.to_thread(_rotate_cli, scratch_url)
        assert again["retired_keys"] == 1 and again["resealed"]["client_secrets"] == 3
        assert sealing.read_key_file(key_file)[1] == new_key and first_key not in key_file.read_text()
        stale = await listener.get("/v1/callback/events", params={"cursor": cursor_before})
        assert stale.status_code == 422
        assert await running.opens((await _sealed_secrets(running.db))[made.client.id]) == made.secret
    finally:
        await running.close()


async def test_rolling_out_a_new_secret_key_keeps_old_and_new_processes_working(
    scratch_url: str, tmp_path: Path, environment: Environment
) -> None:
    old_key, new_key = "the first operator key", "the second operator key"
    unused = tmp_path / "unused.key"
    environment.set(secret_key_file=str(unused))
    environment.set(secret_key=old_key)
    before = Process(_settings(scratch_url))
    tenant = await make_tenant(before.db, before.http)
    made = await _new_client(before.db)
    await before.close()

    # Step 1, every process learns the new key; step 2, some processes seal with it. Both kinds run at once.
    old = Process(_settings(scratch_url, secret_key=old_key, secret_key_fallbacks=new_key))
    new = Process(_settings(scratch_url, secret_key=new_key, secret_key_fallbacks=old_key))
    tenant.db, tenant.http = new.db, new.http
    try:
        environment.set(secret_key=new_key)
        environment.set(secret_key_fallbacks=old_key)
        later = await _new_client(new.db)
        sealed = await _sealed_secrets(new.db)
        for process in (old, new):
            assert await process.opens(sealed[made.client.id]) == made.secret
            assert await process.opens(sealed[later.client.id]) == later.secret
        listener = await _listening(tenant, made.client.id, None)
        await _customers(await tenant.api(WRITER), await tenant.customer_list(), 3)
        for first, second in ((old, new), (new, old)):
            page = await first.api(listener.token).get("/v1/callback/events", params={"count": "1"})
            cursor = page.headers["X-Cursor-Next"]
            follow = await second.api(listener.token).get("/v1/callback/events", params={"cursor": cursor})
            assert follow.status_code == 200, follow.text

        # Step 3: re-seal what the old key sealed.
        outcome = await sealing.rotate(new.db, new.settings)
        assert outcome["sealing_key"] == "PATRONAGE_SECRET_KEY" and outcome["new_key"] is False
        assert outcome["resealed"]["client_secrets"] == 2 and outcome["unreadable"] == 0  # the tenant's and made
        only_new = sealing.Keyring((new_key,), "test")
        assert all(only_new.sealed_with_current_key(value) for value in (await _sealed_secrets(new.db)).values())
        assert not unused.exists()
    finally:
        await old.close()
        await new.close()

    # Step 4: the old key is gone from every process; a worker with the new key alone signs correctly.
    environment.set(secret_key_fallbacks=None)
    last = Process(_settings(scratch_url, secret_key=new_key))
    try:
        with receiver() as hook:
            saved = await last.api(listener.token).post(
                "/v1/callback", json={"url": hook.url, "events": {"customer": ["create"]}}
            )
            assert saved.status_code == 200
            with worker(scratch_url, PATRONAGE_SECRET_KEY=new_key):
                deliveries = await hook.wait_for(lambda seen: len(seen) >= 3)
        assert all(_signed_by(made.secret, delivery) for delivery in deliveries)
    finally:
        await last.close()
