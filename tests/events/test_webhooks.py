"""Active callbacks end to end (SPEC §9): real worker processes POST signed events to a local receiver,
retry on schedule (shortened by settings), survive SIGKILL, and never deliver one event twice at once."""

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest

from helpers import Api, Tenant
from live import PATRONAGE, live_server
from patronage.auth import service as auth
from webhook_receiver import FAST, Delivery, receiver, worker

WRITER = "location[orders.write,all_customer_lists.write]"
LISTENER = "location[orders.read,all_customer_lists.read]"


@pytest.fixture(autouse=True)
def allow_local_receivers(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers listen on 127.0.0.1, which callbacks may only name when the operator allows it."""
    monkeypatch.setattr(settings, "callback_allow_private", True)


@dataclass
class Setup:
    writer: Api
    listener: Api
    secret: str
    list_id: str


async def _setup(tenant: Tenant, url: str) -> Setup:
    async with tenant.db.session(write=True) as session:
        made = await auth.create_client(session, "Loyalty app", [])
    listener = await tenant.api(LISTENER, client_id=made.client.id)
    response = await listener.post("/v1/callback", json={"url": url, "events": {"customer": ["create", "update"]}})
    assert response.status_code == 200, response.text
    return Setup(await tenant.api(WRITER), listener, made.secret, await tenant.customer_list())


async def _until_acknowledged(listener: Api, within: float = 10) -> None:
    """Waits until no event is left waiting (the worker deletes each one once its POST is answered)."""
    deadline = time.monotonic() + within
    while (await listener.get("/v1/callback/events")).json():
        assert time.monotonic() < deadline, "events still pending"
        await asyncio.sleep(0.05)


async def _customer(setup: Setup, name: str) -> str:
    response = await setup.writer.post(f"/v1/customer_lists/{setup.list_id}/customers", json={"first_name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_events_are_posted_signed_in_order_and_then_acknowledged(tenant: Tenant, database_url: str) -> None:
    with receiver() as hook:
        setup = await _setup(tenant, hook.url)
        customer_id = await _customer(setup, "Ada")
        response = await setup.writer.patch(
            f"/v1/customer_lists/{setup.list_id}/customers/{customer_id}", json={"first_name": "Ada B."}
        )
        assert response.status_code == 200
        with worker(database_url):
            deliveries = await hook.wait_for(lambda seen: len(seen) >= 2)
            await _until_acknowledged(setup.listener)  # acknowledged events leave the passive list too

        first, second = deliveries[:2]
        for delivery in (first, second):
            assert delivery.headers["content-type"] == "application/json"
            expected = hmac.new(setup.secret.encode(), delivery.body, hashlib.sha256).hexdigest()
            assert delivery.headers["x-hubrise-hmac-sha256"] == expected
        assert (first.event["event_type"], second.event["event_type"]) == ("create", "update")
        assert first.event["customer_id"] == second.event["customer_id"] == customer_id
        assert "previous_state" not in first.event  # HubRise: no previous state on create
        assert first.event["new_state"]["first_name"] == "Ada"
        assert second.event["previous_state"]["first_name"] == "Ada"
        assert second.event["new_state"]["first_name"] == "Ada B."
        assert len(hook.deliveries) == 2  # acknowledged: not posted again


async def test_failed_deliveries_are_retried_on_schedule_then_dropped(tenant: Tenant, database_url: str) -> None:
    answers = iter([500, 503])  # two failures, then the receiver recovers

    with receiver(lambda _: next(answers, 200)) as hook:
        setup = await _setup(tenant, hook.url)
        await _customer(setup, "Bea")
        with worker(database_url):
            deliveries = await hook.wait_for(lambda seen: len(seen) >= 3)
            await _until_acknowledged(setup.listener)
            await asyncio.sleep(1.5)  # nothing more comes once acknowledged
        assert len(hook.deliveries) == 3
        assert len({d.body for d in deliveries}) == 1  # the same event, byte for byte
        first_wait = deliveries[1].at - deliveries[0].at
        second_wait = deliveries[2].at - deliveries[1].at
        assert 0.4 <= first_wait < 3  # base 0.5 s
        assert 0.9 <= second_wait < 4  # doubled

    with receiver(lambda _: 500) as hook:
        setup = await _setup(tenant, hook.url)
        await _customer(setup, "Cal")
        with worker(database_url, PATRONAGE_CALLBACK_RETRIES="2", PATRONAGE_CALLBACK_RETRY_BASE_SECONDS="0.2"):
            await hook.wait_for(lambda seen: len(seen) >= 3)
            await _until_acknowledged(setup.listener)  # dropped after the last retry
            await asyncio.sleep(1)
        assert len(hook.deliveries) == 3  # the first try and two retries, then dropped


async def test_operators_see_attempts_and_last_errors(tenant: Tenant, database_url: str) -> None:
    with receiver(lambda _: 502) as hook:
        setup = await _setup(tenant, hook.url)
        await _customer(setup, "Dot")
        with worker(database_url, PATRONAGE_CALLBACK_RETRY_BASE_SECONDS="60"):
            await hook.wait_for(lambda seen: len(seen) >= 1)
            await asyncio.sleep(0.5)
        connection_id = await _connection_id(tenant, setup.listener)
        report = _admin_events(database_url, connection_id)
        assert report["callback"]["url"] == hook.url
        assert report["pending"] == 1
        [event] = report["events"]
        assert event["attempts"] == 1
        assert event["last_error"] == "HTTP 502"
        assert event["next_attempt_at"] is not None


def _admin_events(database_url: str, connection_id: str) -> dict[str, Any]:
    shown = subprocess.run(
        [str(PATRONAGE), "admin", "events", "--connection", connection_id],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(shown.stdout)


async def _connection_id(tenant: Tenant, api: Api) -> str:
    from sqlalchemy import select

    from patronage.auth.models import Connection
    from patronage.ids import hash_secret

    async with tenant.db.session(write=False) as session:
        return await session.scalar(select(Connection.id).where(Connection.token_hash == hash_secret(api.token)))


async def test_a_worker_killed_mid_delivery_leaves_the_event_to_be_retried(tenant: Tenant, database_url: str) -> None:
    def slow_first(delivery: Delivery) -> int:
        if len(hook.deliveries) == 1:
            time.sleep(3)  # the worker is killed while it waits for this answer
        return 200

    with receiver(slow_first) as hook:
        setup = await _setup(tenant, hook.url)
        ids = [await _customer(setup, f"Customer {n}") for n in range(2)]
        with worker(database_url, PATRONAGE_CALLBACK_TIMEOUT_SECONDS="1") as first:
            await hook.wait_for(lambda seen: len(seen) >= 1)
            first.send_signal(signal.SIGKILL)
            first.wait()
        with worker(database_url, PATRONAGE_CALLBACK_TIMEOUT_SECONDS="1"):
            await hook.wait_for(lambda seen: {d.event["customer_id"] for d in seen} >= set(ids), within=30)
            await _until_acknowledged(setup.listener)


@pytest.mark.parametrize("workers", [2])
async def test_several_workers_never_post_one_event_twice(tenant: Tenant, database_url: str, workers: int) -> None:
    def slowish(_: Delivery) -> int:
        time.sleep(0.05)
        return 200

    with receiver(slowish) as hook:
        setup = await _setup(tenant, hook.url)
        ids = [await _customer(setup, f"Customer {n}") for n in range(30)]
        with worker(database_url), worker(database_url):
            deliveries = await hook.wait_for(lambda seen: len(seen) >= len(ids), within=40)
            await asyncio.sleep(1)
        event_ids = [d.event["id"] for d in hook.deliveries]
        assert len(event_ids) == len(set(event_ids)) == len(ids)
        assert {d.event["customer_id"] for d in deliveries} == set(ids)


async def test_the_server_delivers_too_unless_told_not_to(tenant: Tenant, database_url: str) -> None:
    with receiver() as hook:
        setup = await _setup(tenant, hook.url)
        with live_server(database_url, workers=1, env={**FAST, "PATRONAGE_CALLBACK_WORKER": "false"}):
            customer_id = await _customer(setup, "Quiet")
            await asyncio.sleep(1)
            assert hook.deliveries == []
        with live_server(database_url, workers=2, env=FAST):
            [delivery] = await hook.wait_for(lambda seen: len(seen) >= 1)
        assert delivery.event["customer_id"] == customer_id
