"""What operators see of event delivery (``patronage admin events``)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.models import Connection
from patronage.events.callbacks import render as render_callback
from patronage.events.models import Callback, Event


class UnknownConnection(Exception):
    pass


def _time(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


async def delivery_report(session: AsyncSession, connection_id: str, limit: int) -> dict[str, Any]:
    """The connection's callback, how many events wait, and the oldest ones with attempts and last errors."""
    if await session.get(Connection, connection_id) is None:
        raise UnknownConnection(f"no connection {connection_id!r}")
    callback = await session.get(Callback, connection_id)
    pending = await session.scalar(select(func.count()).select_from(Event).where(Event.connection_id == connection_id))
    events = await session.scalars(
        select(Event).where(Event.connection_id == connection_id).order_by(Event.seq).limit(limit)
    )
    return {
        "connection_id": connection_id,
        "callback": render_callback(callback) if callback else None,
        "pending": pending,
        "events": [
            {
                "id": event.id,
                "resource_type": event.resource_type,
                "event_type": event.event_type,
                "created_at": _time(event.created_at),
                "attempts": event.attempts,
                "next_attempt_at": _time(event.next_attempt_at),
                "last_attempt_at": _time(event.last_attempt_at),
                "last_error": event.last_error,
            }
            for event in events
        ],
    }
