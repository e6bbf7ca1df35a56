"""Rate limits per connection (SPEC §4): aligned windows, 429 + Retry-After, heavy queries, overrides, Redis."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import update

from helpers import Api, make_tenant
from live import live_server
from patronage.app import create_app
from patronage.auth.models import Connection
from patronage.ids import hash_secret
from patronage.settings import Settings

REDIS_URL = os.environ.get("PATRONAGE_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="PATRONAGE_TEST_REDIS_URL is not set")


def _away_from_minute_end() -> None:
    """Windows are aligned to the round minute: don't start a count just before one ends."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


async def _app(settings: Settings, **limits):
    app = create_app(settings.model_copy(update={"rate_limits": True, **limits}))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return app, http


async def test_the_request_over_the_minute_limit_is_429_with_retry_after(settings: Settings) -> None:
    app, http = await _app(settings, rate_limit_per_minute=5)
    async with http:
        tenant = await make_tenant(app.state.db, http)
        api = await tenant.api("location[all_customer_lists.read]")
        other = await tenant.api("location[all_customer_lists.read]")
        _away_from_minute_end()
        statuses = [(await api.get("/v1/location")).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = await api.get("/v1/location")
        assert refused.json()["error_type"] == "too_many_requests"
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 60
        assert abs(retry_after - (60 - time.time() % 60)) <= 2
        # Another connection has its own counters.
        assert (await other.get("/v1/location")).status_code == 200
    await app.state.db.dispose()


async def test_heavy_queries_have_their_own_tighter_limit(settings: Settings) -> None:
    app, http = await _app(settings, rate_limit_heavy_per_minute=2)
    async with http:
        tenant = await make_tenant(app.state.db, http)
        api = await tenant.api("location[all_customer_lists.write]")
        list_id = (await api.post("/v1/location/customer_lists", json={"name": "L"})).json()["id"]
        _away_from_minute_end()
        customers = f"/v1/customer_lists/{list_id}/customers"
        assert [(await api.get(customers)).status_code for _ in range(3)] == [200, 200, 429]
        # Light requests still pass.
        assert (await api.get(f"/v1/customer_lists/{list_id}")).status_code == 200
        assert (await api.post(customers, json={})).status_code == 201
    await app.state.db.dispose()


async def test_a_connection_can_be_given_higher_limits(settings: Settings) -> None:
    app, http = await _app(settings, rate_limit_per_minute=3)
    async with http:
        tenant = await make_tenant(app.state.db, http)
        api = await tenant.api("location[all_customer_lists.read]")
        async with app.state.db.session(write=True) as session:
            await session.execute(
                update(Connection)
                .where(Connection.token_hash == hash_secret(api.token))
                .values(rate_limits={"per_minute": 6})
            )
        _away_from_minute_end()
        statuses = [(await api.get("/v1/location")).status_code for _ in range(7)]
        assert statuses == [200] * 6 + [429]
    await app.state.db.dispose()


async def test_limits_can_be_switched_off(settings: Settings) -> None:
    app, http = await _app(settings, rate_limit_per_minute=2)
    app_off = create_app(settings.model_copy(update={"rate_limits": False, "rate_limit_per_minute": 2}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_off), base_url="http://t") as off:
        tenant = await make_tenant(app_off.state.db, off)
        api = await tenant.api("location[all_customer_lists.read]")
        assert {(await api.get("/v1/location")).status_code for _ in range(5)} == {200}
    await http.aclose()
    await app.state.db.dispose()
    await app_off.state.db.dispose()


@pytest.mark.parametrize(
    ("value", "enabled"), [("on", True), ("off", False), ("Off", False), ("true", True), ("0", False), ("no", False)]
)
async def test_the_switch_reads_on_and_off_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, value: str, enabled: bool
) -> None:
    """Deployments say on/off (as the README did); every other boolean spelling works too."""
    monkeypatch.setenv("PATRONAGE_RATE_LIMITS", value)
    app = create_app(Settings(database_url=database_url))
    assert (app.state.rate_limiter is not None) is enabled
    await app.state.db.dispose()


def test_a_misspelt_switch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything but a boolean used to mean "on": a typo meant for "off" now stops the start instead."""
    monkeypatch.setenv("PATRONAGE_RATE_LIMITS", "of")
    with pytest.raises(ValidationError, match="rate_limits"):
        Settings()


def test_connection_limits_command(database_url: str) -> None:
    env = {**os.environ, "PATRONAGE_DATABASE_URL": database_url}
    patronage = str(Path(sys.executable).parent / "patronage")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([patronage, "admin", *args], env=env, capture_output=True, text=True, timeout=60)

    user = f"limits-{secrets.token_hex(4)}@example.com"
    run("create-user", "--email", user, "--password", "pw")
    account = json.loads(run("create-account", "--user", user, "--name", "A").stdout)["id"]
    client = json.loads(run("create-client", "--name", "App").stdout)["client_id"]
    connection = json.loads(
        run("connect", "--client", client, "--account", account, "--scope", "account[orders.read]").stdout
    )["connection_id"]
    raised = run("connection-limits", "--connection", connection, "--per-minute", "2000", "--heavy-per-minute", "50")
    assert raised.returncode == 0, raised.stderr
    assert json.loads(raised.stdout)["rate_limits"] == {"per_minute": 2000, "heavy_per_minute": 50}
    reset = run("connection-limits", "--connection", connection, "--reset")
    assert json.loads(reset.stdout)["rate_limits"] is None
    unknown = run("connection-limits", "--connection", "nope", "--per-minute", "5")
    assert unknown.returncode != 0 and "nope" in unknown.stderr and unknown.stdout == ""


@needs_redis
async def test_redis_counters_are_shared_between_app_instances(settings: Settings) -> None:
    """Two app instances (as two workers would be) with one Redis: the limit holds for the connection."""
    token = await _token(settings)
    limited = settings.model_copy(update={"rate_limits": True, "redis_url": REDIS_URL, "rate_limit_per_minute": 4})
    first, second = create_app(limited), create_app(limited)
    _away_from_minute_end()
    statuses = []
    for app in (first, second, first, second, first, second):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            statuses.append((await Api(http, token).get("/v1/location")).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    for app in (first, second):
        await app.state.db.dispose()
        await app.state.rate_limiter.counter.close()


async def _token(settings: Settings) -> str:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        tenant = await make_tenant(app.state.db, http)
        token = await tenant.token("location[all_customer_lists.read]")
    await app.state.db.dispose()
    return token


@needs_redis
async def test_two_workers_share_the_limit_through_redis(settings: Settings, database_url: str) -> None:
    token = await _token(settings)
    env = {
        "PATRONAGE_RATE_LIMITS": "on",
        "PATRONAGE_REDIS_URL": REDIS_URL or "",
        "PATRONAGE_RATE_LIMIT_PER_MINUTE": "20",
    }
    with live_server(database_url, workers=2, env=env) as base:
        _away_from_minute_end()
        async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}) as http:
            responses = await asyncio.gather(*(http.get("/v1/location") for _ in range(40)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 20 and statuses.count(429) == 20
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in responses if r.status_code == 429)


async def test_an_unreachable_redis_leaves_requests_unlimited_and_says_so(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await _token(settings)
    app, http = await _app(settings, redis_url="redis://127.0.0.1:1/0", rate_limit_per_minute=1)
    statuses = [(await Api(http, token).get("/v1/location")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    warnings = [line for line in capsys.readouterr().out.splitlines() if "rate_limits_not_enforced" in line]
    assert len(warnings) == 1  # once a minute, not once per request
    await http.aclose()
    await app.state.db.dispose()


@needs_redis
async def test_the_redis_client_matches_pipelined_answers_and_selects_its_database() -> None:
    from patronage.edges import resp

    key = f"patronage-test:{secrets.token_hex(4)}"
    in_db_5 = resp.Redis(REDIS_URL.rsplit("/", 1)[0] + "/5")
    in_db_0 = resp.Redis(REDIS_URL.rsplit("/", 1)[0] + "/0")
    try:
        counts = await asyncio.gather(*(in_db_5.call("INCR", key) for _ in range(300)))
        assert sorted(counts) == list(range(1, 301))
        assert await in_db_5.call("GET", key) == b"300"
        echoes = await asyncio.gather(*(in_db_5.call("ECHO", f"message {n}") for n in range(300)))
        assert echoes == [f"message {n}".encode() for n in range(300)]  # each answer reaches its own caller
        assert await in_db_0.call("GET", key) is None
        with pytest.raises(resp.RedisError):
            await in_db_5.call("NOSUCHCOMMAND")
        assert await in_db_5.call("DEL", key) == 1  # the connection is still in step after an error
    finally:
        await in_db_5.close()
        await in_db_0.close()
