"""Bring a database to the newest schema with Alembic, from code (``patronage migrate``, tests, ``serve``)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What schema comparisons look at: not the PostgreSQL-only trigram indexes, which migrations create by
    hand (they are not in the metadata)."""
    return not (type_ == "index" and reflected and compare_to is None and name and name.endswith("_trgm"))


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
