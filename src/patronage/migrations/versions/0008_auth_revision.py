"""auth revision: a counter the database raises whenever a cached access token may have changed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:40:00

Every process caches the tokens it has checked (patronage.auth.principal) and reads this counter on each
request: a revocation commits together with its increment, so it reaches every process and host before the
revoke answers. Triggers raise it, so that every writer is covered (the OAuth revoke, the CLI, cascades from
deleted accounts, clients or lists, and hand-written SQL): on a connection's delete, and on an update of
anything a cached principal holds. On SQLite, a batch migration that recreates ``connection`` or ``client``
drops their triggers: it must create them again (tests/auth/test_revocation.py checks they are there).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What a cached principal holds of its connection (patronage.auth.principal.principal_of), and the token.
_CONNECTION_COLUMNS = (
    "token_hash",
    "revoked_at",
    "client_id",
    "user_id",
    "account_id",
    "location_id",
    "scope",
    "customer_list_id",
    "rate_limits",
)
_BUMP = "UPDATE auth_revision SET value = value + 1 WHERE id = 1"


def _changed(dialect: str) -> str:
    if dialect == "postgresql":
        # json has no equality operator: compared as text.
        columns = [f"{c}::text" if c == "rate_limits" else c for c in _CONNECTION_COLUMNS]
        return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _CONNECTION_COLUMNS)


def _triggers(dialect: str) -> list[tuple[str, str, str, str | None]]:
    """(name, table, event, condition) of each trigger that raises the revision."""
    renamed = "OLD.name IS DISTINCT FROM NEW.name" if dialect == "postgresql" else "OLD.name IS NOT NEW.name"
    return [
        ("connection_changed_auth_revision", "connection", "UPDATE", _changed(dialect)),
        ("connection_deleted_auth_revision", "connection", "DELETE", None),
        ("client_renamed_auth_revision", "client", "UPDATE", renamed),
    ]


def upgrade() -> None:
    op.create_table(
        "auth_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_revision")),
    )
    op.execute("INSERT INTO auth_revision (id, value) VALUES (1, 0)")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION auth_revision_bump() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
    for name, table, event, condition in _triggers(dialect):
        head = f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
        if dialect == "postgresql":
            when = f" WHEN ({condition})" if condition else ""
            op.execute(f"{head}{when} EXECUTE FUNCTION auth_revision_bump()")
        else:
            when = f" WHEN {condition}" if condition else ""
            op.execute(f"{head}{when} BEGIN {_BUMP}; END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table, _, _ in _triggers(dialect):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS auth_revision_bump()")
    op.drop_table("auth_revision")
