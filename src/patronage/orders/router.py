"""Order routes (SPEC §8): under a location (``/locations/:id`` or ``/location``), and the account's index."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import WithJsonSchema

from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.idempotency import Idempotent
from patronage.orders import deliveries, service
from patronage.orders.access import (
    ConnectedReadableAccount,
    ConnectedReadableLocation,
    ConnectedWritableLocation,
    ReadableAccount,
    ReadableLocation,
    WritableLocation,
)
from patronage.orders.deliveries import DeliveryCreate, DeliveryOut, DeliveryUpdate
from patronage.orders.schemas import STATUSES, OrderCreate, OrderOut, OrderUpdate
from patronage.pagination import PageRequest, page_request, page_response
from patronage.routing import ApiRouter
from patronage.validators import QueryTimeOrDate

router = ApiRouter(prefix="/v1", tags=["orders"])

# Checked by the service (its message names the statuses); the document shows them.
StatusFilter = Annotated[str, WithJsonSchema({"type": "string", "enum": list(STATUSES)})]


async def filters(
    private_ref: str | None = Query(None, description="The caller's own private ref"),
    status: StatusFilter | None = Query(None, description="Orders in this status"),
    created_by: str | None = Query(None, description="Orders created by this client (its name)"),
    after: QueryTimeOrDate | None = Query(None, description="Created at or after this ISO 8601 time"),
    before: QueryTimeOrDate | None = Query(None, description="Created before this ISO 8601 time"),
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


@router.get(
    "/locations/{location_id}/orders", summary="List a location's orders, newest first", response_model=list[OrderOut]
)
async def index_of_location(
    location: ReadableLocation,
    session: ReadSession,
    principal: Caller,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
):
    result = await service.index_of_location(session, principal, location, search, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/location/orders", summary="List the connected location's orders, newest first", response_model=list[OrderOut]
)
async def index_of_connected_location(
    location: ConnectedReadableLocation,
    session: ReadSession,
    principal: Caller,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
):
    result = await service.index_of_location(session, principal, location, search, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/accounts/{account_id}/orders",
    summary="List the orders of every location of an account",
    response_model=list[OrderOut],
)
async def index_of_account(
    account: ReadableAccount,
    session: ReadSession,
    principal: Caller,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
):
    result = await service.index_of_account(session, principal, account, search, page)
    return page_response(result.items, result.next_cursor)


@router.get("/account/orders", summary="List the orders of the connected account", response_model=list[OrderOut])
async def index_of_connected_account(
    account: ConnectedReadableAccount,
    session: ReadSession,
    principal: Caller,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
):
    result = await service.index_of_account(session, principal, account, search, page)
    return page_response(result.items, result.next_cursor)


# --- create ---------------------------------------------------------------------------------------------


@router.post("/locations/{location_id}/orders", status_code=201, summary="Create an order", response_model=OrderOut)
async def create(
    fields: Body[OrderCreate],
    idempotency: Idempotent,
    location: WritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, location, fields), 201)


@router.post(
    "/location/orders", status_code=201, summary="Create an order in the connected location", response_model=OrderOut
)
async def create_in_connected_location(
    fields: Body[OrderCreate],
    idempotency: Idempotent,
    location: ConnectedWritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, location, fields), 201)


# --- retrieve, update -----------------------------------------------------------------------------------


@router.get("/locations/{location_id}/orders/{order_id}", summary="Retrieve an order", response_model=OrderOut)
async def retrieve(order_id: str, location: ReadableLocation, session: ReadSession, principal: Caller):
    return await service.retrieve(session, principal, location, order_id)


@router.get(
    "/location/orders/{order_id}", summary="Retrieve an order of the connected location", response_model=OrderOut
)
async def retrieve_in_connected_location(
    order_id: str, location: ConnectedReadableLocation, session: ReadSession, principal: Caller
):
    return await service.retrieve(session, principal, location, order_id)


@router.patch("/locations/{location_id}/orders/{order_id}", summary="Update an order", response_model=OrderOut)
@router.put(
    "/locations/{location_id}/orders/{order_id}", summary="Update an order (alias of PATCH)", response_model=OrderOut
)
async def update(
    order_id: str,
    fields: Body[OrderUpdate],
    location: WritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return await service.update(session, principal, location, order_id, fields)


@router.patch(
    "/location/orders/{order_id}", summary="Update an order of the connected location", response_model=OrderOut
)
@router.put(
    "/location/orders/{order_id}",
    summary="Update an order of the connected location (alias of PATCH)",
    response_model=OrderOut,
)
async def update_in_connected_location(
    order_id: str,
    fields: Body[OrderUpdate],
    location: ConnectedWritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return await service.update(session, principal, location, order_id, fields)


# --- the order's delivery (deliveries.md) ---------------------------------------------------------------


@router.post(
    "/locations/{location_id}/orders/{order_id}/delivery",
    status_code=201,
    summary="Attach a delivery to an order (its service type is delivery, it has none yet)",
    response_model=DeliveryOut,
)
async def create_delivery(
    order_id: str,
    fields: Body[DeliveryCreate],
    idempotency: Idempotent,
    location: WritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await deliveries.create(session, principal, location, order_id, fields), 201)


@router.post(
    "/location/orders/{order_id}/delivery",
    status_code=201,
    summary="Attach a delivery to an order of the connected location",
    response_model=DeliveryOut,
)
async def create_delivery_in_connected_location(
    order_id: str,
    fields: Body[DeliveryCreate],
    idempotency: Idempotent,
    location: ConnectedWritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await deliveries.create(session, principal, location, order_id, fields), 201)


@router.get(
    "/locations/{location_id}/orders/{order_id}/delivery",
    summary="Retrieve an order's delivery (404 when it has none)",
    response_model=DeliveryOut,
)
async def retrieve_delivery(order_id: str, location: ReadableLocation, session: ReadSession):
    return await deliveries.retrieve(session, location, order_id)


@router.get(
    "/location/orders/{order_id}/delivery",
    summary="Retrieve the delivery of an order of the connected location",
    response_model=DeliveryOut,
)
async def retrieve_delivery_in_connected_location(
    order_id: str, location: ConnectedReadableLocation, session: ReadSession
):
    return await deliveries.retrieve(session, location, order_id)


@router.patch(
    "/locations/{location_id}/orders/{order_id}/delivery",
    summary="Update an order's delivery",
    response_model=DeliveryOut,
)
@router.put(
    "/locations/{location_id}/orders/{order_id}/delivery",
    summary="Update an order's delivery (alias of PATCH)",
    response_model=DeliveryOut,
)
async def update_delivery(
    order_id: str,
    fields: Body[DeliveryUpdate],
    location: WritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return await deliveries.update(session, principal, location, order_id, fields)


@router.patch(
    "/location/orders/{order_id}/delivery",
    summary="Update the delivery of an order of the connected location",
    response_model=DeliveryOut,
)
@router.put(
    "/location/orders/{order_id}/delivery",
    summary="Update the delivery of an order of the connected location (alias of PATCH)",
    response_model=DeliveryOut,
)
async def update_delivery_in_connected_location(
    order_id: str,
    fields: Body[DeliveryUpdate],
    location: ConnectedWritableLocation,
    session: WriteSession,
    principal: Caller,
):
    return await deliveries.update(session, principal, location, order_id, fields)
