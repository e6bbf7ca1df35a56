"""``patronage``: serve, migrate, and the operator's admin commands (each prints one JSON object)."""

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from patronage.cli_support import (
    DATABASE_ERRORS,
    CommandError,
    bounded,
    database_failure,
    fail,
    print_json,
    run_in_transaction,
    safe_url,
    settings_or_fail,
    with_database,
)
from patronage.db import Database
from patronage.settings import get_settings

app = typer.Typer(help="Patronage: customer and loyalty API server.", no_args_is_help=True, add_completion=False)
admin = typer.Typer(help="Operator commands; each prints one JSON object on stdout.", no_args_is_help=True)
app.add_typer(admin, name="admin")


def _add_transfer_commands() -> None:
    from patronage.transfer.cli import export_app, import_app

    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")


_add_transfer_commands()


# --- server -----------------------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Bring the database (PATRONAGE_DATABASE_URL) to the newest schema."""
    from patronage import migrate as migrations

    settings = settings_or_fail()
    migrations.upgrade(settings.database_url)
    print_json({"migrated": True, "database": safe_url(settings.database_url)})


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Migrate before serving")] = True,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from patronage import logs
    from patronage import migrate as migrations

    settings = settings_or_fail()
    logs.configure(settings.log_level, settings.log_request_values)
    if migrate_first:
        migrations.upgrade(settings.database_url)
    if workers > 1:
        _prepare_multiprocess_metrics()
    uvicorn.run(
        "patronage.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's messages go through our JSON handler (patronage.logs)
        access_log=False,  # the app logs each request as one JSON line
        proxy_headers=True,
        http="patronage.edges.server:GuardedHttpToolsProtocol",  # bounds on slow and oversized clients
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def _prepare_multiprocess_metrics() -> None:
    """Workers write their metrics to files in one fresh directory that /metrics aggregates."""
    import os
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="patronage-metrics-")


# --- admin ------------------------------------------------------------------------------------------


@admin.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Login email")],
    password: Annotated[str, typer.Option(help="Password (stored as an argon2 hash)")],
) -> None:
    from patronage.tenancy import service

    async def work(session):
        user = await service.create_user(session, email, password)
        return {"id": user.id, "email": user.email}

    print_json(run_in_transaction(work))


@admin.command("create-account")
def create_account(
    user: Annotated[str, typer.Option(help="Owner: user email or id")],
    name: Annotated[str, typer.Option(help="Account name")],
    currency: Annotated[str, typer.Option(help="ISO 4217 currency")] = "EUR",
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country")] = "FR",
    timezone: Annotated[str, typer.Option(help="IANA timezone")] = "Europe/Paris",
) -> None:
    from patronage.tenancy import service

    bounded(name, "--name")

    async def work(session):
        owner = await service.find_user(session, user)
        account = await service.create_account(session, owner, name, currency, country, timezone)
        return {**service.render_account(account), "user_id": owner.id}

    print_json(run_in_transaction(work))


@admin.command("create-location")
def create_location(
    account: Annotated[str, typer.Option(help="Account id")],
    name: Annotated[str, typer.Option(help="Location name")],
    currency: Annotated[str | None, typer.Option(help="ISO 4217 currency (default: the account's)")] = None,
    country: Annotated[str | None, typer.Option(help="Country (default: the account's)")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA timezone (default: the account's)")] = None,
) -> None:
    from patronage.tenancy import service

    bounded(name, "--name")

    async def work(session):
        owner = await service.get_account(session, account)
        location = await service.create_location(session, owner, name, currency, country, timezone)
        return service.render_location(location, owner)

    print_json(run_in_transaction(work))


def _one_of(location: str | None, account: str | None) -> None:
    if (location is None) == (account is None):
        fail("give exactly one of --location and --account")


@admin.command("create-customer-list")
def create_customer_list(
    name: Annotated[str, typer.Option(help="List name")],
    location: Annotated[str | None, typer.Option(help="Location id, for a location-level list")] = None,
    account: Annotated[str | None, typer.Option(help="Account id, for an account-level list")] = None,
) -> None:
    from patronage.customer_lists import service as lists
    from patronage.tenancy import service

    _one_of(location, account)

    async def work(session):
        place = await service.get_location(session, location) if location else None
        owner = await service.get_account(session, place.account_id if place else account)
        customer_list = await lists.insert(session, owner, place, name)
        return lists.render(customer_list, (place or owner).timezone)

    print_json(run_in_transaction(work))


@admin.command("create-client")
def create_client(
    name: Annotated[str, typer.Option(help="Client (application) name, shown as created_by")],
    redirect_uri: Annotated[list[str] | None, typer.Option(help="Allowed OAuth redirect URI (repeatable)")] = None,
) -> None:
    from patronage.auth import service

    bounded(name, "--name")
    for uri in redirect_uri or []:
        _check_redirect_uri(uri)

    async def work(session):
        created = await service.create_client(session, name, list(redirect_uri or []))
        return {
            "client_id": created.client.id,
            "client_secret": created.secret,
            "name": created.client.name,
            "redirect_uris": created.client.redirect_uris,
        }

    print_json(run_in_transaction(work))


def _check_redirect_uri(uri: str) -> None:
    """A URI that can never match an authorisation request is a typo: OAuth wants an absolute URI without a
    fragment (RFC 6749 §3.1.2); custom schemes (com.example.app:/cb) are fine."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or any(c.isspace() for c in uri) or not (parts.netloc or parts.path):
        fail(f"invalid --redirect-uri {uri!r} (expected an absolute URI without a #fragment)")


@admin.command("connect")
def connect(
    client: Annotated[str, typer.Option(help="Client id")],
    scope: Annotated[str, typer.Option(help="e.g. 'location[customer_list.write,orders.read]'")],
    location: Annotated[str | None, typer.Option(help="Location id (location access level)")] = None,
    account: Annotated[str | None, typer.Option(help="Account id (account access level)")] = None,
    customer_list: Annotated[str | None, typer.Option(help="Bound list, for customer_list.* scopes")] = None,
    device_id: Annotated[str | None, typer.Option(help="Device id")] = None,
) -> None:
    """Issue a connection's access token directly, as the OAuth token endpoint would."""
    from patronage.auth import service as auth
    from patronage.customer_lists.models import CustomerList
    from patronage.tenancy import service

    _one_of(location, account)
    bounded(device_id, "--device-id")

    async def work(session):
        app_client = await auth.get_client(session, client)
        place = await service.get_location(session, location) if location else None
        owner = await service.get_account(session, place.account_id if place else account)
        bound = None
        if customer_list is not None:
            bound = await session.get(CustomerList, customer_list)
            if bound is None:
                raise CommandError(f"no customer list {customer_list!r}")
        return await auth.connect(
            session,
            app_client,
            account=owner,
            location=place,
            scope_text=scope,
            customer_list=bound,
            device_id=device_id,
        )

    print_json(run_in_transaction(work))


@admin.command("seed-customers")
def seed_customers(
    customer_list: Annotated[str, typer.Option(help="Customer list id")],
    count: Annotated[int, typer.Option(min=1, help="How many synthetic customers to add")],
) -> None:
    """Bulk-load realistic synthetic customers (for benchmarks and trying the search)."""
    from patronage import seed

    settings = settings_or_fail()
    from patronage import migrate as migrations

    migrations.upgrade(settings.database_url)
    try:
        result = asyncio.run(seed.seed_customers(settings, customer_list, count))
    except seed.SeedError as exc:
        fail(str(exc))
    print_json(result)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Host the printed curl line calls")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the printed curl line calls")] = 8000,
) -> None:
    """Create demo data the first time, then print a demo access token and a curl line that works."""
    from patronage import demo as demo_data

    info = run_in_transaction(demo_data.ensure_demo)
    # On stdout, and on every run: whoever reads the output (make run) learns whether data was created.
    if info["created"]:
        typer.echo("Created the demo user, account, location, customer list and connection.")
    elif info["token_reused"]:
        typer.echo("Reusing the demo data and access token created earlier.")
    else:
        typer.echo("Reusing the demo data created earlier, with a new access token (the saved one was gone).")
    base = f"http://{host}:{port}"
    typer.echo(
        f"\nDemo access token: {info['access_token']}\n"
        f"Try:\n  curl -s -H 'X-Access-Token: {info['access_token']}' "
        f"{base}/v1/customer_lists/{info['customer_list_id']}/customers\n"
        f"API docs: {base}/docs\n"
    )


def main() -> None:  # pragma: no cover
    sys.exit(app())


@admin.command("connection-limits")
def connection_limits(
    connection: Annotated[str, typer.Option(help="Connection id (as printed by `admin connect`)")],
    per_minute: Annotated[int | None, typer.Option(min=1, help="Requests per minute")] = None,
    per_hour: Annotated[int | None, typer.Option(min=1, help="Requests per hour")] = None,
    per_day: Annotated[int | None, typer.Option(min=1, help="Requests per day")] = None,
    heavy_per_minute: Annotated[int | None, typer.Option(min=1, help="Heavy queries per minute")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the server's defaults")] = False,
) -> None:
    """Raise (or lower) one connection's rate limits; the limits not given keep their current value."""
    from patronage.auth.models import Connection

    given = {
        "per_minute": per_minute,
        "per_hour": per_hour,
        "per_day": per_day,
        "heavy_per_minute": heavy_per_minute,
    }

    async def work(session):
        row = await session.get(Connection, connection)
        if row is None:
            raise CommandError(f"no connection {connection!r}")
        limits = {} if reset else dict(row.rate_limits or {})
        limits.update({name: value for name, value in given.items() if value is not None})
        row.rate_limits = limits or None
        return {"connection_id": row.id, "rate_limits": row.rate_limits}

    print_json(run_in_transaction(work))


@admin.command("rotate-secret-key")
def rotate_secret_key() -> None:
    """Seal every secret under a new key, while the processes running keep working (README: "Rotating the
    sealing key"). With a key file, the new key is made and installed here; with PATRONAGE_SECRET_KEY, roll it
    out first, then run this to re-seal what older keys sealed."""
    from patronage import migrate as migrations
    from patronage import sealing

    settings = get_settings()

    try:
        migrations.upgrade(settings.database_url)
        outcome = with_database(settings, lambda db: sealing.rotate(db, settings))
    except sealing.KeyFileError as exc:
        fail(str(exc))
    except DATABASE_ERRORS as exc:
        database_failure(settings, exc)
    print_json(outcome)


# --- webhooks -------------------------------------------------------------------------------------------


@app.command()
def worker() -> None:
    """Deliver webhooks (active callbacks) until stopped; `serve` runs one too unless
    PATRONAGE_CALLBACK_WORKER=false."""
    from patronage import logs
    from patronage.events import delivery

    settings = settings_or_fail()
    logs.configure(settings.log_level, settings.log_request_values)

    async def main() -> None:
        # SIGTERM/SIGINT finish the deliveries under way (their outcome is recorded), then stop.
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await delivery.run(settings, stop=stop)

    asyncio.run(main())


@admin.command("events")
def events(
    connection: Annotated[str, typer.Option(help="Connection id (as printed by `admin connect`)")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many of the oldest events to show")] = 50,
) -> None:
    """A connection's callback, its pending events, their attempts and last delivery errors."""
    from patronage.events.admin import UnknownConnection, delivery_report

    async def work(session):
        try:
            return await delivery_report(session, connection, limit)
        except UnknownConnection as exc:
            raise CommandError(str(exc)) from None

    print_json(run_in_transaction(work))


@admin.command("verify-ledger")
def verify_ledger(
    customer_list: Annotated[str | None, typer.Option(help="Only this customer list's cards (default: all)")] = None,
) -> None:
    """Recompute every card's hash chain, running sums and balance; exit 1 when any card disagrees."""
    import time

    from patronage.loyalty import ledger

    settings = settings_or_fail()

    started = time.monotonic()
    try:
        found = with_database(settings, lambda db: ledger.verify_database(db, customer_list))
    except DATABASE_ERRORS as exc:
        database_failure(settings, exc)
    print_json(
        {
            "ok": not found.failed,
            "cards": found.cards,
            "operations": found.operations,
            "failed_cards": [
                {"id": check.card_id, "customer_list_id": check.customer_list_id, "problems": check.problems}
                for check in found.failed
            ],
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    if found.failed:
        raise typer.Exit(1)


@admin.command("export-customer")
def export_customer(
    customer_list: Annotated[str, typer.Option(help="The customer list's id")],
    customer: Annotated[str, typer.Option(help="The customer's id")],
    client: Annotated[str | None, typer.Option(help="Show this client's private refs (default: none)")] = None,
) -> None:
    """Everything held about one customer (right of access), as GET .../customers/:id/export answers it."""
    from patronage.customer_lists.models import CustomerList
    from patronage.errors import NotFound
    from patronage.privacy.service import Reader
    from patronage.privacy.service import export_customer as export

    async def work(session):
        found = await session.get(CustomerList, customer_list)
        if found is None:
            raise CommandError(f"no customer list {customer_list}")
        try:
            return await export(session, Reader(client), found, customer)
        except NotFound:
            raise CommandError(f"no customer {customer} in list {customer_list}") from None

    print_json(run_in_transaction(work))


# --- loyalty programmes (a Patronage extension) ----------------------------------------------------------

programme_app = typer.Typer(
    help="Loyalty programmes (a Patronage extension), as GET/PUT/DELETE /v1/customer_lists/:id/loyalty_programmes/:ref"
    " answer them; without --ref, the programme of the cards without ref.",
    no_args_is_help=True,
)
admin.add_typer(programme_app, name="loyalty-programme")

_LIST_OPTION = typer.Option("--customer-list", help="The customer list's id")
_REF_OPTION = typer.Option("--ref", help="The card ref of the scheme (left out: the cards without ref)")


async def _programme_list(session: Any, customer_list: str) -> Any:
    from patronage.customer_lists.models import CustomerList

    found = await session.get(CustomerList, customer_list)
    if found is None:
        raise CommandError(f"no customer list {customer_list!r}")
    return found


def _programme_command(work: Callable[[Any, Any], Awaitable[Any]], customer_list: str) -> None:
    from patronage.errors import NotFound

    async def run(session):
        found = await _programme_list(session, customer_list)
        try:
            return await work(session, found)
        except NotFound as exc:
            raise CommandError(exc.message) from None

    print_json(run_in_transaction(run))


@programme_app.command("get")
def programme_get(customer_list: Annotated[str, _LIST_OPTION], ref: Annotated[str | None, _REF_OPTION] = None) -> None:
    """Print the scheme's programme."""
    from patronage.programmes import service

    _programme_command(lambda session, found: service.retrieve(session, found, ref), customer_list)


@programme_app.command("list")
def programme_list(customer_list: Annotated[str, _LIST_OPTION]) -> None:
    """Print the list's programmes: {"loyalty_programmes": [...]}."""
    from patronage.programmes import service

    async def work(session, found):
        return {
            "loyalty_programmes": [
                service.render(p, found.owner_timezone) for p in await service.of_list(session, found.id)
            ]
        }

    _programme_command(work, customer_list)


@programme_app.command("set")
def programme_set(
    customer_list: Annotated[str, _LIST_OPTION],
    body: Annotated[str, typer.Option(help='The programme as PUT takes it, e.g. \'{"points_per_unit": "1"}\'')],
    ref: Annotated[str | None, _REF_OPTION] = None,
) -> None:
    """Create or replace the scheme's programme (fields left out take their default, as with PUT)."""
    from decimal import Decimal

    from patronage.bodies import parse_model
    from patronage.programmes import service
    from patronage.programmes.schemas import ProgrammeIn

    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        fail(f"--body is not JSON: {exc}")
    if not isinstance(data, dict):
        fail("--body must be a JSON object")

    async def work(session, found):
        return await service.put(session, found, ref, parse_model(ProgrammeIn, data))

    _programme_command(work, customer_list)


@programme_app.command("delete")
def programme_delete(
    customer_list: Annotated[str, _LIST_OPTION], ref: Annotated[str | None, _REF_OPTION] = None
) -> None:
    """Delete the scheme's programme (cards, balances and operations stay)."""
    from patronage.programmes import service

    _programme_command(lambda session, found: service.delete(session, found, ref), customer_list)


@admin.command("expire-points")
def expire_points(
    now: Annotated[
        str | None, typer.Option(help="The time of the pass, ISO 8601 (default: now); naive times are UTC")
    ] = None,
) -> None:
    """Run one pass of points expiry (the worker runs one every minute): {"cards", "expired_lots", ...}."""
    from datetime import UTC, datetime

    from patronage import migrate as migrations
    from patronage.db import utcnow
    from patronage.programmes import expiry

    moment = utcnow()
    if now is not None:
        try:
            parsed = datetime.fromisoformat(now)
        except ValueError:
            fail(f"--now {now!r} is not an ISO 8601 time")
        moment = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    settings = settings_or_fail()

    async def one_pass(db: Database) -> Any:
        return (await expiry.run_pass(db, moment)).render()

    try:
        migrations.upgrade(settings.database_url)
        result = with_database(settings, one_pass)
    except DATABASE_ERRORS as exc:
        database_failure(settings, exc)
    print_json({**result, "now": moment.isoformat()})
