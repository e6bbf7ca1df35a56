"""``patronage import hubrise``: copy everything a token sees on a HubRise-compatible API into a local account,
and with ``--follow`` keep mirroring it (the work is in ``transfer/hubrise.py``; imported when the command runs)."""

from typing import Annotated

import typer


def _locations(values: list[str]) -> dict[str, str]:
    mapping = {}
    for value in values:
        source, sep, local = value.partition("=")
        if not sep or not source.strip() or not local.strip():
            raise typer.BadParameter(
                f"{value!r}: expected SOURCE_LOCATION_ID=LOCAL_LOCATION_ID", param_hint="--location"
            )
        mapping[source.strip()] = local.strip()
    return mapping


def register(group: typer.Typer) -> None:
    """Adds this module's commands to ``group``."""

    @group.command("hubrise")
    def import_hubrise(
        base_url: Annotated[str, typer.Option("--base-url", help="The source API, e.g. https://api.hubrise.com")],
        token: Annotated[
            str,
            typer.Option(
                "--token",
                envvar="PATRONAGE_SOURCE_TOKEN",
                help="The source access token (never stored; the variable keeps it out of the process list)",
            ),
        ],
        account: Annotated[str, typer.Option("--account", help="Local account the data lands in")],
        client: Annotated[
            str | None, typer.Option("--client", help="Local client that gets the token's private refs")
        ] = None,
        location: Annotated[
            list[str] | None,
            typer.Option("--location", help="SOURCE_LOCATION=LOCAL_LOCATION for location-level lists (repeat)"),
        ] = None,
        follow: Annotated[bool, typer.Option("--follow", help="Then keep mirroring until SIGINT/SIGTERM")] = False,
        interval: Annotated[float, typer.Option(min=0, help="Seconds between follow cycles")] = 10.0,
        deep_checks: Annotated[
            int, typer.Option(min=0, help="Cards whose newest operation is re-read per follow cycle")
        ] = 20,
        full: Annotated[
            bool, typer.Option("--full", help="Re-read every card's newest operations, even cards in step")
        ] = False,
        page_size: Annotated[int, typer.Option(min=1, max=100, help="count= of each index page")] = 100,
    ) -> None:
        """Import customer lists, customers (with the token's private refs), loyalty cards and their whole
        operation history from a HubRise-compatible API; resumable; one JSON summary on stdout."""
        import json

        from patronage import cli_support, migrate
        from patronage.errors import ValidationFailed
        from patronage.transfer import hubrise

        options = hubrise.Options(
            base_url=base_url,
            token=token,
            account_id=account,
            client_id=client,
            locations=_locations(location or []),
            follow=follow,
            interval=interval,
            deep_checks=deep_checks,
            full=full,
            page_size=page_size,
        )
        settings = cli_support.settings_or_fail()

        def log(message: str) -> None:
            typer.echo(f"hubrise: {message}", err=True)

        try:
            migrate.upgrade(settings.database_url)
            summary, stopped = cli_support.with_database(settings, lambda db: hubrise.run(db, options, log))
        except (hubrise.ImportError_, hubrise.SourceError) as exc:
            cli_support.fail(str(exc))
            return
        except ValidationFailed as exc:  # a source value the local rules refuse (a balance beyond the limit...)
            cli_support.fail("; ".join(f"{e['field']} {e['message']}" for e in exc.errors or []) or exc.message)
            return
        except cli_support.DATABASE_ERRORS as exc:
            cli_support.database_failure(settings, exc)
            return
        typer.echo(json.dumps(summary))
        if stopped and not follow:
            typer.echo("hubrise: interrupted; run the same command again to resume", err=True)
            raise typer.Exit(1)
