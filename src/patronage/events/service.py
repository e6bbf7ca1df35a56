"""Callbacks and events (SPEC §9): who subscribed, recording events with the change, passive reading.

A change that fires an event does, in its own transaction::

    watch = await events.watch(session, principal, "customer", "update", account_id, visible, render)
    ... change the resource ...
    await watch.record(session, render, {"customer_list_id": ..., "customer_id": ...}, timezone)

``render(principal)`` renders the resource as that subscriber reads it (its own private refs), so each
subscriber's event carries its own view; nothing is recorded for the connection that caused the change.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.models import Client, Connection
from patronage.auth.principal import Principal, principal_of
from patronage.db import utcnow
from patronage.errors import NotFound
from patronage.events.models import Callback, Event
from patronage.formats import render_time
from patronage.ids import new_id
from patronage.pagination import Page, PageRequest, cut_page, keyset_on

# What fires; the other pairs HubRise lists (callbacks.md, "allowed combinations") are accepted in a callback,
# stored and returned, and never fire here.
FIRED = {
    ("customer", "create"),
    ("customer", "update"),
    ("order", "create"),
    ("order", "update"),
    # A Patronage extension (programmes.tiers): a loyalty card changed tier. No HubRise client subscribes to it.
    ("loyalty_card", "update"),
}
ACCEPTED = FIRED | {
    ("catalog", "create"),
    ("catalog", "delete"),
    ("catalog", "update"),
    ("delivery", "create"),
    ("delivery", "update"),
    ("inventory", "patch"),
    ("inventory", "update"),
    ("location", "update"),
}

Render = Callable[[Principal], Awaitable[dict[str, Any]]]


def dump(value: Any) -> str:
    """JSON text exactly as the API renders a response body (Starlette's JSONResponse)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@dataclass(frozen=True)
class Subscriber:
    principal: Principal
    active: bool  # has a URL: the worker delivers its events


async def subscribers(
    session: AsyncSession,
    cause: Principal | None,
    account_id: str,
    resource_type: str,
    event_type: str,
    visible: Callable[[Principal], bool],
) -> list[Subscriber]:
    """The account's live connections that subscribed to the event and may read the resource."""
    stmt = (
        select(Connection, Client.name, Callback.url, Callback.events)
        .join(Callback, Callback.connection_id == Connection.id)
        .join(Client, Client.id == Connection.client_id)
        .where(Connection.account_id == account_id, Connection.revoked_at.is_(None))
    )
    if cause is not None:
        stmt = stmt.where(Connection.id != cause.connection_id)
    found = []
    for connection, client_name, url, wanted in (await session.execute(stmt)).all():
        if event_type not in (wanted or {}).get(resource_type, []):
            continue
        principal = principal_of(connection, client_name)
        if visible(principal):
            found.append(Subscriber(principal, active=url is not None))
    return found


@dataclass
class Watch:
    """One change about to happen, seen by its subscribers; ``record`` writes their events."""

    resource_type: str
    event_type: str
    subscribers: list[Subscriber]
    previous: dict[str, str] = field(default_factory=dict)

    async def record(self, session: AsyncSession, render: Render, resource_ids: dict[str, Any], timezone: str) -> None:
        now = utcnow()
        for subscriber in self.subscribers:
            connection_id = subscriber.principal.connection_id
            session.add(
                Event(
                    id=new_id(),
                    connection_id=connection_id,
                    resource_type=self.resource_type,
                    event_type=self.event_type,
                    resource_ids=resource_ids,
                    timezone=timezone,
                    previous_state=self.previous.get(connection_id),
                    new_state=dump(await render(subscriber.principal)),
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now if subscriber.active else None,
                )
            )
        if self.subscribers:
            await session.flush()


async def watch(
    session: AsyncSession,
    cause: Principal | None,
    resource_type: str,
    event_type: str,
    account_id: str,
    visible: Callable[[Principal], bool],
    render: Render,
    *,
    candidates: list[Subscriber] | None = None,
) -> Watch:
    """Finds the subscribers (or filters ``candidates``, fetched once for many resources) and, for an
    update, captures the resource as each of them reads it before the change."""
    if candidates is None:
        found = await subscribers(session, cause, account_id, resource_type, event_type, visible)
    else:
        found = [s for s in candidates if visible(s.principal)]
    result = Watch(resource_type, event_type, found)
    if event_type == "update":
        for subscriber in found:
            result.previous[subscriber.principal.connection_id] = dump(await render(subscriber.principal))
    return result


# --- reading events --------------------------------------------------------------------------------------


# The ids an event carries, in the order of HubRise's examples: the resource's own, its parent's, then the account.
_ID_ORDER = ("loyalty_card_id", "customer_id", "customer_list_id", "order_id", "location_id", "account_id")


def render_event(event: Event, *, with_states: bool = True) -> dict[str, Any]:
    """HubRise's event: ``previous_state`` only on update (and delete), ``new_state`` on create and update."""
    ids = sorted(event.resource_ids.items(), key=lambda item: _ID_ORDER.index(item[0]))
    body: dict[str, Any] = {
        "id": event.id,
        "resource_type": event.resource_type,
        "event_type": event.event_type,
        "created_at": render_time(event.created_at, event.timezone),
        **dict(ids),
    }
    if with_states:
        if event.event_type in ("update", "delete"):
            body["previous_state"] = json.loads(event.previous_state) if event.previous_state else None
        if event.event_type in ("create", "update"):
            body["new_state"] = json.loads(event.new_state) if event.new_state else None
    return body


async def index_events(session: AsyncSession, principal: Principal, page: PageRequest) -> Page:
    stmt = select(Event).where(Event.connection_id == principal.connection_id)
    rows = (await session.scalars(keyset_on(stmt, (Event.seq,), page, ascending=True))).all()
    result = cut_page(rows, page, key=lambda event: (event.seq,))
    result.items = [render_event(event, with_states=False) for event in result.items]
    return result


async def _event(session: AsyncSession, principal: Principal, event_id: str) -> Event:
    event = await session.scalar(
        select(Event).where(Event.id == event_id, Event.connection_id == principal.connection_id)
    )
    if event is None:
        raise NotFound("Event not found")
    return event


async def retrieve_event(session: AsyncSession, principal: Principal, event_id: str) -> dict[str, Any]:
    return render_event(await _event(session, principal, event_id))


async def acknowledge_event(session: AsyncSession, principal: Principal, event_id: str) -> dict[str, Any]:
    event = await _event(session, principal, event_id)
    rendered = render_event(event)
    await session.execute(delete(Event).where(Event.seq == event.seq))
    return rendered
