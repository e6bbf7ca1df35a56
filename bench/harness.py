"""The benchmark harness (`make bench`): Patronage against its PostgreSQL ceiling and a framework floor.

    sh bench/install.sh && .venv/bin/python bench/harness.py

Knobs are environment variables (see bench/README.md); the defaults are the full run. In short:

1. seeds ``BENCH_CUSTOMERS`` customers (default 1,000,000) in one list of a dedicated PostgreSQL database, each
   with a loyalty card and ``BENCH_OPERATIONS`` operations and a private ref, with bulk SQL (``COPY``), rows as
   the API writes them; checks that the API reads some of them back as seeded;
2. captures the SQL each endpoint really runs (SQLAlchemy engine events around one in-process request each)
   and turns it into a pgbench script (random seeded ids through a ``bench_key`` table) and a plan for the
   floor app (bench/floor.py: Starlette + asyncpg, the same statements);
3. starts ``patronage serve`` and the floor app with ``BENCH_WORKERS`` workers each, then per endpoint runs,
   interleaved, pgbench (the ceiling), wrk on the floor and wrk on Patronage (bench/wrk.lua, random ids) at
   ``BENCH_CONCURRENCY`` for ``BENCH_SECONDS`` each, ``BENCH_ROUNDS`` times;
4. does the same for Patronage alone on a smaller SQLite set (``BENCH_SQLITE_CUSTOMERS``);
5. writes the tables (req/s, p50, p99, ratios to the ceiling and the floor, CPU per request, RSS per worker),
   the machine and the command into bench/RESULTS.md, between the harness's markers.
"""

import asyncio
import contextlib
import json
import os
import pickle
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import common
import httpx
from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url

from patronage import migrate, sealing, seed
from patronage.app import create_app
from patronage.auth.principal import authenticate
from patronage.customers.models import CustomerPrivateRef
from patronage.db import Database, utcnow
from patronage.ids import new_ids
from patronage.loyalty.ledger import operation_hash
from patronage.loyalty.models import SCALE, LoyaltyCard, LoyaltyOperation
from patronage.pagination import CursorBinding, encode_cursor
from patronage.settings import Settings

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
BEGIN_MARK, END_MARK = "<!-- harness:begin -->", "<!-- harness:end -->"
BENCH_NAME = "Harness benchmark"
OWNER_EMAIL = "harness-bench@patronage.invalid"
SCOPE = "location[orders.write,all_customer_lists.write]"
# Cursors are signed with keys derived from the sealing keys: the harness, the in-process app and the server
# must share them (and no key file appears in the working directory).
SECRET_KEY = "patronage-bench-harness-not-a-secret"
PAGE = 100
ID_SAMPLE = 100_000  # ids wrk draws from (a Lua table per wrk thread)


def knob(name: str, default: Any) -> Any:
    value = os.environ.get(name)
    return default if value in (None, "") else type(default)(value)


@dataclass
class Knobs:
    url: str = knob("BENCH_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/patronage_bench_harness")
    customers: int = knob("BENCH_CUSTOMERS", 1_000_000)
    operations: int = knob("BENCH_OPERATIONS", 3)
    sqlite_url: str = knob("BENCH_SQLITE_URL", "sqlite+aiosqlite:////var/tmp/patronage_bench_harness.db")
    sqlite_customers: int = knob("BENCH_SQLITE_CUSTOMERS", 100_000)
    seconds: int = knob("BENCH_SECONDS", 20)
    warmup: int = knob("BENCH_WARMUP", 2)
    concurrency: int = knob("BENCH_CONCURRENCY", 16)
    workers: int = knob("BENCH_WORKERS", 2)
    rounds: int = knob("BENCH_ROUNDS", 1)
    endpoints: str = knob("BENCH_ENDPOINTS", "")  # comma-separated names; empty: all
    results: str = knob("BENCH_RESULTS", str(RESULTS))  # "-": print only
    plans: str = knob("BENCH_PLANS", str(RESULTS.parent / "PLANS.md"))  # "-": none


# --- the endpoints -----------------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    label: str
    method: str
    path: str  # @customer@, @card@, @ref@, @n@ are filled per request (bench/wrk.lua)
    body: dict[str, Any] | None = None
    kind: str = "read"  # "read", "search" (list and search targets apply), "write"

    def body_text(self) -> str:
        return json.dumps(self.body, separators=(",", ":")) if self.body is not None else ""

    def fill(self, row: tuple[str, str, str], n: int) -> tuple[str, str]:
        def one(template: str) -> str:
            for marker, value in zip(("@customer@", "@card@", "@ref@"), row, strict=True):
                template = template.replace(marker, value)
            return template.replace("@n@", str(n))

        return one(self.path), one(self.body_text())


@dataclass
class Tenant:
    customer_list_id: str
    account_id: str
    location_id: str
    client_id: str
    connection_id: str
    token: str
    customers: int
    keys: int  # rows of bench_key: the customers with a card and a private ref
    hot: tuple[str, str, str]  # the hot card's customer, card and ref
    email: str  # an existing customer's email and phone, for the exact filters
    phone: str
    page_n: int  # the deep page (10,000 on a million customers)
    cursor: str  # its cursor


def endpoints(t: Tenant) -> list[Endpoint]:
    customers = f"/v1/customer_lists/{t.customer_list_id}/customers"
    cards = f"/v1/customer_lists/{t.customer_list_id}/loyalty_cards"
    operation = {"delta": "1.5", "reason": "Bench"}
    searches = [
        ("email_exact", "email exact", f"email={t.email}"),
        ("email_prefix", "email prefix `jo*`", "email=jo%2A"),
        ("email_suffix", "email suffix `*@example.com`", "email=%2A%40example.com"),
        ("email_infix", "email infix `*smith*`", "email=%2Asmith%2A"),
        ("phone_exact", "phone exact", f"phone={t.phone.replace('+', '%2B')}"),
        ("phone_prefix", "phone prefix `+4420*`", "phone=%2B4420%2A"),
        ("phone_suffix", "phone suffix `*6789`", "phone=%2A6789"),
        ("phone_infix", "phone infix `*5550*`", "phone=%2A5550%2A"),
    ]
    return [
        Endpoint("get_customer", "GET customer", "GET", f"{customers}/@customer@"),
        Endpoint("get_card", "GET card", "GET", f"{cards}/@card@"),
        Endpoint("list_page_1", "list page 1", "GET", customers, kind="search"),
        Endpoint("list_page_n", f"list page {t.page_n:,}", "GET", f"{customers}?cursor={t.cursor}", kind="search"),
        *(Endpoint(name, label, "GET", f"{customers}?{query}", kind="search") for name, label, query in searches),
        Endpoint("private_ref", "`private_ref` filter", "GET", f"{customers}?private_ref=@ref@", kind="search"),
        Endpoint(
            "post_customer",
            "POST customer",
            "POST",
            customers,
            {"first_name": "Ada", "last_name": "Bench", "email": "ada.bench@n@@example.org", "sms_marketing": True},
            kind="write",
        ),
        Endpoint(
            "patch_customer",
            "PATCH customer",
            "PATCH",
            f"{customers}/@customer@",
            {"delivery_notes": "Ring twice @n@"},
            kind="write",
        ),  # fmt: skip
        Endpoint(
            "post_operation",
            "POST operation (random cards)",
            "POST",
            f"{cards}/@card@/operations",
            operation,
            kind="write",
        ),  # fmt: skip
        Endpoint(
            "post_operation_hot",
            "POST operation (one hot card)",
            "POST",
            f"{cards}/{t.hot[1]}/operations",
            operation,
            kind="write",
        ),  # fmt: skip
        Endpoint(
            "post_order",
            "POST order with loyalty operations",
            "POST",
            f"/v1/locations/{t.location_id}/orders",
            {
                "status": "new",
                "customer_id": "@customer@",
                "items": [{"product_name": "Menu", "price": "9.90 GBP", "quantity": 1}],
                "loyalty_operations": [{"delta": "1", "name": "Club", "reason": "Points earned"}],
            },
            kind="write",
        ),
        Endpoint("events", "events index", "GET", "/v1/callback/events"),
    ]


# --- seeding -----------------------------------------------------------------------------------------


async def _meta(db: Database) -> dict[str, Any] | None:
    try:
        async with db.session(write=False) as session:
            value = await session.scalar(text("SELECT value FROM bench_meta WHERE key = 'state'"))
    except Exception:  # no table yet: a new database
        return None
    return json.loads(value) if value else None


LOYALTY_BATCH = 20_000  # customers per generated and copied batch: memory stays flat


class LoyaltyFactory:
    """A card per customer with ``operations`` operations (a consistent ``seq`` / ``new_balance`` chain, the card's
    balance their sum) and a private ref of the bench client: what POST loyalty_cards, POST operations and a
    private ref would have written. Rows are dicts of column values."""

    def __init__(self, tenant: dict[str, str], operations: int, rng: random.Random):
        self.list_id, self.account_id, self.client_id = (
            tenant["customer_list_id"],
            tenant["account_id"],
            tenant["client_id"],
        )
        self.operations, self.rng, self.now = operations, rng, utcnow()

    def batch(self, customers: list[tuple[str, datetime]], first_n: int) -> dict[str, list[dict[str, Any]]]:
        rng, now = self.rng, self.now
        ids = iter(new_ids(len(customers) * (1 + self.operations)))
        rows: dict[str, list[dict[str, Any]]] = {"loyalty_card": [], "loyalty_operation": [],
                                                 "customer_private_ref": [], "bench_key": []}  # fmt: skip
        for n, (customer_id, created_at) in enumerate(customers, first_n):
            if isinstance(created_at, str):  # SQLite through text()
                created_at = datetime.fromisoformat(created_at)
            card_id, card_created = next(ids), min(now, created_at + timedelta(minutes=1 + rng.randrange(60)))
            balance, chained = 0, None
            for seq in range(1, self.operations + 1):
                delta = rng.randrange(1, 50_000) * SCALE // 1000  # 0.001 to 49.999 points
                balance += delta
                operation_id, at = next(ids), min(now, card_created + timedelta(hours=seq))
                chained = operation_hash(chained, operation_id=operation_id, seq=seq, delta_micro=delta,
                                         new_balance_micro=balance, created_at=at, order_id=None)  # fmt: skip
                rows["loyalty_operation"].append(
                    {"id": operation_id, "account_id": self.account_id, "customer_list_id": self.list_id,
                     "loyalty_card_id": card_id, "customer_id": customer_id, "seq": seq, "delta_micro": delta,
                     "new_balance_micro": balance, "reason": "Welcome points", "order_id": None,
                     "order_location_id": None, "created_at": at, "hash": chained}
                )  # fmt: skip
            rows["loyalty_card"].append(
                {"id": card_id, "account_id": self.account_id, "customer_list_id": self.list_id,
                 "customer_id": customer_id, "name": "Club", "ref": None, "balance_micro": balance,
                 "operation_count": self.operations, "created_at": card_created, "ledger_hash": chained}
            )  # fmt: skip
            ref = f"POS-{n:08d}"
            rows["customer_private_ref"].append(
                {"customer_id": customer_id, "client_id": self.client_id, "customer_list_id": self.list_id, "ref": ref}
            )
            rows["bench_key"].append({"n": n, "customer_id": customer_id, "card_id": card_id, "ref": ref})
        return rows


TABLES = {"loyalty_card": LoyaltyCard.__table__, "loyalty_operation": LoyaltyOperation.__table__,
          "customer_private_ref": CustomerPrivateRef.__table__}  # fmt: skip


async def seed_loyalty(db: Database, tenant: dict[str, str], operations: int, rng: random.Random) -> dict[str, Any]:
    """Cards, operations and private refs for every non-anonymised customer of the list (``LoyaltyFactory``), in
    one transaction; ``bench_key`` numbers the customers for pgbench. PostgreSQL: ``COPY``, with the foreign-key
    triggers off for the load (``session_replication_role = replica``: the rows reference what they must by
    construction), then ``VACUUM (ANALYZE)``."""
    started = time.perf_counter()
    timings = {"generate": 0.0, "load": 0.0}
    factory = LoyaltyFactory(tenant, operations, rng)
    count = 0
    async with db.session(write=True) as session:
        conn = await session.connection()
        await conn.execute(text("CREATE TABLE bench_key (n INTEGER PRIMARY KEY, customer_id VARCHAR(16), "
                                "card_id VARCHAR(16), ref VARCHAR(255))"))  # fmt: skip
        await conn.execute(text("CREATE TABLE bench_meta (key VARCHAR(32) PRIMARY KEY, value TEXT)"))
        customers = (
            await conn.execute(
                text(
                    "SELECT id, created_at FROM customer WHERE customer_list_id = :l AND NOT anonymised "
                    "ORDER BY created_at, id"
                ),
                {"l": tenant["customer_list_id"]},
            )  # fmt: skip
        ).all()
        driver = None
        if db.dialect == "postgresql":
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.execute("SET LOCAL session_replication_role = replica")
        for first in range(0, len(customers), LOYALTY_BATCH):
            clock = time.perf_counter()
            rows = factory.batch(customers[first : first + LOYALTY_BATCH], first + 1)
            timings["generate"] += time.perf_counter() - clock
            clock = time.perf_counter()
            for name, values in rows.items():
                count += len(values)
                if driver is not None:
                    columns = [c.name for c in TABLES[name].columns] if name in TABLES else list(values[0])
                    records = [tuple(v[c] for c in columns) for v in values]
                    await driver.copy_records_to_table(name, records=records, columns=columns)
                elif name in TABLES:
                    await conn.execute(insert(TABLES[name]), values)
                else:
                    await conn.execute(text("INSERT INTO bench_key VALUES (:n, :customer_id, :card_id, :ref)"), values)
            timings["load"] += time.perf_counter() - clock
    clock = time.perf_counter()
    if db.dialect == "postgresql":
        async with db.write_engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in (*TABLES, "bench_key"):
                await autocommit.execute(text(f"VACUUM (ANALYZE) {table}"))
    else:
        async with db.session(write=True) as session:
            await session.execute(text("ANALYZE"))
    timings["analyze"] = time.perf_counter() - clock
    return {"rows": count, "seconds": round(time.perf_counter() - started, 2),
            **{name: round(value, 2) for name, value in timings.items()}}  # fmt: skip


async def prepare(url: str, count: int, operations: int) -> Tenant:
    """The seeded database (seeded now unless it already holds ``count`` customers) and the tenant."""
    settings = Settings(database_url=url)
    db = Database(settings)
    try:
        meta = await _meta(db)
    finally:
        await db.dispose()
    if meta is None or meta.get("customers") != count or meta.get("operations") != operations:
        if url.startswith("postgresql"):
            await common.ensure_database(url, recreate=True)
        else:
            path = Path(make_url(url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
        await asyncio.to_thread(migrate.upgrade, url)
        db = Database(settings)
        try:
            tenant = await common.ensure_tenant(db, BENCH_NAME, OWNER_EMAIL, SCOPE)
        finally:
            await db.dispose()
        report = await seed.seed_customers(settings, tenant["customer_list_id"], count, seed=12)
        print(f"seeded customers: {json.dumps(report)}", flush=True)
        db = Database(settings)
        try:
            timings = await seed_loyalty(db, tenant, operations, random.Random(12))
            print(f"seeded cards, operations, private refs: {json.dumps(timings)}", flush=True)
            async with db.session(write=True) as session:
                state = json.dumps({"customers": count, "operations": operations})
                await session.execute(text("INSERT INTO bench_meta VALUES ('state', :v)"), {"v": state})
        finally:
            await db.dispose()
    else:
        print(f"{url}: already seeded with {count:,} customers", flush=True)
    db = Database(settings)
    try:
        tenant = await common.ensure_tenant(db, BENCH_NAME, OWNER_EMAIL, SCOPE)
        principal = await authenticate(db, tenant["token"])
        async with db.session(write=False) as session:
            hot = (await session.execute(text("SELECT customer_id, card_id, ref FROM bench_key WHERE n = 1"))).one()
            total = await session.scalar(
                text("SELECT count(*) FROM customer WHERE customer_list_id = :l"), {"l": tenant["customer_list_id"]}
            )
            email, phone = (
                await session.execute(
                    text(
                        "SELECT c.email, c.phone FROM customer c JOIN bench_key k ON k.customer_id = c.id "
                        "WHERE c.email IS NOT NULL AND c.phone IS NOT NULL ORDER BY k.n LIMIT 1 OFFSET 77"
                    )
                )  # fmt: skip
            ).one()
            keys = await session.scalar(text("SELECT count(*) FROM bench_key"))
            page_n = min(10_000, (total + PAGE - 1) // PAGE)
            created_at, last_id = (
                await session.execute(
                    text(
                        "SELECT created_at, id FROM customer WHERE customer_list_id = :l "
                        "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET :o"
                    ),
                    {"l": tenant["customer_list_id"], "o": (page_n - 1) * PAGE - 1},
                )  # fmt: skip
            ).one()
    finally:
        await db.dispose()
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    path = f"/v1/customer_lists/{tenant['customer_list_id']}/customers"
    binding = CursorBinding(f"{path}\x00{principal.connection_id}".encode(), sealing.keyring(settings).cursor_keys)
    return Tenant(
        customer_list_id=tenant["customer_list_id"],
        account_id=tenant["account_id"],
        location_id=tenant["location_id"],
        client_id=tenant["client_id"],
        connection_id=principal.connection_id,
        token=tenant["token"],
        customers=total,
        keys=keys,
        hot=tuple(hot),
        email=email,
        phone=phone,
        page_n=page_n,
        cursor=encode_cursor(created_at, last_id, binding=binding),
    )


async def sample_ids(url: str, path: Path, size: int) -> tuple[str, str, str]:
    """A random sample of seeded (customer, card, ref) written for wrk; returns one of them."""
    db = Database(Settings(database_url=url))
    try:
        async with db.session(write=False) as session:
            total = await session.scalar(text("SELECT count(*) FROM bench_key"))
            chosen = sorted(random.sample(range(2, total + 1), min(size, total - 1)))
            rows = []
            for i in range(0, len(chosen), 5_000):
                part = chosen[i : i + 5_000]
                marks = ", ".join(str(n) for n in part)
                stmt = text(f"SELECT customer_id, card_id, ref FROM bench_key WHERE n IN ({marks})")
                rows += (await session.execute(stmt)).all()
    finally:
        await db.dispose()
    path.write_text("".join(f"{c}\t{k}\t{r}\n" for c, k, r in rows))  # noqa: ASYNC240 - once, small
    return tuple(rows[0])


# --- the app in process: checks, events, captured SQL ----------------------------------------------------


@dataclass
class Step:
    sql: str
    params: list[dict[str, Any]]
    returns: bool = False
    row: dict[str, Any] = field(default_factory=dict)  # the one row a RETURNING statement gave
    referenced: set[str] = field(default_factory=set)  # columns later steps use


_ID = re.compile(r"^[0-9a-z]{10}$")


class InProcess:
    """The real app over an ASGI transport, with SQLAlchemy's statements recorded."""

    def __init__(self, url: str, token: str):
        settings = Settings(database_url=url, rate_limits=False, access_log=False, callback_worker=False)
        self.app = create_app(settings)
        self.db: Database = self.app.state.db
        self.statements: list[tuple[str, Any, list[str], list[tuple]]] = []
        self.recording = False
        engines = (self.db.read_engine, self.db.write_engine, self.db.custom_plan_engine)
        for engine in {e.sync_engine for e in engines if e is not None}:
            event.listen(engine, "after_cursor_execute", self._record)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://bench", headers={"X-Access-Token": token}
        )

    def _record(self, _conn, cursor, statement, parameters, _context, _executemany) -> None:
        if not self.recording:
            return
        names = [column[0] for column in cursor.description or ()]
        rows = list(getattr(cursor, "_rows", ()) or ())  # the asyncpg adapter's buffered rows, left in place
        self.statements.append((statement, parameters, names, rows))

    async def request(self, endpoint: Endpoint, row: tuple[str, str, str], n: int) -> httpx.Response:
        path, body = endpoint.fill(row, n)
        content = body.encode() if body else None
        headers = {"Content-Type": "application/json"} if body else {}
        return await self.http.request(endpoint.method, path, content=content, headers=headers)

    async def capture(self, endpoint: Endpoint, row: tuple[str, str, str], t: Tenant) -> list[Step]:
        await self.request(endpoint, row, 1)  # the token's cache and the connection pool warm
        self.statements.clear()
        self.recording = True
        started = utcnow()
        try:
            response = await self.request(endpoint, row, 2)
        finally:
            self.recording = False
        ended = utcnow()
        if response.status_code >= 300:
            raise SystemExit(f"{endpoint.name}: {response.status_code} {response.text}")
        roles = {row[0]: "customer", row[1]: "card", row[2]: "ref"}
        constants = {t.customer_list_id, t.account_id, t.location_id, t.client_id, t.connection_id}
        steps: list[Step] = []
        seen: set[str] = set()
        created: set[str] = set()  # ids this request made: first seen in an INSERT's parameters, never read
        for statement, parameters, names, rows in self.statements:
            # An INSERT, alone or after a WITH (the ledger's one-statement operation: WITH moved AS (UPDATE ...)).
            inserting = re.search(r"\bINSERT\s+INTO\b", statement, re.IGNORECASE) is not None
            params = []
            for value in parameters or ():
                param: dict[str, Any] = {"kind": "literal", "value": value}
                if isinstance(value, str) and value in roles:
                    param = {"kind": roles[value], "value": value}
                elif isinstance(value, datetime) and started - timedelta(seconds=1) <= value <= ended:
                    param = {"kind": "now", "value": value}
                elif isinstance(value, int) and not isinstance(value, bool) and value not in (0, 1):
                    # A value an earlier UPDATE ... RETURNING gave (the ledger's sequence number and balance).
                    for i, step in reversed(list(enumerate(steps))):
                        if (
                            step.returns
                            and step.sql.lstrip().upper().startswith("UPDATE")
                            and value in step.row.values()
                        ):
                            column = next(c for c, v in step.row.items() if v == value)
                            step.referenced.add(column)
                            param = {"kind": "returned", "step": i, "column": column, "value": value}
                            break
                elif isinstance(value, str) and _ID.match(value) and value not in constants:
                    if inserting and value not in seen:
                        created.add(value)
                    if value in created:
                        param = {"kind": "new_id", "value": value}
                if isinstance(value, str):
                    seen.add(value)
                params.append(param)
            # What a statement read exists already: an id among its results is never a new one.
            seen.update(value for result in rows for value in result if isinstance(value, str))
            returns = " RETURNING " in statement and len(rows) == 1
            row_values = dict(zip(names, rows[0], strict=False)) if returns else {}
            steps.append(Step(statement, params, returns, row_values))
        return steps

    async def close(self) -> None:
        await self.http.aclose()
        await self.db.dispose()


async def check_and_capture(url: str, t: Tenant, eps: list[Endpoint], ids_file: Path) -> dict[str, list[Step]]:
    """Reads seeded customers and cards back through the API (as seeded?), gives the connection a passive
    callback with 150 customer events to index, and captures every endpoint's statements."""
    rows = [tuple(line.split("\t")) for line in ids_file.read_text().splitlines()[:20]]  # noqa: ASYNC240
    app = InProcess(url, t.token)
    try:
        async with app.db.session(write=False) as session:
            for customer_id, card_id, ref in rows[:10]:
                email, balance = (
                    await session.execute(
                        text(
                            "SELECT c.email, k.balance_micro FROM customer c JOIN loyalty_card k "
                            "ON k.customer_id = c.id WHERE c.id = :c AND k.id = :k"
                        ),
                        {"c": customer_id, "k": card_id},
                    )  # fmt: skip
                ).one()
                base = f"/v1/customer_lists/{t.customer_list_id}"
                customer = (await app.http.get(f"{base}/customers/{customer_id}")).raise_for_status().json()
                card = (await app.http.get(f"{base}/loyalty_cards/{card_id}")).raise_for_status().json()
                found = (await app.http.get(f"{base}/customers", params={"private_ref": ref})).json()
                assert customer["email"] == email and customer["private_ref"] == ref, customer
                assert Decimal(card["balance"]) == Decimal(balance) / SCALE, (card, balance)
                assert [c["id"] for c in customer["loyalty_cards"]] == [card_id], customer
                assert [c["id"] for c in found] == [customer_id], found
        async with app.db.session(write=True) as session:
            # Only this run's connection subscribes: older runs' callbacks would make every write render more.
            await session.execute(
                text("DELETE FROM callback WHERE connection_id IN (SELECT id FROM connection WHERE client_id = :c "
                     "AND id <> :current)"), {"c": t.client_id, "current": t.connection_id},
            )  # fmt: skip
        answer = await app.http.post("/v1/callback", json={"url": None, "events": {"customer": ["create", "update"]}})
        answer.raise_for_status()
        for n in range(150):
            body = {"first_name": "Eve", "email": f"eve.{n}.{os.urandom(3).hex()}@example.org"}
            (await app.http.post(f"/v1/customer_lists/{t.customer_list_id}/customers", json=body)).raise_for_status()
        print(f"checked {len(rows[:10])} seeded customers and cards through the API; 150 events recorded", flush=True)
        return {endpoint.name: await app.capture(endpoint, rows[10], t) for endpoint in eps}
    finally:
        await app.close()


async def seq_scans(url: str, steps: dict[str, list[Step]]) -> dict[str, list[str]]:
    """Per endpoint, the big tables (over 10,000 rows) its statements read whole: ``Seq Scan`` in their plans
    (EXPLAIN with the captured values). On a big set that is what the latency is made of."""
    conn = await asyncpg.connect(common.admin_dsn(url))
    found: dict[str, list[str]] = {}
    try:
        rows = await conn.fetch(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND reltuples > $1", 10_000
        )
        big = {row["relname"]: row["reltuples"] for row in rows}
        for name, endpoint_steps in steps.items():
            for step in endpoint_steps:
                values = [param.get("value") for param in step.params]
                try:
                    plan = await conn.fetch(f"EXPLAIN {step.sql}", *values)
                except asyncpg.PostgresError:
                    continue
                for row in plan:
                    match = re.search(r"Seq Scan on (\w+)", row[0])
                    if match and match.group(1) in big and match.group(1) not in found.setdefault(name, []):
                        found[name].append(match.group(1))
    finally:
        await conn.close()
    return {name: tables for name, tables in found.items() if tables}


async def record_plans(url: str, steps: dict[str, list[Step]], header: str) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of every statement each endpoint runs, with its captured values, as a
    Markdown page (issue 12: every query has the plan it deserves). Each endpoint's statements run in one transaction
    that is rolled back, in order, so a write's plan is real and changes nothing."""
    conn = await asyncpg.connect(common.admin_dsn(url))
    parts = [f"# Query plans\n\n{header}\n"]
    try:
        for name, endpoint_steps in steps.items():
            parts.append(f"\n## {name}\n")
            transaction = conn.transaction()
            await transaction.start()
            try:
                for number, step in enumerate(endpoint_steps, 1):
                    parts.append(f"\n{number}. `{_one_line(step.sql)}`\n\n```\n{await _plan(conn, step)}\n```\n")
            finally:
                await transaction.rollback()
    finally:
        await conn.close()
    return "".join(parts)


async def _plan(conn: Any, step: Step) -> str:
    values = [param.get("value") for param in step.params]
    if re.match(r"\s*(SET|RESET)\b", step.sql, re.IGNORECASE):
        await conn.execute(step.sql, *values)  # a setting the next statement's plan depends on
        return "(a setting, applied for the statements after it)"
    try:
        async with conn.transaction():  # a savepoint: a failure leaves the endpoint's earlier statements
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {step.sql}", *values)
        return "\n".join(row[0] for row in plan)
    except asyncpg.PostgresError as exc:
        # An INSERT of the captured row, which exists since the capture committed: the estimated plan.
        plan = await conn.fetch(f"EXPLAIN {step.sql}", *values)
        return f"(estimated: running it again failed with {type(exc).__name__})\n" + "\n".join(r[0] for r in plan)


def _one_line(sql: str, limit: int = 300) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- pgbench scripts and the floor's plan ------------------------------------------------------------------


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return f"'{value.isoformat(sep=' ') if isinstance(value, datetime) else value.isoformat()}'"
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    return "'" + str(value).replace("'", "''") + "'"


def pgbench_script(steps: list[Step], keys: int) -> str:
    """The request's statements in one transaction: seeded ids drawn at random (``bench_key``), new ids fresh
    per transaction, RETURNING values kept with ``\\gset`` where a later statement uses them."""
    fresh: dict[Any, str] = {}
    lines = [f"\\set bk random(1, {keys})"]
    body = []
    for i, step in enumerate(steps):

        def substitute(match: re.Match, step: Step = step) -> str:
            param = step.params[int(match.group(1)) - 1]
            kind = param["kind"]
            if kind in ("customer", "card", "ref"):
                column = {"customer": "customer_id", "card": "card_id", "ref": "ref"}[kind]
                return f"(SELECT {column} FROM bench_key WHERE n = :bk)"
            if kind == "new_id":
                if param["value"] not in fresh:
                    fresh[param["value"]] = name = f"bnid{len(fresh)}"
                    lines.append(f"\\set {name} random(0, 1099511627775)")
                return f"lpad(to_hex(:{fresh[param['value']]}::bigint), 10, '0')"
            if kind == "returned":
                return f":bs{param['step']}_{param['column']}"
            return _literal(param["value"])

        sql = re.sub(r"\$(\d+)", substitute, step.sql).strip()
        sql = " ".join(sql.split())
        body.append(f"{sql} \\gset bs{i}_" if step.referenced else f"{sql};")
    return "\n".join([*lines, "BEGIN;", *body, "COMMIT;", ""])


def floor_plan(steps: list[Step]) -> list[dict[str, Any]]:
    return [{"sql": step.sql, "params": step.params} for step in steps]


# --- runs ------------------------------------------------------------------------------------------------


@dataclass
class Servers:
    patronage: Any = None
    patronage_base: str = ""
    floor: Any = None
    floor_base: str = ""
    logs: list[Path] = field(default_factory=list)


def start_patronage(url: str, workers: int, work: Path) -> tuple[Any, str, Path]:
    port = common.free_port()
    log = work / f"patronage-{port}.log"
    env = {"PATRONAGE_ACCESS_LOG": "false", "PATRONAGE_SECRET_KEY": SECRET_KEY}
    server = common.start_server(url, port, workers, log, env)
    base = f"http://127.0.0.1:{port}"
    common.wait_until_up(f"{base}/health", server, log)
    return server, base, log


def start_floor(url: str, workers: int, plan: Path, work: Path) -> tuple[Any, str, Path]:
    port = common.free_port()
    log = work / f"floor-{port}.log"
    command = [sys.executable, "-m", "uvicorn", "floor:app", "--app-dir", str(HERE), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning",
               "--http", "httptools", "--loop", "uvloop"]  # fmt: skip
    env = {"BENCH_FLOOR_PLAN": str(plan), "BENCH_FLOOR_DSN": common.admin_dsn(url),
           "BENCH_FLOOR_POOL": str(Settings(database_url=url).db_pool_size)}  # fmt: skip
    server = common.start_process(command, env, log)
    base = f"http://127.0.0.1:{port}"
    common.wait_until_up(f"{base}/health", server, log)
    return server, base, log


def run_wrk(base: str, endpoint: Endpoint, path: str, token: str, ids: Path, seconds: int, c: int) -> dict:
    env = {"BENCH_IDS": str(ids), "BENCH_METHOD": endpoint.method, "BENCH_PATH": path,
           "BENCH_BODY": endpoint.body_text(), "BENCH_TOKEN": token}  # fmt: skip
    return common.wrk(base, seconds, c, script=HERE / "wrk.lua", env=env)


def run_pgbench(dsn: str, script: Path, seconds: int, c: int, work: Path) -> dict:
    prefix = work / f"pgbench-{script.stem}-{time.monotonic_ns()}"
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(c), "-j", str(min(2, c)), "-T", str(seconds),
               "-f", str(script), "-l", f"--log-prefix={prefix}", dsn]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True)
    if (
        out.returncode != 0
        or "aborted" in out.stdout
        and not re.search(r"number of failed transactions: 0", out.stdout)
    ):
        raise SystemExit(f"pgbench failed on {script}:\n{out.stdout}\n{out.stderr}")
    latencies = []
    for log in work.glob(f"{prefix.name}*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                latencies.append(int(parts[2]) / 1000)
        log.unlink()
    duration = float(re.search(r"duration: (\d+) s", out.stdout).group(1))
    return {
        "requests": len(latencies),
        "rps": float(re.search(r"tps = ([\d.]+)", out.stdout).group(1)) if latencies else 0.0,
        "p50_ms": common.percentile(latencies, 0.5) if latencies else 0.0,
        "p99_ms": common.percentile(latencies, 0.99) if latencies else 0.0,
        "non_2xx": 0,
        "socket_errors": 0,
        "duration": duration,
    }


def measured(run: Any, roots: list[int], database: str | None) -> dict:
    with common.CpuMeter(roots, database) as meter:
        result = run()
    result["cpu_us"] = meter.seconds / max(1, result["requests"]) * 1e6
    return result


def rss(server: Any) -> float:
    values = []
    for pid in common.workers_of(server.pid):
        with contextlib.suppress(OSError):
            values.append(common.rss_mb(pid))
    return max(values, default=0.0)


def median_of(runs: list[dict]) -> dict:
    keys = ("rps", "p50_ms", "p99_ms", "cpu_us", "rss_mb")
    merged = {k: statistics.median(r[k] for r in runs) for k in keys if all(k in r for r in runs)}
    merged["non_2xx"] = sum(r["non_2xx"] for r in runs)
    merged["socket_errors"] = sum(r["socket_errors"] for r in runs)  # wrk's timeouts (2 s) among them
    merged["runs"] = [round(r["rps"]) for r in runs]
    return merged


def bench_postgresql(k: Knobs, t: Tenant, eps: list[Endpoint], steps: dict, ids: Path, work: Path) -> dict:
    dsn = common.admin_dsn(k.url)
    database = make_url(k.url).database
    scripts = {}
    for endpoint in eps:
        scripts[endpoint.name] = work / f"{endpoint.name}.sql"
        scripts[endpoint.name].write_text(pgbench_script(steps[endpoint.name], t.keys))
    plan = work / "floor-plan.pickle"
    plan.write_bytes(pickle.dumps({name: floor_plan(s) for name, s in steps.items()}))
    patronage, patronage_base, _ = start_patronage(k.url, k.workers, work)
    floor, floor_base, _ = start_floor(k.url, k.workers, plan, work)
    results: dict[str, dict[str, list[dict]]] = {e.name: {"ceiling": [], "floor": [], "patronage": []} for e in eps}
    try:
        for round_ in range(k.rounds):
            for endpoint in eps:
                floor_path = f"/{endpoint.name}?customer=@customer@&card=@card@&ref=@ref@"
                runs = {
                    "ceiling": (lambda s, e=endpoint: run_pgbench(dsn, scripts[e.name], s, k.concurrency, work), []),
                    "floor": (
                        lambda s, e=endpoint, fp=floor_path: run_wrk(floor_base, e, fp, t.token, ids, s, k.concurrency),
                        [floor.pid],
                    ),  # fmt: skip
                    "patronage": (
                        lambda s, e=endpoint: run_wrk(patronage_base, e, e.path, t.token, ids, s, k.concurrency),
                        [patronage.pid],
                    ),  # fmt: skip
                }
                for system, (run, roots) in runs.items():
                    if k.warmup:
                        run(k.warmup)
                    result = measured(lambda run=run: run(k.seconds), roots, database)
                    if system != "ceiling":
                        result["rss_mb"] = rss(patronage if system == "patronage" else floor)
                    results[endpoint.name][system].append(result)
                    print(f"round {round_ + 1} {endpoint.name:20} {system:9} {result['rps']:8.0f} req/s "
                          f"p50 {result['p50_ms']:6.2f} p99 {result['p99_ms']:7.2f} ms "
                          f"cpu {result['cpu_us']:6.0f} µs/req non-2xx {result['non_2xx']}", flush=True)  # fmt: skip
    finally:
        common.stop_server(patronage)
        common.stop_server(floor)
    return {name: {system: median_of(runs) for system, runs in by.items()} for name, by in results.items()}


def bench_sqlite(k: Knobs, t: Tenant, eps: list[Endpoint], ids: Path, work: Path) -> dict:
    patronage, base, _ = start_patronage(k.sqlite_url, k.workers, work)
    results: dict[str, list[dict]] = {e.name: [] for e in eps}
    try:
        for _ in range(k.rounds):
            for endpoint in eps:
                run = lambda s, e=endpoint: run_wrk(base, e, e.path, t.token, ids, s, k.concurrency)  # noqa: E731
                if k.warmup:
                    run(k.warmup)
                result = measured(lambda run=run: run(k.seconds), [patronage.pid], None)
                result["rss_mb"] = rss(patronage)
                results[endpoint.name].append(result)
                print(f"sqlite {endpoint.name:20} {result['rps']:8.0f} req/s p50 {result['p50_ms']:6.2f} "
                      f"p99 {result['p99_ms']:7.2f} ms non-2xx {result['non_2xx']}", flush=True)  # fmt: skip
    finally:
        common.stop_server(patronage)
    return {name: median_of(runs) for name, runs in results.items()}


# --- the report -----------------------------------------------------------------------------------------


def _errors(result: dict) -> str:
    notes = [f"{result['non_2xx']} non-2xx"] if result["non_2xx"] else []
    notes += [f"{result['socket_errors']} socket errors or timeouts"] if result["socket_errors"] else []
    return f" ({', '.join(notes)})" if notes else ""


def _ok(flag: bool) -> str:
    return "✓" if flag else "✗"


def report(k: Knobs, t: Tenant, sqlite_t: Tenant | None, eps: list[Endpoint], pg: dict, lite: dict | None,
           scans: dict[str, list[str]], machine: str, command: str, seconds: float) -> str:  # fmt: skip
    lines = [
        f"## The harness: Patronage against its ceiling and its floor — {time.strftime('%Y-%m-%d')}",
        "",
        f"**Machine.** {machine}.",
        "",
        f"**Command.** `{command}` ({seconds / 60:.0f} min in all). Knobs: "
        + ", ".join(f"`{name}={value}`" for name, value in knob_values(k).items())
        + ".",
        "",
        f"PostgreSQL: {t.customers:,} customers in one list, each with a loyalty card and {k.operations} operations "
        f"and a private ref; `patronage serve --workers {k.workers}`, the floor app with as many workers; "
        f"concurrency {k.concurrency} for all three; {k.seconds} s per run after {k.warmup} s of warm-up, "
        f"{k.rounds} round(s), median of the rounds. **ceiling**: pgbench running the endpoint's captured "
        "statements in one transaction (`-M prepared`); **floor**: Starlette + asyncpg running the same "
        "statements (bench/floor.py); **Patronage**: wrk with random seeded ids (bench/wrk.lua). CPU: µs per "
        "request of the server processes and the database's backends together (pgbench itself not counted); "
        "RSS: the largest worker's, after the run.",
        "",
        "| endpoint | Patronage req/s | p50 ms | p99 ms | ceiling req/s | floor req/s | of ceiling (≥ 30 %) "
        "| of floor (≥ 70 %) | latency target | CPU µs/req P / floor / ceiling | RSS MB P / floor (< 150) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    page_1 = pg.get("list_page_1", {}).get("patronage", {}).get("p50_ms")
    for endpoint in eps:
        row = pg[endpoint.name]
        p, ceiling, floor = row["patronage"], row["ceiling"], row["floor"]
        of_ceiling = p["rps"] / ceiling["rps"] if ceiling["rps"] else 0
        of_floor = p["rps"] / floor["rps"] if floor["rps"] else 0
        target = "—"
        if endpoint.kind == "search":
            target = f"{_ok(p['p50_ms'] < 10 and p['p99_ms'] < 50)} p50 < 10, p99 < 50"
            if endpoint.name == "list_page_n" and page_1:
                ratio = p["p50_ms"] / page_1
                target += f"; {_ok(ratio <= 1.2)} {ratio:.2f}× page 1"
        errors = _errors(p)
        lines.append(
            f"| {endpoint.label}{errors} | {p['rps']:,.0f} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} "
            f"| {ceiling['rps']:,.0f} ({ceiling['p50_ms']:.1f} / {ceiling['p99_ms']:.1f} ms) "
            f"| {floor['rps']:,.0f} ({floor['p50_ms']:.1f} / {floor['p99_ms']:.1f} ms) "
            f"| {_ok(of_ceiling >= 0.3)} {of_ceiling:.0%} | {_ok(of_floor >= 0.7)} {of_floor:.0%} | {target} "
            f"| {p['cpu_us']:,.0f} / {floor['cpu_us']:,.0f} / {ceiling['cpu_us']:,.0f} "
            f"| {_ok(p['rss_mb'] < 150)} {p['rss_mb']:.0f} / {floor['rss_mb']:.0f} |"
        )
    labels = {endpoint.name: endpoint.label for endpoint in eps}
    lines += [
        "",
        "Sequential scans of big tables (over 10,000 rows) in the plans of the captured statements: "
        + ("; ".join(f"{labels[name]}: {', '.join(f'`{table}`' for table in tables)}" for name, tables in scans.items())
           or "none") + ".",
    ]  # fmt: skip
    if lite is not None and sqlite_t is not None:
        lines += [
            "",
            f"SQLite (`{k.sqlite_url}`): {sqlite_t.customers:,} customers, Patronage alone (no pgbench ceiling "
            "nor asyncpg floor for SQLite), same wrk runs.",
            "",
            "| endpoint | req/s | p50 ms | p99 ms | CPU µs/req | RSS MB per worker |",
            "|---|---|---|---|---|---|",
        ]
        for endpoint in endpoints(sqlite_t):
            if endpoint.name not in lite:
                continue
            r = lite[endpoint.name]
            errors = _errors(r)
            lines.append(
                f"| {endpoint.label}{errors} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['cpu_us']:,.0f} | {r['rss_mb']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def knob_values(k: Knobs) -> dict[str, Any]:
    names = {"url": "BENCH_URL", "customers": "BENCH_CUSTOMERS", "operations": "BENCH_OPERATIONS",
             "sqlite_url": "BENCH_SQLITE_URL", "sqlite_customers": "BENCH_SQLITE_CUSTOMERS",
             "seconds": "BENCH_SECONDS", "warmup": "BENCH_WARMUP", "concurrency": "BENCH_CONCURRENCY",
             "workers": "BENCH_WORKERS", "rounds": "BENCH_ROUNDS", "endpoints": "BENCH_ENDPOINTS",
             "plans": "BENCH_PLANS"}  # fmt: skip
    return {env: getattr(k, attr) for attr, env in names.items()}


def write_results(path: Path, section: str) -> None:
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{BEGIN_MARK}\n{section}{END_MARK}"
    if BEGIN_MARK in current and END_MARK in current:
        before, rest = current.split(BEGIN_MARK, 1)
        current = before + block + rest.split(END_MARK, 1)[1]
    else:
        title, _, rest = current.partition("\n")
        current = f"{title}\n\n{block}\n{rest}"
    path.write_text(current)


def main() -> None:
    k = Knobs()
    os.environ["PATRONAGE_SECRET_KEY"] = SECRET_KEY
    started = time.perf_counter()
    command = " ".join(
        [f"{name}={shlex.quote(os.environ[name])}" for name in sorted(knob_values(k)) if os.environ.get(name)]
        + ["make bench" if os.environ.get("MAKELEVEL") else "python bench/harness.py"]
    )
    machine = common.environment(k.url)
    work = Path(tempfile.mkdtemp(prefix="patronage-harness-"))
    t = asyncio.run(prepare(k.url, k.customers, k.operations))
    ids = work / "ids.tsv"
    row = asyncio.run(sample_ids(k.url, ids, ID_SAMPLE))
    eps = endpoints(t)
    if k.endpoints:
        wanted = set(k.endpoints.split(","))
        eps = [e for e in eps if e.name in wanted]
    steps = asyncio.run(check_and_capture(k.url, t, eps, ids))
    del row
    (work / "captured.json").write_text(
        json.dumps(
            {name: [{"sql": s.sql, "params": s.params} for s in st] for name, st in steps.items()},
            indent=1,
            default=str,
        )  # fmt: skip
    )
    scans = asyncio.run(seq_scans(k.url, steps))
    if k.plans != "-":
        header = f"{k.customers:,} customers; written by `{command}`; {machine}"
        Path(k.plans).write_text(asyncio.run(record_plans(k.url, steps, header)))
        print(f"query plans written to {k.plans}", flush=True)
    pg = bench_postgresql(k, t, eps, steps, ids, work)
    lite = sqlite_t = None
    if k.sqlite_customers > 0:
        sqlite_t = asyncio.run(prepare(k.sqlite_url, k.sqlite_customers, k.operations))
        sqlite_ids = work / "sqlite-ids.tsv"
        asyncio.run(sample_ids(k.sqlite_url, sqlite_ids, ID_SAMPLE))
        asyncio.run(check_and_capture(k.sqlite_url, sqlite_t, [], sqlite_ids))
        sqlite_eps = [e for e in endpoints(sqlite_t) if e.name in {x.name for x in eps}]
        lite = bench_sqlite(k, sqlite_t, sqlite_eps, sqlite_ids, work)
    section = report(k, t, sqlite_t, eps, pg, lite, scans, machine, command, time.perf_counter() - started)
    print("\n" + section)
    print(f"(pgbench scripts, the floor's plan and the captured statements: {work})")
    if k.results != "-":
        write_results(Path(k.results), section)
        print(f"written to {k.results}")


if __name__ == "__main__":
    main()
