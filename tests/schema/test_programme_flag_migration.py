"""Migration 0016 marks the lists that already have a loyalty programme (customer_list.has_loyalty_programmes),
and only them."""

import asyncio
import sqlite3
from pathlib import Path

from patronage import migrate


def _list(db: sqlite3.Connection, list_id: str, programme_refs: list[str | None]) -> None:
    db.execute(
        "INSERT INTO customer_list (id, account_id, name, created_at) VALUES (?, 'a', ?, '2026-01-01 09:00:00')",
        (list_id, list_id),
    )
    for number, ref in enumerate(programme_refs):
        db.execute(
            "INSERT INTO loyalty_programme (id, account_id, customer_list_id, ref, points_per_unit_micro, "
            "earning_statuses, rounding_mode, rounding_decimals, count_charges, count_discounts, "
            "allow_negative_balance, tiers, created_at, updated_at) VALUES (?, 'a', ?, ?, 1000000, '[\"completed\"]', "
            "'down', 0, 0, 1, 0, '[]', '2026-01-01 09:00:00', '2026-01-01 09:00:00')",
            (f"{list_id}-{number}", list_id, ref),
        )


async def test_the_upgrade_marks_the_lists_with_programmes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(migrate.upgrade, url, "0015")
    with sqlite3.connect(tmp_path / "old.db") as old:
        _list(old, "none", [])
        _list(old, "one", [None])
        _list(old, "two", ["LOY", "VIP"])
    await asyncio.to_thread(migrate.upgrade, url)
    with sqlite3.connect(tmp_path / "old.db") as new:
        marks = dict(new.execute("SELECT id, has_loyalty_programmes FROM customer_list").fetchall())
    assert marks == {"none": 0, "one": 1, "two": 1}
