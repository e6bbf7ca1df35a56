"""Active callbacks: the worker that POSTs events to their connection's URL (SPEC §9).

Each round claims due events in a short write transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
single writer on SQLite), pushing their next attempt past the delivery timeout: a lease. The POST happens
outside any transaction; its outcome is written afterwards. A worker killed mid-delivery leaves the lease to
run out, and the event is tried again: delivery is at least once, never lost, never twice at the same time.
"""

import asyncio
import hashlib
import hmac
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

import httpx
import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage import idempotency, logs, sealing
from patronage.auth.models import Client, Connection
from patronage.db import Database, utcnow
from patronage.events.callbacks import UnsafeAddress, check_destination
from patronage.events.models import Callback, Event
from patronage.events.service import dump, render_event
from patronage.programmes import expiry
from patronage.settings import Settings

log = structlog.get_logger("patronage.delivery")

SIGNATURE_HEADER = "X-HubRise-Hmac-SHA256"
BATCH = 50
# Room, past the POST's own timeout, to record its outcome before another worker may take the event.
LEASE_MARGIN_SECONDS = 5.0
PURGE_EVERY_SECONDS = 600.0


@dataclass(frozen=True)
class Claim:
    seq: int
    event_id: str
    connection_id: str
    url: str
    secret: str | None  # the client secret (in memory only), None when it cannot be opened
    body: bytes
    attempt: int  # 1 for the first try


async def _open(session: AsyncSession, sealed: str | None, settings: Settings) -> str | None:
    if sealed is None:
        return None
    try:
        return await sealing.unseal(session, sealed, settings)
    except sealing.SealError:
        log.error("client_secret_unreadable", hint="PATRONAGE_SECRET_KEY differs from the one that sealed it")
        return None


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _due(now):
    return (
        select(Event, Callback.url, Client.secret_sealed)
        .join(Callback, Callback.connection_id == Event.connection_id)
        .join(Connection, Connection.id == Event.connection_id)
        .join(Client, Client.id == Connection.client_id)
        .where(Event.next_attempt_at <= now, Callback.url.is_not(None), Connection.revoked_at.is_(None))
    )


async def claim(db: Database, settings: Settings, limit: int = BATCH) -> list[Claim]:
    now = utcnow()
    # A read first: an idle worker must not take SQLite's write lock every second.
    async with db.session(write=False) as session:
        if (await session.execute(_due(now).with_only_columns(Event.seq).limit(1))).first() is None:
            return []
    # One event per connection and round (its oldest due one): a connection's events go one after the other,
    # and each lease need only outlast one POST. A worker that dies leaves it to run out: tried again soon.
    lease = timedelta(seconds=settings.callback_timeout_seconds + LEASE_MARGIN_SECONDS)
    stmt = _due(now).order_by(Event.seq).limit(limit)
    if db.dialect == "postgresql":
        stmt = stmt.with_for_update(of=Event, skip_locked=True)
    claims = []
    async with db.session(write=True) as session:
        for event, url, secret_sealed in (await session.execute(stmt)).all():
            if any(claim.connection_id == event.connection_id for claim in claims):
                continue
            event.attempts += 1
            event.next_attempt_at = now + lease
            event.last_attempt_at = now
            body = dump(render_event(event)).encode()
            secret = await _open(session, secret_sealed, settings)
            claims.append(Claim(event.seq, event.id, event.connection_id, url, secret, body, event.attempts))
    return claims


async def deliver(http: httpx.AsyncClient, item: Claim, settings: Settings) -> str | None:
    """POSTs one event; None when the receiver acknowledged it (any 200-499 answer in time), else why not."""
    if item.secret is None:
        return "the client's secret is not available to sign with"
    try:
        await check_destination(item.url, settings)
    except UnsafeAddress as exc:
        return str(exc)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(item.secret, item.body)}
    try:
        response = await asyncio.wait_for(
            http.post(item.url, content=item.body, headers=headers), settings.callback_timeout_seconds
        )
    except TimeoutError:
        return f"no answer within {settings.callback_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 500:
        return None
    return f"HTTP {response.status_code}"


async def finish(db: Database, settings: Settings, item: Claim, error: str | None) -> None:
    async with db.session(write=True) as session:
        if error is None:
            await session.execute(delete(Event).where(Event.seq == item.seq))
            log.info("event_delivered", event_id=item.event_id, connection_id=item.connection_id, attempt=item.attempt)
            return
        if item.attempt > settings.callback_retries:
            await session.execute(delete(Event).where(Event.seq == item.seq))
            log.warning("event_dropped", event_id=item.event_id, connection_id=item.connection_id, error=error)
            return
        wait = settings.callback_retry_base_seconds * 2 ** (item.attempt - 1)
        await session.execute(
            update(Event)
            .where(Event.seq == item.seq)
            .values(next_attempt_at=utcnow() + timedelta(seconds=wait), last_error=error)
        )
        log.info("event_retry", event_id=item.event_id, attempt=item.attempt, wait_seconds=wait, error=error)


async def _deliver(db: Database, settings: Settings, http: httpx.AsyncClient, item: Claim) -> None:
    await finish(db, settings, item, await deliver(http, item, settings))


async def run_once(db: Database, settings: Settings, http: httpx.AsyncClient) -> int:
    """Claims and delivers one round (one event per connection, connections in parallel); returns how many."""
    items = await claim(db, settings)
    await asyncio.gather(*(_deliver(db, settings, http, item) for item in items))
    return len(items)


async def run(settings: Settings, db: Database | None = None, stop: asyncio.Event | None = None) -> None:
    """The worker loop, until ``stop`` is set (or the task is cancelled)."""
    own_db = db is None
    db = db or Database(settings)
    stop = stop or asyncio.Event()
    last_purge = 0.0
    last_expiry = None
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(follow_redirects=False) as http:
            while not stop.is_set():
                handled = 0
                try:
                    handled = await run_once(db, settings, http)
                    if loop.time() - last_purge > PURGE_EVERY_SECONDS:
                        async with db.session(write=True) as session:
                            await idempotency.purge_expired(session)
                        last_purge = loop.time()
                    if last_expiry is None or loop.time() - last_expiry > expiry.PASS_EVERY_SECONDS:
                        await expiry.run_pass(db, utcnow())  # loyalty programmes' points expiry (an extension)
                        last_expiry = loop.time()
                except Exception as exc:  # the database may be away for a while: keep trying
                    log.error("delivery_round_failed", error=logs.describe_exception(exc))  # messages quote values
                if not handled:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), settings.callback_poll_seconds)
    finally:
        if own_db:
            await db.dispose()
