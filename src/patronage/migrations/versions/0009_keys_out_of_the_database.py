"""keys out of the database: the sealing key moves to the key file (or under PATRONAGE_SECRET_KEY); OAuth tokens
are derived (connection.token_salt) instead of sealed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:02:11.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATABASE_KEY = "client-secrets"


def _settings():
    # The environment's settings (PATRONAGE_SECRET_KEY, PATRONAGE_SECRET_KEY_FILE), for the database migrated.
    from patronage.settings import get_settings

    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    return get_settings().model_copy(update={"database_url": url})


def upgrade() -> None:
    from patronage import sealing

    bind = op.get_bind()
    server_key = sa.table("server_key", sa.column("name"), sa.column("value"))
    legacy = bind.execute(sa.select(server_key.c.value).where(server_key.c.name == DATABASE_KEY)).scalar()
    if legacy is not None:
        sealing.adopt_database_key(bind, legacy, _settings())
    op.drop_table("server_key")
    # A plain ALTER TABLE: a batch migration would recreate ``connection`` on SQLite and drop 0008's triggers.
    op.add_column("connection", sa.Column("token_salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # Versions before 0009 read their key from the database: it goes back there (with it, the leak 0009 closed).
    from patronage import sealing

    # Plain ALTER TABLE (SQLite 3.35 and later): a batch migration would recreate the table without its triggers.
    op.drop_column("connection", "token_salt")
    op.create_table(
        "server_key",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_key")),
    )
    settings = _settings()
    keys = sealing.read_key_file(sealing.key_file_path(settings))
    if keys and not settings.secret_key:
        server_key = sa.table("server_key", sa.column("name"), sa.column("value"), sa.column("created_at"))
        op.execute(server_key.insert().values(name=DATABASE_KEY, value=keys[0], created_at=sa.func.now()))
