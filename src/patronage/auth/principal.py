"""Who is calling: the connection behind an ``X-Access-Token``, and what it may see and do."""

import time
from dataclasses import dataclass

from fastapi import Depends
from fastapi.security import APIKeyHeader
from sqlalchemy import select
from starlette.requests import Request

from patronage.auth.models import Client, Connection
from patronage.auth.revision import RevisionReader, reader_for
from patronage.auth.scopes import Scope, parse_scope
from patronage.db import Database
from patronage.errors import Forbidden, Unauthorized
from patronage.ids import hash_secret


@dataclass(frozen=True)
class Principal:
    connection_id: str
    client_id: str
    client_name: str
    account_id: str
    location_id: str | None
    scope: Scope
    customer_list_id: str | None
    rate_limits: dict[str, int] | None = None
    user_id: str | None = None

    @property
    def access_level(self) -> str:
        return self.scope.level

    @property
    def is_account_level(self) -> bool:
        return self.scope.level == "account"

    def require_location_level(self) -> str:
        if self.is_account_level or self.location_id is None:
            raise Forbidden("This endpoint is for location-level connections only")
        return self.location_id

    def require_account_level(self) -> str:
        if not self.is_account_level:
            raise Forbidden("This endpoint is for account-level connections only")
        return self.account_id


def get_db(request: Request) -> Database:
    return request.app.state.db


class PrincipalCache:
    """Valid tokens seen in the last few seconds, so that most requests open one database session, not two.

    Keyed by the token's hash; only successes are kept, for ``ttl`` seconds at most (0 turns the cache off).
    Before an entry is trusted, the auth revision is read (patronage.auth.revision: microseconds on SQLite, a
    shared round trip on PostgreSQL): the database raises it in the transaction that revokes or changes a
    connection, so a changed revision drops every entry, in every process, before the next request is
    answered. When it cannot be read, the cache is not used.
    """

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._revision: int | None = None
        self._reader: RevisionReader | None = None
        self._reader_for: Database | None = None

    async def revision(self, db: Database) -> int | None:
        """The current auth revision (None: unknown, don't trust the cache); a new one empties the cache."""
        if self.ttl <= 0:
            return None
        if self._reader_for is not db:
            self._reader_for, self._reader = db, reader_for(db.settings.database_url)
            if self._reader is not None:
                db.on_dispose(self._reader.close)
        # No reader (an in-memory database): one process, whose own revocations call forget().
        revision = 0 if self._reader is None else await self._reader.current()
        if revision is not None and revision != self._revision:
            self._entries.clear()
            self._revision = revision
        return revision

    def get(self, key: str, revision: int | None) -> Principal | None:
        if revision is None or revision != self._revision:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def forget(self, key: str) -> None:
        """A token revoked through this process stops working here at once (the revision tells the others)."""
        self._entries.pop(key, None)

    def put(self, key: str, principal: Principal, revision: int | None) -> None:
        """``revision`` is the one read before the principal was: if it has moved on since, the principal
        may predate a revocation and is not kept."""
        if self.ttl <= 0 or revision is None or revision != self._revision:
            return
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[key] = (now + self.ttl, principal)


async def authenticate(db: Database, token: str | None, cache: PrincipalCache | None = None) -> Principal:
    if not token:
        raise Unauthorized("An access token must be sent in the X-Access-Token header")
    token_hash = hash_secret(token)
    revision = await cache.revision(db) if cache is not None else None
    cached = cache.get(token_hash, revision) if cache is not None else None
    if cached is not None:
        return cached
    async with db.session(write=False) as session:
        row = (
            await session.execute(
                select(Connection, Client.name)
                .join(Client, Client.id == Connection.client_id)
                .where(Connection.token_hash == token_hash, Connection.revoked_at.is_(None))
            )
        ).first()
    if row is None:
        raise Unauthorized()
    principal = principal_of(*row)
    if cache is not None:
        cache.put(token_hash, principal, revision)
    return principal


def principal_of(connection: Connection, client_name: str) -> Principal:
    return Principal(
        connection_id=connection.id,
        client_id=connection.client_id,
        client_name=client_name,
        account_id=connection.account_id,
        location_id=connection.location_id,
        scope=parse_scope(connection.scope),
        customer_list_id=connection.customer_list_id,
        rate_limits=connection.rate_limits,
        user_id=connection.user_id,
    )


# Declared as a security scheme, so that the OpenAPI document says how every API route authenticates.
access_token_header = APIKeyHeader(
    name="X-Access-Token", scheme_name="AccessToken", description="A connection's access token", auto_error=False
)


async def current_principal(request: Request, token: str | None = Depends(access_token_header)) -> Principal:
    """FastAPI dependency: every API route requires a valid access token."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = await authenticate(get_db(request), token, getattr(request.app.state, "principal_cache", None))
    request.state.principal = principal
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.check(principal.connection_id, heavy=_is_heavy(request), overrides=principal.rate_limits)
    return principal


# Index queries that cost the database the most get a tighter limit (SPEC §4).
HEAVY_SUFFIXES = ("/customers", "/orders")


def _is_heavy(request: Request) -> bool:
    route = request.scope.get("route")
    return request.method == "GET" and getattr(route, "path", "").endswith(HEAVY_SUFFIXES)
