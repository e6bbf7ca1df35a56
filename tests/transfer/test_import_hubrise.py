"""``patronage import hubrise`` as an operator runs it: the real command in a subprocess, reading another Patronage
server (a real ``patronage serve`` on a database of its own) through its public API, writing the test database.

After an import every list, customer (private refs included), loyalty card and operation of the source reads the
same through the local API (ids, balances, whole histories with their times and reasons); a re-run changes
nothing; an import killed mid-way resumes; a rate-limited source is waited for; ``--follow`` mirrors what keeps
changing on the source until SIGTERM.
"""

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from helpers import Api, Tenant, admin_execute
from live import live_server
from patronage import migrate
from patronage.auth import service as auth
from patronage.db import Database
from patronage.settings import Settings
from patronage.tenancy import service as tenancy

PATRONAGE = Path(sys.executable).parent / "patronage"
WRITE = "account[all_customer_lists.write,orders.write]"
READ = "account[all_customer_lists.read]"


# --- the source: a second Patronage, on its own database ------------------------------------------------


@pytest.fixture(scope="module")
def source_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.config.getoption("--db") == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('source') / 'source.db'}"
        migrate.upgrade(url)
        yield url
        return
    admin_url = os.environ["PATRONAGE_TEST_POSTGRES_URL"]
    name = f"patronage_source_{secrets.token_hex(4)}"
    asyncio.run(admin_execute(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def source_base(source_url: str) -> Iterator[str]:
    with live_server(source_url, workers=2) as base:
        yield base


class Source:
    """One tenant of the source server: a writer's token and the importer's (same client, so the importer sees
    the private refs the writer sets), over real HTTP."""

    def __init__(self, base: str, ids: dict[str, str]):
        self.base = base
        self.ids = ids
        self.writer = httpx.Client(base_url=base, headers={"X-Access-Token": ids["writer"]}, timeout=30)
        self.reader = httpx.Client(base_url=base, headers={"X-Access-Token": ids["reader"]}, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.writer.post(path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def all(self, http: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
        items, query = [], {"count": 100, **params}
        while True:
            response = http.get(path, params=query)
            assert response.status_code == 200, response.text
            items += response.json()
            if not (cursor := response.headers.get("X-Cursor-Next")):
                return items
            query["cursor"] = cursor


def make_source(source_url: str, base: str, *, location_reader: bool = False) -> Source:
    """A new tenant on the source; ``location_reader``: the importer's token is of the first location."""

    async def build() -> dict[str, str]:
        db = Database(Settings(database_url=source_url, rate_limits="off", access_log=False))
        try:
            async with db.session(write=True) as session:
                user = await tenancy.create_user(session, f"src-{secrets.token_hex(6)}@example.com", "secret")
                account = await tenancy.create_account(session, user, "Source Co", "EUR", "FR", "Europe/Paris")
                paris = await tenancy.create_location(session, account, "Paris")
                lyon = await tenancy.create_location(session, account, "Lyon")
                client = (await auth.create_client(session, "Source POS", [])).client
                tokens = {}
                reader = ("location[all_customer_lists.read]", paris) if location_reader else (READ, None)
                for name, (scope, location) in (("writer", (WRITE, None)), ("reader", reader)):
                    answer = await auth.connect(
                        session, client, account=account, location=location, scope_text=scope, customer_list=None
                    )
                    tokens[name] = answer["access_token"]
                    tokens[f"{name}_connection"] = answer["connection_id"]
                return {"account": account.id, "paris": paris.id, "lyon": lyon.id, **tokens}
        finally:
            await db.dispose()

    return Source(base, asyncio.run(build()))


def parallel(work: Any, items: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(work, items))


def fill(source: Source, *, customers: int, long_ledger: int) -> dict[str, Any]:
    """Three lists (account level, each location), customers with private refs, a card each (a second one for
    every third customer), a few operations per card, one card with ``long_ledger`` operations, an operation
    attached to an order of the source."""
    ids = source.ids
    club = source.post(f"/v1/accounts/{ids['account']}/customer_lists", {"name": "Club"})
    paris = source.post(f"/v1/locations/{ids['paris']}/customer_lists", {"name": "Paris web"})
    lyon = source.post(f"/v1/locations/{ids['lyon']}/customer_lists", {"name": "Lyon POS"})
    lists = [club["id"], paris["id"], lyon["id"]]
    plan = [(lists[0] if n % 5 else lists[1 + n % 2], n) for n in range(customers)]

    def customer(entry: tuple[str, int]) -> tuple[str, dict[str, Any]]:
        list_id, n = entry
        body = {"first_name": f"Ann{n}", "email": f"ann{n}@example.com", "custom_fields": {"n": n}}
        if n % 2 == 0:
            body["private_ref"] = f"REF-{n}"
        if n % 7 == 0:
            body |= {"phone": "+33612345678", "birth_date": "1990-05-17", "latitude": "48.85", "longitude": "2.35"}
        return list_id, source.post(f"/v1/customer_lists/{list_id}/customers", body)

    made = parallel(customer, plan)

    def cards(entry: tuple[int, tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
        n, (list_id, data) = entry
        base = f"/v1/customer_lists/{list_id}/loyalty_cards"
        out = []
        card = source.post(base, {"customer_id": data["id"]})
        out.append((list_id, card["id"]))
        for k in range(n % 3):
            source.post(f"{base}/{card['id']}/operations", {"delta": f"{k + 1}.5", "reason": f"visit {k}"})
        if n % 3 == 0:
            gold = source.post(base, {"customer_id": data["id"], "ref": "GOLD", "name": "Gold"})
            source.post(f"{base}/{gold['id']}/operations", {"delta": "10", "reason": "welcome"})
            source.post(f"{base}/{gold['id']}/operations", {"delta": "-2.25", "reason": "redeemed"})
            out.append((list_id, gold["id"]))
        return out

    made_cards = [card for group in parallel(cards, list(enumerate(made))) for card in group]
    list_id, long_card = made_cards[0]
    ledger = f"/v1/customer_lists/{list_id}/loyalty_cards/{long_card}/operations"
    for k in range(long_ledger):
        source.post(ledger, {"delta": f"{k % 9 - 3}.1", "reason": f"op {k}"})
    # An operation attached to an order of the source (the order is not imported: its id becomes null).
    order_list, order_customer = next(entry for entry in made if entry[0] == lists[1])
    order = source.post(f"/v1/locations/{ids['paris']}/orders", {"status": "new", "customer_id": order_customer["id"]})
    card = source.post(
        f"/v1/customer_lists/{order_list}/loyalty_cards", {"customer_id": order_customer["id"], "ref": "ORD"}
    )
    source.post(
        f"/v1/customer_lists/{order_list}/loyalty_cards/{card['id']}/operations",
        {"delta": "4.2", "reason": "Points earned on order", "order_id": order["id"]},
    )
    return {"lists": lists, "customers": len(made), "long_list": list_id, "long_card": long_card}


def snapshot(http: httpx.Client | Api, lists: list[str]) -> dict[str, Any]:
    """Everything under these lists, as the API renders it, by id."""

    def all(path: str, **params: Any) -> list[dict[str, Any]]:
        items, query = [], {"count": 100, **params}
        while True:
            response = http.get(path, params=query)
            assert response.status_code == 200, response.text
            items += response.json()
            if not (cursor := response.headers.get("X-Cursor-Next")):
                return items
            query["cursor"] = cursor

    out: dict[str, Any] = {}
    for list_id in lists:
        listed = http.get(f"/v1/customer_lists/{list_id}")
        assert listed.status_code == 200, listed.text
        data = listed.json()
        customers = all(f"/v1/customer_lists/{list_id}/customers")
        cards = all(f"/v1/customer_lists/{list_id}/loyalty_cards")
        operations = {
            card["id"]: all(f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}/operations") for card in cards
        }
        out[list_id] = {
            "list": {key: data[key] for key in ("id", "name", "created_at")},
            "customers": customers,
            "cards": cards,
            "operations": operations,
        }
    return out


def differences(local: Any, expected: Any, path: str = "") -> list[str]:
    """Where two snapshots differ (the first few), for a readable failure."""
    if isinstance(local, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(local) | set(expected), key=str):
            out += differences(local.get(key, "<missing>"), expected.get(key, "<missing>"), f"{path}.{key}")
        return out[:10]
    if isinstance(local, list) and isinstance(expected, list) and len(local) == len(expected):
        return [
            d for i, (a, b) in enumerate(zip(local, expected, strict=True)) for d in differences(a, b, f"{path}[{i}]")
        ][:10]
    return [] if local == expected else [f"{path}: {str(local)[:300]} != {str(expected)[:300]}"]


def without_orders(snap: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with operations' order ids and customers' order statistics left out (orders stay behind)."""
    copy = json.loads(json.dumps(snap))
    for content in copy.values():
        for operations in content["operations"].values():
            for operation in operations:
                operation["order_id"] = operation["order_location_id"] = None
    return copy


class SyncApi:
    """A local Api over ASGI, usable from sync code run in a thread (the snapshot helper is sync)."""

    def __init__(self, api: Api, loop: asyncio.AbstractEventLoop):
        self.api, self.loop = api, loop

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(self.api.get(path, params=params), self.loop).result()


async def local_snapshot(tenant: Tenant, lists: list[str]) -> dict[str, Any]:
    api = SyncApi(await tenant.api(READ, location_id=None), asyncio.get_running_loop())
    return await asyncio.to_thread(snapshot, api, lists)


def command(database_url: str, source: Source, tenant: Tenant, *extra: str) -> list[str]:
    return [
        str(PATRONAGE),
        "import",
        "hubrise",
        "--base-url",
        source.base,
        "--token",
        source.ids["reader"],
        "--account",
        tenant.account_id,
        "--client",
        tenant.client_id,
        "--location",
        f"{source.ids['paris']}={tenant.location_id}",
        "--location",
        f"{source.ids['lyon']}={tenant.other_location_id}",
        *extra,
    ]


def env(database_url: str) -> dict[str, str]:
    return {**os.environ, "PATRONAGE_DATABASE_URL": database_url}


async def run_import(database_url: str, source: Source, tenant: Tenant, *extra: str) -> dict[str, Any]:
    done = await asyncio.to_thread(
        subprocess.run,
        command(database_url, source, tenant, *extra),
        env=env(database_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def all_ledgers(snap: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [ops for content in snap.values() for ops in content["operations"].values()]


def local_ids(snap: dict[str, Any]) -> dict[str, set[str]]:
    return {
        "customers": {c["id"] for content in snap.values() for c in content["customers"]},
        "cards": {c["id"] for content in snap.values() for c in content["cards"]},
        "operations": {o["id"] for content in snap.values() for ops in content["operations"].values() for o in ops},
    }


# --- the tests ----------------------------------------------------------------------------------------------


async def test_import_copies_everything_and_a_rerun_changes_nothing(
    database_url: str, source_url: str, source_base: str, tenant: Tenant
) -> None:
    source = await asyncio.to_thread(make_source, source_url, source_base)
    made = await asyncio.to_thread(fill, source, customers=130, long_ledger=120)
    expected = await asyncio.to_thread(snapshot, source.reader, made["lists"])
    counts = local_ids(expected)
    assert len(expected[made["lists"][0]]["customers"]) > 100  # more than a page of customers,
    assert len(expected[made["lists"][0]]["cards"]) > 100  # of cards,
    assert len(expected[made["long_list"]]["operations"][made["long_card"]]) > 100  # of operations

    summary = await run_import(database_url, source, tenant)
    assert summary["complete"] is True
    assert summary["lists"]["created"] == 3
    assert summary["customers"]["created"] == made["customers"]
    assert summary["loyalty_cards"]["created"] == len(counts["cards"])
    assert summary["operations"]["created"] == len(counts["operations"])
    assert summary["private_refs"]["written"] == (made["customers"] + 1) // 2
    assert summary["operation_orders_dropped"] == 1
    assert summary["new_balance_mismatches"] == summary["balance_mismatches"] == 0

    # Same ids, fields, private refs (the local client's now), balances, histories, times and reasons.
    local = await local_snapshot(tenant, made["lists"])
    assert not differences(local, without_orders(expected)), differences(local, without_orders(expected))
    # The lists landed where the mapping says.
    locations = {
        list_id: (await (await tenant.api(READ, location_id=None)).get(f"/v1/customer_lists/{list_id}")).json()[
            "location_id"
        ]
        for list_id in made["lists"]
    }
    assert list(locations.values()) == [None, tenant.location_id, tenant.other_location_id]
    # A switched-over client finds its customers by the refs it stored on the source.
    api = await tenant.api(READ, location_id=None)
    found = (await api.get(f"/v1/customer_lists/{made['lists'][0]}/customers", params={"private_ref": "REF-2"})).json()
    assert [customer["first_name"] for customer in found] == ["Ann2"]

    # The operations went through apply_operation: each list's ledgers verify (hash chains, running sums).
    for list_id in made["lists"]:
        verified = await asyncio.to_thread(
            subprocess.run,
            [str(PATRONAGE), "admin", "verify-ledger", "--customer-list", list_id],
            env=env(database_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["ok"] is True

    again = await run_import(database_url, source, tenant)
    assert again["lists"]["created"] == again["customers"]["created"] == again["loyalty_cards"]["created"] == 0
    assert again["operations"]["created"] == 0
    assert again["customers"]["updated"] == again["loyalty_cards"]["updated"] == 0
    assert again["customers"]["skipped"] == made["customers"]
    assert await local_snapshot(tenant, made["lists"]) == local
    # --full re-reads every card's newest operations: each card with a ledger meets its newest one, known.
    full = await run_import(database_url, source, tenant, "--full")
    assert full["operations"] == {"created": 0, "skipped": sum(1 for ops in all_ledgers(expected) if ops)}


async def test_an_interrupted_import_resumes_without_duplicates(
    database_url: str, source_url: str, source_base: str, tenant: Tenant
) -> None:
    source = await asyncio.to_thread(make_source, source_url, source_base)
    made = await asyncio.to_thread(fill, source, customers=60, long_ledger=30)
    expected = await asyncio.to_thread(snapshot, source.reader, made["lists"])

    # Small pages make many commits. A first run is stopped by SIGINT once it is writing cards: it finishes its
    # batch, prints its summary (not complete) and exits 1; a second one is killed (SIGKILL: no clean-up).
    args = command(database_url, source, tenant, "--page-size", "5")
    returncode, out, seen = await asyncio.to_thread(stop_mid_way, args, env(database_url), signal.SIGINT, 3)
    assert returncode == 1, seen
    assert json.loads(out)["complete"] is False and "run the same command again to resume" in seen
    first = await local_operations(tenant, made["lists"])
    returncode, out, seen = await asyncio.to_thread(stop_mid_way, args, env(database_url), signal.SIGKILL, 8)
    assert returncode == -signal.SIGKILL and out == "", seen
    partial = await local_operations(tenant, made["lists"])
    assert 0 < first <= partial < len(local_ids(expected)["operations"])

    summary = await run_import(database_url, source, tenant)
    assert summary["customers"]["created"] < made["customers"]  # what the first run committed is kept
    local = await local_snapshot(tenant, made["lists"])
    assert local == without_orders(expected)  # nothing missing, nothing twice
    assert (await run_import(database_url, source, tenant))["operations"]["created"] == 0


def stop_mid_way(args: list[str], environment: dict[str, str], signum: int, pages: int) -> tuple[int, str, str]:
    """Runs the import until it has read ``pages`` pages of cards, then sends it ``signum``; its exit status,
    stdout and stderr."""
    process = subprocess.Popen(args, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, read = [], 0
    assert process.stderr is not None and process.stdout is not None
    for line in process.stderr:
        seen.append(line)
        read += "loyalty cards read" in line
        if read >= pages:
            break
    process.send_signal(signum)
    out = process.stdout.read()
    seen += process.stderr.readlines()
    process.wait()
    return process.returncode, out, "".join(seen)


def start(args: list[str], environment: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(args, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def local_operations(tenant: Tenant, lists: list[str]) -> int:
    """How many operations the local lists hold now (lists not created yet count none)."""
    api = await tenant.api(READ, location_id=None)
    total = 0
    for list_id in lists:
        if (await api.get(f"/v1/customer_lists/{list_id}")).status_code != 200:
            continue
        snap = await asyncio.to_thread(snapshot, SyncApi(api, asyncio.get_running_loop()), [list_id])
        total += len(local_ids(snap)["operations"])
    return total


async def test_a_rate_limited_source_is_waited_for(
    database_url: str, source_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    # A source server with rate limits on, and the importer's connection allowed 12 requests a minute.
    with live_server(source_url, workers=1, env={"PATRONAGE_RATE_LIMITS": "on"}) as base:
        source = await asyncio.to_thread(make_source, source_url, base)
        await asyncio.to_thread(set_limits, source_url, source.ids["writer_connection"], 10_000)
        made = await asyncio.to_thread(fill, source, customers=6, long_ledger=3)
        expected = await asyncio.to_thread(snapshot, source.writer, made["lists"])
        await asyncio.to_thread(set_limits, source_url, source.ids["reader_connection"], 12)
        summary = await run_import(database_url, source, tenant)
    assert summary["rate_limited"] >= 1
    expected_local = without_orders(expected)
    local = await local_snapshot(tenant, made["lists"])
    # (The writer's connection is of the reader's client: it reads the same private refs.)
    assert local == expected_local


def set_limits(source_url: str, connection_id: str, per_minute: int) -> None:
    done = subprocess.run(
        [str(PATRONAGE), "admin", "connection-limits", "--connection", connection_id, "--per-minute", str(per_minute),
         "--heavy-per-minute", str(per_minute)],
        env=env(source_url), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


async def test_follow_mirrors_the_source_until_sigterm(
    database_url: str, source_url: str, source_base: str, tenant: Tenant
) -> None:
    source = await asyncio.to_thread(make_source, source_url, source_base)
    made = await asyncio.to_thread(fill, source, customers=12, long_ledger=5)
    args = command(database_url, source, tenant, "--follow", "--interval", "0.3", "--deep-checks", "100")
    process = await asyncio.to_thread(start, args, env(database_url))
    log: list[str] = []
    following = threading.Event()

    def read_stderr() -> None:
        for line in process.stderr:
            log.append(line)
            if "following the source" in line:
                following.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert await asyncio.to_thread(following.wait, 120), "".join(log)
        # Writes go on at the source: new customers (with refs, cards, operations), updates, operations on
        # existing cards (a pair that sums to zero among them), a new list.
        club = made["lists"][0]
        writes = source.writer
        new = source.post(f"/v1/customer_lists/{club}/customers", {"first_name": "Newcomer", "private_ref": "NEW-1"})
        card = source.post(f"/v1/customer_lists/{club}/loyalty_cards", {"customer_id": new["id"], "ref": "N"})
        source.post(f"/v1/customer_lists/{club}/loyalty_cards/{card['id']}/operations", {"delta": "7", "reason": "hi"})
        old_customers = source.all(source.reader, f"/v1/customer_lists/{club}/customers")
        patched = writes.patch(
            f"/v1/customer_lists/{club}/customers/{old_customers[-1]['id']}", json={"last_name": "Changed"}
        )
        assert patched.status_code == 200, patched.text
        cards = source.all(source.reader, f"/v1/customer_lists/{club}/loyalty_cards")
        for existing in cards[:3]:
            path = f"/v1/customer_lists/{club}/loyalty_cards/{existing['id']}/operations"
            source.post(path, {"delta": "3", "reason": "zero sum +"})
            source.post(path, {"delta": "-3", "reason": "zero sum -"})
        source.post(f"/v1/customer_lists/{club}/loyalty_cards/{cards[-1]['id']}/operations", {"delta": "1.25"})
        renamed = writes.patch(f"/v1/customer_lists/{club}/loyalty_cards/{cards[-1]['id']}", json={"name": "Renamed"})
        assert renamed.status_code == 200, renamed.text
        extra = source.post(f"/v1/accounts/{source.ids['account']}/customer_lists", {"name": "Late list"})
        late = source.post(f"/v1/customer_lists/{extra['id']}/customers", {"first_name": "Late"})
        late_card = source.post(f"/v1/customer_lists/{extra['id']}/loyalty_cards", {"customer_id": late["id"]})
        source.post(f"/v1/customer_lists/{extra['id']}/loyalty_cards/{late_card['id']}/operations", {"delta": "2"})

        lists = [*made["lists"], extra["id"]]
        expected = without_orders(await asyncio.to_thread(snapshot, source.reader, lists))
        deadline = time.monotonic() + 120
        while True:
            try:
                local = await local_snapshot(tenant, lists)
            except AssertionError:
                local = None  # the late list is not there yet
            if local == expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert not differences(local, expected), (differences(local, expected), "".join(log[-20:]))
        # Every event the source recorded for the mirror is applied and acknowledged, in a cycle or two.
        for _ in range(200):
            if not source.reader.get("/v1/callback/events").json():
                break
            await asyncio.sleep(0.3)
        assert source.reader.get("/v1/callback/events").json() == []
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.to_thread(process.communicate, timeout=60)
        reader.join(timeout=10)
    assert process.returncode == 0, "".join(log)
    summary = json.loads(out)
    assert summary["events_applied"] >= 3 and summary["follow_cycles"] >= 1
    assert summary["balance_mismatches"] == summary["new_balance_mismatches"] == 0


async def test_bad_sources_and_arguments_are_a_message_and_exit_1(
    database_url: str, source_url: str, source_base: str, tenant: Tenant
) -> None:
    source = await asyncio.to_thread(make_source, source_url, source_base)
    await asyncio.to_thread(source.post, f"/v1/locations/{source.ids['paris']}/customer_lists", {"name": "Paris"})

    def fails(args: list[str]) -> str:
        done = subprocess.run(args, env=env(database_url), capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert "Traceback" not in done.stderr
        return done.stderr

    good = command(database_url, source, tenant)
    assert "401" in fails([*good[:6], "wrong-token", *good[7:]])
    assert "no local account" in fails([*good[:8], "nosuchaccount", *good[9:]])
    assert "no local client" in fails([*good[:10], "nosuchclient", *good[11:]])
    closed = f"http://127.0.0.1:{free_port()}"
    assert "unreachable" in fails([*good[:4], closed, *good[5:]])
    assert "bad source URL" in fails([*good[:4], "ftp://example.com", *good[5:]])
    # A location-level list whose location has no local counterpart: nothing is written.
    assert "--location" in fails(good[:11])
    api = await tenant.api(READ, location_id=None)
    assert (await api.get(f"/v1/locations/{tenant.location_id}/customer_lists")).json() == []


class FlakyProxy(ThreadingHTTPServer):
    """In front of the source: every 4th request answers 503, every 7th loses its connection without an answer."""

    def __init__(self, target: str):
        self.target = target
        self.count = 0
        self.lock = threading.Lock()
        self.failed = 0
        super().__init__(("127.0.0.1", 0), FlakyHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FlakyHandler(BaseHTTPRequestHandler):
    server: FlakyProxy

    def log_message(self, *args: Any) -> None:
        pass

    def handle_any(self) -> None:
        with self.server.lock:
            self.server.count += 1
            n = self.server.count
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if n % 7 == 0:
            self.server.failed += 1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if n % 4 == 0:
            self.server.failed += 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("x-access-token", "content-type")}
        answer = httpx.request(self.command, self.server.target + self.path, headers=headers, content=body or None)
        self.send_response(answer.status_code)
        for name in ("Content-Type", "X-Cursor-Next", "Retry-After"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = handle_any


async def test_a_flaky_source_is_retried_and_a_location_token_brings_what_it_sees(
    database_url: str, source_url: str, source_base: str, tenant: Tenant
) -> None:
    source = await asyncio.to_thread(make_source, source_url, source_base, location_reader=True)
    made = await asyncio.to_thread(fill, source, customers=15, long_ledger=4)
    club, paris, lyon = made["lists"]
    expected = await asyncio.to_thread(snapshot, source.reader, [club, paris])
    proxy = FlakyProxy(source_base)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        flaky = Source(proxy.base, source.ids)
        summary = await run_import(database_url, flaky, tenant, "--page-size", "10")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert proxy.failed >= 3 and summary["retried"] >= proxy.failed
    assert summary["lists"]["created"] == 2  # the account's list and the location's; not the other location's
    local = await local_snapshot(tenant, [club, paris])
    assert not differences(local, without_orders(expected)), differences(local, without_orders(expected))
    api = await tenant.api(READ, location_id=None)
    assert (await api.get(f"/v1/customer_lists/{lyon}")).status_code == 404


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
