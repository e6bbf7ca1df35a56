"""A connection's callback: GET, POST (create or replace), DELETE (SPEC §9), and where it may point."""

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.principal import Principal
from patronage.db import utcnow
from patronage.errors import field_error
from patronage.events.models import Callback, Event
from patronage.events.schemas import CallbackIn
from patronage.events.service import ACCEPTED
from patronage.settings import Settings

MAX_URL_LENGTH = 2048
DNS_TIMEOUT_SECONDS = 5.0


# What HubRise answers for a connection with no callback (callbacks.md, 1.1).
NO_CALLBACK = {"url": None, "events": {}}


def render(callback: Callback | None) -> dict[str, Any]:
    if callback is None:
        return dict(NO_CALLBACK)
    return {"url": callback.url, "events": callback.events or {}}


class UnsafeAddress(Exception):
    pass


class Unresolvable(UnsafeAddress):
    pass


def _is_control(char: str) -> bool:
    return ord(char) <= 32 or 127 <= ord(char) < 160


def _encodable_host(host: str) -> bool:
    """A name IDNA can encode (labels of 1 to 63 characters...): the resolver raises on any other."""
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


async def check_destination(url: str, settings: Settings) -> None:
    """Refuses URLs that resolve to loopback, private, link-local or metadata addresses (SSRF), unless the
    operator allows them; checked when the callback is saved and again before each delivery."""
    if any(_is_control(char) for char in url):
        raise UnsafeAddress("may not contain spaces or control characters")  # urlsplit would drop some silently
    try:
        # urlsplit refuses a bad IPv6 bracket, .port a port that is no number from 0 to 65535: ValueError.
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        raise UnsafeAddress("must be an http or https URL with a host and a valid port") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise UnsafeAddress("must be an http or https URL with a host")
    if not _encodable_host(hostname):
        raise UnsafeAddress("must have a valid host name")
    if settings.callback_allow_private:
        return
    port = port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(hostname, port, type=socket.SOCK_STREAM), DNS_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, UnicodeError):
        raise Unresolvable(f"host {hostname!r} cannot be resolved") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            raise UnsafeAddress(f"resolves to a non-public address ({address})")


def _check_events(events: dict[str, list[str]]) -> dict[str, list[str]]:
    cleaned = {}
    for resource, types in events.items():
        for event_type in types:
            if (resource, event_type) not in ACCEPTED:
                raise field_error(f"events.{resource}", f"{event_type!r} is not an event of {resource!r}")
        cleaned[resource] = sorted(set(types), key=types.index)
    return cleaned


async def retrieve(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    return render(await session.get(Callback, principal.connection_id))


async def check(fields: CallbackIn, settings: Settings) -> CallbackIn:
    """Checked before the write transaction opens: resolving the URL's host may take a while."""
    if fields.url is not None:
        if len(fields.url) > MAX_URL_LENGTH:
            raise field_error("url", f"must be at most {MAX_URL_LENGTH} characters")
        try:
            await check_destination(fields.url, settings)
        except Unresolvable:
            pass  # DNS may be down for now: accepted, and checked again before each delivery
        except UnsafeAddress as exc:
            raise field_error("url", str(exc)) from None
    fields.events = _check_events(fields.events)
    return fields


async def save(session: AsyncSession, principal: Principal, fields: CallbackIn) -> dict[str, Any]:
    now = utcnow()
    callback = await session.get(Callback, principal.connection_id)
    if callback is None:
        callback = Callback(connection_id=principal.connection_id, created_at=now)
        session.add(callback)
    if fields.url is not None and callback.url is None:
        # Passive to active: the events waiting to be polled are delivered instead.
        await session.execute(
            update(Event)
            .where(Event.connection_id == principal.connection_id, Event.next_attempt_at.is_(None))
            .values(next_attempt_at=now)
        )
    callback.url = fields.url
    callback.events = fields.events
    callback.updated_at = now
    await session.flush()
    return render(callback)


async def remove(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """Deletes the callback and the events still waiting for it: the connection no longer listens.
    Without a callback there is nothing to delete: the answer is what GET answers then."""
    callback = await session.get(Callback, principal.connection_id)
    if callback is None:
        return render(None)
    rendered = render(callback)
    await session.execute(delete(Event).where(Event.connection_id == principal.connection_id))
    await session.delete(callback)
    await session.flush()
    return rendered
