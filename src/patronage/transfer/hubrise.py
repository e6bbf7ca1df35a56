"""``patronage import hubrise``: everything a token sees on a HubRise-compatible API, copied into a local account,
then (``--follow``) kept in step with the source until the operator stops it.

What lands where (README, API notes, "Importing from HubRise"):
- account-level lists into the local account (``--account``), location-level lists into the local location
  that ``--location SRC=LOCAL`` maps their source location to; customers, cards and operations with their lists;
- the token's private refs become the private refs of the local client ``--client`` (so that client, switched
  over, finds the customers by the refs it stored);
- the source's ids are kept where they fit (at most 16 lowercase letters and digits) and are free locally;
- operations go through ``loyalty.cards.apply_operation`` in ledger order, oldest first, with their original
  ``created_at``, ``reason`` and, where that order exists locally, ``order_id``.

Every source resource written locally is recorded in ``hubrise_mapping`` (per source: base URL + the account and
location the token reaches, never the token), in the transaction that writes it: a re-run skips what is there,
and an interrupted run resumes where its last committed batch ended. A card's operations are applied oldest
first, so the imported ones are always a prefix of its ledger and reading the source newest first until a known
one gives exactly what is missing.

Following: a passive callback on the source (``customer.create``, ``customer.update``) is saved before the import
reads anything, so nothing that changes meanwhile is missed; each cycle applies and acknowledges its events, then
looks for what fires no event on the source (SPEC §9: loyalty cards and operations fire none, nor do new lists):
the lists, every card of every list (a card whose balance, name or ref differs from the local one is re-read),
and, round robin, ``--deep-checks`` cards' newest operation (an operation pair that sums to zero leaves the
balance unchanged and is caught there).
"""

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.models import Client
from patronage.customer_lists.models import CustomerList
from patronage.customers import erasure
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.db import Database, utcnow
from patronage.ids import new_id
from patronage.orders import service as orders_service
from patronage.tenancy.models import Account, Location
from patronage.transfer.hubrise_client import RETRIES, SourceApi, SourceError, Stopped
from patronage.transfer.hubrise_follow import Following
from patronage.transfer.hubrise_ledgers import LedgerSync
from patronage.transfer.hubrise_models import HubriseMapping, HubriseSource
from patronage.transfer.hubrise_records import ImportError_, Options, SourceList, Summary
from patronage.transfer.hubrise_values import LOCAL_ID, TEXT_FIELDS, customer_values, normal_url, parse_time, source_key


class Importer(LedgerSync, Following):
    """One run: the set-up, the mapping of source ids, lists and customers here; cards and operations in
    hubrise_ledgers, following in hubrise_follow."""

    def __init__(self, db: Database, options: Options, log: Callable[[str], None]):
        self.db = db
        self.options = options
        self.log = log
        self.stop_requested = False
        self.api = SourceApi(
            options.base_url, options.token, log=log, stopping=lambda: self.stop_requested, page_size=options.page_size
        )
        self.summary = Summary()
        self.key = ""
        self.source_account_id = ""
        self.source_location_id: str | None = None
        self.lists: dict[str, str] = {}  # source list id -> local list id
        self.list_currency: dict[str, str] = {}  # local list id -> currency
        self.started = utcnow()
        self.card_base = self.started  # see start_card_walk
        self.card_clock = 0
        self.deep_cursor = 0
        self.imported = False  # the first pass over every list is done
        self.left_out: set[str] = set()  # source lists that appeared while following and cannot be mirrored
        self.ties: dict[str, tuple[datetime | None, int]] = {}  # per source list: the walk's last second, rank

    def progress(self, message: str) -> None:
        """Walk progress: during the import; a follow cycle reports what it changed instead."""
        if not self.imported:
            self.log(message)

    def stop(self) -> None:
        self.stop_requested = True

    def check_stop(self) -> None:
        if self.stop_requested:
            raise Stopped

    # --- set-up -------------------------------------------------------------------------------------

    async def identify(self) -> None:
        """Who the token is on the source: its account, and its location for a location-level token."""
        self.api.retries = 2  # a wrong base URL fails fast; once the source answered, transient errors wait longer
        response = await self.api.request("GET", "/location")
        self.api.retries = RETRIES
        if response.status_code == 200:
            location = response.json()
            self.source_location_id = location["id"]
            self.source_account_id = location.get("account_id") or (location.get("account") or {}).get("id") or ""
            if not self.source_account_id:
                self.source_account_id = location["id"].rsplit("-", 1)[0]
        elif response.status_code == 403:
            account = await self.api.get("/account")
            if not isinstance(account, dict) or "id" not in account:
                raise SourceError("the source answers neither GET /location nor GET /account for this token")
            self.source_account_id = account["id"]
        else:
            raise SourceError(
                f"source GET /location: {response.status_code} {response.text[:200]}"
                " (is the base URL a HubRise-compatible API?)"
            )
        self.key = source_key(self.options.base_url, self.source_account_id, self.source_location_id)

    async def discover_lists(self) -> list[SourceList]:
        """Every customer list the token sees, each once."""
        found: dict[str, SourceList] = {}

        def add(item: dict[str, Any], location_id: str | None) -> None:
            if item["id"] in found:
                return
            if "location_id" in item:  # Patronage says; HubRise's rendering may not
                location_id = item["location_id"]
            found[item["id"]] = SourceList(item["id"], item["name"], location_id, parse_time(item.get("created_at")))

        if self.source_location_id is not None:
            for item in await self.api.all("/location/customer_lists"):
                add(item, self.source_location_id)
        else:
            for item in await self.api.all("/account/customer_lists"):
                add(item, None)
            locations = await self.api.get("/locations") or []
            for location in locations:
                for item in await self.api.all(f"/locations/{location['id']}/customer_lists"):
                    add(item, location["id"])
        return list(found.values())

    async def prepare(self, source_lists: list[SourceList]) -> None:
        """Checks the local side before anything is written: the account, the client, a local location for
        every source location that has lists, no name clash; records (or checks) the source."""
        options = self.options
        async with self.db.session(write=True) as session:
            account = await session.get(Account, options.account_id)
            if account is None:
                raise ImportError_(f"no local account {options.account_id!r}")
            if options.client_id is not None and await session.get(Client, options.client_id) is None:
                raise ImportError_(f"no local client {options.client_id!r}")
            for source_location, local_location in options.locations.items():
                location = await session.get(Location, local_location)
                if location is None or location.account_id != account.id:
                    raise ImportError_(
                        f"--location {source_location}={local_location}: no location {local_location!r}"
                        f" in account {account.id}"
                    )
            source = await session.get(HubriseSource, self.key)
            if source is None:
                source = HubriseSource(
                    key=self.key,
                    base_url=normal_url(options.base_url),
                    source_account_id=self.source_account_id,
                    source_location_id=self.source_location_id,
                    account_id=account.id,
                    client_id=options.client_id,
                    created_at=utcnow(),
                )
                session.add(source)
            elif source.account_id != account.id:
                raise ImportError_(
                    f"this source was imported into account {source.account_id}: run again with --account"
                    f" {source.account_id}"
                )
            source.last_run_at = utcnow()
            self.started = source.created_at
            rows = await session.execute(
                select(HubriseMapping.source_id, HubriseMapping.local_id).where(
                    HubriseMapping.source_key == self.key, HubriseMapping.kind == "list"
                )
            )
            self.lists = dict(rows.all())
            missing = sorted(
                {item.location_id for item in source_lists if item.location_id and item.id not in self.lists}
                - set(options.locations)
            )
            if missing:
                raise ImportError_(
                    "lists of source location(s) "
                    + ", ".join(missing)
                    + " need a local location: --location SOURCE_LOCATION=LOCAL_LOCATION"
                )
            for item in source_lists:
                if item.id not in self.lists:
                    await self._check_name(session, item)

    async def _check_name(self, session: AsyncSession, item: SourceList) -> None:
        location_id = self.options.locations.get(item.location_id) if item.location_id else None
        clash = select(CustomerList.id).where(
            CustomerList.account_id == self.options.account_id, CustomerList.name == item.name.strip()
        )
        if location_id is not None:
            clash = clash.where((CustomerList.location_id == location_id) | CustomerList.location_id.is_(None))
        if await session.scalar(clash.limit(1)):
            raise ImportError_(
                f"source list {item.id} ({item.name!r}): the local account already has a list of that name"
            )

    # --- mapping ------------------------------------------------------------------------------------

    async def mapped(self, session: AsyncSession, kind: str, source_ids: list[str]) -> dict[str, HubriseMapping]:
        if not source_ids:
            return {}
        rows = await session.scalars(
            select(HubriseMapping).where(
                HubriseMapping.source_key == self.key,
                HubriseMapping.kind == kind,
                HubriseMapping.source_id.in_(source_ids),
            )
        )
        return {row.source_id: row for row in rows}

    def remember(
        self, session: AsyncSession, kind: str, source_id: str, local_id: str, parent_id: str | None = None
    ) -> HubriseMapping:
        row = HubriseMapping(
            source_key=self.key,
            kind=kind,
            source_id=source_id,
            local_id=local_id,
            parent_id=parent_id,
            done=False,
            created_at=utcnow(),
        )
        session.add(row)
        return row

    @staticmethod
    async def free_id(session: AsyncSession, model: type, wanted: str) -> str:
        """The source's id when it fits the local columns and no local row has it, else a new one."""
        if (
            LOCAL_ID.fullmatch(wanted or "")
            and await session.scalar(select(model.id).where(model.id == wanted)) is None
        ):
            return wanted
        return new_id()

    # --- lists --------------------------------------------------------------------------------------

    async def ensure_list(self, item: SourceList) -> str:
        if item.id in self.lists:
            self.summary.lists.skipped += 1
            return self.lists[item.id]
        async with self.db.session(write=True) as session:
            await self._check_name(session, item)
            local_location = self.options.locations.get(item.location_id) if item.location_id else None
            local_id = await self.free_id(session, CustomerList, item.id)
            session.add(
                CustomerList(
                    id=local_id,
                    account_id=self.options.account_id,
                    location_id=local_location,
                    name=item.name.strip(),
                    created_at=item.created_at or utcnow(),
                )
            )
            await session.flush()
            self.remember(session, "list", item.id, local_id)
        self.lists[item.id] = local_id
        self.summary.lists.created += 1
        self.log(f"list {item.id} ({item.name}) -> {local_id}")
        return local_id

    async def currency_of(self, session: AsyncSession, local_list_id: str) -> str:
        if local_list_id not in self.list_currency:
            customer_list = await session.get(CustomerList, local_list_id)
            self.list_currency[local_list_id] = customer_list.owner_currency
        return self.list_currency[local_list_id]

    async def import_list(self, item: SourceList) -> None:
        local_list = await self.ensure_list(item)
        self.ties.pop(item.id, None)
        seen = 0
        async for page in self.api.pages(f"/customer_lists/{item.id}/customers"):
            async with self.db.session(write=True) as session:
                await self.upsert_customers(session, item.id, local_list, page, walking=True)
            seen += len(page)
            self.progress(f"list {item.id}: {seen} customers read")
            self.check_stop()
        await self.sync_cards_of_list(item.id, local_list)

    # --- customers ----------------------------------------------------------------------------------

    def walk_time(self, source_list: str, moment: datetime | None, walking: bool) -> datetime:
        """A customer's ``created_at``: the API renders whole seconds, and the index orders customers of one
        second by their stored microseconds, so the walk (newest first) gives each customer of a second a
        rank, turned into decreasing microseconds: the local index keeps the source's order."""
        if moment is None:
            return utcnow()
        rank = 0
        if walking:
            last, count = self.ties.get(source_list, (None, 0))
            rank = count + 1 if moment == last else 0
            self.ties[source_list] = (moment, rank)
        return moment + timedelta(microseconds=999_999 - min(rank, 999_999))

    async def upsert_customers(
        self,
        session: AsyncSession,
        source_list: str,
        local_list: str,
        customers: list[dict[str, Any]],
        *,
        walking: bool = False,
    ) -> dict[str, str]:
        """Creates or updates these source customers; their local ids by source id. ``walking``: they are
        a page of the list's index, in its order."""
        currency = await self.currency_of(session, local_list)
        known = await self.mapped(session, "customer", [customer["id"] for customer in customers])
        local_ids: dict[str, str] = {}
        for data in customers:
            values = customer_values(data, currency)
            mapping = known.get(data["id"])
            created_at = self.walk_time(source_list, parse_time(data.get("created_at")), walking)
            if mapping is None:
                local_id = await self.free_id(session, Customer, data["id"])
                session.add(
                    Customer(
                        id=local_id,
                        account_id=self.options.account_id,
                        customer_list_id=local_list,
                        created_at=created_at,
                        updated_at=utcnow(),
                        **values,
                    )
                )
                await session.flush()
                known[data["id"]] = self.remember(session, "customer", data["id"], local_id, source_list)
                self.summary.customers.created += 1
            else:
                local_id = mapping.local_id
                customer = await session.get(Customer, local_id)
                if customer is None:  # deleted locally since: not brought back
                    self.summary.customers.skipped += 1
                    continue
                if customer.anonymised:  # irreversible: the anonymised fields stay null
                    values = {
                        name: value
                        for name, value in values.items()
                        if name not in (*TEXT_FIELDS, "email_search", "birth_date", "latitude", "longitude")
                    }
                    values["anonymised"] = True
                changed = {name: value for name, value in values.items() if getattr(customer, name) != value}
                if changed:
                    for name, value in changed.items():
                        setattr(customer, name, value)
                    customer.updated_at = utcnow()
                    self.summary.customers.updated += 1
                    if changed.get("anonymised") is True:  # anonymised on the source since: every local copy too
                        await session.flush()
                        await orders_service.anonymise_customer_orders(session, customer.id)
                        await erasure.scrub_stored_copies(session, customer.account_id, customer.id)
                else:
                    self.summary.customers.skipped += 1
            local_ids[data["id"]] = local_id
            await self.set_private_ref(session, local_id, local_list, data.get("private_ref"))
        await session.flush()
        return local_ids

    async def set_private_ref(self, session: AsyncSession, customer_id: str, list_id: str, ref: str | None) -> None:
        client_id = self.options.client_id
        if client_id is None:
            self.summary.private_refs_ignored += ref is not None
            return
        row = await session.get(CustomerPrivateRef, (customer_id, client_id))
        if ref is None:
            if row is not None:
                await session.delete(row)
            return
        if row is None:
            session.add(
                CustomerPrivateRef(customer_id=customer_id, client_id=client_id, customer_list_id=list_id, ref=ref)
            )
            self.summary.private_refs += 1
        elif row.ref != ref:
            row.ref = ref
            self.summary.private_refs += 1

    async def fetch_customer(self, source_list: str, local_list: str, customer_id: str) -> str | None:
        """A customer the walk has not met (created on the source since): read and written now."""
        data = await self.api.get(f"/customer_lists/{source_list}/customers/{customer_id}")
        if data is None:
            return None
        async with self.db.session(write=True) as session:
            return (await self.upsert_customers(session, source_list, local_list, [data])).get(customer_id)

    # --- the whole run ------------------------------------------------------------------------------

    async def run_import(self, source_lists: list[SourceList]) -> None:
        for item in source_lists:
            self.check_stop()
            await self.import_list(item)
        async with self.db.session(write=True) as session:
            source = await session.get(HubriseSource, self.key)
            source.completed_at = utcnow()
        self.imported = True

    def report(self, seconds: float, complete: bool) -> dict[str, Any]:
        summary = self.summary
        return {
            "source": normal_url(self.options.base_url),
            "account_id": self.options.account_id,
            "complete": complete,
            "lists": summary.lists.as_dict(),
            "customers": summary.customers.as_dict(),
            "loyalty_cards": summary.cards.as_dict(),
            "operations": {"created": summary.operations.created, "skipped": summary.operations.skipped},
            "private_refs": {"written": summary.private_refs, "ignored": summary.private_refs_ignored},
            "operation_orders_dropped": summary.operation_orders_dropped,
            "new_balance_mismatches": summary.new_balance_mismatch_count,
            "new_balance_mismatch_samples": summary.new_balance_mismatches,
            "balance_mismatches": summary.balance_mismatch_count,
            "balance_mismatch_samples": summary.balance_mismatches,
            "card_conflicts": summary.card_conflicts,
            "events_applied": summary.events_applied,
            "follow_cycles": summary.cycles,
            "source_requests": self.api.requests,
            "rate_limited": self.api.rate_limited,
            "retried": self.api.retried,
            "seconds": round(seconds, 3),
        }


async def run(db: Database, options: Options, log: Callable[[str], None]) -> tuple[dict[str, Any], bool]:
    """The import (and follow); the summary and whether it was stopped by the operator before the end."""
    import signal

    importer = Importer(db, options, log)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, importer.stop)
    started = time.monotonic()
    stopped = False
    try:
        try:
            await importer.identify()
            source_lists = await importer.discover_lists()
            await importer.prepare(source_lists)
            log(f"source account {importer.source_account_id}: {len(source_lists)} customer lists")
            if options.follow:
                await importer.subscribe()
            await importer.run_import(source_lists)
            log("import done" + (": following the source (SIGINT or SIGTERM to stop)" if options.follow else ""))
            if options.follow:
                await importer.follow()
        except Stopped:
            stopped = True
        if importer.stop_requested:
            stopped = True
        return importer.report(time.monotonic() - started, complete=importer.imported), stopped
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await importer.api.close()


__all__ = ["ImportError_", "Options", "SourceError", "run"]
