"""Bulk loading of realistic synthetic customers (``patronage admin seed-customers``).

For benchmarks and for trying the search on a big list: names, emails, phones and addresses of nine
countries, creation times spread over the past years. On PostgreSQL the rows go in with ``COPY`` (asyncpg's
``copy_records_to_table`` on the driver connection) in one transaction; a big load rebuilds the customer
table's indexes once instead of maintaining them row by row (see ``bulk.worth_rebuilding``); the table is then
vacuumed and analysed so that the next search plans on fresh statistics. On SQLite the rows go in with
batched ``executemany`` inserts, then ``ANALYZE``. The words and places are in ``patronage.seed_words``.
"""

import bisect
import contextlib
import itertools
import json
import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select, text

from patronage import seed_words as words
from patronage.bulk import indexes_rebuilt, insert_rows, table_rows, worth_rebuilding
from patronage.customer_lists.models import CustomerList
from patronage.customers.models import Customer
from patronage.db import Database, utcnow
from patronage.ids import new_ids
from patronage.settings import Settings


class SeedError(ValueError):
    pass


# Rows sent per COPY / executemany batch: big enough to amortise round trips, small enough to keep
# memory flat whatever the count.
BATCH_SIZE = 20_000
# Creation times are spread over this many days before now.
SPAN_DAYS = 6 * 365

COLUMNS: tuple[str, ...] = tuple(column.name for column in Customer.__table__.columns)

# --- countries --------------------------------------------------------------------------------------


class _Country:
    """A country of ``seed_words.COUNTRIES``, ready to draw from."""

    def __init__(self, country: words.Country):
        self.code = country.code
        self.weight = country.weight
        # Multi-word surnames are written with "_" in the word lists; their spaces come back here.
        self.names = tuple([name.replace("_", " ") for name in names] for names in country.names)
        self.cities = country.cities
        self.mobiles = country.mobiles
        self.mobile_digits = country.mobile_digits
        self.street = _street(country.streets)
        self.domains = country.domains
        self.company_suffixes = country.company_suffixes


def _street(streets: words.Streets) -> Callable[[random.Random], str]:
    templates, names = streets

    def make(rng: random.Random) -> str:
        return rng.choice(templates).format(n=rng.randint(1, 180), name=rng.choice(names))

    return make


_COUNTRIES = tuple(_Country(country) for country in words.COUNTRIES)


@cache
def _ascii(name: str) -> str:
    """``"Zoë O'Brien-Da Silva"`` -> ``"zoeobrien-dasilva"``: what people put in their email addresses."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch == "-")


def _fill(rng: random.Random, pattern: str) -> str:
    """``"SW# #@@"`` -> ``"SW4 7QX"``: ``#`` a digit, ``@`` a capital letter."""
    return "".join(
        str(rng.randrange(10)) if ch == "#" else chr(65 + rng.randrange(26)) if ch == "@" else ch for ch in pattern
    )


def _micro_degrees(value: int) -> str:
    """``51507213`` -> ``"51.507213"``, the canonical text ``formats.render_decimal`` gives."""
    whole, fraction = divmod(abs(value), 1_000_000)
    digits = f"{fraction:06d}".rstrip("0") or "0"
    return f"{'-' if value < 0 else ''}{whole}.{digits}"


def _picker(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Callable[[], Any]:
    """A fast weighted choice."""
    items = [item for item, _ in weighted]
    cumulative = list(itertools.accumulate(weight for _, weight in weighted))
    total, draw = cumulative[-1], rng.random
    return lambda: items[bisect.bisect_right(cumulative, draw() * total)]


# The factory builds its tuples in this order; it must be the table's.
_ROW_ORDER = (  # noqa: SIM905 - reads better as one string
    "id account_id customer_list_id anonymised email email_search first_name last_name gender birth_date "
    "company_name phone phone_access_code address_1 address_2 postal_code city state country latitude "
    "longitude delivery_notes sms_marketing email_marketing custom_fields nb_orders order_total_minor "
    "first_order_at last_order_at created_at updated_at"
).split()
if tuple(_ROW_ORDER) != COLUMNS:  # pragma: no cover - a new customer column must be added to row()
    raise RuntimeError("seed.CustomerFactory.row must follow the customer table's columns")


class _Place:
    """A country's city with pools of addresses ready to draw from."""

    def __init__(self, rng: random.Random, country: _Country, city: words.City):
        self.country = country
        self.city, self.state = city.name, city.state
        self.latitude, self.longitude = round(city.latitude * 1_000_000), round(city.longitude * 1_000_000)
        self.postal_codes = [_fill(rng, rng.choice(city.postal_codes)) for _ in range(400)]
        self.streets = [country.street(rng) for _ in range(1500)]
        self.landlines = city.landlines
        # Subscriber numbers never start with 0 or 1, as in real numbering plans.
        self.landline_low = 2 * 10 ** (city.landline_digits - 1)
        self.landline_span = 10**city.landline_digits - self.landline_low
        mobile_digits = country.mobile_digits or city.landline_digits
        self.mobile_low = 2 * 10 ** (mobile_digits - 1)
        self.mobile_span = 10**mobile_digits - self.mobile_low


class CustomerFactory:
    """Makes customer rows (tuples in ``COLUMNS`` order, ``custom_fields`` as JSON text) for one list, oldest
    first; ``rng`` makes them reproducible (ids excepted: they always come from ``os.urandom``)."""

    def __init__(
        self,
        account_id: str,
        customer_list_id: str,
        count: int,
        *,
        rng: random.Random | None = None,
        now: datetime | None = None,
    ):
        self.rng = rng = rng or random.Random()
        self.account_id = account_id
        self.customer_list_id = customer_list_id
        self.now = now or utcnow()
        span = timedelta(days=SPAN_DAYS) // timedelta(microseconds=1)
        # Each customer gets its own slot of the span and a random instant inside it: distinct times,
        # spread evenly, in insertion order (as a real list grows).
        self.step = max(1, span // max(count, 1))
        self.start = self.now - timedelta(microseconds=self.step * count)
        self.index = 0
        self.seen_ids: set[str] = set()
        self.pick_country = _picker(rng, [(country, country.weight) for country in _COUNTRIES])
        self.pick_domain = _picker(rng, words.COMMON_DOMAINS)
        # The first city of a country (its biggest) has three times the customers of each other one.
        self.pick_place = {
            country: _picker(
                rng, [(_Place(rng, country, city), 3 if i == 0 else 1) for i, city in enumerate(country.cities)]
            )
            for country in _COUNTRIES
        }
        self.first_birth = date(1940, 1, 1).toordinal()
        self.birth_days = (self.now.date() - timedelta(days=16 * 365)).toordinal() - self.first_birth
        self.custom_fields = [json.dumps(fields) for fields in words.CUSTOM_FIELDS]
        draw = rng.random
        # Much cheaper than rng.choice / rng.randrange, and as good for synthetic data.
        self.pick: Callable[[Sequence[Any]], Any] = lambda seq: seq[int(draw() * len(seq))]
        self.below: Callable[[int], int] = lambda n: int(draw() * n)

    def _ids(self, count: int) -> list[str]:
        ids: list[str] = []
        while len(ids) < count:
            for new in new_ids(count - len(ids)):
                if new not in self.seen_ids:
                    self.seen_ids.add(new)
                    ids.append(new)
        return ids

    def _email(self, first: str, last: str, country: _Country, company: str | None) -> str:
        draw, pick, below = self.rng.random, self.pick, self.below
        f, l_ = _ascii(first), _ascii(last)
        roll = draw()
        if roll < 0.30:
            local = f"{f}.{l_}"
        elif roll < 0.50:
            local = f"{f}.{l_}{1 + below(999)}"
        elif roll < 0.58:
            local = f"{f}{l_}"
        elif roll < 0.66:
            local = f"{f[0]}{l_}"
        elif roll < 0.71:
            local = f"{f}_{l_}"
        elif roll < 0.81:
            local = f"{f}{1 + below(99)}"
        elif roll < 0.86:
            local = f"{l_}.{f}"
        elif roll < 0.90:
            local = f"{f}-{l_}"
        elif roll < 0.93:
            local = f"{f}.{l_}+{pick(words.TAGS)}"
        else:
            local = f"{f[0]}.{l_}{60 + below(40)}"
        roll = draw()
        if company and roll < 0.6:
            domain = l_.replace("-", "") + (".com", ".co", ".net")[int(roll * 5)]
        elif roll < 0.25:
            domain = pick(country.domains)
        else:
            domain = self.pick_domain()
        roll = draw()
        if roll < 0.9:
            return f"{local}@{domain}"
        if roll < 0.96:  # people type their address the way they like
            return f"{local[0].upper()}{local[1:]}@{domain[0].upper()}{domain[1:]}"
        if roll < 0.98:
            return f"{local}@{domain}".upper()
        return f"{local.title()}@{domain}"

    def row(self, customer_id: str) -> tuple[Any, ...]:
        draw, pick, below = self.rng.random, self.pick, self.below
        created_at = self.start + timedelta(microseconds=self.step * self.index + below(self.step))
        self.index += 1
        updated_at = created_at + timedelta(seconds=below(86_400 * 30))
        if updated_at > self.now:
            updated_at = created_at
        country = self.pick_country()
        # A list mixes people of every origin.
        names = self.pick_country().names if draw() < 0.12 else country.names
        male = draw() < 0.5
        first = pick(names[0] if male else names[1])
        last = pick(names[2])
        place = self.pick_place[country]()
        company = f"{last} {pick(country.company_suffixes)}" if draw() < 0.07 else None
        email = self._email(first, last, country, company) if draw() < 0.92 else None
        if draw() >= 0.9:
            phone = None
        elif country.mobiles and draw() < 0.65:
            phone = f"{pick(country.mobiles)}{place.mobile_low + below(place.mobile_span)}"
        else:
            phone = f"{pick(place.landlines)}{place.landline_low + below(place.landline_span)}"
        if draw() < 0.004:  # anonymised: what service.anonymise leaves behind
            return (
                customer_id, self.account_id, self.customer_list_id, True, None, None, None, None, None, None,
                None, None, None, None, None, None, place.city, place.state, country.code, None, None, None,
                False, False, "{}", 0, 0, None, None, created_at, updated_at,
            )  # fmt: skip
        if draw() < 0.75:
            address_1 = pick(place.streets)
            address_2 = pick(words.ADDRESS_2).format(n=1 + below(59), l=pick("ABCDEF")) if draw() < 0.15 else None
            postal_code = pick(place.postal_codes)
            city, state, country_code = place.city, place.state, country.code
            if draw() < 0.7:
                latitude = _micro_degrees(place.latitude + below(160_001) - 80_000)
                longitude = _micro_degrees(place.longitude + below(160_001) - 80_000)
            else:
                latitude = longitude = None
            notes = pick(words.NOTES) if draw() < 0.08 else None
        else:
            address_1 = address_2 = postal_code = state = latitude = longitude = notes = None
            city = place.city if draw() < 0.3 else None
            country_code = country.code if draw() < 0.5 else None
        birth_date = date.fromordinal(self.first_birth + below(self.birth_days)) if draw() < 0.55 else None
        custom_json = pick(self.custom_fields) if draw() < 0.1 else "{}"
        return (
            customer_id,
            self.account_id,
            self.customer_list_id,
            False,
            email,
            email.lower() if email is not None else None,
            first,
            last,
            ("male" if male else "female") if draw() < 0.6 else None,
            birth_date,
            company,
            phone,
            str(1000 + below(9000)) if phone and draw() < 0.03 else None,
            address_1,
            address_2,
            postal_code,
            city,
            state,
            country_code,
            latitude,
            longitude,
            notes,
            phone is not None and draw() < 0.3,
            email is not None and draw() < 0.4,
            custom_json,
            0,
            0,
            None,
            None,
            created_at,
            updated_at,
        )

    def batch(self, count: int) -> list[tuple[Any, ...]]:
        """Rows whose ``custom_fields`` is JSON text (what the PostgreSQL COPY takes)."""
        return [self.row(customer_id) for customer_id in self._ids(count)]


async def _list_owner(conn: Any, customer_list_id: str) -> str:
    account_id = await conn.scalar(select(CustomerList.account_id).where(CustomerList.id == customer_list_id))
    if account_id is None:
        raise SeedError(f"no customer list {customer_list_id!r}")
    return account_id


async def _seed_postgresql(
    db: Database, customer_list_id: str, count: int, factory_args: dict, bulk: bool | None
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 2)
        clock = now

    async with db.write_engine.begin() as conn:
        account_id = await _list_owner(conn, customer_list_id)
        if bulk is None:
            bulk = worth_rebuilding(count, await table_rows(conn, "customer"))
        async with (
            indexes_rebuilt(conn, ["customer"], rebuilding=lambda: lap("copy")) if bulk else contextlib.nullcontext()
        ):
            lap("prepare")
            factory = CustomerFactory(account_id, customer_list_id, count, **factory_args)
            done = 0
            while done < count:
                rows = factory.batch(min(BATCH_SIZE, count - done))
                lap("generate")
                await insert_rows(conn, Customer.__table__, COLUMNS, rows)
                lap("copy")
                done += len(rows)
        if bulk:
            lap("indexes")
    lap("commit")
    # Fresh statistics (and a flushed trigram pending list) so that the very next search plans well.
    async with db.write_engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) customer"))
    lap("vacuum_analyze")
    return {"mode": "bulk" if bulk else "in place", "timings": timings}


async def _seed_sqlite(db: Database, customer_list_id: str, count: int, factory_args: dict) -> dict[str, Any]:
    table = Customer.__table__
    async with db.session(write=True) as session:
        conn = await session.connection()
        account_id = await _list_owner(conn, customer_list_id)
        factory = CustomerFactory(account_id, customer_list_id, count, **factory_args)
        done = 0
        while done < count:
            rows = factory.batch(min(BATCH_SIZE, count - done))
            await insert_rows(conn, table, COLUMNS, rows)
            done += len(rows)
    async with db.session(write=True) as session:
        await session.execute(text("ANALYZE customer"))
    return {"mode": "in place"}


async def seed_customers(
    settings: Settings, customer_list_id: str, count: int, *, seed: int | None = None, bulk: bool | None = None
) -> dict[str, Any]:
    """Adds ``count`` synthetic customers to the list, in one transaction.

    ``seed`` makes them reproducible. ``bulk`` (PostgreSQL) forces or forbids rebuilding the customer
    table's indexes and foreign keys around the load instead of maintaining them row by row; by default
    it is chosen for big loads (see ``bulk.worth_rebuilding``). A bulk load holds an exclusive lock on the whole
    customer table until it commits: other lists can't be read meanwhile.
    """
    if count < 1:
        raise SeedError("count must be at least 1")
    started = time.perf_counter()
    db = Database(settings)
    factory_args = {"rng": random.Random(seed)} if seed is not None else {}
    try:
        if db.dialect == "postgresql":
            details = await _seed_postgresql(db, customer_list_id, count, factory_args, bulk)
        else:
            details = await _seed_sqlite(db, customer_list_id, count, factory_args)
        async with db.session(write=False) as session:
            total = await session.scalar(
                select(func.count()).select_from(Customer).where(Customer.customer_list_id == customer_list_id)
            )
    finally:
        await db.dispose()
    return {
        "customer_list_id": customer_list_id,
        "inserted": count,
        "total": total,
        "seconds": round(time.perf_counter() - started, 2),
        **details,
    }
