"""The schema the migrations build is the one the code declares: no table, column, index or type the models
name is missing from a migrated database, and no migration leaves behind what the models dropped."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from patronage import migrate, models  # noqa: F401  (models registers every table)
from patronage.db import Base, Database


def _differences(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": migrate.include_object}
    )
    return compare_metadata(context, Base.metadata)


async def test_the_migrated_database_matches_the_models(db: Database) -> None:
    async with db.read_engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
