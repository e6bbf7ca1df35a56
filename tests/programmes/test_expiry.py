"""Points expiry (a Patronage extension): earned lots expire a set time after they were earned, oldest first,
written as ordinary operations by a pass of the worker; the clock is moved with `patronage admin expire-points
--now TIME`, which runs one pass. Each lot expires once, whatever the reruns and concurrent passes."""

import asyncio
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from helpers import Api, Tenant

PATRONAGE = Path(sys.executable).parent / "patronage"
WRITE = "location[all_customer_lists.write]"


def _expire(database_url: str, now: datetime) -> dict[str, Any]:
    done = subprocess.run(
        [str(PATRONAGE), "admin", "expire-points", "--now", now.isoformat()],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def _card(tenant: Tenant, programme: dict[str, Any]) -> tuple[Api, str]:
    api = await tenant.api(WRITE)
    list_id = await tenant.customer_list()
    assert (await api.put(f"/v1/customer_lists/{list_id}/loyalty_programmes/LOY", json=programme)).status_code == 200
    customer = (await api.post(f"/v1/customer_lists/{list_id}/customers", json={})).json()["id"]
    card = await api.post(f"/v1/customer_lists/{list_id}/loyalty_cards", json={"customer_id": customer, "ref": "LOY"})
    return api, f"/v1/customer_lists/{list_id}/loyalty_cards/{card.json()['id']}"


async def _credit(api: Api, card: str, delta: str) -> dict[str, Any]:
    answer = await api.post(f"{card}/operations", json={"delta": delta})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_lots_expire_oldest_first_once(tenant: Tenant, database_url: str) -> None:
    api, card = await _card(tenant, {"points_per_unit": "1", "expiry_days": 30})
    first = await _credit(api, card, "10")
    await asyncio.sleep(1.1)  # the second lot is earned at least a second later than the first
    second = await _credit(api, card, "5")
    await _credit(api, card, "-4")  # consumes the oldest lot first: 6 of it are left
    earned_first = datetime.fromisoformat(first["created_at"])
    due_first = earned_first + timedelta(days=30)
    shown = (await api.get(card)).json()
    assert shown["next_expiry"] == {"amount": "6.0", "date": due_first.isoformat()}

    # One second after the first lot's time (created_at is shown to the second): that lot only.
    moment = due_first + timedelta(seconds=1)
    assert _expire(database_url, moment - timedelta(days=1))["expired_lots"] == 0
    result = _expire(database_url, moment)
    assert (result["expired_lots"], result["operations"], result["points"]) == (1, 1, "6.0")
    assert _expire(database_url, moment)["expired_lots"] == 0  # a rerun finds it done
    operations = (await api.get(f"{card}/operations")).json()
    assert (operations[0]["delta"], operations[0]["reason"]) == (
        "-6.0",
        f"Points expired (earned {earned_first.date()})",
    )
    shown = (await api.get(card)).json()
    assert shown["balance"] == "5.0" and shown["lifetime_points"] == "15.0"
    due_second = datetime.fromisoformat(second["created_at"]) + timedelta(days=30)
    assert shown["next_expiry"] == {"amount": "5.0", "date": due_second.isoformat()}

    # Two passes at once, long after: the second lot expires once.
    later = moment + timedelta(days=5)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _expire(database_url, later), range(2)))
    assert sum(r["expired_lots"] for r in results) == 1
    shown = (await api.get(card)).json()
    assert shown["balance"] == "0.0" and shown["next_expiry"] is None
    assert [op["delta"] for op in (await api.get(f"{card}/operations")).json()] == [
        "-5.0",
        "-6.0",
        "-4.0",
        "5.0",
        "10.0",
    ]


async def test_spent_points_and_points_earned_before_expiry_never_expire(tenant: Tenant, database_url: str) -> None:
    api, card = await _card(tenant, {"points_per_unit": "1"})
    before = await _credit(api, card, "7")  # no expiry yet
    list_path = card.split("/loyalty_cards/")[0]
    body = {"points_per_unit": "1", "expiry_days": 1}
    assert (await api.put(f"{list_path}/loyalty_programmes/LOY", json=body)).status_code == 200
    await _credit(api, card, "3")
    await _credit(api, card, "-10")  # spends the lot of 7 and the lot of 3, oldest first: nothing left
    later = datetime.fromisoformat(before["created_at"]) + timedelta(days=10)
    result = _expire(database_url, later)
    assert result["operations"] == 0
    shown = (await api.get(card)).json()
    assert shown["balance"] == "0.0" and shown["next_expiry"] is None
    await _credit(api, card, "2")
    assert (await api.get(card)).json()["next_expiry"]["amount"] == "2.0"


async def test_a_debt_is_paid_before_points_make_a_lot(tenant: Tenant, database_url: str) -> None:
    api, card = await _card(tenant, {"points_per_unit": "1", "expiry_days": 1, "allow_negative_balance": True})
    start = await _credit(api, card, "-4")
    await _credit(api, card, "10")  # 4 pay the debt, a lot of 6
    assert (await api.get(card)).json()["next_expiry"]["amount"] == "6.0"
    _expire(database_url, datetime.fromisoformat(start["created_at"]) + timedelta(days=2))
    assert (await api.get(card)).json()["balance"] == "0.0"
