from fastapi import Depends, Query

from patronage.customer_lists.access import ReadableList, WritableList
from patronage.customers import service
from patronage.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate, NoFields
from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.idempotency import Idempotent
from patronage.pagination import PageRequest, page_request, page_response
from patronage.routing import ApiRouter

router = ApiRouter(prefix="/v1/customer_lists/{customer_list_id}/customers", tags=["customers"])


async def filters(
    email: str | None = Query(None, description="Email, case-insensitive; * matches any characters"),
    phone: str | None = Query(None, description="Phone; * matches any characters (encode + as %2B)"),
    private_ref: str | None = Query(None, description="The caller's own private ref"),
) -> service.Filters:
    return service.Filters(email=email, phone=phone, private_ref=private_ref)


@router.get("", summary="List customers", response_model=list[CustomerOut])
async def index(
    customer_list: ReadableList,
    session: ReadSession,
    principal: Caller,
    page: PageRequest = Depends(page_request),
    search: service.Filters = Depends(filters),
):
    result = await service.index(session, principal, customer_list, search, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{customer_id}", summary="Retrieve a customer", response_model=CustomerOut)
async def retrieve(customer_list_id: str, customer_id: str, session: ReadSession, principal: Caller):
    return await service.retrieve(session, principal, customer_list_id, customer_id)


@router.post("", status_code=201, summary="Create a customer", response_model=CustomerOut)
async def create(
    fields: Body[CustomerCreate],
    idempotency: Idempotent,
    customer_list: WritableList,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create(session, principal, customer_list, fields), 201)


@router.patch("/{customer_id}", summary="Update a customer", response_model=CustomerOut)
@router.put("/{customer_id}", summary="Update a customer (alias of PATCH)", response_model=CustomerOut)
async def update(
    customer_list_id: str,
    customer_id: str,
    fields: Body[CustomerUpdate],
    session: WriteSession,
    principal: Caller,
):
    return await service.update(session, principal, customer_list_id, customer_id, fields)


@router.post("/{customer_id}/anonymise", summary="Anonymise a customer", response_model=CustomerOut)
async def anonymise(
    customer_list_id: str,
    customer_id: str,
    _: Body[NoFields],
    idempotency: Idempotent,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.anonymise(session, principal, customer_list_id, customer_id))
