from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from patronage._transition import openapi_body, run_write
from patronage.auth.principal import Principal, current_principal, get_db
from patronage.bodies import json_object
from patronage.events import callbacks, service
from patronage.pagination import PageRequest, page_request, page_response

router = APIRouter(prefix="/v1/callback", tags=["callbacks"])

CALLBACK_BODY = openapi_body(callbacks.CallbackIn)


@router.get("", summary="Retrieve the connection's callback")
async def retrieve(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return await callbacks.retrieve(session, principal)


@router.post("", summary="Create or replace the connection's callback", openapi_extra=CALLBACK_BODY)
async def save(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    data = await json_object(request)
    fields = await callbacks.validate(data, request.app.state.settings)

    async def work(session: AsyncSession) -> Any:
        return await callbacks.save(session, principal, fields)

    return await run_write(request, principal, data, work)


@router.delete("", summary="Delete the connection's callback and its pending events")
async def remove(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=True) as session:
        return await callbacks.remove(session, principal)


@router.get("/events", summary="List the events not yet acknowledged, oldest first")
async def index_events(
    request: Request, page: PageRequest = Depends(page_request), principal: Principal = Depends(current_principal)
) -> Any:
    async with get_db(request).session(write=False) as session:
        result = await service.index_events(session, principal, page)
    return page_response(result.items, result.next_cursor)


@router.get("/events/{event_id}", summary="Retrieve an event with its states")
async def retrieve_event(event_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.retrieve_event(session, principal, event_id)


@router.delete("/events/{event_id}", summary="Acknowledge (delete) an event")
async def acknowledge_event(event_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=True) as session:
        return await service.acknowledge_event(session, principal, event_id)
