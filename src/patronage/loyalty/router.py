from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from patronage._transition import openapi_body, run_write
from patronage.auth.principal import Principal, current_principal, get_db
from patronage.bodies import json_object
from patronage.loyalty import service
from patronage.loyalty.schemas import CardCreate, CardUpdate, OperationCreate
from patronage.pagination import PageRequest, page_request, page_response

router = APIRouter(prefix="/v1/customer_lists/{customer_list_id}/loyalty_cards", tags=["loyalty"])
CARD_CREATE_BODY = openapi_body(CardCreate)
CARD_UPDATE_BODY = openapi_body(CardUpdate)
OPERATION_BODY = openapi_body(OperationCreate)


def card_filters(
    customer_id: str | None = Query(None, description="Cards of this customer"),
    name: str | None = Query(None, description="Exact name"),
    ref: str | None = Query(None, description="Exact ref"),
) -> service.CardFilters:
    return service.CardFilters(customer_id=customer_id, name=name, ref=ref)


@router.get("", summary="List loyalty cards")
async def index_cards(
    customer_list_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    filters: service.CardFilters = Depends(card_filters),
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        result = await service.index_cards(session, principal, customer_list_id, filters, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{loyalty_card_id}", summary="Retrieve a loyalty card")
async def retrieve_card(
    customer_list_id: str,
    loyalty_card_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.retrieve_card(session, principal, customer_list_id, loyalty_card_id)


@router.post("", status_code=201, summary="Create a loyalty card", openapi_extra=CARD_CREATE_BODY)
async def create_card(
    customer_list_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> Any:
    data = await json_object(request)
    return await run_write(
        request,
        principal,
        data,
        lambda session: service.create_card(session, principal, customer_list_id, data),
        status_code=201,
    )


@router.patch("/{loyalty_card_id}", summary="Update a loyalty card", openapi_extra=CARD_UPDATE_BODY)
@router.put("/{loyalty_card_id}", summary="Update a loyalty card (alias of PATCH)", openapi_extra=CARD_UPDATE_BODY)
async def update_card(
    customer_list_id: str,
    loyalty_card_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    data = await json_object(request)
    async with get_db(request).session(write=True) as session:
        return await service.update_card(session, principal, customer_list_id, loyalty_card_id, data)


@router.get("/{loyalty_card_id}/operations", summary="List a card's operations, newest first")
async def index_operations(
    customer_list_id: str,
    loyalty_card_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        result = await service.index_operations(session, principal, customer_list_id, loyalty_card_id, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{loyalty_card_id}/operations/{operation_id}", summary="Retrieve a loyalty operation")
async def retrieve_operation(
    customer_list_id: str,
    loyalty_card_id: str,
    operation_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.retrieve_operation(session, principal, customer_list_id, loyalty_card_id, operation_id)


@router.post(
    "/{loyalty_card_id}/operations",
    status_code=201,
    summary="Create a loyalty operation (moves the balance)",
    openapi_extra=OPERATION_BODY,
)
async def create_operation(
    customer_list_id: str,
    loyalty_card_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    data = await json_object(request)
    return await run_write(
        request,
        principal,
        data,
        lambda session: service.create_operation(session, principal, customer_list_id, loyalty_card_id, data),
        status_code=201,
    )
