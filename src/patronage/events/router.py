from typing import Annotated

from fastapi import Depends, Request

from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.events import callbacks, service
from patronage.events.schemas import CallbackIn, CallbackOut, EventOut, EventSummary
from patronage.idempotency import Idempotent
from patronage.pagination import PageRequest, page_request, page_response
from patronage.routing import ApiRouter

router = ApiRouter(prefix="/v1/callback", tags=["callbacks"])


async def _checked_callback(fields: Body[CallbackIn], request: Request) -> CallbackIn:
    return await callbacks.check(fields, request.app.state.settings)


# The body, its events checked and its URL's host resolved before the write transaction opens.
CheckedCallback = Annotated[CallbackIn, Depends(_checked_callback)]


@router.get("", summary="Retrieve the connection's callback", response_model=CallbackOut)
async def retrieve(principal: Caller, session: ReadSession):
    return await callbacks.retrieve(session, principal)


@router.post("", summary="Create or replace the connection's callback", response_model=CallbackOut)
async def save(fields: CheckedCallback, idempotency: Idempotent, session: WriteSession, principal: Caller):
    return idempotency.respond(await callbacks.save(session, principal, fields))


@router.delete(
    "",
    summary="Delete the connection's callback and its pending events",
    response_model=CallbackOut,
)
async def remove(principal: Caller, session: WriteSession):
    return await callbacks.remove(session, principal)


@router.get("/events", summary="List the events not yet acknowledged, oldest first", response_model=list[EventSummary])
async def index_events(principal: Caller, session: ReadSession, page: PageRequest = Depends(page_request)):
    result = await service.index_events(session, principal, page)
    return page_response(result.items, result.next_cursor)


@router.get("/events/{event_id}", summary="Retrieve an event with its states", response_model=EventOut)
async def retrieve_event(event_id: str, principal: Caller, session: ReadSession):
    return await service.retrieve_event(session, principal, event_id)


@router.delete("/events/{event_id}", summary="Acknowledge (delete) an event", response_model=EventOut)
async def acknowledge_event(event_id: str, principal: Caller, session: WriteSession):
    return await service.acknowledge_event(session, principal, event_id)
