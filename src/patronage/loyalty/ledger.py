"""A ledger that proves its balances (Patronage extension): each operation's hash chains it to the previous one
of its card, so rewriting, removing or reordering any operation breaks every hash after it.

    hash = SHA-256 hex of the UTF-8 text, fields joined by "\\n":
        "patronage-ledger-v1", previous hash ("" for a card's first operation), operation id, seq,
        delta, new_balance (decimal strings as the API renders them: "12.5", "-3.0"),
        created_at (UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ"), order_id ("" when none)

Anyone holding a card's ledger export (GET .../loyalty_cards/:id/ledger) can recompute it: no secret is involved.
The card keeps the hash of its last operation, so a removed tail shows too.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, cast, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.db import Database, is_sqlite
from patronage.loyalty.models import SCALE, LoyaltyCard, LoyaltyOperation, points

VERSION = "patronage-ledger-v1"
ALGORITHM = "sha256"


def utc_text(moment: datetime) -> str:
    """A stored (naive UTC) time as the hash reads it."""
    return moment.isoformat(timespec="microseconds") + "Z"  # strftime is 8x slower (verify-ledger's hot loop)


def operation_hash(
    previous: str | None,
    *,
    operation_id: str,
    seq: int,
    delta_micro: int,
    new_balance_micro: int,
    created_at: datetime,
    order_id: str | None,
) -> str:
    text = "\n".join(
        (
            VERSION,
            previous or "",
            operation_id,
            str(seq),
            points(delta_micro),
            points(new_balance_micro),
            utc_text(created_at),
            order_id or "",
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


async def export(session: AsyncSession, card: LoyaltyCard) -> dict[str, Any]:
    """The card's ledger as GET .../loyalty_cards/:id/ledger answers it."""
    rows = (
        await session.execute(
            select(*OPERATION_COLUMNS, LoyaltyOperation.reason)
            .where(LoyaltyOperation.loyalty_card_id == card.id)
            .order_by(LoyaltyOperation.seq)
        )
    ).all()
    entries, previous = [], None
    for row in rows:
        entries.append(
            {
                "id": row.id,
                "seq": row.seq,
                "delta": points(row.delta_micro),
                "new_balance": points(row.new_balance_micro),
                "created_at": utc_text(row.created_at),
                "order_id": row.order_id,
                "reason": row.reason,
                "previous_hash": previous,
                "hash": row.hash,
            }
        )
        previous = row.hash
    return {
        "loyalty_card_id": card.id,
        "customer_id": card.customer_id,
        "balance": points(card.balance_micro),
        "operation_count": card.operation_count,
        "ledger_hash": card.ledger_hash,
        "hash_algorithm": ALGORITHM,
        "hash_format": VERSION,
        "operations": entries,
    }


def row_hash(previous: str | None, row: Any) -> str:
    """:func:`operation_hash` of a stored operation (a row or object with LoyaltyOperation's columns)."""
    return operation_hash(
        previous,
        operation_id=row.id,
        seq=row.seq,
        delta_micro=row.delta_micro,
        new_balance_micro=row.new_balance_micro,
        created_at=row.created_at,
        order_id=row.order_id,
    )


def _sql_points(micro: Any) -> Any:
    """:func:`points` in PostgreSQL, for an amount only known inside a statement (a new balance)."""
    whole = func.abs(micro) // SCALE  # integer division ("/" is true division in SQLAlchemy 2)
    fraction = func.rtrim(func.lpad(cast(func.abs(micro) % SCALE, Text), 6, "0"), "0")
    return case((micro < 0, "-"), else_="") + cast(whole, Text) + "." + func.coalesce(func.nullif(fraction, ""), "0")


# The parts of an operation's hashed text known before its statement runs, as :func:`known_parts` gives them.
KNOWN_PARTS = ("operation_id", "delta", "created_at", "order_id")


def known_parts(*, operation_id: str, delta_micro: int, created_at: datetime, order_id: str | None) -> dict[str, str]:
    """What :func:`operation_hash` hashes of an operation's own values, as text."""
    return {
        "operation_id": operation_id,
        "delta": points(delta_micro),
        "created_at": utc_text(created_at),
        "order_id": order_id or "",
    }


def sql_operation_hash(
    previous: Any,
    *,
    seq: Any,
    new_balance_micro: Any,
    operation_id: Any,
    delta: Any,
    created_at: Any,
    order_id: Any,
) -> Any:
    """:func:`operation_hash` as a PostgreSQL expression: the previous hash, the sequence number and the new
    balance are what the statement computes; ``operation_id``, ``delta``, ``created_at`` and ``order_id`` are
    text expressions holding :func:`known_parts` (bound parameters: the statement is built once)."""
    parts = (
        literal(VERSION, Text),
        func.coalesce(previous, ""),
        operation_id,
        cast(seq, Text),
        delta,
        _sql_points(new_balance_micro),
        created_at,
        order_id,
    )
    return func.encode(func.sha256(func.convert_to(func.concat_ws("\n", *parts), "UTF8")), "hex")


@dataclass
class CardCheck:
    """What the recomputation of one card's ledger found wrong."""

    card_id: str
    customer_list_id: str
    problems: list[str] = field(default_factory=list)


def check_chain(card: Any, operations: Iterable[Any]) -> CardCheck:
    """Recomputes one card's chain, running sums and sequence against what is stored.

    ``card`` and ``operations`` are rows (or objects) with the columns of LoyaltyCard / LoyaltyOperation,
    the operations in ``seq`` order.
    """
    check = CardCheck(card.id, card.customer_list_id)
    previous_hash, balance, count = None, 0, 0
    for op in operations:
        count += 1
        if op.seq != count:
            check.problems.append(f"operation {op.id}: seq {op.seq} where {count} was expected")
        balance += op.delta_micro
        if op.new_balance_micro != balance:
            check.problems.append(
                f"operation {op.id}: new_balance {points(op.new_balance_micro)} where the running sum is "
                f"{points(balance)}"
            )
            balance = op.new_balance_micro  # report each break once, not every operation after it
        if op.hash != row_hash(previous_hash, op):
            check.problems.append(f"operation {op.id}: hash does not match its content and the previous hash")
        previous_hash = op.hash
    if count != card.operation_count:
        check.problems.append(f"the card counts {card.operation_count} operations, its ledger holds {count}")
    if balance != card.balance_micro:
        check.problems.append(
            f"the card's balance is {points(card.balance_micro)}, its operations sum to {points(balance)}"
        )
    if (previous_hash or None) != (card.ledger_hash or None):
        check.problems.append("the card's last hash is not its last operation's")
    return check


CARD_COLUMNS = (
    LoyaltyCard.id,
    LoyaltyCard.customer_list_id,
    LoyaltyCard.balance_micro,
    LoyaltyCard.operation_count,
    LoyaltyCard.ledger_hash,
)
OPERATION_COLUMNS = (
    LoyaltyOperation.loyalty_card_id,
    LoyaltyOperation.id,
    LoyaltyOperation.seq,
    LoyaltyOperation.delta_micro,
    LoyaltyOperation.new_balance_micro,
    LoyaltyOperation.created_at,
    LoyaltyOperation.order_id,
    LoyaltyOperation.hash,
)


@dataclass
class Verification:
    cards: int = 0
    operations: int = 0
    failed: list[CardCheck] = field(default_factory=list)


async def verify_database(db: Database, customer_list_id: str | None = None) -> Verification:
    """:func:`verify` on one snapshot of the database, so operations written meanwhile never show as a
    mismatch between a card and its ledger: a repeatable-read, read-only transaction on PostgreSQL; on SQLite
    (WAL) a read transaction, which sees one snapshot and does not hold writers up."""
    if is_sqlite(db.settings.database_url):
        async with db.session(write=False) as session:
            return await verify(session, customer_list_id)
    async with db.session(write=True) as session:
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        return await verify(session, customer_list_id)


async def verify(session: AsyncSession, customer_list_id: str | None = None, batch: int = 500) -> Verification:
    """Every card (of one list, or all) recomputed, in card-id batches: memory stays flat whatever the size."""
    result = Verification()
    after = ""
    while True:
        cards_stmt = select(*CARD_COLUMNS).where(LoyaltyCard.id > after).order_by(LoyaltyCard.id).limit(batch)
        if customer_list_id is not None:
            cards_stmt = cards_stmt.where(LoyaltyCard.customer_list_id == customer_list_id)
        cards = (await session.execute(cards_stmt)).all()
        if not cards:
            return result
        after = cards[-1].id
        ops_stmt = (
            select(*OPERATION_COLUMNS)
            .where(LoyaltyOperation.loyalty_card_id.in_([card.id for card in cards]))
            .order_by(LoyaltyOperation.loyalty_card_id, LoyaltyOperation.seq)
        )
        by_card: dict[str, list[Any]] = {}
        for op in (await session.execute(ops_stmt)).all():
            by_card.setdefault(op.loyalty_card_id, []).append(op)
        for card in cards:
            ops = by_card.get(card.id, [])
            result.cards += 1
            result.operations += len(ops)
            check = check_chain(card, ops)
            if check.problems:
                result.failed.append(check)
