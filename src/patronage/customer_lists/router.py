from fastapi import Depends

from patronage.customer_lists import service
from patronage.customer_lists.access import (
    AccountForNewList,
    ChangeableList,
    ConnectedAccountForNewList,
    ConnectedLocationForNewList,
    LocationForNewList,
    ReadableList,
)
from patronage.customer_lists.schemas import CustomerListCreate, CustomerListOut, CustomerListUpdate
from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.idempotency import Idempotent
from patronage.pagination import PageRequest, page_request, page_response
from patronage.routing import ApiRouter
from patronage.tenancy.access import AccountLevelId, ConnectedAccountLevelId, ConnectedLocation, VisibleLocation

router = ApiRouter(prefix="/v1", tags=["customer lists"])


@router.get("/customer_lists/{customer_list_id}", summary="Retrieve a customer list", response_model=CustomerListOut)
async def retrieve(customer_list: ReadableList, session: ReadSession):
    return await service.retrieve(session, customer_list)


@router.get(
    "/locations/{location_id}/customer_lists",
    summary="List a location's customer lists",
    response_model=list[CustomerListOut],
)
async def index_of_location(
    location: VisibleLocation, session: ReadSession, principal: Caller, page: PageRequest = Depends(page_request)
):
    result = await service.index_of_location(session, principal, location, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/location/customer_lists",
    summary="List the connected location's customer lists",
    response_model=list[CustomerListOut],
)
async def index_of_connected_location(
    location: ConnectedLocation, session: ReadSession, principal: Caller, page: PageRequest = Depends(page_request)
):
    result = await service.index_of_location(session, principal, location, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/accounts/{account_id}/customer_lists",
    summary="List an account's account-level customer lists",
    response_model=list[CustomerListOut],
)
async def index_of_account(
    account_id: AccountLevelId, session: ReadSession, principal: Caller, page: PageRequest = Depends(page_request)
):
    result = await service.index_of_account(session, principal, account_id, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/account/customer_lists",
    summary="List the connected account's account-level customer lists",
    response_model=list[CustomerListOut],
)
async def index_of_connected_account(
    account_id: ConnectedAccountLevelId,
    session: ReadSession,
    principal: Caller,
    page: PageRequest = Depends(page_request),
):
    result = await service.index_of_account(session, principal, account_id, page)
    return page_response(result.items, result.next_cursor)


@router.post(
    "/locations/{location_id}/customer_lists",
    status_code=201,
    summary="Create a location-level customer list",
    response_model=CustomerListOut,
)
async def create_in_location(
    fields: Body[CustomerListCreate],
    idempotency: Idempotent,
    owner: LocationForNewList,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, fields, owner), 201)


@router.post(
    "/location/customer_lists",
    status_code=201,
    summary="Create a customer list in the connected location",
    response_model=CustomerListOut,
)
async def create_in_connected_location(
    fields: Body[CustomerListCreate],
    idempotency: Idempotent,
    owner: ConnectedLocationForNewList,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, fields, owner), 201)


@router.post(
    "/accounts/{account_id}/customer_lists",
    status_code=201,
    summary="Create an account-level customer list",
    response_model=CustomerListOut,
)
async def create_in_account(
    fields: Body[CustomerListCreate],
    idempotency: Idempotent,
    owner: AccountForNewList,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, fields, owner), 201)


@router.post(
    "/account/customer_lists",
    status_code=201,
    summary="Create a customer list in the connected account",
    response_model=CustomerListOut,
)
async def create_in_connected_account(
    fields: Body[CustomerListCreate],
    idempotency: Idempotent,
    owner: ConnectedAccountForNewList,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, fields, owner), 201)


@router.patch("/customer_lists/{customer_list_id}", summary="Update a customer list", response_model=CustomerListOut)
@router.put(
    "/customer_lists/{customer_list_id}",
    summary="Update a customer list (alias of PATCH)",
    response_model=CustomerListOut,
)
async def update(fields: Body[CustomerListUpdate], customer_list: ChangeableList, session: WriteSession):
    return await service.update(session, customer_list, fields)


@router.delete(
    "/customer_lists/{customer_list_id}",
    summary="Delete a customer list, its customers and cards",
    response_model=CustomerListOut,
)
async def delete(customer_list: ChangeableList, session: WriteSession):
    return await service.delete_list(session, customer_list)
