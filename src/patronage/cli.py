"""``patronage``: serve, migrate, and the operator's admin commands (each prints one JSON object)."""

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError

from patronage.db import Database
from patronage.settings import Settings, get_settings

app = typer.Typer(help="Patronage: customer and loyalty API server.", no_args_is_help=True, add_completion=False)
admin = typer.Typer(help="Operator commands; each prints one JSON object on stdout.", no_args_is_help=True)
app.add_typer(admin, name="admin")


def _add_transfer_commands() -> None:
    from patronage.transfer.cli import export_app, import_app

    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")


_add_transfer_commands()


class CommandError(Exception):
    """A bad argument: reported on stderr, exit status 1."""


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _print(obj: Any) -> None:
    typer.echo(json.dumps(obj, default=str))


def _settings() -> Settings:
    """The environment's settings (the ones the app and ``tenancy.password_hasher()`` use); a bad value is a
    message naming its variable, not a traceback."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        problems = [
            f"PATRONAGE_{'_'.join(map(str, error['loc'])).upper()}: {error['msg']}" if error["loc"] else error["msg"]
            for error in exc.errors()
        ]
        _fail("; ".join(problems))
        raise  # not reached: _fail exits


DATABASE_ERRORS = (DBAPIError, ConnectionError, TimeoutError, socket.gaierror)


def _database_failure(settings: Settings, exc: BaseException) -> None:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    _fail(f"database {_safe_url(settings.database_url)}: {reason}")


def run_in_transaction(work: Callable[[Any], Awaitable[Any]], *, migrate_first: bool = True) -> Any:
    """Runs ``work(session)`` in one write transaction; operator errors become a message and exit 1."""
    from patronage import migrate
    from patronage.errors import ValidationFailed
    from patronage.tenancy.service import TenancyError

    settings = _settings()

    async def main() -> Any:
        db = Database(settings)
        try:
            async with db.session(write=True) as session:
                return await work(session)
        finally:
            await db.dispose()

    try:
        if migrate_first:
            migrate.upgrade(settings.database_url)
        return asyncio.run(main())
    except (TenancyError, CommandError) as exc:
        _fail(str(exc))
    except ValidationFailed as exc:
        _fail("; ".join(f"{e['field']} {e['message']}" for e in exc.errors or []) or exc.message)
    except DATABASE_ERRORS as exc:
        # An unreachable database, or a value the database refuses (a race on a unique email...): a message,
        # not a 100-line traceback. The transaction was rolled back, so nothing was written.
        _database_failure(settings, exc)


def _bounded(value: str | None, option: str, limit: int = 255) -> None:
    """Names and device ids are stored in 255-character columns: PostgreSQL would fail with a traceback
    and SQLite would store them silently, so the CLI refuses them up front the same way on both."""
    if value is not None and len(value.strip()) > limit:
        _fail(f"{option} is too long (maximum is {limit} characters)")


# --- server -----------------------------------------------------------------------------------------


@app.command()
def migrate() -> None:
    """Bring the database (PATRONAGE_DATABASE_URL) to the newest schema."""
    from patronage import migrate as migrations

    settings = _settings()
    migrations.upgrade(settings.database_url)
    _print({"migrated": True, "database": _safe_url(settings.database_url)})


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

    settings = _settings()
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


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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

    _print(run_in_transaction(work))


@admin.command("create-account")
def create_account(
    user: Annotated[str, typer.Option(help="Owner: user email or id")],
    name: Annotated[str, typer.Option(help="Account name")],
    currency: Annotated[str, typer.Option(help="ISO 4217 currency")] = "EUR",
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country")] = "FR",
    timezone: Annotated[str, typer.Option(help="IANA timezone")] = "Europe/Paris",
) -> None:
    from patronage.tenancy import service

    _bounded(name, "--name")

    async def work(session):
        owner = await service.find_user(session, user)
        account = await service.create_account(session, owner, name, currency, country, timezone)
        return {**service.render_account(account), "user_id": owner.id}

    _print(run_in_transaction(work))


@admin.command("create-location")
def create_location(
    account: Annotated[str, typer.Option(help="Account id")],
    name: Annotated[str, typer.Option(help="Location name")],
    currency: Annotated[str | None, typer.Option(help="ISO 4217 currency (default: the account's)")] = None,
    country: Annotated[str | None, typer.Option(help="Country (default: the account's)")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA timezone (default: the account's)")] = None,
) -> None:
    from patronage.tenancy import service

    _bounded(name, "--name")

    async def work(session):
        owner = await service.get_account(session, account)
        location = await service.create_location(session, owner, name, currency, country, timezone)
        return service.render_location(location, owner)

    _print(run_in_transaction(work))


def _one_of(location: str | None, account: str | None) -> None:
    if (location is None) == (account is None):
        _fail("give exactly one of --location and --account")


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

    _print(run_in_transaction(work))


@admin.command("create-client")
def create_client(
    name: Annotated[str, typer.Option(help="Client (application) name, shown as created_by")],
    redirect_uri: Annotated[list[str] | None, typer.Option(help="Allowed OAuth redirect URI (repeatable)")] = None,
) -> None:
    from patronage.auth import service

    _bounded(name, "--name")
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

    _print(run_in_transaction(work))


def _check_redirect_uri(uri: str) -> None:
    """A URI that can never match an authorisation request is a typo: OAuth wants an absolute URI without a
    fragment (RFC 6749 §3.1.2); custom schemes (com.example.app:/cb) are fine."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or any(c.isspace() for c in uri) or not (parts.netloc or parts.path):
        _fail(f"invalid --redirect-uri {uri!r} (expected an absolute URI without a #fragment)")


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
    _bounded(device_id, "--device-id")

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

    _print(run_in_transaction(work))


@admin.command("seed-customers")
def seed_customers(
    customer_list: Annotated[str, typer.Option(help="Customer list id")],
    count: Annotated[int, typer.Option(min=1, help="How many synthetic customers to add")],
) -> None:
    """Bulk-load realistic synthetic customers (for benchmarks and trying the search)."""
    from patronage import seed

    settings = _settings()
    from patronage import migrate as migrations

    migrations.upgrade(settings.database_url)
    try:
        result = asyncio.run(seed.seed_customers(settings, customer_list, count))
    except seed.SeedError as exc:
        _fail(str(exc))
    _print(result)


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

    _print(run_in_transaction(work))


@admin.command("rotate-secret-key")
def rotate_secret_key() -> None:
    """Seal every secret under a new key, while the processes running keep working (README: "Rotating the
    sealing key"). With a key file, the new key is made and installed here; with PATRONAGE_SECRET_KEY, roll it
    out first, then run this to re-seal what older keys sealed."""
    from patronage import migrate as migrations
    from patronage import sealing

    settings = get_settings()

    async def main() -> Any:
        db = Database(settings)
        try:
            return await sealing.rotate(db, settings)
        finally:
            await db.dispose()

    try:
        migrations.upgrade(settings.database_url)
        outcome = asyncio.run(main())
    except sealing.KeyFileError as exc:
        _fail(str(exc))
    except DATABASE_ERRORS as exc:
        _database_failure(settings, exc)
    _print(outcome)


# --- webhooks -------------------------------------------------------------------------------------------


@app.command()
def worker() -> None:
    """Deliver webhooks (active callbacks) until stopped; `serve` runs one too unless
    PATRONAGE_CALLBACK_WORKER=false."""
    from patronage import logs
    from patronage.events import delivery

    settings = _settings()
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

    _print(run_in_transaction(work))


@admin.command("verify-ledger")
def verify_ledger(
    customer_list: Annotated[str | None, typer.Option(help="Only this customer list's cards (default: all)")] = None,
) -> None:
    """Recompute every card's hash chain, running sums and balance; exit 1 when any card disagrees."""
    import time

    from patronage.loyalty import ledger

    settings = _settings()

    async def main() -> ledger.Verification:
        db = Database(settings)
        try:
            return await ledger.verify_database(db, customer_list)
        finally:
            await db.dispose()

    started = time.monotonic()
    try:
        found = asyncio.run(main())
    except DATABASE_ERRORS as exc:
        _database_failure(settings, exc)
    _print(
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

    _print(run_in_transaction(work))
