"""The ledger under load: N concurrent loyalty operations on one card from many connections, then checks.

    .venv/bin/python bench/ledger.py [--database-url URL] [--workers 2] [--operations 2000] [--connections 64]

Starts `patronage serve` (rate limits off), gives each of the connections its own access token and HTTP
connection, sends every operation with an Idempotency-Key and re-sends one in ten with the same key (a
client retrying). Prints throughput and latency, and fails unless the balance is the sum of the deltas to
the last digit and the new_balance chain is exact.
"""

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from live import live_server  # noqa: E402
from patronage import migrate  # noqa: E402
from patronage.auth import service as auth  # noqa: E402
from patronage.customer_lists import service as lists  # noqa: E402
from patronage.db import Database  # noqa: E402
from patronage.settings import Settings  # noqa: E402
from patronage.tenancy import service as tenancy  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench"


async def tokens(database_url: str, count: int) -> tuple[list[str], str]:
    db = Database(Settings(database_url=database_url))
    try:
        async with db.session(write=True) as session:
            user = await tenancy.create_user(session, f"ledger-{os.urandom(4).hex()}@example.com", "pw")
            account = await tenancy.create_account(session, user, "Bench", "EUR", "FR", "Europe/Paris")
            location = await tenancy.create_location(session, account, "Bench location")
            customer_list = await lists.insert(session, account, location, "Ledger bench")
            client = (await auth.create_client(session, "Bench", [])).client
            result = []
            for _ in range(count):
                answer = await auth.connect(
                    session,
                    client,
                    account=account,
                    location=location,
                    scope_text="location[all_customer_lists.write]",
                    device_id=os.urandom(4).hex(),
                )
                result.append(answer["access_token"])
            return result, customer_list.id
    finally:
        await db.dispose()


async def run(base: str, token_list: list[str], list_id: str, operations: int) -> None:
    rng = random.Random(2026)
    deltas = [
        Decimal(rng.randint(-500_000, 1_000_000)).scaleb(-rng.randint(0, 6)) or Decimal(1) for _ in range(operations)
    ]
    clients = [httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}, timeout=120) for token in token_list]
    try:
        first = clients[0]
        customer = (await first.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()
        card = (
            await first.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer["id"]})
        ).json()
        path = f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}/operations"
        latencies: list[float] = []

        async def send(i: int, delta: Decimal) -> httpx.Response:
            http = clients[i % len(clients)]
            started = time.perf_counter()
            response = await http.post(path, json={"delta": str(delta)}, headers={"Idempotency-Key": f"op-{i}"})
            latencies.append(time.perf_counter() - started)
            return response

        retries = list(range(0, operations, 10))
        started = time.perf_counter()
        responses = await asyncio.gather(
            *(send(i, d) for i, d in enumerate(deltas)), *(send(i, deltas[i]) for i in retries)
        )
        elapsed = time.perf_counter() - started
        statuses = {r.status_code for r in responses}
        balance = Decimal(
            (await first.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}")).json()["balance"]
        )
        ops: list[dict] = []
        cursor = None
        while True:
            page = await first.get(path, params={"cursor": cursor} if cursor else {})
            ops += page.json()
            cursor = page.headers.get("X-Cursor-Next")
            if not cursor:
                break
    finally:
        for http in clients:
            await http.aclose()

    running = Decimal(0)
    chain_ok = True
    for op in reversed(ops):
        running += Decimal(op["delta"])
        chain_ok &= Decimal(op["new_balance"]) == running
    latencies.sort()
    total = len(responses)
    rate = total / elapsed
    print(f"{total} requests ({operations} operations + {len(retries)} retries) in {elapsed:.2f} s: {rate:.0f}/s")
    print(f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {latencies[int(0.99 * total)] * 1000:.1f} ms")
    print(f"statuses {sorted(statuses)}; operations stored {len(ops)}; balance {balance}; sum {sum(deltas)}")
    ok = statuses == {201} and len(ops) == operations and balance == sum(deltas) and chain_ok
    print("exact: balance = sum of deltas, new_balance chain consistent" if ok else "NOT EXACT")
    if not ok:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PATRONAGE_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if args.database_url.startswith("postgresql"):
        asyncio.run(_create_database(args.database_url))
    migrate.upgrade(args.database_url)
    token_list, list_id = asyncio.run(tokens(args.database_url, args.connections))
    with live_server(
        args.database_url, workers=args.workers, output=Path(os.environ.get("BENCH_SERVER_LOG", "/dev/null"))
    ) as base:
        asyncio.run(run(base, token_list, list_id, args.operations))


async def _create_database(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database):
            await conn.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
