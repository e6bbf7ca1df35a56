"""``patronage admin seed-customers``: realistic customers that the API lists and searches like any others.

The searches are checked against a plain Python match over every seeded customer, on whichever database
the suite runs (``pytest`` and ``pytest --db postgresql``): both must give exactly the same answers.
"""

import asyncio
import json
import os
import re
import sys
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from helpers import Api, Tenant
from patronage import seed
from patronage.customers.schemas import READ_ONLY, CustomerCreate
from patronage.settings import Settings

COUNT = 300
READ_SCOPE = "location[all_customer_lists.read]"


async def all_pages(api: Api, customer_list_id: str, params: dict[str, str] | None = None) -> list[dict]:
    """Every customer the index returns, following X-Cursor-Next."""
    customers: list[dict] = []
    query: dict[str, str] = {**(params or {}), "count": "100"}
    while True:
        response = await api.get(f"/v1/customer_lists/{customer_list_id}/customers", params=query)
        assert response.status_code == 200, response.text
        customers += response.json()
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            return customers
        query = {**query, "cursor": cursor}


def matches(value: str | None, pattern: str) -> bool:
    """SPEC §7: ``*`` is any run of characters, every other character is literal."""
    if value is None:
        return False
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def expected(customers: list[dict], filters: dict[str, str]) -> list[str]:
    """Ids of the customers the filters should return, in the index's order (newest first)."""
    found = []
    for customer in customers:
        if "email" in filters:
            email = customer["email"].lower() if customer["email"] is not None else None
            if not matches(email, filters["email"].lower()):
                continue
        if "phone" in filters and not matches(customer["phone"], filters["phone"]):
            continue
        found.append(customer["id"])
    return found


@pytest.fixture
async def seeded(settings: Settings, tenant: Tenant) -> tuple[Api, str, list[dict]]:
    customer_list_id = await tenant.customer_list("Seeded")
    result = await seed.seed_customers(settings, customer_list_id, COUNT, seed=20_240)
    assert result["customer_list_id"] == customer_list_id
    assert result["inserted"] == result["total"] == COUNT
    api = await tenant.api(READ_SCOPE)
    return api, customer_list_id, await all_pages(api, customer_list_id)


async def test_seeded_customers_are_listed_with_valid_fields(seeded: tuple[Api, str, list[dict]]) -> None:
    _, customer_list_id, customers = seeded
    assert len(customers) == COUNT
    assert len({customer["id"] for customer in customers}) == COUNT
    created = [datetime.fromisoformat(customer["created_at"]) for customer in customers]
    assert created == sorted(created, reverse=True)
    assert created[-1] < created[0]
    for customer in customers:
        assert customer["customer_list_id"] == customer_list_id
        assert re.fullmatch(r"[0-9a-z]{10}", customer["id"])
        assert customer["nb_orders"] == 0 and customer["order_total"] == "0.00 EUR"
        assert customer["loyalty_cards"] == [] and isinstance(customer["custom_fields"], dict)
        # What a client reads back, it may send: every writable field passes the API's own validation
        # (E.164 phones libphonenumber finds possible, emails, ISO countries, canonical coordinates...).
        writable = {key: value for key, value in customer.items() if key not in READ_ONLY}
        parsed = CustomerCreate.model_validate(writable)
        assert {key: getattr(parsed, key) for key in ("email", "phone", "country", "latitude", "longitude")} == {
            key: customer[key] for key in ("email", "phone", "country", "latitude", "longitude")
        }
        if customer["anonymised"]:
            assert customer["email"] is None and customer["phone"] is None and customer["last_name"] is None
    # Realistic variety, not one customer repeated.
    assert len({customer["last_name"] for customer in customers}) > 100
    assert len({customer["phone"][:4] for customer in customers if customer["phone"]}) >= 5
    assert len({customer["email"].split("@")[1] for customer in customers if customer["email"]}) >= 8
    assert any(customer["email"] and customer["email"] != customer["email"].lower() for customer in customers)
    assert len({customer["country"] for customer in customers}) >= 6


async def test_filters_return_what_a_python_match_predicts(seeded: tuple[Api, str, list[dict]]) -> None:
    api, customer_list_id, customers = seeded
    emails = [customer["email"] for customer in customers if customer["email"]]
    phones = [customer["phone"] for customer in customers if customer["phone"]]
    mixed_case = next(email for email in emails if email != email.lower())
    underscored = next(email for email in emails if "_" in email)
    searches: list[dict[str, str]] = [
        # The four shapes.
        {"email": "jo*"},
        {"email": "*@example.com"},
        {"phone": "+4420*"},
        {"phone": "*6789"},
        # The same shapes on values the seeded list certainly holds.
        {"email": f"{emails[0][:3]}*"},
        {"email": f"*@{emails[1].split('@')[1]}"},
        {"email": f"*{emails[2][2:6]}*"},
        {"phone": f"{phones[0][:5]}*"},
        {"phone": f"*{phones[1][-4:]}"},
        {"phone": f"*{phones[2][4:8]}*"},
        # Exact values, case, literal LIKE characters, several stars, both filters at once.
        {"email": mixed_case.swapcase()},
        {"email": "JO*"},
        {"phone": phones[3]},
        {"email": "*_*"},
        {"email": f"*{underscored[underscored.index('_') - 1 : underscored.index('_') + 2]}*"},
        {"email": "*%*"},
        {"email": "j*.*@*.com"},
        {"phone": "*"},
        {"email": "*@example.com", "phone": "+33*"},
    ]
    for filters in searches:
        want = expected(customers, filters)
        got = [customer["id"] for customer in await all_pages(api, customer_list_id, filters)]
        assert got == want, filters
    # The shapes are not vacuous on this seed, and "_" is literal, not SQL's any-character.
    maybe_empty = ({"phone": "*6789"}, {"email": "*%*"})
    assert all(expected(customers, search) for search in searches if search not in maybe_empty)
    assert 0 < len(expected(customers, {"email": "*_*"})) < len(emails)
    assert expected(customers, {"email": "*%*"}) == []


async def test_unknown_list_is_an_error(settings: Settings) -> None:
    with pytest.raises(seed.SeedError, match="no customer list"):
        await seed.seed_customers(settings, "nosuchlist", 10)


async def _cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from patronage.cli import app; app()",
        "admin",
        "seed-customers",
        *args,
        env={**os.environ, "PATRONAGE_DATABASE_URL": settings.database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_seeds_a_list_and_prints_json(settings: Settings, tenant: Tenant) -> None:
    customer_list_id = await tenant.customer_list("Seeded from the CLI")
    status, out, err = await _cli(settings, "--customer-list", customer_list_id, "--count", "25")
    assert status == 0, err
    report = json.loads(out)
    assert report["customer_list_id"] == customer_list_id and report["inserted"] == 25
    api = await tenant.api(READ_SCOPE)
    assert len(await all_pages(api, customer_list_id)) == 25

    status, out, err = await _cli(settings, "--customer-list", "nosuchlist", "--count", "5")
    assert status == 1 and out == ""
    assert "no customer list 'nosuchlist'" in err


async def test_bulk_load_on_postgresql_puts_back_every_index_and_foreign_key(
    settings: Settings, tenant: Tenant
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("the bulk path (indexes rebuilt around COPY) is PostgreSQL's")

    async def schema() -> dict[str, Any]:
        import asyncpg
        from sqlalchemy.engine import make_url

        url = make_url(settings.database_url).set(drivername="postgresql")
        conn = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            indexes = await conn.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = 'customer'")
            constraints = await conn.fetch(
                "SELECT conname, pg_get_constraintdef(oid) AS definition, convalidated FROM pg_constraint "
                "WHERE conrelid = 'customer'::regclass OR confrelid = 'customer'::regclass"
            )
            return {
                "indexes": sorted(row["indexdef"] for row in indexes),
                "constraints": sorted(tuple(row.values()) for row in constraints),
            }
        finally:
            await conn.close()

    before = await schema()
    assert any("gin_trgm_ops" in definition for definition in before["indexes"])
    customer_list_id = await tenant.customer_list("Bulk seeded")
    result = await seed.seed_customers(settings, customer_list_id, 500, bulk=True)
    assert result["mode"] == "bulk" and result["total"] == 500
    assert await schema() == before
    api = await tenant.api(READ_SCOPE)
    customers = await all_pages(api, customer_list_id, {"email": "*@example.com"})
    assert [c["id"] for c in customers] == expected(await all_pages(api, customer_list_id), {"email": "*@example.com"})


async def test_statistics_are_refreshed(settings: Settings, db: Any, tenant: Tenant) -> None:
    """The seed leaves the planner's statistics current on either database (ANALYZE at the end)."""
    customer_list_id = await tenant.customer_list("Analysed")
    await seed.seed_customers(settings, customer_list_id, 50)
    if settings.database_url.startswith("sqlite"):
        query = "SELECT tbl FROM sqlite_stat1 WHERE tbl = 'customer'"
    else:
        query = "SELECT relname FROM pg_stat_user_tables WHERE relname = 'customer' AND last_analyze IS NOT NULL"
    async with db.session(write=False) as session:
        assert (await session.execute(text(query))).all()
