"""What every command module shares: the error a bad argument raises, printing a result, the settings, the one
write transaction, database errors as a message. The command modules (``patronage.cli``, ``transfer/*_cli.py``)
import this, never each other's importer."""

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from sqlalchemy.exc import DBAPIError

from patronage.db import Database
from patronage.settings import Settings, get_settings

T = TypeVar("T")


class CommandError(Exception):
    """A bad argument: reported on stderr, exit status 1."""


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, default=str))


def settings_or_fail() -> Settings:
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
        fail("; ".join(problems))
        raise  # not reached: fail exits


DATABASE_ERRORS = (DBAPIError, ConnectionError, TimeoutError, socket.gaierror)


def database_reason(exc: BaseException) -> str:
    """A database error's first line (the driver's own message, not SQLAlchemy's wrapping)."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def database_failure(settings: Settings, exc: BaseException) -> None:
    fail(f"database {safe_url(settings.database_url)}: {database_reason(exc)}")


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """``work(db)`` run to its end with a Database of its own, whose connections are closed after."""

    async def main() -> T:
        db = Database(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def run_in_transaction(work: Callable[[Any], Awaitable[Any]], *, migrate_first: bool = True) -> Any:
    """Runs ``work(session)`` in one write transaction; operator errors become a message and exit 1."""
    from patronage import migrate
    from patronage.errors import ValidationFailed
    from patronage.tenancy.service import TenancyError

    settings = settings_or_fail()

    async def in_transaction(db: Database) -> Any:
        async with db.session(write=True) as session:
            return await work(session)

    try:
        if migrate_first:
            migrate.upgrade(settings.database_url)
        return with_database(settings, in_transaction)
    except (TenancyError, CommandError) as exc:
        fail(str(exc))
    except ValidationFailed as exc:
        fail("; ".join(f"{e['field']} {e['message']}" for e in exc.errors or []) or exc.message)
    except DATABASE_ERRORS as exc:
        # An unreachable database, or a value the database refuses (a race on a unique email...): a message,
        # not a 100-line traceback. The transaction was rolled back, so nothing was written.
        database_failure(settings, exc)


def bounded(value: str | None, option: str, limit: int = 255) -> None:
    """Names and device ids are stored in 255-character columns: PostgreSQL would fail with a traceback
    and SQLite would store them silently, so the CLI refuses them up front the same way on both."""
    if value is not None and len(value.strip()) > limit:
        fail(f"{option} is too long (maximum is {limit} characters)")


def safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
