"""Placeholder: this module registers its commands (being written on a branch)."""

import typer


def register(group: typer.Typer) -> None:
    """Adds this module's commands to ``group``."""
