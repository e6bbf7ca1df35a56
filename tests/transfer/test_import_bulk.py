"""``patronage import customers`` in bulk (PostgreSQL; docs/import-export.md, "Bulk imports"): the whole import in
one transaction, the tables' indexes and foreign keys dropped and made again at the end. What a user must see:
the same customers, cards and ledgers as an import in place, the schema as it was (whatever happens), nothing at
all after a kill, and no bulk import while others use the tables.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from import_helpers import WRITE, Importer, csv_for, everything, rejects, write
from sqlalchemy.engine import make_url

from helpers import Tenant

pytestmark = pytest.mark.usefixtures("postgresql_only")

TABLES = ("customer", "loyalty_card", "loyalty_operation", "customer_private_ref")


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("bulk imports are PostgreSQL's (on SQLite an import is always in place)")


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of our own to the test database, beside the API's and the importer's."""
    url = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    yield conn
    await conn.close()


async def schema(pg: asyncpg.Connection) -> dict[str, Any]:
    """The indexes and constraints of the tables an import fills (and of those referencing them)."""
    indexes = await pg.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = ANY($1::text[])", list(TABLES))
    constraints = await pg.fetch(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
        "WHERE conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[])",
        list(TABLES),
    )
    return {
        "indexes": sorted(row[0] for row in indexes),
        "constraints": sorted(tuple(row.values()) for row in constraints),
    }


async def locked_by_someone_else(pg: asyncpg.Connection) -> bool:
    """Whether another session holds the customer table's exclusive lock (what a bulk import takes first)."""
    return bool(
        await pg.fetchval(
            "SELECT count(*) FROM pg_locks WHERE relation = 'customer'::regclass AND mode = 'AccessExclusiveLock' "
            "AND granted AND pid <> pg_backend_pid()"
        )
    )


def without_ids(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What two imports of one file into two lists share: everything but ids, lists and times (the ledgers'
    hashes include the ids and times; they are checked by verify-ledger)."""
    kept = []
    for customer in customers:
        cards = [
            {
                "ref": card["ref"],
                "name": card["name"],
                "balance": card["balance"],
                "operations": [(op["delta"], op["new_balance"], op["reason"]) for op in card["operations"]],
            }
            for card in customer["loyalty_cards"]
        ]
        drop = ("id", "customer_list_id", "created_at", "loyalty_cards")
        kept.append({**{key: value for key, value in customer.items() if key not in drop}, "loyalty_cards": cards})
    return kept


async def test_a_bulk_import_gives_what_an_import_in_place_gives_and_leaves_the_schema_as_it_was(
    importer: Importer, tenant: Tenant, tmp_path: Path, pg: asyncpg.Connection
) -> None:
    in_place, in_bulk = await tenant.customer_list("In place"), await tenant.customer_list("In bulk")
    api = await tenant.api(WRITE)
    before = await schema(pg)
    rows = csv_for(range(1, 61)).decode()
    # A bad row; then, batches later, customers of the first batch again: a new card (their cards are read
    # without an index in bulk), a card already there (left alone), a card named twice (a reject).
    more = (
        "not an email,Nobody,LOY,1\n"
        "c0003@example.com,Customer 3,EXTRA,2.25\n"
        "c0004@example.com,Customer 4,LOY,5\n"
        "c0004@example.com,Customer 4,LOY,6\n"
    )
    file = write(tmp_path / "customers.csv", "email,first_name,loyalty_card_ref,balance\n" + rows + more)
    args = ("--batch-size", "20", str(file))
    summary_in_place = importer.ok("--customer-list", in_place, "--no-bulk", *args)
    rejects_in_place = rejects(tmp_path / "customers.csv.rejects.ndjson")
    summary_in_bulk = importer.ok("--customer-list", in_bulk, "--bulk", *args)
    assert {**summary_in_bulk, "seconds": 0} == {**summary_in_place, "seconds": 0}
    assert (summary_in_bulk["created"], summary_in_bulk["updated"], summary_in_bulk["rejected"]) == (60, 21, 2)
    assert rejects(tmp_path / "customers.csv.rejects.ndjson") == rejects_in_place

    imported = await everything(api, in_bulk)
    assert without_ids(imported) == without_ids(await everything(api, in_place))
    assert [card["ref"] for card in imported[2]["loyalty_cards"]] == ["LOY", "BONUS", "EXTRA"]
    # Every index and constraint is back, as it was; the ledgers verify; the search (trigram index) finds them.
    assert await schema(pg) == before
    verified = importer.command("admin", "verify-ledger", "--customer-list", in_bulk)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    response = await api.get(f"/v1/customer_lists/{in_bulk}/customers", params={"email": "*0042@example.com"})
    assert [customer["email"] for customer in response.json()] == ["c0042@example.com"]

    # The list is no longer empty: by default the same file again is imported in place, and changes nothing.
    again = importer.ok("--customer-list", in_bulk, *args)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, summary_in_bulk["read"] - 2)
    assert await everything(api, in_bulk) == imported


async def test_a_killed_bulk_import_leaves_nothing_and_a_rerun_imports_everything(
    importer: Importer, tenant: Tenant, tmp_path: Path, pg: asyncpg.Connection
) -> None:
    list_id = await tenant.customer_list()
    api = await tenant.api(WRITE)
    before = await schema(pg)
    header = b"email,first_name,loyalty_card_ref,balance\n"
    process = importer.popen("--customer-list", list_id, "--format", "csv", "--bulk", "--batch-size", "20", "-")
    assert process.stdin is not None
    process.stdin.write(header + csv_for(range(1, 71)))
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not await locked_by_someone_else(pg):
        assert time.monotonic() < deadline and process.poll() is None
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)  # batches are written meanwhile, in the one transaction
    process.kill()  # as a crash would, mid-import
    process.wait(timeout=30)

    # The server rolled the transaction back: nothing of the import, every index and constraint there.
    assert await everything(api, list_id) == []
    assert await schema(pg) == before
    file = write(tmp_path / "all.csv", (header + csv_for(range(1, 121))).decode())
    summary = importer.ok("--customer-list", list_id, "--bulk", "--batch-size", "20", str(file))
    assert summary["created"] == 120
    done = await everything(api, list_id)
    assert [customer["email"] for customer in done] == [f"c{n:04d}@example.com" for n in range(1, 121)]
    balances = [float(card["balance"]) for customer in done for card in customer["loyalty_cards"]]
    assert sum(balances) == sum(range(1, 121)) + 0.5 * 40
    assert await schema(pg) == before


def many(path: Path, prefix: str, count: int) -> Path:
    """A file big enough for a bulk import by default (50,000 rows and more into an empty list)."""
    return write(path, "email\n" + "".join(f"{prefix}{n}@example.com\n" for n in range(count)))


async def test_bulk_only_into_a_quiet_table(
    importer: Importer, tenant: Tenant, tmp_path: Path, pg: asyncpg.Connection
) -> None:
    api = await tenant.api(WRITE)
    file = many(tmp_path / "big.csv", "u", 52_000)
    # Another session reads customers, in a transaction still open: the table is in use.
    busy = pg.transaction()
    await busy.start()
    await pg.fetchval("SELECT count(*) FROM customer")
    try:
        forced = await tenant.customer_list("Forced")
        message = await asyncio.to_thread(importer.fails, "--customer-list", forced, "--bulk", str(file))
        assert "in use" in message and "--no-bulk" in message
        # By default the import waits a moment for the table, then imports in place (a bulk import could not
        # have ended while this session holds its lock).
        by_default = await tenant.customer_list("By default")
        summary = await asyncio.to_thread(importer.ok, "--customer-list", by_default, str(file))
        assert summary["created"] == 52_000
    finally:
        await busy.rollback()
    response = await api.get(f"/v1/customer_lists/{forced}/customers")
    assert response.json() == []

    # Nobody else on the table: a file this big into an empty list is imported in bulk (the table is locked).
    quiet = await tenant.customer_list("Quiet")
    process = importer.popen("--customer-list", quiet, str(many(tmp_path / "other.csv", "v", 52_000)))
    seen_locked = False
    while process.poll() is None:
        seen_locked = seen_locked or await locked_by_someone_else(pg)
        await asyncio.sleep(0.05)
    assert process.returncode == 0, process.stderr.read() if process.stderr else None
    assert seen_locked
    response = await api.get(f"/v1/customer_lists/{quiet}/customers", params={"email": "v51999@example.com"})
    assert len(response.json()) == 1
