"""``patronage import customers``: a CSV or NDJSON file of customers into a list (the work is in
``transfer.customers_import``; the formats in docs/import-export.md)."""

from pathlib import Path
from typing import Annotated

import typer

FORMATS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}


def register(group: typer.Typer) -> None:
    """Adds this module's commands to ``group``."""
    group.command("customers")(customers)


def customers(
    file: Annotated[str, typer.Argument(help="The file to import (CSV or NDJSON); - reads stdin")],
    customer_list: Annotated[str, typer.Option(help="The customer list's id")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or ndjson (default: from the extension: .csv, .ndjson, .jsonl)")
    ] = None,
    key: Annotated[str, typer.Option(help="Match rows to customers by email or by private_ref")] = "email",
    client: Annotated[
        str | None, typer.Option(help="The client whose private refs the private_ref column holds")
    ] = None,
    rejects: Annotated[
        str | None, typer.Option(help="Where bad rows go (default: FILE.rejects.ndjson; stdin.rejects.ndjson for -)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per batch (about)")] = 5000,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--no-bulk",
            help="PostgreSQL: import in one transaction with the tables' indexes rebuilt at the end, locking"
            " them meanwhile (default: for a big file into an empty list of a new database)",
        ),
    ] = None,
) -> None:
    """Import customers, their loyalty cards and opening balances; prints a JSON summary at the end.

    Rows are matched to customers by --key: a new key creates a customer, a known one updates it. Bad rows go
    to the rejects file with their line numbers and reasons; the others are imported, in whole batches (an
    interrupted import can be run again: it finishes what is missing and changes nothing else). A bulk import
    is one transaction: interrupted, it leaves nothing, and is run again."""
    import asyncio
    import signal
    import sys
    import time

    from patronage import cli_support, migrate
    from patronage.db import Database
    from patronage.transfer import customers_import as work
    from patronage.transfer.customer_rows import KEYS, HeaderError, check_header

    started = time.perf_counter()
    if key not in KEYS:
        cli_support.fail(f"--key must be email or private_ref, not {key!r}")
    if key == "private_ref" and client is None:
        cli_support.fail("--key private_ref needs --client: private refs are each client's own")
    fmt = (file_format or FORMATS.get(Path(file).suffix.lower())) if file != "-" else file_format
    if fmt is None:
        cli_support.fail(
            "give --format csv or --format ndjson (stdin has no extension)"
            if file == "-"
            else f"cannot tell the format of {file!r} from its extension: give --format csv or --format ndjson"
        )
    if fmt not in ("csv", "ndjson"):
        cli_support.fail(f"--format must be csv or ndjson, not {fmt!r}")
    settings = cli_support.settings_or_fail()

    try:
        stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115 - open for the whole run
    except OSError as exc:
        cli_support.fail(f"cannot read {file}: {exc.strerror}")
    try:
        source = work.open_source(stream, fmt)
        if isinstance(source, work.CsvFile):
            check_header(source.header, key)
    except (ValueError, HeaderError) as exc:
        cli_support.fail(f"{file}: {exc}")

    rejects_path = rejects or ("stdin.rejects.ndjson" if file == "-" else f"{file}.rejects.ndjson")
    interactive = sys.stderr.isatty()
    file_size = _size(stream) if file != "-" else None
    mode: list[str] = [work.Mode.IN_PLACE.value]  # what the messages say if the import stops

    async def main(reader: work.ReadingProcess) -> work.Counts:
        db = Database(settings)
        try:
            target = await work.check_target(db, customer_list, key, client)
            try:
                rejects_file = open(rejects_path, "w", encoding="utf-8")  # noqa: ASYNC230, SIM115
            except OSError as exc:
                raise work.ImportArgumentError(f"cannot write {rejects_path}: {exc.strerror}") from None
            with rejects_file, _progress(interactive, file_size) as bar:

                def announce(what: str) -> None:
                    if what in (work.Mode.BULK.value, work.Mode.IN_PLACE.value):
                        mode[0] = what
                    bar.say(what)

                return await work.run(
                    db,
                    reader,
                    target,
                    rejects_file,
                    file_size=file_size,
                    bulk_mode=bulk,
                    progress=bar.update,
                    announce=announce,
                )
        finally:
            await db.dispose()

    def left() -> str:
        if mode[0] == work.Mode.BULK.value:
            return "a bulk import is one transaction: nothing of it stays; run the same import again"
        return "the batches committed so far stay imported; run the same import again to finish it"

    # Forked before any connection or event loop: the process starts reading at once.
    reader = work.read_in_background(
        source, key=key, private_refs=client is not None, context={"settings": settings}, batch_size=batch_size
    )
    try:
        migrate.upgrade(settings.database_url)
        counts = asyncio.run(main(reader))
    except work.ImportArgumentError as exc:
        reader.stop()
        cli_support.fail(str(exc))
    except KeyboardInterrupt:  # the transaction under way was rolled back
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C doesn't cut the message short
        reader.stop()
        _stop(f"interrupted: {left()}", 130)
    except Exception as exc:  # a database that cannot be reached or refuses a batch: one line, no traceback
        reader.stop()
        # (COPY goes through asyncpg itself: its errors are not wrapped in SQLAlchemy's.)
        if not isinstance(exc, (*cli_support.DATABASE_ERRORS, OSError)) and not type(exc).__module__.startswith(
            "asyncpg"
        ):
            raise
        reason = cli_support.database_reason(exc)
        _stop(f"error: database {cli_support.safe_url(settings.database_url)}: {reason} ({left()})", 1)
    reader.stop()
    cli_support.print_json(work.summary(counts, started))


def _size(stream) -> int | None:
    import os

    try:
        return os.fstat(stream.fileno()).st_size or None
    except OSError:
        return None


def _stop(message: str, status: int) -> None:
    """Ends an import cut short at once: the thread receiving batches may be blocked; the interpreter's
    shutdown would wait for it."""
    import os
    import sys

    typer.echo(message, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class _progress:
    """A progress bar on stderr when it is a terminal (rich comes with typer); nothing otherwise."""

    def __init__(self, interactive: bool, total: int | None):
        self.bar = None
        if not interactive:
            return
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rows]:,} rows, {task.fields[rejected]:,} rejected"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.bar.add_task("importing", total=total, rows=0, rejected=0)

    def __enter__(self) -> "_progress":
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def update(self, counts, bytes_read: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=bytes_read, rows=counts.read, rejected=counts.rejected)

    def say(self, what: str) -> None:
        """What is under way: the mode (``importing (bulk)``), then the rebuilding of the indexes."""
        if self.bar is not None:
            description = f"importing ({what})" if what in ("bulk", "in place") else what
            self.bar.update(self.task, description=description)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
