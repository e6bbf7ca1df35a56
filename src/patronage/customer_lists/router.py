from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from patronage._transition import openapi_body, run_write
from patronage.auth.principal import Principal, current_principal, get_db
from patronage.bodies import json_object
from patronage.customer_lists import service
from patronage.pagination import PageRequest, page_request, page_response
from patronage.tenancy import service as tenancy

router = APIRouter(prefix="/v1", tags=["customer lists"])

NAME_BODY = openapi_body(service.CustomerListIn)


@router.get("/customer_lists/{customer_list_id}", summary="Retrieve a customer list")
async def retrieve(customer_list_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.retrieve(session, principal, customer_list_id)


@router.get("/locations/{location_id}/customer_lists", summary="List a location's customer lists")
async def index_of_location(
    location_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        location = await tenancy.visible_location(session, principal, location_id)
        result = await service.index_of_location(session, principal, location, page)
    return page_response(result.items, result.next_cursor)


@router.get("/location/customer_lists", summary="List the connected location's customer lists")
async def index_of_connected_location(
    request: Request,
    page: PageRequest = Depends(page_request),
    principal: Principal = Depends(current_principal),
) -> Any:
    return await index_of_location(principal.require_location_level(), request, page, principal)


@router.get("/accounts/{account_id}/customer_lists", summary="List an account's account-level customer lists")
async def index_of_account(
    account_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    principal: Principal = Depends(current_principal),
) -> Any:
    tenancy.require_account_endpoint(principal, account_id)
    async with get_db(request).session(write=False) as session:
        result = await service.index_of_account(session, principal, account_id, page)
    return page_response(result.items, result.next_cursor)


@router.get("/account/customer_lists", summary="List the connected account's account-level customer lists")
async def index_of_connected_account(
    request: Request,
    page: PageRequest = Depends(page_request),
    principal: Principal = Depends(current_principal),
) -> Any:
    return await index_of_account(principal.require_account_level(), request, page, principal)


@router.post(
    "/locations/{location_id}/customer_lists",
    status_code=201,
    summary="Create a location-level customer list",
    openapi_extra=NAME_BODY,
)
async def create_in_location(
    location_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    data = await json_object(request)

    async def work(session: AsyncSession) -> Any:
        location = await tenancy.visible_location(session, principal, location_id)
        account = await tenancy.visible_account(session, principal, location.account_id)
        return await service.create(session, principal, data, account=account, location=location)

    return await run_write(request, principal, data, work, status_code=201)


@router.post(
    "/location/customer_lists",
    status_code=201,
    summary="Create a customer list in the connected location",
    openapi_extra=NAME_BODY,
)
async def create_in_connected_location(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    return await create_in_location(principal.require_location_level(), request, principal)


@router.post(
    "/accounts/{account_id}/customer_lists",
    status_code=201,
    summary="Create an account-level customer list",
    openapi_extra=NAME_BODY,
)
async def create_in_account(
    account_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    tenancy.require_account_endpoint(principal, account_id)
    data = await json_object(request)

    async def work(session: AsyncSession) -> Any:
        account = await tenancy.visible_account(session, principal, account_id)
        return await service.create(session, principal, data, account=account, location=None)

    return await run_write(request, principal, data, work, status_code=201)


@router.post(
    "/account/customer_lists",
    status_code=201,
    summary="Create a customer list in the connected account",
    openapi_extra=NAME_BODY,
)
async def create_in_connected_account(request: Request, principal: Principal = Depends(current_principal)) -> Any:
    return await create_in_account(principal.require_account_level(), request, principal)


@router.patch("/customer_lists/{customer_list_id}", summary="Update a customer list", openapi_extra=NAME_BODY)
@router.put(
    "/customer_lists/{customer_list_id}",
    summary="Update a customer list (alias of PATCH)",
    openapi_extra=NAME_BODY,
)
async def update(customer_list_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    data = await json_object(request)
    async with get_db(request).session(write=True) as session:
        return await service.update(session, principal, customer_list_id, data)


@router.delete("/customer_lists/{customer_list_id}", summary="Delete a customer list, its customers and cards")
async def delete(customer_list_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    async with get_db(request).session(write=True) as session:
        return await service.delete_list(session, principal, customer_list_id)
