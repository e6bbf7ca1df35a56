"""``patronage import hubrise --follow``: after the import, the source is kept in step until the operator stops it.
A passive callback (``customer.create``, ``customer.update``), saved before the import reads anything, brings
customer changes; each cycle then looks for what fires no event (SPEC §9): new lists, every list's cards, and,
round robin, ``--deep-checks`` cards' newest operation.

A part of :class:`patronage.transfer.hubrise.Importer` (its state, its list, customer and ledger steps)."""

from typing import Any

from sqlalchemy import select

from patronage.loyalty.models import LoyaltyCard
from patronage.transfer.hubrise_client import SourceError
from patronage.transfer.hubrise_models import HubriseMapping
from patronage.transfer.hubrise_records import ImportError_, SourceList
from patronage.transfer.hubrise_values import parse_time

EVENTS = {"customer": ["create", "update"]}


class Following:
    """The callback and the follow cycles; the Importer provides the rest."""

    async def subscribe(self) -> None:
        """The passive callback ``--follow`` reads, saved before the import so that nothing is missed."""
        current = await self.api.get("/callback") or {}
        if current.get("url"):
            raise SourceError(
                "this token's connection has an active callback on the source: use a token of its own for the import"
            )
        events = {resource: list(types) for resource, types in (current.get("events") or {}).items()}
        for resource, types in EVENTS.items():
            events[resource] = sorted(set(events.get(resource, [])) | set(types))
        await self.api.send("POST", "/callback", {"url": None, "events": events})

    async def follow(self) -> None:
        """Until stopped: events, then what fires none (lists, cards, newest operations), then a pause."""
        while not self.stop_requested:
            self.summary.cycles += 1
            try:
                await self.cycle()
            except SourceError as exc:
                if exc.fatal:
                    raise
                self.log(f"cycle {self.summary.cycles}: {exc}; trying again next cycle")
            await self.api._sleep(self.options.interval)

    async def cycle(self) -> None:
        """One follow step: events, new lists, every list's cards, a few cards' newest operations."""
        before = self.changes()
        await self.apply_events()
        self.check_stop()
        source_lists = await self.discover_lists()
        for item in source_lists:
            self.check_stop()
            if item.id in self.lists:
                await self.sync_cards_of_list(item.id, self.lists[item.id])
            elif await self.can_add(item):
                await self.import_list(item)
        await self.deep_check()
        if (after := self.changes()) != before:
            moved = ", ".join(f"{name} +{after[name] - before[name]}" for name in after if after[name] != before[name])
            self.log(f"cycle {self.summary.cycles}: {moved}")

    async def can_add(self, item: SourceList) -> bool:
        """Whether a list that appeared on the source while following can be imported (else said once)."""
        problem = None
        if item.location_id and item.location_id not in self.options.locations:
            problem = f"its source location {item.location_id} has no --location"
        else:
            async with self.db.session(write=False) as session:
                try:
                    await self._check_name(session, item)
                except ImportError_ as exc:
                    problem = str(exc)
        if problem and item.id not in self.left_out:
            self.left_out.add(item.id)
            self.log(f"list {item.id} ({item.name}) not mirrored: {problem}")
        return problem is None

    def changes(self) -> dict[str, int]:
        summary = self.summary
        return {
            "events": summary.events_applied,
            "lists": summary.lists.created,
            "customers created": summary.customers.created,
            "customers updated": summary.customers.updated,
            "cards created": summary.cards.created,
            "cards updated": summary.cards.updated,
            "operations": summary.operations.created,
        }

    async def apply_events(self) -> None:
        async for page in self.api.pages("/callback/events"):
            for listed in page:
                self.check_stop()
                event = await self.api.get(f"/callback/events/{listed['id']}")
                if event is not None:
                    await self.apply_event(event)
                await self.api.send("DELETE", f"/callback/events/{listed['id']}")
                self.summary.events_applied += 1

    async def apply_event(self, event: dict[str, Any]) -> None:
        if event.get("resource_type") != "customer":
            return
        source_list = event.get("customer_list_id")
        state = event.get("new_state")
        if not source_list or not state:
            return
        if source_list not in self.lists:
            listed = await self.api.get(f"/customer_lists/{source_list}")
            if listed is None:
                return
            location = listed.get("location_id", self.source_location_id)
            item = SourceList(listed["id"], listed["name"], location, parse_time(listed.get("created_at")))
            if await self.can_add(item):
                await self.import_list(item)
            return
        local_list = self.lists[source_list]
        async with self.db.session(write=True) as session:
            await self.upsert_customers(session, source_list, local_list, [state])
        # A card change the source reports with the customer: its cards, read now.
        if state.get("loyalty_cards"):
            cards = await self.api.all(f"/customer_lists/{source_list}/loyalty_cards", {"customer_id": state["id"]})
            self.start_card_walk()
            await self.sync_cards(source_list, local_list, cards)

    async def deep_check(self) -> None:
        """The newest operation of the next ``deep_checks`` cards, round robin over every imported card."""
        if self.options.deep_checks <= 0:
            return
        async with self.db.session(write=False) as session:
            rows = (
                await session.execute(
                    select(HubriseMapping.source_id, HubriseMapping.local_id, HubriseMapping.parent_id)
                    .where(HubriseMapping.source_key == self.key, HubriseMapping.kind == "card")
                    .order_by(HubriseMapping.source_id)
                    .offset(self.deep_cursor)
                    .limit(self.options.deep_checks)
                )
            ).all()
            lists = dict(
                (
                    await session.execute(
                        select(LoyaltyCard.id, LoyaltyCard.customer_list_id).where(
                            LoyaltyCard.id.in_([row.local_id for row in rows])
                        )
                    )
                ).all()
            )
        self.deep_cursor = 0 if len(rows) < self.options.deep_checks else self.deep_cursor + len(rows)
        back = {local: source for source, local in self.lists.items()}
        for source_card, local_card, _customer in rows:
            self.check_stop()
            source_list = back.get(lists.get(local_card, ""))
            if source_list is None:
                continue
            if not await self.newest_known(source_list, source_card):
                await self.sync_operations(source_list, source_card, local_card, None)  # the balance is unchanged
