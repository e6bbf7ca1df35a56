"""Migration 0013 chains the operations a database already holds: after the upgrade, verify-ledger holds for
them, and a card whose history was already inconsistent is caught."""

import asyncio
import sqlite3
from pathlib import Path

from patronage import migrate
from patronage.db import Database
from patronage.loyalty import ledger
from patronage.settings import Settings


def _card(db: sqlite3.Connection, card_id: str, deltas: list[int], balance: int | None = None) -> None:
    running = 0
    for seq, delta in enumerate(deltas, 1):
        running += delta
        db.execute(
            "INSERT INTO loyalty_operation (id, account_id, customer_list_id, loyalty_card_id, customer_id, seq, "
            "delta_micro, new_balance_micro, reason, created_at) VALUES (?, 'a', 'l', ?, 'c', ?, ?, ?, 'Visit', ?)",
            (f"{card_id}-{seq}", card_id, seq, delta, running, f"2026-01-0{seq} 10:00:00.000000"),
        )
    db.execute(
        "INSERT INTO loyalty_card (id, account_id, customer_list_id, customer_id, balance_micro, operation_count, "
        "created_at) VALUES (?, 'a', 'l', ?, ?, ?, '2026-01-01 09:00:00.000000')",
        (card_id, f"customer-{card_id}", running if balance is None else balance, len(deltas)),
    )


async def test_existing_operations_are_chained_by_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(migrate.upgrade, url, "0012")
    with sqlite3.connect(tmp_path / "old.db") as old:
        _card(old, "good", [5_000_000, -2_000_000, 250_000])
        _card(old, "empty", [])
        _card(old, "drifted", [1_000_000, 1_000_000], balance=3_000_000)
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(Settings(database_url=url))
    try:
        found = await ledger.verify_database(db)
    finally:
        await db.dispose()
    assert (found.cards, found.operations) == (3, 5)
    assert [check.card_id for check in found.failed] == ["drifted"]
