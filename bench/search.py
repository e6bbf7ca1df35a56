"""Customer search on a big list: the four filter shapes against ``patronage serve`` on PostgreSQL.

    .venv/bin/python bench/search.py [--url postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench]

Creates the database if missing and migrates it, finds or creates the benchmark's tenant (user, account,
location, client, list) through the project's services, seeds the list up to ``--count`` customers with
``patronage.seed`` (skipped when it already has them: the database is the state, so re-runs are quick),
starts ``patronage serve`` on a free local port, sends ``--requests`` sequential requests per filter from one
keep-alive HTTP client, and prints min / median / p95 latencies in ms with the number of customers each
answer carried. ``--explain`` also prints PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) of the exact statement the
service runs for each filter.
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import common
import httpx
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from patronage import migrate, seed
from patronage.auth.principal import authenticate
from patronage.customers import service as customers
from patronage.customers.models import Customer
from patronage.db import Database
from patronage.pagination import PageRequest
from patronage.settings import Settings

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench"
BENCH_NAME = "Search benchmark"
OWNER_EMAIL = "search-bench@patronage.invalid"
SCOPE = "location[all_customer_lists.read]"
# The four filters, as a client sends them (httpx encodes "+" as %2B).
FILTERS = (
    ("email", "jo*"),
    ("email", "*@example.com"),
    ("phone", "+4420*"),
    ("phone", "*6789"),
)


# --- the database and the tenant ---------------------------------------------------------------------


async def count_customers(db: Database, customer_list_id: str) -> int:
    async with db.session(write=False) as session:
        stmt = select(func.count()).select_from(Customer).where(Customer.customer_list_id == customer_list_id)
        return await session.scalar(stmt) or 0


async def prepare(url: str, count: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    db = Database(settings)
    try:
        tenant = await common.ensure_tenant(db, BENCH_NAME, OWNER_EMAIL, SCOPE)
        customer_list_id, token = tenant["customer_list_id"], tenant["token"]
        existing = await count_customers(db, customer_list_id)
    finally:
        await db.dispose()
    seeded = None
    if existing < count:
        seeded = await seed.seed_customers(settings, customer_list_id, count - existing)
        print(f"seeded: {json.dumps(seeded)}", flush=True)
    else:
        print(f"list {customer_list_id} already has {existing} customers: seeding skipped", flush=True)
    return {
        "customer_list_id": customer_list_id,
        "token": token,
        "customers": max(existing, count),
        "seeded": seeded,
    }


# --- plans -------------------------------------------------------------------------------------------


async def explain(url: str, customer_list_id: str, token: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement ``customers.service.index`` runs for each filter."""
    db = Database(Settings(database_url=url))
    captured: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        captured.append((statement, parameters))

    event.listen(db.read_engine.sync_engine, "before_cursor_execute", capture)
    try:
        principal = await authenticate(db, token)
        for name, value in FILTERS:
            captured.clear()
            async with db.session(write=False) as session:
                filters = customers.Filters(**{name: value})
                await customers.index(session, principal, customer_list_id, filters, PageRequest(100, None))
            statement, parameters = next((s, p) for s, p in captured if "FROM customer " in s)
            async with db.read_engine.connect() as conn:
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters)
            print(f"\n--- {name}={value}\n" + "\n".join(row[0] for row in rows), flush=True)
        print(f"\n(statement: {statement})", flush=True)
    finally:
        await db.dispose()


# --- the server and the requests ---------------------------------------------------------------------


def measure(base: str, token: str, customer_list_id: str, requests: int, warmup: int) -> list[dict[str, Any]]:
    results = []
    path = f"{base}/v1/customer_lists/{customer_list_id}/customers"
    with httpx.Client(headers={"X-Access-Token": token}, timeout=30) as http:
        for name, value in (("(none)", None), *FILTERS):
            params = {name: value} if value is not None else {}
            timings, sizes, more = [], set(), set()
            for i in range(warmup + requests):
                started = time.perf_counter()
                response = http.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if i >= warmup:
                    timings.append(elapsed)
                    sizes.add(len(response.json()))
                    more.add("X-Cursor-Next" in response.headers)
            results.append(
                {
                    "filter": f"{name}={value}" if value is not None else "(no filter)",
                    "url": str(response.request.url).removeprefix(base),
                    "min_ms": round(min(timings), 1),
                    "median_ms": round(statistics.median(timings), 1),
                    "p95_ms": round(common.percentile(timings, 0.95), 1),
                    "max_ms": round(max(timings), 1),
                    "results": sorted(sizes),
                    "next_page": sorted(more),
                }
            )
    return results


async def count_matches(url: str, customer_list_id: str) -> dict[str, int]:
    """How many customers of the list each filter matches (for the record; a full scan each)."""
    db = Database(Settings(database_url=url))
    try:
        async with db.session(write=False) as session:
            answer = {}
            for name, value in FILTERS:
                pattern = customers.like_pattern(value.lower() if name == "email" else value)
                column = Customer.email_search if name == "email" else Customer.phone
                stmt = select(func.count()).where(
                    Customer.customer_list_id == customer_list_id, column.like(pattern, escape="\\")
                )
                answer[f"{name}={value}"] = await session.scalar(stmt) or 0
            return answer
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("PATRONAGE_BENCH_URL", DEFAULT_URL))
    parser.add_argument("--count", type=int, default=1_000_000, help="customers in the list (default 1M)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per filter")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per filter first")
    parser.add_argument("--workers", type=int, default=2, help="patronage serve --workers")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each search")
    parser.add_argument("--matches", action="store_true", help="also count every filter's matches")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        raise SystemExit("this benchmark runs on PostgreSQL (postgresql+asyncpg://...)")

    if asyncio.run(common.ensure_database(args.url)):
        print(f"created database {make_url(args.url).database}", flush=True)
    migrate.upgrade(args.url)  # runs its own event loop
    state = asyncio.run(prepare(args.url, args.count))
    if args.explain:
        asyncio.run(explain(args.url, state["customer_list_id"], state["token"]))
    matches = asyncio.run(count_matches(args.url, state["customer_list_id"])) if args.matches else None

    port = common.free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / f"patronage-bench-search-{port}.log"
    server = common.start_server(args.url, port, args.workers, log)
    try:
        common.wait_until_up(f"{base}/health", server, log)
        results = measure(base, state["token"], state["customer_list_id"], args.requests, args.warmup)
    finally:
        common.stop_server(server)
    log.unlink(missing_ok=True)

    print(f"\n{common.environment(args.url)}")
    print(
        f"{state['customers']:,} customers in list {state['customer_list_id']}; {args.requests} sequential "
        f"requests per filter after {args.warmup} warm-up ones; patronage serve --workers {args.workers}\n"
    )
    print("| filter | request | min ms | median ms | p95 ms | max ms | customers returned |")
    print("|---|---|---|---|---|---|---|")
    for row in results:
        returned = "/".join(str(size) for size in row["results"])
        if True in row["next_page"]:
            returned += " (+ X-Cursor-Next)"
        print(
            f"| `{row['filter']}` | `GET {row['url']}` | {row['min_ms']} | {row['median_ms']} | {row['p95_ms']} "
            f"| {row['max_ms']} | {returned} |"
        )
    if matches:
        print("\nMatches in the whole list: " + ", ".join(f"`{k}` {v:,}" for k, v in matches.items()))
    if args.json:
        report = {**state, "token": None, "results": results, "matches": matches, "args": vars(args)}
        args.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
