"""Loyalty cards and their ledgers, copied from the source (``patronage import hubrise``): a card is created once,
renamed when its name or ref moves, and its operations are applied oldest first through
``loyalty.cards.apply_operation``, so that balances, ``new_balance`` and the hash chain are computed here.

A part of :class:`patronage.transfer.hubrise.Importer` (its state and its mapping and customer steps)."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.db import utcnow
from patronage.loyalty import cards as loyalty
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.orders.models import Order
from patronage.transfer.hubrise_models import HubriseMapping
from patronage.transfer.hubrise_records import MAX_REPORTED
from patronage.transfer.hubrise_values import micro, parse_points, parse_time

OPERATION_BATCH = 500  # operations of one card applied per transaction


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class LedgerSync:
    """Cards and operations; the Importer provides ``db``, ``api``, ``options``, ``summary``, ``key``, the card
    clock (``card_base``, ``card_clock``), ``mapped``/``remember``/``free_id``, ``fetch_customer`` and
    ``check_stop``/``progress``."""

    def start_card_walk(self) -> None:
        """Cards carry no ``created_at`` in the API, and the index lists them newest first: along a walk, the
        cards created get decreasing times from a base, so the local index keeps the source's order. The first
        import's base is the source's first run (the same on a resumed run); later walks start from now."""
        self.card_base = self.started if not self.imported else utcnow()
        self.card_clock = 0

    async def sync_cards_of_list(self, source_list: str, local_list: str) -> None:
        self.start_card_walk()
        seen = 0
        async for page in self.api.pages(f"/customer_lists/{source_list}/loyalty_cards"):
            await self.sync_cards(source_list, local_list, page)
            seen += len(page)
            self.progress(f"list {source_list}: {seen} loyalty cards read")
            self.check_stop()

    async def sync_cards(self, source_list: str, local_list: str, cards: list[dict[str, Any]]) -> None:
        """Creates the cards not known yet, renames those whose name or ref moved, then brings each card's
        operations in step where it may lag: a new card, one whose balance differs, one not finished."""
        to_sync: list[tuple[dict[str, Any], str]] = []
        missing_customers: set[str] = set()
        async with self.db.session(write=False) as session:
            known = await self.mapped(session, "card", [card["id"] for card in cards])
            customers = await self.mapped(session, "customer", list({card["customer_id"] for card in cards}))
            missing_customers = {card["customer_id"] for card in cards if card["customer_id"] not in customers}
        local_customers = {source: row.local_id for source, row in customers.items()}
        for customer_id in missing_customers:
            local_id = await self.fetch_customer(source_list, local_list, customer_id)
            if local_id is not None:
                local_customers[customer_id] = local_id
        async with self.db.session(write=True) as session:
            for data in cards:
                self.card_clock += 1
                mapping = known.get(data["id"])
                if mapping is None:
                    card = await self.create_card(session, data, local_list, local_customers.get(data["customer_id"]))
                    if card is None:
                        continue
                    to_sync.append((data, card.id))
                    continue
                card = await session.get(LoyaltyCard, mapping.local_id)
                if card is None:
                    self.summary.cards.skipped += 1
                    continue
                if (card.name, card.ref) != (data.get("name"), data.get("ref")):
                    if await self.ref_taken(session, card.customer_id, data.get("ref"), card.id):
                        self.conflict(data, "ref already used by another local card of the customer")
                    else:
                        card.name, card.ref = data.get("name"), data.get("ref")
                        self.summary.cards.updated += 1
                in_step = mapping.done and mapping.state is not None and micro(mapping.state) == micro(data["balance"])
                if in_step and (card.name, card.ref) == (data.get("name"), data.get("ref")):
                    self.summary.cards.skipped += 1
                if self.options.full or not in_step:
                    to_sync.append((data, card.id))
        for data, local_card in to_sync:
            await self.sync_operations(source_list, data["id"], local_card, data["balance"])
            self.check_stop()

    async def ref_taken(self, session: AsyncSession, customer_id: str, ref: str | None, exclude: str | None) -> bool:
        clash = select(LoyaltyCard.id).where(
            LoyaltyCard.customer_id == customer_id, LoyaltyCard.ref.is_(None) if ref is None else LoyaltyCard.ref == ref
        )
        if exclude is not None:
            clash = clash.where(LoyaltyCard.id != exclude)
        return await session.scalar(clash.limit(1)) is not None

    def conflict(self, data: dict[str, Any], why: str) -> None:
        self.summary.cards.skipped += 1
        if len(self.summary.card_conflicts) < MAX_REPORTED:
            self.summary.card_conflicts.append({"loyalty_card_id": data["id"], "problem": why})

    async def create_card(
        self, session: AsyncSession, data: dict[str, Any], local_list: str, local_customer: str | None
    ) -> LoyaltyCard | None:
        if local_customer is None:
            self.conflict(data, "its customer is gone from the source")
            return None
        if await self.ref_taken(session, local_customer, data.get("ref"), None):
            self.conflict(data, "the local customer already has a card with this ref")
            return None
        local_id = await self.free_id(session, LoyaltyCard, data["id"])
        # Newest first on the source: earlier in the walk is newer, so created_at decreases along it.
        created_at = self.card_base - timedelta(microseconds=self.card_clock)
        card = LoyaltyCard(
            id=local_id,
            account_id=self.options.account_id,
            customer_list_id=local_list,
            customer_id=local_customer,
            name=data.get("name"),
            ref=data.get("ref"),
            balance_micro=0,
            operation_count=0,
            created_at=created_at,
        )
        session.add(card)
        await session.flush()
        self.remember(session, "card", data["id"], local_id, data["customer_id"])
        self.summary.cards.created += 1
        return card

    async def newest_known(self, source_list: str, source_card: str) -> bool:
        """Whether the card's newest operation on the source is imported (one request)."""
        path = f"/customer_lists/{source_list}/loyalty_cards/{source_card}/operations"
        async for page in self.api.pages(path, count=1):
            if not page:
                return True
            async with self.db.session(write=False) as session:
                return bool(await self.mapped(session, "operation", [page[0]["id"]]))
        return True

    async def sync_operations(self, source_list: str, source_card: str, local_card: str, balance: Any) -> None:
        """Reads the card's operations newest first until one already imported, then applies the others oldest
        first, in batches (each batch commits with its mappings). The source's balance is its newest
        operation's ``new_balance`` as read now (``balance``, the card's as listed, when it has none): the
        card is marked in step at that balance, and a local balance that differs is reported."""
        path = f"/customer_lists/{source_list}/loyalty_cards/{source_card}/operations"
        missing: list[dict[str, Any]] = []
        observed = balance
        async for page in self.api.pages(path):
            if page and not missing and observed is balance and page[0].get("new_balance") is not None:
                observed = page[0]["new_balance"]
            async with self.db.session(write=False) as session:
                known = await self.mapped(session, "operation", [operation["id"] for operation in page])
            reached = False
            for operation in page:
                if operation["id"] in known:
                    self.summary.operations.skipped += 1
                    reached = True
                    break
                missing.append(operation)
            if reached:
                break
        missing.reverse()
        batches = list(chunks(missing, OPERATION_BATCH)) or [[]]
        for number, batch in enumerate(batches, 1):
            async with self.db.session(write=True) as session:
                card = await session.get(LoyaltyCard, local_card)
                if card is None:
                    return
                for data in batch:
                    await self.apply(session, card, data, source_card)
                if number == len(batches):
                    await self.mark_done(session, source_card, observed)
                    if observed is not None and micro(observed) != card.balance_micro:
                        self.balance_mismatch(card, observed)
            self.check_stop()

    def balance_mismatch(self, card: LoyaltyCard, observed: Any) -> None:
        """A card whose local balance is not the source's once in step: a local operation since a switch-over,
        or a source operation that disagrees with its own chain."""
        self.summary.balance_mismatch_count += 1
        if len(self.summary.balance_mismatches) < MAX_REPORTED:
            self.summary.balance_mismatches.append(
                {
                    "loyalty_card_id": card.id,
                    "source_balance": str(observed),
                    "balance": loyalty.points(card.balance_micro),
                }
            )

    async def mark_done(self, session: AsyncSession, source_card: str, balance: Any) -> None:
        await session.execute(
            update(HubriseMapping)
            .where(
                HubriseMapping.source_key == self.key,
                HubriseMapping.kind == "card",
                HubriseMapping.source_id == source_card,
            )
            .values(done=True, **({} if balance is None else {"state": str(balance)}))
        )

    async def apply(self, session: AsyncSession, card: LoyaltyCard, data: dict[str, Any], source_card: str) -> None:
        order_id = order_location = None
        if data.get("order_id"):
            found = (
                await session.execute(
                    select(Order.id, Order.location_id).where(
                        Order.id == data["order_id"], Order.account_id == self.options.account_id
                    )
                )
            ).first()
            if found is None:
                self.summary.operation_orders_dropped += 1
            else:
                order_id, order_location = found
        local_id = await self.free_id(session, LoyaltyOperation, data["id"])
        operation = await loyalty.apply_operation(
            session,
            card,
            parse_points(data["delta"]),
            data.get("reason"),
            order_id=order_id,
            order_location_id=order_location,
            created_at=parse_time(data.get("created_at")),
            operation_id=local_id,  # the source's id where it is free: a client switched over keeps using it
        )
        self.remember(session, "operation", data["id"], local_id, source_card)
        self.summary.operations.created += 1
        source_balance = data.get("new_balance")
        if source_balance is not None and micro(source_balance) != operation.new_balance_micro:
            self.summary.mismatch(
                {
                    "loyalty_card_id": card.id,
                    "operation_id": local_id,
                    "source_new_balance": str(source_balance),
                    "new_balance": loyalty.points(operation.new_balance_micro),
                }
            )
