"""``patronage import ...`` and ``patronage export ...``: each command lives in its own module and registers
itself on these two groups (so the CLI's start-up imports nothing heavy)."""

import typer

from patronage.transfer import export_cli, hubrise_cli, import_cli

import_app = typer.Typer(
    help="Bring data in: a file of customers, or everything from a HubRise-compatible API.", no_args_is_help=True
)
export_app = typer.Typer(help="Take data out, streaming, as CSV or NDJSON.", no_args_is_help=True)

import_cli.register(import_app)
hubrise_cli.register(import_app)
export_cli.register(export_app)
