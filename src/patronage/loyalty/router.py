from typing import Annotated

from fastapi import Depends, Query

from patronage.customer_lists.access import ReadableList, WritableList
from patronage.deps import Body, Caller, ReadSession, WriteSession
from patronage.idempotency import Idempotent
from patronage.loyalty import ledger, service
from patronage.loyalty.models import LoyaltyCard
from patronage.loyalty.schemas import (
    CardCreate,
    CardUpdate,
    LedgerOut,
    LoyaltyCardOut,
    LoyaltyOperationOut,
    OperationCreate,
)
from patronage.pagination import PageRequest, page_request, page_response
from patronage.routing import ApiRouter
from patronage.validators import QueryTime

router = ApiRouter(prefix="/v1/customer_lists/{customer_list_id}/loyalty_cards", tags=["loyalty"])


# What a route under /loyalty_cards/{loyalty_card_id} needs: the card of a list the caller sees (404
# otherwise), in the request's transaction. A rename reads the card's ref and then writes it: it takes the
# card locked until commit. An operation needs no lock beforehand: the UPDATE that moves the balance takes
# the row lock itself, so concurrent operations on one card wait only for its last statements and commit.


async def _readable_card(loyalty_card_id: str, customer_list: ReadableList, session: ReadSession) -> LoyaltyCard:
    return await service.load_card(session, customer_list, loyalty_card_id)


async def _writable_card(loyalty_card_id: str, customer_list: WritableList, session: WriteSession) -> LoyaltyCard:
    return await service.load_card(session, customer_list, loyalty_card_id)


async def _locked_card(loyalty_card_id: str, customer_list: WritableList, session: WriteSession) -> LoyaltyCard:
    return await service.load_card(session, customer_list, loyalty_card_id, for_update=True)


ReadableCard = Annotated[LoyaltyCard, Depends(_readable_card)]
WritableCard = Annotated[LoyaltyCard, Depends(_writable_card)]
LockedCard = Annotated[LoyaltyCard, Depends(_locked_card)]


def card_filters(
    customer_id: str | None = Query(None, description="Cards of this customer"),
    name: str | None = Query(None, description="Exact name"),
    ref: str | None = Query(None, description="Exact ref"),
) -> service.CardFilters:
    return service.CardFilters(customer_id=customer_id, name=name, ref=ref)


@router.get("", summary="List loyalty cards", response_model=list[LoyaltyCardOut])
async def index_cards(
    customer_list: ReadableList,
    session: ReadSession,
    page: PageRequest = Depends(page_request),
    filters: service.CardFilters = Depends(card_filters),
):
    result = await service.index_cards(session, customer_list, filters, page)
    return page_response(result.items, result.next_cursor)


@router.get("/{loyalty_card_id}", summary="Retrieve a loyalty card", response_model=LoyaltyCardOut)
async def retrieve_card(
    card: ReadableCard,
    customer_list: ReadableList,
    session: ReadSession,
    as_of: QueryTime | None = Query(
        None, description="Patronage extension: the balance at this ISO 8601 time (without offset: the list's zone)"
    ),
):
    if as_of is not None:
        return await service.card_as_of(session, customer_list, card, as_of)
    return (await service.render_cards(session, customer_list, [card]))[0]


@router.get(
    "/{loyalty_card_id}/ledger",
    summary="Export a card's ledger with its hash chain (Patronage extension)",
    response_model=LedgerOut,
)
async def export_ledger(card: ReadableCard, session: ReadSession):
    return await ledger.export(session, card)


@router.post("", status_code=201, summary="Create a loyalty card", response_model=LoyaltyCardOut)
async def create_card(
    fields: Body[CardCreate],
    idempotency: Idempotent,
    customer_list: WritableList,
    session: WriteSession,
):
    return idempotency.respond(await service.create_card(session, customer_list, fields), 201)


@router.patch("/{loyalty_card_id}", summary="Update a loyalty card", response_model=LoyaltyCardOut)
@router.put("/{loyalty_card_id}", summary="Update a loyalty card (alias of PATCH)", response_model=LoyaltyCardOut)
async def update_card(fields: Body[CardUpdate], customer_list: WritableList, card: LockedCard, session: WriteSession):
    return await service.update_card(session, customer_list, card, fields)


@router.get(
    "/{loyalty_card_id}/operations",
    summary="List a card's operations, newest first",
    response_model=list[LoyaltyOperationOut],
)
async def index_operations(
    customer_list: ReadableList,
    card: ReadableCard,
    session: ReadSession,
    page: PageRequest = Depends(page_request),
):
    result = await service.index_operations(session, customer_list, card, page)
    return page_response(result.items, result.next_cursor)


@router.get(
    "/{loyalty_card_id}/operations/{operation_id}",
    summary="Retrieve a loyalty operation",
    response_model=LoyaltyOperationOut,
)
async def retrieve_operation(operation_id: str, customer_list: ReadableList, card: ReadableCard, session: ReadSession):
    return await service.retrieve_operation(session, customer_list, card, operation_id)


@router.post(
    "/{loyalty_card_id}/operations",
    status_code=201,
    summary="Create a loyalty operation (moves the balance)",
    response_model=LoyaltyOperationOut,
)
async def create_operation(
    fields: Body[OperationCreate],
    idempotency: Idempotent,
    customer_list: WritableList,
    card: WritableCard,
    session: WriteSession,
    principal: Caller,
):
    return idempotency.respond(await service.create_operation(session, principal, customer_list, card, fields), 201)
