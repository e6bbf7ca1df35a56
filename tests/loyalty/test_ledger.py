"""A ledger that proves its balances (Patronage extension): hash-chained operations, a card's balance at any
moment, a ledger export a third party can check, and ``patronage admin verify-ledger`` catching tampering."""

import hashlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from helpers import Api, Tenant
from patronage.db import Database

PATRONAGE = Path(sys.executable).parent / "patronage"


def third_party_hash(previous: str | None, entry: dict[str, Any], format_name: str) -> str:
    """The chain as the ledger's ``hash_format`` documents it, recomputed without Patronage's code."""
    fields = [
        format_name,
        previous or "",
        entry["id"],
        str(entry["seq"]),
        entry["delta"],
        entry["new_balance"],
        entry["created_at"],
        entry["order_id"] or "",
    ]
    return hashlib.sha256("\n".join(fields).encode()).hexdigest()


async def card_with_operations(tenant: Tenant, deltas: list[str]) -> tuple[Api, str, str]:
    api = await tenant.api("location[all_customer_lists.write,orders.write]")
    list_id = await tenant.customer_list()
    base = f"/v1/customer_lists/{list_id}"
    customer = (await api.post(f"{base}/customers", json={"first_name": "Ann"})).json()["id"]
    card = (await api.post(f"{base}/loyalty_cards", json={"customer_id": customer, "ref": "CLUB"})).json()["id"]
    for delta in deltas:
        answer = await api.post(f"{base}/loyalty_cards/{card}/operations", json={"delta": delta, "reason": "Visit"})
        assert answer.status_code == 201, answer.text
    return api, list_id, card


async def test_a_third_party_can_check_a_cards_ledger(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, ["10", "-2.5", "0.125"])
    await check_ledger(api, list_id, card)
    # The ledger's ids are the operations a HubRise client reads, which look as they always did.
    listed = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/operations")).json()
    ledger = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/ledger")).json()
    assert [operation["id"] for operation in reversed(listed)] == [entry["id"] for entry in ledger["operations"]]
    assert "hash" not in listed[0]


CHECK_LEDGER = Path(__file__).resolve().parents[2] / "scripts" / "check_ledger.py"


def check_ledger_script(ledger: dict[str, Any], *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(CHECK_LEDGER), *args], input=json.dumps(ledger), capture_output=True, text=True
    )
    return done.returncode, json.loads(done.stdout)


async def test_the_auditors_script_checks_an_export_and_catches_a_rewrite(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, ["10", "-2.5"])
    base = f"/v1/customer_lists/{list_id}/loyalty_cards/{card}"
    before = (await api.get(f"{base}/ledger")).json()
    assert check_ledger_script(before) == (0, {"ok": True, "operations": 2, "problems": []})
    await api.post(f"{base}/operations", json={"delta": "1", "reason": "Visit"})
    after = (await api.get(f"{base}/ledger")).json()
    # The history a client saw earlier is still the start of the chain.
    status, report = check_ledger_script(after, "--expect-hash", before["ledger_hash"])
    assert status == 0, report
    forged = json.loads(json.dumps(after))
    forged["operations"][0]["delta"] = "11.0"
    status, report = check_ledger_script(forged)
    assert status == 1 and len(report["problems"]) >= 2  # its hash, and the running sums after it
    status, report = check_ledger_script(after, "--expect-hash", "0" * 64)
    assert status == 1 and "rewritten" in report["problems"][0]


async def test_negative_and_fractional_balances_chain_the_same(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, ["-0.000001", "-12.5", "3", "9.500001", "-100000000"])
    ledger = await check_ledger(api, list_id, card)
    new_balances = [entry["new_balance"] for entry in ledger["operations"]]
    assert new_balances == ["-0.000001", "-12.500001", "-9.500001", "0.0", "-100000000.0"]


async def check_ledger(api: Api, list_id: str, card: str) -> dict[str, Any]:
    base = f"/v1/customer_lists/{list_id}/loyalty_cards/{card}"
    ledger = (await api.get(f"{base}/ledger")).json()
    previous = None
    for entry in ledger["operations"]:
        assert entry["previous_hash"] == previous
        assert entry["hash"] == third_party_hash(previous, entry, ledger["hash_format"])
        previous = entry["hash"]
    assert ledger["ledger_hash"] == previous
    assert (await api.get(base)).json()["balance"] == ledger["balance"]
    return ledger


async def test_the_ledger_export_shows_every_operation_in_order(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, ["10", "-2.5", "0.125"])
    base = f"/v1/customer_lists/{list_id}/loyalty_cards/{card}"
    ledger = (await api.get(f"{base}/ledger")).json()
    operations = ledger["operations"]
    assert [entry["delta"] for entry in operations] == ["10.0", "-2.5", "0.125"]
    assert [entry["seq"] for entry in operations] == [1, 2, 3]
    assert ledger["balance"] == operations[-1]["new_balance"] == "7.625"
    assert ledger["hash_algorithm"] == "sha256"
    previous = None
    for entry in operations:
        assert entry["previous_hash"] == previous
        assert entry["hash"] == third_party_hash(previous, entry, ledger["hash_format"])
        previous = entry["hash"]
    assert ledger["ledger_hash"] == previous


async def test_a_card_without_operations_has_an_empty_ledger(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, [])
    ledger = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/ledger")).json()
    assert ledger["operations"] == [] and ledger["ledger_hash"] is None and ledger["balance"] == "0.0"


async def test_the_balance_at_any_moment(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, ["10", "-2.5", "4"])
    base = f"/v1/customer_lists/{list_id}/loyalty_cards/{card}"
    operations = (await api.get(f"{base}/ledger")).json()["operations"]
    for entry in operations:
        answer = await api.get(base, params={"as_of": entry["created_at"]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["balance"] == entry["new_balance"]
        assert "as_of" in answer.json()
    before = await api.get(base, params={"as_of": "2000-01-01T00:00:00+00:00"})
    assert before.json()["balance"] == "0.0"
    now = (await api.get(base)).json()
    assert now["balance"] == "11.5" and "as_of" not in now


@pytest.mark.parametrize("moment", ["yesterday", "2020-13-01T00:00:00", ""])
async def test_a_bad_as_of_is_a_field_error(tenant: Tenant, moment: str) -> None:
    api, list_id, card = await card_with_operations(tenant, ["1"])
    answer = await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}", params={"as_of": moment})
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["as_of"]


def verify_ledger(database_url: str, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [str(PATRONAGE), "admin", "verify-ledger", *args],
        env={**os.environ, "PATRONAGE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


async def tamper(db: Database, statement: str, **values: Any) -> None:
    async with db.session(write=True) as session:
        await session.execute(text(statement), values)


async def test_verify_ledger_passes_an_untouched_list(tenant: Tenant, db: Database, database_url: str) -> None:
    _, list_id, _ = await card_with_operations(tenant, ["10", "-3", "2.000001"])
    status, report = verify_ledger(database_url, "--customer-list", list_id)
    assert status == 0, report
    assert report["ok"] is True and report["cards"] == 1 and report["operations"] == 3
    assert report["failed_cards"] == []


TAMPERING = {
    "a changed delta": "UPDATE loyalty_operation SET delta_micro = delta_micro + 1000000 "
    "WHERE loyalty_card_id = :card AND seq = 2",
    "a changed delta with its running sums and balance rewritten": [
        "UPDATE loyalty_operation SET delta_micro = delta_micro + 1000000, new_balance_micro = new_balance_micro "
        "+ 1000000 WHERE loyalty_card_id = :card AND seq >= 2",
        "UPDATE loyalty_card SET balance_micro = balance_micro + 1000000 WHERE id = :card",
    ],
    "a changed balance": "UPDATE loyalty_card SET balance_micro = balance_micro + 1 WHERE id = :card",
    "a removed last operation": [
        "DELETE FROM loyalty_operation WHERE loyalty_card_id = :card AND seq = 3",
        "UPDATE loyalty_card SET operation_count = 2, balance_micro = "
        "(SELECT new_balance_micro FROM loyalty_operation WHERE loyalty_card_id = :card AND seq = 2) WHERE id = :card",
    ],
    "a moved time": "UPDATE loyalty_operation SET created_at = '2001-01-01 00:00:00' "
    "WHERE loyalty_card_id = :card AND seq = 1",
    "a rewritten hash": "UPDATE loyalty_operation SET hash = 'f' WHERE loyalty_card_id = :card AND seq = 3",
}


@pytest.mark.parametrize("kind", TAMPERING)
async def test_verify_ledger_catches_tampering(tenant: Tenant, db: Database, database_url: str, kind: str) -> None:
    _, list_id, card = await card_with_operations(tenant, ["10", "-3", "2"])
    _, untouched_list, untouched = await card_with_operations(tenant, ["1"])
    statements = TAMPERING[kind]
    for statement in [statements] if isinstance(statements, str) else statements:
        await tamper(db, statement, card=card)
    status, report = verify_ledger(database_url, "--customer-list", list_id)
    assert status == 1
    assert report["ok"] is False
    assert [failed["id"] for failed in report["failed_cards"]] == [card]
    assert report["failed_cards"][0]["problems"]
    status, report = verify_ledger(database_url, "--customer-list", untouched_list)
    assert status == 0 and report["cards"] == 1


async def test_balances_stay_exact_sums_of_the_ledger(tenant: Tenant) -> None:
    api, list_id, card = await card_with_operations(tenant, ["0.000001", "99999.999999", "-0.5"])
    ledger = (await api.get(f"/v1/customer_lists/{list_id}/loyalty_cards/{card}/ledger")).json()
    assert sum(Decimal(entry["delta"]) for entry in ledger["operations"]) == Decimal(ledger["balance"])
