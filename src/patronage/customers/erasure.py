"""Anonymisation reaches every copy Patronage holds of the person (SPEC §7, GDPR Art. 17).

Besides the customer row and its orders' copies (the ``anonymises_copies`` hooks), a customer's rendering is
kept as JSON text in two places: the states of the events still pending for the account's connections, and
the stored answers of idempotent requests (for 24 h). Both are rewritten in the anonymising transaction: every
JSON object that *is* the customer (its ``id`` and an ``anonymised`` field: the customer itself, or the copy
inside an order) gets the anonymised fields nulled, the rest of the document untouched.
"""

import json
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from patronage.auth.models import Connection
from patronage.customers.schemas import ANONYMISED_FIELDS
from patronage.events.models import Event
from patronage.idempotency import IdempotencyKey


def scrub(value: Any, customer_id: str) -> bool:
    """Nulls, in place, the anonymised fields of every rendering of the customer inside ``value``; whether
    anything changed."""
    changed = False
    if isinstance(value, dict):
        if value.get("id") == customer_id and "anonymised" in value:
            for name in ANONYMISED_FIELDS:
                if value.get(name) is not None:
                    value[name] = None
                    changed = True
            if value["anonymised"] is not True:
                value["anonymised"] = True
                changed = True
        for item in value.values():
            changed = scrub(item, customer_id) or changed
    elif isinstance(value, list):
        for item in value:
            changed = scrub(item, customer_id) or changed
    return changed


def _scrubbed_text(text: str | None, customer_id: str) -> str | None:
    """``text`` (compact JSON, as events and idempotency store it) with the customer scrubbed; None: unchanged."""
    if text is None:
        return None
    document = json.loads(text)
    if not scrub(document, customer_id):
        return None
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def mention(customer_id: str) -> str:
    """A LIKE pattern for stored compact JSON (events' states, idempotent answers) that renders the customer,
    itself or inside an order: such text contains ``"id":"<id>"``."""
    return f'%"id":"{customer_id}"%'


def event_shows(customer_id: str) -> Any:
    """The SQL condition on events whose previous or new state renders the customer."""
    pattern = mention(customer_id)
    return or_(Event.previous_state.like(pattern), Event.new_state.like(pattern))


async def scrub_stored_copies(session: AsyncSession, account_id: str, customer_id: str) -> int:
    """Rewrites the pending events and stored idempotent answers of the account that render the customer;
    how many rows changed."""
    await session.flush()  # the events this anonymisation has just recorded are among the copies
    connections = select(Connection.id).where(Connection.account_id == account_id).scalar_subquery()
    changed = 0
    events = await session.scalars(select(Event).where(Event.connection_id.in_(connections), event_shows(customer_id)))
    for event in events:
        previous = _scrubbed_text(event.previous_state, customer_id)
        new = _scrubbed_text(event.new_state, customer_id)
        if previous is not None:
            event.previous_state = previous
        if new is not None:
            event.new_state = new
        changed += previous is not None or new is not None
    answers = await session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.connection_id.in_(connections), IdempotencyKey.body.like(mention(customer_id))
        )
    )
    for answer in answers:
        body = _scrubbed_text(answer.body, customer_id)
        if body is not None:
            answer.body = body
            changed += 1
    await session.flush()
    return changed
