"""``patronage import hubrise``: everything a token sees on a HubRise-compatible API, copied into a local account,
then (``--follow``) kept in step with the source until the operator stops it.

What lands where (README, API notes, "Importing from HubRise"):
- account-level lists into the local account (``--account``), location-level lists into the local location
  that ``--location SRC=LOCAL`` maps their source location to; customers, cards and operations with their lists;
- the token's private refs become the private refs of the local client ``--client`` (so that client, switched
  over, finds the customers by the refs it stored);
- the source's ids are kept where they fit (at most 16 lowercase letters and digits) and are free locally;
- operations go through ``loyalty.service.apply_operation`` in ledger order, oldest first, with their original
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
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import formats
from patronage.auth.models import Client
from patronage.customer_lists.models import CustomerList
from patronage.customers import erasure
from patronage.customers.models import Customer, CustomerPrivateRef
from patronage.db import Database, utcnow
from patronage.formats import currency_exponent
from patronage.ids import new_id
from patronage.loyalty import service as loyalty
from patronage.loyalty.models import LoyaltyCard, LoyaltyOperation
from patronage.orders import service as orders_service
from patronage.orders.models import Order
from patronage.tenancy.models import Account, Location
from patronage.transfer.hubrise_client import RETRIES, SourceApi, SourceError, Stopped
from patronage.transfer.hubrise_models import HubriseMapping, HubriseSource

LOCAL_ID = re.compile(r"[a-z0-9]{1,16}")
OPERATION_BATCH = 500  # operations of one card applied per transaction
EVENTS = {"customer": ["create", "update"]}
MAX_REPORTED = 20  # mismatches listed in the summary (all are counted)

TEXT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "gender",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "city",
    "state",
    "delivery_notes",
)


class ImportError_(Exception):
    """A problem of the operator's arguments or of the local data: a message on stderr, exit 1."""


@dataclass
class Options:
    base_url: str
    token: str
    account_id: str
    client_id: str | None = None
    locations: dict[str, str] = field(default_factory=dict)  # source location id -> local location id
    follow: bool = False
    interval: float = 10.0
    deep_checks: int = 20
    full: bool = False  # re-read every card's newest operations, even of cards in step
    page_size: int = 100


@dataclass
class Counter:
    created: int = 0
    updated: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped}


@dataclass
class Summary:
    lists: Counter = field(default_factory=Counter)
    customers: Counter = field(default_factory=Counter)
    cards: Counter = field(default_factory=Counter)
    operations: Counter = field(default_factory=Counter)
    private_refs: int = 0
    private_refs_ignored: int = 0  # refs the source showed while no --client was given
    operation_orders_dropped: int = 0  # order ids the source gave that no local order has: imported as null
    new_balance_mismatches: list[dict[str, str]] = field(default_factory=list)
    new_balance_mismatch_count: int = 0
    balance_mismatches: list[dict[str, str]] = field(default_factory=list)
    balance_mismatch_count: int = 0
    card_conflicts: list[dict[str, str]] = field(default_factory=list)
    events_applied: int = 0
    cycles: int = 0

    def mismatch(self, entry: dict[str, str]) -> None:
        self.new_balance_mismatch_count += 1
        if len(self.new_balance_mismatches) < MAX_REPORTED:
            self.new_balance_mismatches.append(entry)


def parse_time(text: str | None) -> datetime | None:
    """An API time (ISO 8601 with offset) as stored: naive UTC."""
    return formats.parse_time(text, "UTC") if text else None


def parse_points(text: Any) -> Decimal:
    return Decimal(str(text))


def micro(text: Any) -> int:
    return int(parse_points(text).scaleb(6))


def money_minor(text: Any, currency: str) -> int:
    """``"28.40 GBP"`` in the list's currency -> 2840; another currency (or nothing) counts as 0."""
    if not isinstance(text, str) or " " not in text:
        return 0
    amount, code = text.rsplit(" ", 1)
    if code != currency:
        return 0
    try:
        return int(Decimal(amount).scaleb(currency_exponent(currency)))
    except (InvalidOperation, ValueError):
        return 0


def source_key(base_url: str, account_id: str, location_id: str | None) -> str:
    """A source's key: its base URL and what its token reaches (never the token)."""
    text = "\n".join((normal_url(base_url), account_id, location_id or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def normal_url(base_url: str) -> str:
    root = base_url.strip().rstrip("/")
    return root[:-3] if root.endswith("/v1") else root


def customer_values(data: dict[str, Any], currency: str) -> dict[str, Any]:
    """The customer's columns from its API rendering."""
    values: dict[str, Any] = {name: data.get(name) for name in TEXT_FIELDS}
    email = data.get("email")
    values["email_search"] = email.lower() if email else None
    birth = data.get("birth_date")
    values["birth_date"] = date.fromisoformat(birth) if birth else None
    country = data.get("country")
    values["country"] = country.upper() if country else None
    for name in ("latitude", "longitude"):
        value = data.get(name)
        values[name] = None if value is None else str(value)
    values["sms_marketing"] = bool(data.get("sms_marketing"))
    values["email_marketing"] = bool(data.get("email_marketing"))
    values["custom_fields"] = data.get("custom_fields") or {}
    values["anonymised"] = bool(data.get("anonymised"))
    # Order statistics as the source computed them (its orders are not imported): the client switched over
    # sees the same figures. A local order recomputes them from the local orders (statistics.py).
    values["nb_orders"] = int(data.get("nb_orders") or 0)
    values["order_total_minor"] = money_minor(data.get("order_total"), currency)
    values["first_order_at"] = parse_time(data.get("first_order_date"))
    values["last_order_at"] = parse_time(data.get("last_order_date"))
    return values


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class SourceList:
    id: str
    name: str
    location_id: str | None  # the source location of a location-level list
    created_at: datetime | None


class Importer:
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

    def start_card_walk(self) -> None:
        """Cards carry no ``created_at`` in the API, and the index lists them newest first: along a walk, the
        cards created get decreasing times from a base, so the local index keeps the source's order. The first
        import's base is the source's first run (the same on a resumed run); later walks start from now."""
        self.card_base = self.started if not self.imported else utcnow()
        self.card_clock = 0

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

    # --- cards --------------------------------------------------------------------------------------

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

    # --- operations ---------------------------------------------------------------------------------

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

    # --- the whole run ------------------------------------------------------------------------------

    async def run_import(self, source_lists: list[SourceList]) -> None:
        for item in source_lists:
            self.check_stop()
            await self.import_list(item)
        async with self.db.session(write=True) as session:
            source = await session.get(HubriseSource, self.key)
            source.completed_at = utcnow()
        self.imported = True

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
