"""``patronage export customers|loyalty-cards|operations|orders``: a list's data (or a location's or an account's
orders) as CSV or NDJSON, on stdout or in ``--output FILE`` (formats: docs/import-export.md; the work:
``transfer/exporter.py``). Heavy imports happen inside the commands: ``patronage --help`` stays fast."""

from pathlib import Path
from typing import Annotated, Any

import typer

ListOption = Annotated[str, typer.Option("--customer-list", help="The customer list's id")]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="csv or ndjson (default: --output's extension, .csv or .ndjson/.jsonl; else ndjson)"),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", help="Write to this file (replaced once complete) instead of stdout")
]
ClientOption = Annotated[
    str | None, typer.Option("--client", help="Fill private_ref with this client's private refs (default: empty)")
]
BatchOption = Annotated[
    int, typer.Option("--batch-size", min=1, max=20_000, help="Rows read per round trip to the database")
]

EXTENSIONS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}


def format_of(given: str | None, output: Path | None) -> str:
    from patronage.cli_support import CommandError

    if given is not None:
        name = given.strip().lower()
        if name not in ("csv", "ndjson"):
            raise CommandError(f"unknown format {given!r} (expected csv or ndjson)")
        return name
    if output is not None:
        return EXTENSIONS.get(output.suffix.lower(), "ndjson")
    return "ndjson"


def run(kind: str, fmt: str | None, output: Path | None, batch_size: int, **where: Any) -> None:
    """Checks the arguments, streams the export, and prints a summary (with ``--output`` only: stdout is the data
    otherwise). A bad argument is a message on stderr and exit 1; a reader that goes away (``| head``) ends the
    export quietly, with the exit status of a process killed by SIGPIPE (141), as ``cat`` would."""
    import os
    import socket
    import sys
    import time

    from sqlalchemy.exc import DBAPIError

    from patronage import migrate
    from patronage.cli_support import (
        CommandError,
        database_failure,
        fail,
        print_json,
        safe_url,
        settings_or_fail,
        with_database,
    )
    from patronage.transfer import exporter
    from patronage.transfer.output import Output

    try:
        request = exporter.Request(kind=kind, format=format_of(fmt, output), batch_size=batch_size, **where)
    except CommandError as exc:
        fail(str(exc))
    settings = settings_or_fail()
    sink = Output(output)
    started = time.perf_counter()

    try:
        migrate.upgrade(settings.database_url)
        summary = with_database(settings, lambda db: exporter.export(db, request, sink, sink.open))
        sink.commit()
    except BrokenPipeError:
        sink.discard()
        # Python flushes stdout again at exit: point it at /dev/null so that no second error is printed.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None
    except exporter.ExportError as exc:
        sink.discard()
        fail(str(exc))
    except OSError as exc:
        if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
            sink.discard()
            fail(f"database {safe_url(settings.database_url)}: {exc}")
        sink.discard()
        fail(f"{exc.filename or output}: {exc.strerror or exc}")
    except DBAPIError as exc:
        sink.discard()
        database_failure(settings, exc)
    except BaseException:
        sink.discard()
        raise
    if output is not None:
        print_json(
            {
                "exported": kind,
                "format": request.format,
                "output": str(output),
                "count": summary.count,
                "rows": summary.rows,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )


def register(group: typer.Typer) -> None:
    """Adds this module's commands to ``group``."""

    @group.command("customers")
    def customers(
        customer_list: ListOption,
        client: ClientOption = None,
        fmt: FormatOption = None,
        output: OutputOption = None,
        batch_size: BatchOption = 5_000,
    ) -> None:
        """A list's customers, oldest first: in CSV one row per (customer, card), in NDJSON one customer a line as
        GET .../customers/:id renders it, with its loyalty cards."""
        run("customers", fmt, output, batch_size, customer_list_id=customer_list, client_id=client)

    @group.command("loyalty-cards")
    def loyalty_cards(
        customer_list: ListOption,
        fmt: FormatOption = None,
        output: OutputOption = None,
        batch_size: BatchOption = 5_000,
    ) -> None:
        """A list's loyalty cards, oldest first: id, customer_id, ref, name, balance, created_at."""
        run("loyalty-cards", fmt, output, batch_size, customer_list_id=customer_list)

    @group.command("operations")
    def operations(
        customer_list: ListOption,
        fmt: FormatOption = None,
        output: OutputOption = None,
        batch_size: BatchOption = 5_000,
    ) -> None:
        """A list's loyalty operations: cards oldest first, each card's operations in ledger order."""
        run("operations", fmt, output, batch_size, customer_list_id=customer_list)

    @group.command("orders")
    def orders(
        customer_list: Annotated[
            str | None, typer.Option("--customer-list", help="Orders linked to customers of this list")
        ] = None,
        location: Annotated[str | None, typer.Option("--location", help="The location's orders")] = None,
        account: Annotated[str | None, typer.Option("--account", help="Every order of the account")] = None,
        client: Annotated[
            str | None, typer.Option("--client", help="Show this client's private refs (default: none)")
        ] = None,
        fmt: FormatOption = None,
        output: OutputOption = None,
        batch_size: BatchOption = 5_000,
    ) -> None:
        """Orders, oldest first, as GET .../orders/:id renders them (CSV: nested parts as JSON text)."""
        from patronage.cli_support import fail

        if sum(value is not None for value in (customer_list, location, account)) != 1:
            fail("give exactly one of --customer-list, --location and --account")
        run(
            "orders",
            fmt,
            output,
            batch_size,
            customer_list_id=customer_list,
            location_id=location,
            account_id=account,
            client_id=client,
        )
