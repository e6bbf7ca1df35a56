"""The CLI twins of the programme routes (`patronage admin loyalty-programme ...`), and the worker's expiry pass
(`patronage serve` runs the worker): each command prints one JSON object."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from helpers import Tenant
from live import live_server
from patronage.db import utcnow
from patronage.loyalty.models import LoyaltyOperation
from patronage.programmes.models import LoyaltyProgramme

PATRONAGE = Path(sys.executable).parent / "patronage"


def _run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PATRONAGE), "admin", "loyalty-programme", *args],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _ok(database_url: str, *args: str) -> dict[str, Any]:
    done = _run(database_url, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_the_cli_sets_reads_lists_and_deletes_what_the_api_serves(tenant: Tenant, database_url: str) -> None:
    list_id = await tenant.customer_list()
    body = json.dumps({"points_per_unit": "1.5", "tiers": [{"name": "Gold", "threshold": "10"}]})
    made = _ok(database_url, "set", "--customer-list", list_id, "--ref", "LOY", "--body", body)
    assert made["ref"] == "LOY" and made["points_per_unit"] == "1.5"
    api = await tenant.api("location[all_customer_lists.read]")
    assert (await api.get(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY")).json() == made
    assert _ok(database_url, "get", "--customer-list", list_id, "--ref", "LOY") == made
    null_ref = _ok(database_url, "set", "--customer-list", list_id, "--body", '{"points_per_unit": 2}')
    assert null_ref["ref"] is None
    listed = _ok(database_url, "list", "--customer-list", list_id)
    assert sorted(str(p["ref"]) for p in listed["loyalty_programmes"]) == ["LOY", "None"]
    assert _ok(database_url, "delete", "--customer-list", list_id)["ref"] is None

    for args, words in [
        (("get", "--customer-list", list_id), "not found"),
        (("get", "--customer-list", "nosuchlist"), "no customer list"),
        (("set", "--customer-list", list_id, "--body", "{"), "not JSON"),
        (("set", "--customer-list", list_id, "--body", '{"points_per_unit": "-1"}'), "points_per_unit"),
    ]:
        done = _run(database_url, *args)
        assert done.returncode == 1 and done.stdout == "", done.stdout
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr


async def test_the_servers_worker_expires_due_points(tenant: Tenant, database_url: str) -> None:
    api = await tenant.api("location[all_customer_lists.write]")
    list_id = await tenant.customer_list()
    body = {"points_per_unit": "1", "expiry_days": 1}
    assert (await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY", json=body)).status_code == 200
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    card = (
        await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer, "ref": "LOY"})
    ).json()
    url = f"/v1/customer_lists/{list_id}/loyalty_cards/{card['id']}"
    lot = (await api.post(f"{url}/operations", json={"delta": "8"})).json()
    # Two days pass: the lot (and the programme's expiry) are moved back in time.
    async with tenant.db.session(write=True) as session:
        past = utcnow() - timedelta(days=2)
        await session.execute(update(LoyaltyOperation).where(LoyaltyOperation.id == lot["id"]).values(created_at=past))
        await session.execute(
            update(LoyaltyProgramme)
            .where(LoyaltyProgramme.customer_list_id == list_id)
            .values(expiry_starts_at=past - timedelta(hours=1))
        )
    with live_server(database_url, workers=1) as base:
        async with httpx.AsyncClient(base_url=base, headers={"X-Access-Token": api.token or ""}) as http:
            for _ in range(150):
                balance = (await http.get(url)).json()["balance"]
                if balance == "0.0":
                    break
                await asyncio.sleep(0.2)
    assert balance == "0.0"
    operations = (await api.get(f"{url}/operations")).json()
    assert [op["delta"] for op in operations] == ["-8.0", "8.0"]
    assert operations[0]["reason"].startswith("Points expired (earned ")
