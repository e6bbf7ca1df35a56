from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from patronage.auth.principal import Principal, current_principal, get_db
from patronage.bodies import json_object, openapi_body
from patronage.customers import service
from patronage.customers.schemas import CustomerIn
from patronage.idempotency import run_write
from patronage.pagination import PageRequest, page_request, page_response

router = APIRouter(prefix="/v1/customer_lists/{customer_list_id}/customers", tags=["customers"])

CUSTOMER_BODY = openapi_body(CustomerIn)


def filters(
    email: str | None = Query(None, description="Email, case-insensitive; * matches any characters"),
    phone: str | None = Query(None, description="Phone; * matches any characters (encode + as %2B)"),
    private_ref: str | None = Query(None, description="The caller's own private ref"),
) -> service.Filters:
    return service.Filters(email=email, phone=phone, private_ref=private_ref)


@router.get("", summary="List customers")
async def index(
    customer_list_id: str,
    request: Request,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        result = await service.index(session, principal, customer_list_id, search, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{customer_id}", summary="Retrieve a customer")
async def retrieve(
    customer_list_id: str,
    customer_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    async with get_db(request).session(write=False) as session:
        return await service.retrieve(session, principal, customer_list_id, customer_id)


@router.post("", status_code=201, summary="Create a customer", openapi_extra=CUSTOMER_BODY)
async def create(customer_list_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Any:
    data = await json_object(request)
    return await run_write(
        request,
        principal,
        data,
        lambda session: service.create(session, principal, customer_list_id, data),
        status_code=201,
    )


@router.patch("/{customer_id}", summary="Update a customer", openapi_extra=CUSTOMER_BODY)
@router.put("/{customer_id}", summary="Update a customer (alias of PATCH)", openapi_extra=CUSTOMER_BODY)
async def update(
    customer_list_id: str,
    customer_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    data = await json_object(request)
    async with get_db(request).session(write=True) as session:
        return await service.update(session, principal, customer_list_id, customer_id, data)


@router.post("/{customer_id}/anonymise", summary="Anonymise a customer")
async def anonymise(
    customer_list_id: str,
    customer_id: str,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> Any:
    data = await json_object(request)  # no fields; read so that a body is still checked and fingerprinted
    return await run_write(
        request, principal, data, lambda session: service.anonymise(session, principal, customer_list_id, customer_id)
    )
