"""Order routes (SPEC §8): under a location (``/locations/:id`` or ``/location``), and the account's index."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from patronage._transition import openapi_body, run_write
from patronage.auth.principal import Principal, current_principal, get_db
from patronage.bodies import json_object
from patronage.orders import service
from patronage.orders.schemas import OrderCreate, OrderUpdate
from patronage.pagination import PageRequest, page_request, page_response

router = APIRouter(prefix="/v1", tags=["orders"])
CREATE_BODY = openapi_body(OrderCreate)
UPDATE_BODY = openapi_body(OrderUpdate)


def filters(
    private_ref: str | None = Query(None, description="The caller's own private ref"),
    status: str | None = Query(None, description="Orders in this status"),
    created_by: str | None = Query(None, description="Orders created by this client (its name)"),
    after: str | None = Query(None, description="Created at or after this ISO 8601 time"),
    before: str | None = Query(None, description="Created before this ISO 8601 time"),
    customer_id: str | None = Query(None, description="Orders of this customer"),
) -> service.Filters:
    return service.Filters(
        private_ref=private_ref,
        status=status,
        created_by=created_by,
        after=after,
        before=before,
        customer_id=customer_id,
    )


# --- index ----------------------------------------------------------------------------------------------


@router.get("/locations/{location_id}/orders", summary="List a location's orders, newest first")
async def index_of_location(
    location_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        result = await service.index_of_location(session, principal, location_id, search, page)
    return page_response(result.items, result.next_cursor)


@router.get("/location/orders", summary="List the connected location's orders, newest first")
async def index_of_connected_location(
    request: Request,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
    principal: Principal = Depends(current_principal),
) -> Any:
    return await index_of_location(principal.require_location_level(), request, page, search, principal)


@router.get("/accounts/{account_id}/orders", summary="List the orders of every location of an account")
async def index_of_account(
    account_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        result = await service.index_of_account(session, principal, account_id, search, page)
    return page_response(result.items, result.next_cursor)


@router.get("/account/orders", summary="List the orders of the connected account")
async def index_of_connected_account(
    request: Request,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
    principal: Principal = Depends(current_principal),
) -> Any:
    return await index_of_account(principal.require_account_level(), request, page, search, principal)


# --- create ---------------------------------------------------------------------------------------------


@router.post("/locations/{location_id}/orders", status_code=201, summary="Create an order", openapi_extra=CREATE_BODY)
async def create(location_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    data = await json_object(request)
    return await run_write(
        request,
        principal,
        data,
        lambda session: service.create(session, principal, location_id, data),
        status_code=201,
    )


@router.post(
    "/location/orders",
    status_code=201,
    summary="Create an order in the connected location",
    openapi_extra=CREATE_BODY,
)
async def create_in_connected_location(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    return await create(principal.require_location_level(), request, principal)


# --- retrieve, update -----------------------------------------------------------------------------------


@router.get("/locations/{location_id}/orders/{order_id}", summary="Retrieve an order")
async def retrieve(
    location_id: str, order_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.retrieve(session, principal, location_id, order_id)


@router.get("/location/orders/{order_id}", summary="Retrieve an order of the connected location")
async def retrieve_in_connected_location(
    order_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    return await retrieve(principal.require_location_level(), order_id, request, principal)


@router.patch("/locations/{location_id}/orders/{order_id}", summary="Update an order", openapi_extra=UPDATE_BODY)
@router.put(
    "/locations/{location_id}/orders/{order_id}",
    summary="Update an order (alias of PATCH)",
    openapi_extra=UPDATE_BODY,
)
async def update(
    location_id: str, order_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    data = await json_object(request)
    async with get_db(request).session(write=True) as session:
        return await service.update(session, principal, location_id, order_id, data)


@router.patch(
    "/location/orders/{order_id}", summary="Update an order of the connected location", openapi_extra=UPDATE_BODY
)
@router.put(
    "/location/orders/{order_id}",
    summary="Update an order of the connected location (alias of PATCH)",
    openapi_extra=UPDATE_BODY,
)
async def update_in_connected_location(
    order_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    return await update(principal.require_location_level(), order_id, request, principal)
