"""What earning costs on order creation: POST order with a linked customer, on a list with a loyalty programme
and on one without, against a live server; prints the time per order of each and the ratio.

    .venv/bin/python bench/earning.py [--database-url URL] [--workers 2] [--orders 1000] [--connections 16]
                                      [--customers 200] [--rounds 3]

Two lists of one location, the same number of customers in each; every order is `completed` with two items, so
on the programme's list each one credits the customer's card (created by its first order) in its transaction.
The two kinds are sent in alternating rounds (the machine's noise falls on both); each round sends --orders
orders from --connections connections at once. The ratio is (time per order with) / (time per order without).
Also reported: the CPU per order of the server's processes and of the database's PostgreSQL backends (from /proc,
so the database must run on this machine), which a loaded machine disturbs far less than the time.
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import common  # noqa: E402

from live import live_server  # noqa: E402
from patronage import migrate  # noqa: E402
from patronage.auth import service as auth  # noqa: E402
from patronage.customer_lists import service as lists  # noqa: E402
from patronage.db import Database  # noqa: E402
from patronage.settings import Settings  # noqa: E402
from patronage.tenancy import service as tenancy  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench"
ITEMS = [
    {"product_name": "Burger", "price": "12.90 EUR", "quantity": "1"},
    {"product_name": "Fries", "price": "3.50 EUR", "quantity": "2"},
]


async def setup(database_url: str) -> tuple[str, str, str, str]:
    db = Database(Settings(database_url=database_url))
    try:
        async with db.session(write=True) as session:
            user = await tenancy.create_user(session, f"earning-{os.urandom(4).hex()}@example.com", "pw")
            account = await tenancy.create_account(session, user, "Bench", "EUR", "FR", "Europe/Paris")
            location = await tenancy.create_location(session, account, "Bench location")
            with_programme = await lists.insert(session, account, location, "With a programme")
            without = await lists.insert(session, account, location, "Without")
            client = (await auth.create_client(session, "Bench", [])).client
            answer = await auth.connect(
                session,
                client,
                account=account,
                location=location,
                scope_text="location[all_customer_lists.write,orders.write]",
            )
            return answer["access_token"], location.id, with_programme.id, without.id
    finally:
        await db.dispose()


async def customers(http: httpx.AsyncClient, list_id: str, count: int) -> list[str]:
    made = await asyncio.gather(*(http.post(f"/v1/customer_lists/{list_id}/customers", json={}) for _ in range(count)))
    return [answer.json()["id"] for answer in made]


def server_root(base: str) -> int:
    """The pid of the ``patronage serve`` that listens on ``base``'s port."""
    needle = f"--port {base.rsplit(':', 1)[1]} ".encode()
    [pid] = [pid for pid, (cmd, _) in common.processes().items() if b" serve " in cmd and needle in cmd + b" "]
    return pid


async def one_round(
    http: httpx.AsyncClient, location_id: str, customer_ids: list[str], orders: int, connections: int, meter=None
) -> tuple[float, float]:
    """(seconds per order, CPU seconds per order of what each of ``meter``'s meters measures)."""
    path = f"/v1/locations/{location_id}/orders"
    queue = list(range(orders))
    statuses: set[int] = set()

    async def worker() -> None:
        while queue:
            i = queue.pop()
            body = {"status": "completed", "customer_id": customer_ids[i % len(customer_ids)], "items": ITEMS}
            statuses.add((await http.post(path, json=body)).status_code)

    meters = meter() if meter else []
    with contextlib.ExitStack() as stack:
        for each in meters:
            stack.enter_context(each)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    assert statuses == {201}, statuses
    return elapsed / orders, [each.seconds / orders for each in meters]


async def run(base: str, token: str, location_id: str, with_id: str, without_id: str, args) -> None:
    database = make_url(args.database_url).database if args.database_url.startswith("postgresql") else None
    root = server_root(base)

    def meter() -> list[common.CpuMeter]:
        """The server's processes; the database's backends (PostgreSQL)."""
        return [common.CpuMeter([root], None), *([common.CpuMeter([], database)] if database else [])]

    limits = httpx.Limits(max_connections=args.connections)
    async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": token}, limits=limits, timeout=120) as http:
        answer = await http.put(f"/v1/customer_lists/{with_id}/loyalty_programmes/~", json={"points_per_unit": "1"})
        assert answer.status_code == 200, answer.text
        ids = {
            "with": await customers(http, with_id, args.customers),
            "without": await customers(http, without_id, args.customers),
        }
        # Warm-up: each customer's first order (the card is created then), the server's caches.
        for kind in ("with", "without"):
            await one_round(http, location_id, ids[kind], args.customers, args.connections)
        times: dict[str, list[float]] = {"with": [], "without": []}
        cpus: dict[str, list[list[float]]] = {"with": [], "without": []}
        for round_number in range(args.rounds):
            for kind in ("without", "with") if round_number % 2 == 0 else ("with", "without"):
                elapsed, cpu = await one_round(http, location_id, ids[kind], args.orders, args.connections, meter)
                times[kind].append(elapsed)
                cpus[kind].append(cpu)
        card = (
            await http.get(f"/v1/customer_lists/{with_id}/loyalty_cards", params={"customer_id": ids["with"][0]})
        ).json()
    per = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    cpu = {kind: statistics.median(sum(each) for each in values) * 1000 for kind, values in cpus.items()}
    print(f"{args.rounds} rounds of {args.orders} orders from {args.connections} connections, {args.workers} workers")
    for kind in ("without", "with"):
        runs = ", ".join(f"{value * 1000:.2f}" for value in times[kind])
        print(
            f"{kind:>7} a programme: {per[kind]:.2f} ms/order (median; rounds {runs}) = {1000 / per[kind]:.0f} orders/s"
        )
    print(
        f"ratio with/without: {per['with'] / per['without']:.3f}  (+{(per['with'] / per['without'] - 1) * 100:.1f} %)"
    )
    for kind in ("without", "with"):
        parts = [statistics.median(values) * 1000 for values in zip(*cpus[kind], strict=True)]
        runs = ", ".join(f"{sum(values) * 1000:.2f}" for values in cpus[kind])
        split = f" = server {parts[0]:.2f} + PostgreSQL backends {parts[1]:.2f}" if database else " (server)"
        print(f"{kind:>7} a programme: {cpu[kind]:.2f} ms CPU/order{split} (medians; rounds {runs})")
    print(f"CPU ratio with/without: {cpu['with'] / cpu['without']:.3f}")
    print(f"a card of the programme after the run: balance {card[0]['balance']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PATRONAGE_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.database_url.startswith("postgresql"):
        asyncio.run(_create_database(args.database_url))
    migrate.upgrade(args.database_url)
    token, location_id, with_id, without_id = asyncio.run(setup(args.database_url))
    with live_server(args.database_url, workers=args.workers) as base:
        asyncio.run(run(base, token, location_id, with_id, without_id, args))


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
